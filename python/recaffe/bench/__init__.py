"""One timing helper for tests of the harness, benchmarks and experiments alike: warm-up, repeats,
medians, noise-to-signal ratio (std / mean), interleaved runs for side-by-side ratios, and a
description of the machine and thread count to print beside every figure."""
from .timing import (Stats, NetTiming, describe_machine, interleaved, measure, time_net,  # noqa: F401
                     interleaved_nets)

__all__ = ["Stats", "NetTiming", "describe_machine", "interleaved", "measure", "time_net", "interleaved_nets"]
