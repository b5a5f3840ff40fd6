"""Type stubs for the native module rank_rerank._core, one section per area, sorted by area."""

import os
import pathlib
from typing import Any, Literal, Optional, Sequence, TypedDict, overload

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
def get_gpu_device() -> Literal["cuda", "metal", "cpu"]: ...

class DeviceDict(TypedDict):
    device: str
    name: str
    compute_capability: tuple[int, int]
    multiprocessors: int
    free_bytes: int
    total_bytes: int

def list_devices() -> list[DeviceDict]: ...
def resolve_device(device: str) -> str: ...

class CpuBlasDict(TypedDict):
    core: str
    recommended: str
    generic: bool
    bf16_kernel: Literal["amx", "avx512_bf16", "decoded_f32"]

def cpu_blas() -> CpuBlasDict: ...

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

# ---- gpu maxsim -----------------------------------------------------------------------------

def maxsim_vecs_gpu(query_tokens: ArrayLike, doc_tokens: Sequence[ArrayLike], device: str = "cuda") -> Float32Array: ...
def maxsim_gpu(
    query: Any,
    tokens: Any,
    offsets: Any,
    query_offsets: ArrayLike | None = None,
    similarity: Literal["dot", "cosine"] = "dot",
    weights: Any | None = None,
    *,
    dtype: StorageDType = "auto",
    scales: Any | None = None,
    dim: int | None = None,
    device: str = "cuda",
) -> Any: ...
def top_k_gpu(scores: Any, k: int) -> tuple[Any, Any]: ...

