"""The seed plan's ``CandleEncoder`` API, kept as a thin alias over :class:`ColBERT`.

The original Rust plan exposed ``CandleEncoder.from_huggingface(name, device)`` with
``encode(text)`` (one ``[n, dim]`` array) and ``encode_batch(texts)`` (one array per text). The
same ColBERT encoder serves both names; nothing is computed here.
"""

from typing import Optional, Sequence

import numpy as np

from ._core import ColbertEncoder, resolve_device


def _check_device(device: Optional[str]) -> None:
    if device is None:
        return
    resolved = resolve_device(device)
    if resolved != "cpu":
        raise ValueError(
            f"CandleEncoder: device {device!r} resolved to {resolved!r}, but the ColBERT encoder "
            "of this build runs on the CPU only (use device='cpu' or 'auto')"
        )


class CandleEncoder:
    """ColBERT token embeddings under the seed's names (see rank_rerank.ColBERT)."""

    def __init__(self, encoder: ColbertEncoder) -> None:
        self.encoder = encoder

    @classmethod
    def from_huggingface(cls, model_name: str, device: str = "cpu", **options) -> "CandleEncoder":
        """Load a ColBERT checkpoint (local directory or Hub repo id); options as ColBERT's."""
        _check_device(device)
        return cls(ColbertEncoder.from_pretrained(model_name, **options))

    def encode(self, text: str, device: Optional[str] = None, *, is_query: bool = True) -> np.ndarray:
        """One text (a query by default): its float32 [n, dim] token embeddings."""
        _check_device(device)
        return self.encoder.encode(text, is_query=is_query)

    def encode_batch(
        self, texts: Sequence[str], device: Optional[str] = None, *, is_query: bool = False
    ) -> list:
        """Several texts (documents by default): one float32 [n_i, dim] array per text."""
        _check_device(device)
        return self.encoder.encode(list(texts), is_query=is_query)

    @property
    def dimension(self) -> int:
        return self.encoder.dimension
