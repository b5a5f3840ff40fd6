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

# ---- diversity ------------------------------------------------------------------------------

@overload
def mmr(
    embeddings: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    lambda_: float = 0.5,
    similarity: Literal["cosine", "dot"] = "cosine",
    normalize_relevance: bool = True,
    return_gains: Literal[False] = False,
) -> Int64Array: ...
@overload
def mmr(
    embeddings: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    lambda_: float = 0.5,
    similarity: Literal["cosine", "dot"] = "cosine",
    normalize_relevance: bool = True,
    *,
    return_gains: Literal[True],
) -> tuple[Int64Array, Float64Array]: ...
@overload
def mmr_from_similarity(
    similarity: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    lambda_: float = 0.5,
    normalize_relevance: bool = True,
    return_gains: Literal[False] = False,
) -> Int64Array: ...
@overload
def mmr_from_similarity(
    similarity: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    lambda_: float = 0.5,
    normalize_relevance: bool = True,
    *,
    return_gains: Literal[True],
) -> tuple[Int64Array, Float64Array]: ...
@overload
def dpp(
    embeddings: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    alpha: float = 1.0,
    similarity: Literal["cosine", "dot"] = "cosine",
    epsilon: float = 1e-10,
    stop_at_nonpositive_gain: bool = False,
    return_gains: Literal[False] = False,
) -> Int64Array: ...
@overload
def dpp(
    embeddings: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    alpha: float = 1.0,
    similarity: Literal["cosine", "dot"] = "cosine",
    epsilon: float = 1e-10,
    stop_at_nonpositive_gain: bool = False,
    *,
    return_gains: Literal[True],
) -> tuple[Int64Array, Float64Array]: ...
@overload
def dpp_from_similarity(
    similarity: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    alpha: float = 1.0,
    epsilon: float = 1e-10,
    stop_at_nonpositive_gain: bool = False,
    return_gains: Literal[False] = False,
) -> Int64Array: ...
@overload
def dpp_from_similarity(
    similarity: ArrayLike,
    relevance: ArrayLike,
    k: int = 10,
    alpha: float = 1.0,
    epsilon: float = 1e-10,
    stop_at_nonpositive_gain: bool = False,
    *,
    return_gains: Literal[True],
) -> tuple[Int64Array, Float64Array]: ...

# ---- fusion ---------------------------------------------------------------------------------

def matryoshka_refine(
    query: ArrayLike,
    docs: ArrayLike,
    scores: ArrayLike,
    head_dims: int,
    alpha: float = 0.5,
    top_k: int | None = None,
) -> tuple[Int64Array, Float32Array]: ...
def blend_scores(a: ArrayLike, b: ArrayLike, alpha: float = 0.5) -> Float32Array: ...
def normalize_scores(
    scores: ArrayLike,
    method: Literal["min_max", "softmax", "sigmoid"] = "min_max",
    temperature: float = 1.0,
) -> Float32Array: ...

# ---- pooling --------------------------------------------------------------------------------

PoolingMethod = Literal["hierarchical", "sequential", "adaptive"]
WardVariant = Literal["cosine_distances", "similarity_rows"]

@overload
def pool_tokens(
    doc: ArrayLike,
    pool_factor: int = 2,
    protected_tokens: int = 1,
    method: PoolingMethod = "hierarchical",
    variant: WardVariant = "cosine_distances",
    num_threads: int = 0,
) -> Float32Array: ...
@overload
def pool_tokens(
    doc: Sequence[ArrayLike],
    pool_factor: int = 2,
    protected_tokens: int = 1,
    method: PoolingMethod = "hierarchical",
    variant: WardVariant = "cosine_distances",
    num_threads: int = 0,
) -> list[Float32Array]: ...
def pool_tokens_packed(
    tokens: ArrayLike,
    offsets: ArrayLike,
    pool_factor: int = 2,
    protected_tokens: int = 1,
    method: PoolingMethod = "hierarchical",
    variant: WardVariant = "cosine_distances",
    num_threads: int = 0,
) -> tuple[Float32Array, Int64Array]: ...
def ward_linkage(condensed: ArrayLike) -> Float64Array: ...
def fcluster_maxclust(linkage: ArrayLike, max_clusters: int) -> Int32Array: ...
