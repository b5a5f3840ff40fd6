"""Type stubs for the native module rank_rerank._core, one section per area, sorted by area."""

import os
import pathlib
from typing import Optional, TypedDict

import numpy as np
import numpy.typing as npt

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
