"""The seed plan's ``CandleEncoder`` API, kept as a thin alias over :class:`ColBERT`.

The original Rust plan exposed ``CandleEncoder.from_huggingface(name, device)`` with
``encode(text)`` (one ``[n, dim]`` array) and ``encode_batch(texts)`` (one array per text). The
same ColBERT encoder serves both names; nothing is computed here.
"""

from typing import Optional, Sequence

import numpy as np

from ._core import ColbertEncoder, resolve_device


class CandleEncoder:
    """ColBERT token embeddings under the seed's names (see rank_rerank.ColBERT)."""

    def __init__(self, encoder: ColbertEncoder, device: str) -> None:
        self.encoder = encoder
        self.device = device

    @classmethod
    def from_huggingface(cls, model_name: str, device: str = "cpu", **options) -> "CandleEncoder":
        """Load a ColBERT checkpoint (local directory or Hub repo id) onto ``device`` ("cpu",
        "cuda", "cuda:N", "auto"); other options as ColBERT's."""
        resolved = resolve_device(device)
        encoder = ColbertEncoder.from_pretrained(model_name, device=resolved, **options)
        return cls(encoder, resolved)

    def _check_device(self, device: Optional[str]) -> None:
        """The model lives on one device; a per-call device must name that one."""
        if device is None:
            return
        resolved = resolve_device(device)
        if resolved != self.device:
            raise ValueError(
                f"CandleEncoder: device {device!r} resolved to {resolved!r}, but this encoder was "
                f"loaded on {self.device!r} (load another with from_huggingface(name, device=...))"
            )

    def encode(self, text: str, device: Optional[str] = None, *, is_query: bool = True) -> np.ndarray:
        """One text (a query by default): its float32 [n, dim] token embeddings."""
        self._check_device(device)
        return self.encoder.encode(text, is_query=is_query)

    def encode_batch(
        self, texts: Sequence[str], device: Optional[str] = None, *, is_query: bool = False
    ) -> list:
        """Several texts (documents by default): one float32 [n_i, dim] array per text."""
        self._check_device(device)
        return self.encoder.encode(list(texts), is_query=is_query)

    @property
    def dimension(self) -> int:
        return self.encoder.dimension
