"""rank_rerank: late-interaction (ColBERT MaxSim) and cross-encoder reranking.

The heavy lifting happens in the native module ``rank_rerank._core``; this package re-exports
it under stable names.
"""

from ._core import *  # noqa: F401,F403
from ._core import __doc__ as _core_doc  # noqa: F401
from .candle import CandleEncoder  # noqa: F401

__version__ = "0.1.0"
