"""rank_rerank: late-interaction (ColBERT MaxSim) and cross-encoder reranking.

The heavy lifting happens in the native module ``rank_rerank._core``; this package re-exports
it under stable names.
"""

import os as _os


def _choose_openblas_kernels():
    """OpenBLAS picks its kernels when the native module loads it, from the CPU model; a release
    older than the CPU falls back to generic SSE3 kernels, about 4x slower (cpu_blas.hpp). Name
    the kernels this CPU's features allow before that happens, unless the user already did."""
    if "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line.split(":", 1)[1].split() for line in info
                          if line.startswith("flags")), [])
    except OSError:
        return
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        _os.environ["OPENBLAS_CORETYPE"] = "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
    elif {"avx2", "fma"} <= set(flags):
        _os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_choose_openblas_kernels()

from ._core import *  # noqa: E402,F401,F403
from ._core import __doc__ as _core_doc  # noqa: E402,F401
from .candle import CandleEncoder  # noqa: E402,F401

__version__ = "0.1.0"
