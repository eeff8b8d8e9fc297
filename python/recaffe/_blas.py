"""Loading the BLAS before the C++ core.

recaffe links OpenBLAS from the scipy-openblas32 wheel. We load it here with RTLD_GLOBAL so the
core finds it whatever the install layout (venv, editable, site-packages).

Kernel choice: OpenBLAS picks its kernels when the library loads, from OPENBLAS_CORETYPE or its
own CPU detection, which gives AMD Zen 4/5 its Haswell (AVX2) kernels. On AVX-512 CPUs its
SkylakeX kernels run VGG16's sgemm shapes about twice as fast (README, "BLAS"), so recaffe loads
*its own copy* with RECAFFE_OPENBLAS_CORETYPE if set, else SkylakeX on CPUs with the AVX-512
subsets those kernels use, else OpenBLAS's own choice. The process environment is restored
afterwards, so other libraries (numpy's OpenBLAS) still see the user's OPENBLAS_CORETYPE.
"""
from __future__ import annotations

import ctypes
import os


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def choose_coretype() -> str | None:
    want = os.environ.get("RECAFFE_OPENBLAS_CORETYPE")
    if want:
        return None if want.lower() == "auto" else want
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= _cpu_flags():
        return "SkylakeX"
    return os.environ.get("OPENBLAS_CORETYPE")


def preload() -> str:
    core = choose_coretype()
    saved = os.environ.get("OPENBLAS_CORETYPE")
    try:
        if core:
            os.environ["OPENBLAS_CORETYPE"] = core
        elif saved is not None:
            del os.environ["OPENBLAS_CORETYPE"]
        import scipy_openblas32  # loads the library (OpenBLAS reads OPENBLAS_CORETYPE now)

        path = os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so")
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    finally:
        if saved is None:
            os.environ.pop("OPENBLAS_CORETYPE", None)
        else:
            os.environ["OPENBLAS_CORETYPE"] = saved
    return path