class GpuDocumentSet:
    def __init__(
        self,
        tokens: ArrayLike,
        offsets: ArrayLike,
        *,
        dtype: StorageDType = "auto",
        scales: ArrayLike | None = None,
        dim: int | None = None,
        device: str = "cuda",
    ) -> None: ...
    @property
    def size(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def device(self) -> str: ...
    @property
    def device_bytes(self) -> int: ...
    def score(
        self,
        query: ArrayLike,
        query_offsets: ArrayLike | None = None,
        similarity: Literal["dot", "cosine"] = "dot",
        weights: ArrayLike | None = None,
    ) -> Float32Array: ...
    def top_k(
        self,
        query: ArrayLike,
        k: int,
        query_offsets: ArrayLike | None = None,
        similarity: Literal["dot", "cosine"] = "dot",
    ) -> tuple[Int64Array, Float32Array]: ...

# ---- multi-gpu: device lists, documents sharded over several GPUs ---------------------------

def parse_devices(devices: str | Sequence[str]) -> list[str]:
    """'cuda:0,cuda:1', 'cuda:all' or a sequence -> ['cuda:0', 'cuda:1'] (a GPU may repeat)."""

class ShardedGpuDocumentSet:
    """Documents split over several CUDA devices by token count; GpuDocumentSet's results."""

    def __init__(
        self,
        tokens: ArrayLike,
        offsets: ArrayLike,
        *,
        devices: str | Sequence[str],
        dtype: StorageDType = "auto",
        scales: Optional[ArrayLike] = None,
        dim: Optional[int] = None,
        min_shard_bytes: int = 1 << 30,
    ) -> None: ...
    @property
    def size(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def devices(self) -> list[str]: ...
    @property
    def shard_offsets(self) -> list[int]: ...
    def device_memory(self) -> list[dict[str, int | str]]: ...
    def score(
        self, query: ArrayLike, query_offsets: Optional[ArrayLike] = None, similarity: str = "dot"
    ) -> Float32Array: ...
    def top_k(
        self,
        query: ArrayLike,
        k: int,
        query_offsets: Optional[ArrayLike] = None,
        similarity: str = "dot",
    ) -> tuple[Int64Array, Float32Array]: ...

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
# ---- io: checkpoints and the Hugging Face cache ----

class TensorInfo(TypedDict):
    dtype: str  # safetensors name: "F32", "BF16", "I64", ...
    shape: list[int]

class WeightsInfo(TypedDict):
    source: str
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]

def load_weights(path: str | os.PathLike[str]) -> dict[str, npt.NDArray[np.generic]]:
    """Read a checkpoint (safetensors, sharded index, torch.save zip, or model directory) as
    read-only numpy arrays viewing the mapped file; BF16 as uint16 bits, 8-bit floats as uint8."""

def weights_info(path: str | os.PathLike[str]) -> WeightsInfo:
    """Dtypes, shapes and safetensors metadata of a checkpoint."""

def hf_cache_dir() -> pathlib.Path:
    """The Hugging Face hub cache directory the environment selects."""

def hf_resolve(
    repo_or_path: str,
    filename: str,
    revision: str = "main",
    cache_dir: Optional[str] = None,
    endpoint: Optional[str] = None,
    token: Optional[str] = None,
    offline: Optional[bool] = None,
    missing_ok: bool = False,
) -> Optional[pathlib.Path]:
    """Local path of a file from a model directory or a Hub repo (cached, downloaded if needed);
    None only when missing_ok and the file does not exist."""

def hf_load_weights(
    repo_or_path: str,
    revision: str = "main",
    cache_dir: Optional[str] = None,
    endpoint: Optional[str] = None,
    token: Optional[str] = None,
    offline: Optional[bool] = None,
) -> dict[str, npt.NDArray[np.generic]]:
    """The checkpoint of a model directory or Hub repo, as load_weights returns it."""
# ---- models: bi-encoders, ColBERT and cross-encoders on the CPU or CUDA GPUs ----
# devices=: several GPUs, data parallel ("cuda:0,cuda:1", ["cuda:0", "cuda:1"], "cuda:all");
# results equal one device's bit for bit (docs/multi_gpu.md). Exclusive with device=.

class DeviceMemoryDict(TypedDict):
    device: str
    bytes_in_use: int
    bytes_reserved: int

# Architectures: BERT, RoBERTa, XLM-RoBERTa, ELECTRA, DistilBERT (config.json model_type).

class SentenceEncoder:
    """A sentence-transformers bi-encoder (Transformer + Pooling + optional Normalize)."""

    def __init__(
        self,
        name_or_path: str,
        *,
        batch_size: int = 32,
        num_threads: int = 0,
        max_seq_length: Optional[int] = None,
        revision: str = "main",
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
        max_batch_tokens: int = 32768,
        device: Optional[str] = None,
        devices: Optional[str | Sequence[str]] = None,
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
    ) -> None: ...
    @overload
    def encode(self, texts: str) -> Float32Array:
        """One text: float32 [dim]."""
    @overload
    def encode(self, texts: Sequence[str]) -> Float32Array:
        """float32 [len(texts), dim], as SentenceTransformer.encode."""
    def encode_tokens(self, texts: Sequence[str]) -> tuple[Float32Array, Int64Array]:
        """Every token's transformer output, packed: (values [total, hidden], offsets [n + 1])."""
    @property
    def dimension(self) -> int: ...
    @property
    def hidden_size(self) -> int: ...
    @property
    def max_seq_length(self) -> int: ...
    @property
    def normalizes(self) -> bool: ...
    @property
    def pooling_modes(self) -> list[str]: ...
    @property
    def devices(self) -> list[str]:
        """The devices the model runs on, e.g. ['cuda:0', 'cuda:1']."""
    def device_memory(self) -> list[DeviceMemoryDict]:
        """Device memory per replica (zeros on the CPU)."""

class ColbertEncoder:
    """A ColBERT encoder (PyLate / sentence-transformers Dense layout, or Stanford HF_ColBERT)."""

    def __init__(
        self,
        name_or_path: str,
        *,
        batch_size: int = 32,
        num_threads: int = 0,
        query_length: Optional[int] = None,
        document_length: Optional[int] = None,
        revision: str = "main",
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
        max_batch_tokens: int = 32768,
        device: Optional[str] = None,
        devices: Optional[str | Sequence[str]] = None,
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
    ) -> None: ...
    @staticmethod
    def from_pretrained(
        name_or_path: str,
        *,
        batch_size: int = 32,
        num_threads: int = 0,
        query_length: Optional[int] = None,
        document_length: Optional[int] = None,
        revision: str = "main",
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
        max_batch_tokens: int = 32768,
        device: Optional[str] = None,
        devices: Optional[str | Sequence[str]] = None,
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
    ) -> ColbertEncoder:
        """The constructor under PyLate's name."""
    @overload
    def encode(self, texts: str, *, is_query: bool = True) -> Float32Array:
        """One text: float32 [n, dim]."""
    @overload
    def encode(
        self, texts: Sequence[str], *, is_query: bool = True, packed: Literal[False] = False
    ) -> list[Float32Array]:
        """One L2-normalised float32 [n_i, dim] array per text, as pylate ColBERT.encode."""
    @overload
    def encode(
        self, texts: Sequence[str], *, is_query: bool = True, packed: Literal[True]
    ) -> tuple[Float32Array, Int64Array]:
        """(values [total, dim], offsets [len(texts) + 1])."""
    @property
    def dimension(self) -> int: ...
    @property
    def query_length(self) -> int: ...
    @property
    def document_length(self) -> int: ...
    @property
    def devices(self) -> list[str]:
        """The devices the model runs on, e.g. ['cuda:0', 'cuda:1']."""
    def device_memory(self) -> list[DeviceMemoryDict]:
        """Device memory per replica (zeros on the CPU)."""

ColBERT = ColbertEncoder

class RankedDict(TypedDict, total=False):
    corpus_id: int
    score: float
    text: str

class CrossEncoder:
    """A sentence-transformers cross-encoder (*ForSequenceClassification) on the CPU."""

    def __init__(
        self,
        name_or_path: str,
        *,
        batch_size: int = 32,
        num_threads: int = 0,
        max_length: Optional[int] = None,
        revision: str = "main",
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
        max_batch_tokens: int = 32768,
        device: Optional[str] = None,
        devices: Optional[str | Sequence[str]] = None,
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
    ) -> None: ...
    def predict(
        self, pairs: Sequence[tuple[str, str]], *, apply_softmax: bool = False
    ) -> Float32Array:
        """[len(pairs)] for one label, else [len(pairs), num_labels]."""
    def rank(
        self,
        query: str,
        documents: Sequence[str],
        top_k: Optional[int] = None,
        return_documents: bool = False,
        *,
        apply_softmax: bool = False,
    ) -> list[RankedDict]:
        """As sentence-transformers' CrossEncoder.rank: best first; one-label models only."""
    @property
    def num_labels(self) -> int: ...
    @property
    def max_length(self) -> int: ...
    @property
    def activation(self) -> str: ...
    @property
    def devices(self) -> list[str]:
        """The devices the model runs on, e.g. ['cuda:0', 'cuda:1']."""
    def device_memory(self) -> list[DeviceMemoryDict]:
        """Device memory per replica (zeros on the CPU)."""

# ---- pipeline: Reranker, statistics, document vectors files ----------------------------------

class RerankStats:
    """Measurements of one Reranker call (times in milliseconds)."""
    @property
    def queries(self) -> int: ...
    @property
    def texts(self) -> int: ...
    @property
    def tokens(self) -> int: ...
    @property
    def tokenize_ms(self) -> float: ...
    @property
    def encode_ms(self) -> float: ...
    @property
    def score_ms(self) -> float: ...
    @property
    def total_ms(self) -> float: ...
    @property
    def device(self) -> str: ...
    @property
    def batch_texts(self) -> list[int]: ...
    @property
    def batch_tokens(self) -> list[int]: ...
    @property
    def tokens_per_second(self) -> float: ...
    def as_dict(self) -> dict[str, object]: ...
    def to_json(self) -> str: ...

class RerankHitDict(TypedDict, total=False):
    index: int
    score: float
    text: str

class RerankResult(Sequence[RerankHitDict]):
    """Ranked documents, best first; .stats holds the call's measurements."""
    @property
    def stats(self) -> RerankStats: ...
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> RerankHitDict: ...  # type: ignore[override]
    def to_list(self) -> list[RerankHitDict]: ...

class ModelIdentityDict(TypedDict):
    name: str
    kind: str
    fingerprint: str
    dim: int
    max_length: int

class DocumentVectors:
    """A document vectors file mapped read-only (docs/formats.md)."""
    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, id: str) -> bool: ...
    @property
    def dim(self) -> int: ...
    @property
    def dtype(self) -> Literal["float32", "float16", "bfloat16"]: ...
    @property
    def total_rows(self) -> int: ...
    @property
    def model(self) -> ModelIdentityDict: ...
    def ids(self) -> list[str]: ...
    def vectors(self, id: str) -> Float32Array: ...

