"""Type stubs for the native module rank_rerank._core (one section per area, sorted by area)."""

from typing import Literal, Sequence, overload

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]

# ---- core -----------------------------------------------------------------------------------

def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def cuda_status() -> dict[str, bool | int | str]: ...

# ---- maxsim ---------------------------------------------------------------------------------

Similarity = Literal["dot", "cosine"]
# How document rows are stored: from the array's dtype, or bit patterns / packed bits.
StorageDType = Literal["auto", "float32", "float16", "bfloat16", "int8", "bit"]

def maxsim(
    query: ArrayLike,
    doc: ArrayLike,
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    *,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
) -> float: ...
def maxsim_packed(
    query: ArrayLike,
    tokens: ArrayLike,
    offsets: ArrayLike,
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    *,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
    num_threads: int = 0,
) -> Float32Array: ...
def maxsim_padded(
    query: ArrayLike,
    docs: ArrayLike,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    padding: Literal["ignore", "zero_floor"] = "ignore",
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    *,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
    num_threads: int = 0,
) -> Float32Array: ...
def maxsim_all_pairs(
    queries: ArrayLike | Sequence[ArrayLike],
    docs: ArrayLike | Sequence[ArrayLike],
    *,
    query_offsets: ArrayLike | None = None,
    doc_offsets: ArrayLike | None = None,
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    dtype: StorageDType = "auto",
    scales: ArrayLike | Sequence[ArrayLike] | None = None,
    dim: int | None = None,
    num_threads: int = 0,
) -> Float32Array: ...
def maxsim_candidates(
    queries: ArrayLike | Sequence[ArrayLike],
    docs: ArrayLike | Sequence[ArrayLike],
    candidates: ArrayLike | Sequence[ArrayLike],
    *,
    candidate_offsets: ArrayLike | None = None,
    query_offsets: ArrayLike | None = None,
    doc_offsets: ArrayLike | None = None,
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    dtype: StorageDType = "auto",
    scales: ArrayLike | Sequence[ArrayLike] | None = None,
    dim: int | None = None,
    num_threads: int = 0,
) -> Float32Array: ...
def maxsim_alignments(
    query: ArrayLike,
    doc: ArrayLike,
    similarity: Similarity = "dot",
    *,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
) -> list[tuple[int, int, float]]: ...
def highlight_matches(
    query: ArrayLike,
    doc: ArrayLike,
    threshold: float,
    similarity: Similarity = "dot",
    *,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
) -> list[int]: ...
def maxsim_vecs(query: ArrayLike, doc: ArrayLike) -> float: ...
def maxsim_cosine_vecs(query: ArrayLike, doc: ArrayLike) -> float: ...
def maxsim_batch(
    query: ArrayLike,
    docs: Sequence[ArrayLike],
    similarity: Similarity = "dot",
    weights: ArrayLike | None = None,
    num_threads: int = 0,
    *,
    dtype: StorageDType = "auto",
    scales: Sequence[ArrayLike] | None = None,
    dim: int | None = None,
) -> Float32Array: ...

# ---- quantize -------------------------------------------------------------------------------

def quantize(
    x: ArrayLike, dtype: Literal["float16", "bfloat16", "int8", "bit"]
) -> tuple[npt.NDArray[np.generic], Float32Array | None]: ...
def dequantize(
    codes: ArrayLike,
    dtype: StorageDType = "auto",
    scales: ArrayLike | None = None,
    dim: int | None = None,
) -> Float32Array: ...

# ---- ranking --------------------------------------------------------------------------------

def top_k(scores: ArrayLike, k: int) -> tuple[Int64Array, Float32Array]: ...
def rank_all(scores: ArrayLike) -> tuple[Int64Array, Float32Array]: ...

# ---- vectors --------------------------------------------------------------------------------

def dot(a: ArrayLike, b: ArrayLike) -> float: ...
def cosine(a: ArrayLike, b: ArrayLike) -> float: ...
def norm(v: ArrayLike) -> float: ...
def l2_normalize(v: ArrayLike) -> Float32Array: ...
def dot_rows(a: ArrayLike, b: ArrayLike) -> Float32Array: ...
def cosine_rows(a: ArrayLike, b: ArrayLike) -> Float32Array: ...
def norm_rows(m: ArrayLike) -> Float32Array: ...
def l2_normalize_rows(m: ArrayLike) -> Float32Array: ...

# ---- weights --------------------------------------------------------------------------------

def bm25_idf(document_frequencies: ArrayLike, n_docs: int) -> Float32Array: ...
def idf_weights(token_ids: ArrayLike, document_frequencies: ArrayLike, n_docs: int) -> Float32Array: ...
def bm25_weights(
    term_frequencies: ArrayLike,
    document_frequencies: ArrayLike,
    n_docs: int,
    doc_length: float,
    avg_doc_length: float,
    k1: float = 1.2,
    b: float = 0.75,
) -> Float32Array: ...
def attention_weights(scores: ArrayLike) -> Float32Array: ...
