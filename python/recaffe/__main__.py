"""Command line: `python -m recaffe time NET.prototxt [--weights W] [--iterations N]` prints
per-layer forward times like `caffe time` (TEST phase, forward only, medians); `run` prints the
output blobs' shapes and top classes for random or given input."""
from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    import recaffe

    p = argparse.ArgumentParser(prog="python -m recaffe", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("time", "run"):
        s = sub.add_parser(name)
        s.add_argument("prototxt")
        s.add_argument("--weights", help=".caffemodel (default: seeded random weights)")
        s.add_argument("--iterations", type=int, default=10)
        s.add_argument("--warmup", type=int, default=1)
        s.add_argument("--threads", type=int, default=0, help="0 = all cores")
        s.add_argument("--engine", default="gemm", help="default convolution engine")
        s.add_argument("--batch", type=int, default=None, help="override the input batch size")
        s.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    recaffe.set_num_threads(args.threads)
    net = recaffe.Net(args.prototxt, None, engine=args.engine)
    net.copy_from(recaffe.random_weights(net, args.seed) if args.weights is None else {})
    if args.weights:
        net.copy_from_file(args.weights)
    rng = np.random.default_rng(args.seed)
    inputs = {}
    for name in net.inputs:
        shape = list(net.blobs[name].shape)
        if args.batch:
            shape[0] = args.batch
        inputs[name] = rng.standard_normal(shape).astype(np.float32)
    net.set_input(**inputs)
    if args.cmd == "time":
        net.time(args.iterations, args.warmup, verbose=True)
    else:
        out = net.forward()
        for k, v in out.items():
            flat = v.reshape(v.shape[0], -1)
            print(f"{k}: shape {v.shape}, top-1 per image {flat.argmax(1).tolist()[:8]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