class Reranker:
    """Text in, ranked documents out: ColBERT, cross-encoder, dense, or dense_maxsim."""
    def __init__(
        self,
        name_or_path: str,
        *,
        kind: Literal["auto", "colbert", "cross_encoder", "dense", "dense_maxsim"] = "auto",
        device: str = "auto",
        devices: Optional[str | Sequence[str]] = None,
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
        max_batch_tokens: int = 32768,
        max_length: Optional[int] = None,
        query_length: Optional[int] = None,
        num_threads: int = 0,
        revision: str = "main",
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
    ) -> None: ...
    def rerank(
        self, query: str, documents: Sequence[str], top_k: Optional[int] = None,
        return_documents: bool = False,
    ) -> RerankResult: ...
    def rerank_many(
        self, queries: Sequence[str], documents: Sequence[Sequence[str]],
        top_k: Optional[int] = None, return_documents: bool = False,
    ) -> list[RerankResult]: ...
    def score(self, query: str, documents: Sequence[str]) -> Float32Array: ...
    def encode_documents(self, documents: Sequence[str]) -> tuple[Float32Array, Int64Array]: ...
    def save_vectors(
        self, path: str | os.PathLike[str], documents: Sequence[str], ids: Sequence[str],
        dtype: Literal["float32", "float16", "bfloat16"] = "float32",
    ) -> RerankStats: ...
    def rerank_vectors(
        self, query: str, vectors: DocumentVectors, ids: Sequence[str], top_k: Optional[int] = None,
    ) -> RerankResult: ...
    @property
    def kind(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def max_length(self) -> int: ...
    @property
    def model(self) -> ModelIdentityDict: ...

def last_stats() -> RerankStats: ...
def detect_model_kind(name_or_path: str, *, offline: Optional[bool] = None) -> Literal["colbert", "cross_encoder", "dense"]: ...
# ---- tokenizer ------------------------------------------------------------------------------

TruncationStrategy = Literal["longest_first", "only_first", "only_second"]

class EncodingDict(TypedDict):
    """One encoded text: arrays of equal length n (offsets (n, 2), code points of the str)."""

    tokens: list[str]
    ids: Int32Array
    type_ids: Int32Array
    attention_mask: Int32Array
    special_tokens_mask: Int32Array
    word_ids: Int32Array
    offsets: Int64Array

class BatchDict(TypedDict):
    """A batch: 2-D (n, L) arrays (offsets (n, L, 2)) when padded, else the rows concatenated
    (offsets (total, 2)) with `lengths` giving each row's length."""

    ids: Int32Array
    type_ids: Int32Array
    attention_mask: Int32Array
    special_tokens_mask: Int32Array
    word_ids: Int32Array
    offsets: Int64Array
    lengths: Int64Array

class Tokenizer:
    """Tokenizer reading Hugging Face tokenizer.json; same ids and offsets as `tokenizers`."""

    @staticmethod
    def from_file(path: str) -> Tokenizer:
        """Load tokenizer.json (or a BERT vocab.txt)."""
    @staticmethod
    def from_pretrained(directory: str) -> Tokenizer:
        """Load from a local model directory (tokenizer.json, or vocab.txt + tokenizer_config.json)."""
    @staticmethod
    def from_str(json: str) -> Tokenizer: ...
    def encode(self, text: str, pair: Optional[str] = None, add_special_tokens: bool = True) -> EncodingDict: ...
    def encode_batch(
        self,
        texts: Sequence[str],
        pairs: Optional[Sequence[str]] = None,
        add_special_tokens: bool = True,
        max_length: Optional[int] = None,
        truncation_strategy: TruncationStrategy = "longest_first",
        padding: Optional[bool] = None,
        pad_length: Optional[int] = None,
        pad_to_multiple_of: int = 0,
        num_threads: int = 0,
    ) -> BatchDict:
        """Encode many texts (optionally pairs) across threads; padding None keeps the
        tokenizer.json setting."""
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str: ...
    def token_to_id(self, token: str) -> Optional[int]: ...
    @property
    def vocab_size(self) -> int: ...
