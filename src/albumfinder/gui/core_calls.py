"""The core calls the GUI needs that :class:`~albumfinder.library.Library` does not offer yet.

# TEMP: replace by the Library methods of the same name when emb lands

Each function here has the name and the arguments of the Library method that replaces it
(``models``, ``default_model``, ``embedder``, ``download_model``) or that the GUI asks for
(``weights_present``, ``fetch_photo``, ``leaving_with``), so that the rest of the GUI is
already written against the final API and this module is the only one that reaches below
the door. Imports are inside the functions: torch loads on a pool thread, never at start-up.
"""

# TEMP: replace by the Library methods of the same name when emb lands

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from albumfinder.embedder import Embedder
    from albumfinder.library import LazyEmbedder


@dataclass(frozen=True)
class ModelRow:
    """One model the album can use (the row Library.models() will return)."""

    name: str
    title: str
    dim: int
    weights_present: bool
    download_bytes: int | None
    listed: bool


def models() -> list[ModelRow]:  # TEMP: Library.models()
    from albumfinder.models.registry import LISTED_MODELS, MODELS, get_spec

    rows = []
    for name in MODELS:
        spec = get_spec(name)
        rows.append(
            ModelRow(
                spec.name,
                spec.title,
                spec.dim,
                weights_present(spec.name),
                spec.weights_bytes,
                spec.name in LISTED_MODELS,
            )
        )
    return rows


def weights_present(name: str, model_path: str | None = None) -> bool:  # TEMP: Library
    """Whether ``name`` has usable weights here (in ``model_path`` when the user chose one)."""
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import find_weights

    return find_weights(get_spec(name), model_path) is not None


def default_model(model_path: str | None = None) -> tuple[str, str | None]:  # TEMP: Library
    from albumfinder.models.choice import default_model_name

    return default_model_name(model_path)


_EMBEDDERS: dict[tuple, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()
_LOADING: dict[tuple, threading.Lock] = {}


def get_embedder(name: str, model_path: str | None = None) -> Embedder:
    """A loaded model, kept for the life of the process (loaded once, on a pool thread).

    Kept per weights file (path, size, mtime): weights that were replaced or removed since
    are looked for again, not served from memory.
    """
    from albumfinder.embedder import load_embedder
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import find_weights

    found = find_weights(get_spec(name), model_path)
    try:
        info = os.stat(found) if found is not None else None
    except OSError:
        info = None
    key = (name, model_path, str(found), info and (info.st_size, info.st_mtime_ns))
    with _EMBEDDERS_LOCK:
        embedder = _EMBEDDERS.get(key)
        if embedder is not None:
            return embedder
        loading = _LOADING.setdefault(key, threading.Lock())
    # Loaded outside the cache's lock: queries on a loaded model never wait for another
    # model being loaded (a model change can take seconds).
    with loading:
        with _EMBEDDERS_LOCK:
            embedder = _EMBEDDERS.get(key)
        if embedder is None:
            embedder = load_embedder(name, model_path=model_path, allow_download=False)
            with _EMBEDDERS_LOCK:
                _EMBEDDERS[key] = embedder
        return embedder


def embedder(  # TEMP: Library.embedder()
    name: str, model_path: str | None = None, log: Callable[[str], None] | None = None
) -> LazyEmbedder:
    """``name``'s model, loaded the first time a photo needs it, from the process-wide cache."""
    from albumfinder.library import LazyEmbedder

    return LazyEmbedder(name, lambda: get_embedder(name, model_path))


def download_model(  # TEMP: Library.download_model()
    name: str,
    progress: Callable[[int, int | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    from albumfinder.models.registry import get_spec
    from albumfinder.models.weights import download_weights

    return download_weights(get_spec(name), progress=progress, should_stop=should_stop)


def fetch_photo(url: str, should_stop: Callable[[], bool] | None = None) -> bytes:  # TEMP
    """The encoded photo at a dropped web address (wanted: Library.fetch_photo)."""
    from albumfinder.fetch import fetch_bytes

    return fetch_bytes(url, should_stop=should_stop)


def leaving_with(  # TEMP: wanted as Library.leaving_with(folder, photos, album=...)
    folder: str, photos: Iterable[str], album: Sequence[str]
) -> list[str]:
    """Those of ``photos`` that removing ``folder`` from ``album`` (the folder list the GUI
    got last, so no SQLite read on the GUI thread) takes out of the album, in their order."""
    from albumfinder.scan import is_under, normalize_path

    path = normalize_path(folder)
    others = [f for f in album if f != path]
    return [p for p in photos if is_under(p, path) and not any(is_under(p, o) for o in others)]
