"""A model that is loaded only when a photo needs embedding.

A rescan of an unchanged album needs only the model's name (its index key), not the model:
loading it (importing torch, reading the weights) is most of such a rescan's time. No torch
here; the faces get this class from :mod:`albumfinder.library`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from albumfinder.models.choice import default_model_name
from albumfinder.models.registry import ModelSpec, get_spec

if TYPE_CHECKING:
    from albumfinder.embedder import Embedder


class LazyEmbedder:
    """Stands in for an :class:`~albumfinder.embedder.Embedder` until :meth:`get`.

    What a search or a rescan needs before embedding (the model's key, its decode size)
    comes from the spec; any other attribute loads the model, so it can be passed wherever
    an Embedder goes. A search whose queries are all indexed photos never loads the model
    (nor torch: about 1.5 s of a CLI run)."""

    def __init__(self, model: str | ModelSpec, load: Callable[[], Embedder]) -> None:
        self.spec = get_spec(model) if isinstance(model, str) else model
        self._load = load
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    @classmethod
    def named(
        cls,
        name: str | None,
        load: Callable[[str], Embedder],
        model_path: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> LazyEmbedder:
        """``name``, or (None) the default model as :func:`load_embedder` chooses it, saying
        why when it falls back; ``load(name)`` loads it."""
        if name is None:
            name, reason = default_model_name(model_path)
            if reason and log is not None:
                log(reason)
        chosen = name
        return cls(chosen, lambda: load(chosen))

    @property
    def model_key(self) -> str:
        return self.spec.key

    @property
    def decode_size(self) -> int:
        return self.spec.input_size

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_load", "_embedder", "_lock", "spec"):
            raise AttributeError(name)
        return getattr(self.get(), name)

    def get(self) -> Embedder:
        """The loaded model (loaded the first time, once, whichever thread asks)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load()
            return self._embedder


def loaded(embedder: Embedder | LazyEmbedder) -> Embedder:
    return embedder.get() if isinstance(embedder, LazyEmbedder) else embedder
