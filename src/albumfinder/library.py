"""The one API both faces use: the album's folders, indexing, search and status.

The CLI and the GUI call these functions and nothing below them. Nothing here imports Qt
or torch: the embedder is passed in (see :func:`albumfinder.embedder.load_embedder`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from albumfinder import paths
from albumfinder.allocator import release_free_memory
from albumfinder.images import ImageLoadError, open_photo, open_photo_bytes
from albumfinder.indexer import IndexProgress, IndexReport, Skipped, index_folders
from albumfinder.lazy_embedder import LazyEmbedder
from albumfinder.models.weights import remove_stale_parts
from albumfinder.scan import NOT_UTF8, is_storable_name, is_under, normalize_path, scan
from albumfinder.search import SearchHit, VectorMatrix, search_vectors
from albumfinder.store import IndexStore, IndexUnavailableError, stored_vector

if TYPE_CHECKING:
    from albumfinder.embedder import Embedder

Query = str | os.PathLike[str] | Image.Image | bytes


@dataclass(frozen=True)
class FolderStatus:
    path: str
    exists: bool
    indexed: int  # photos with a vector for the model
    skipped: int  # photos that could not be read (recorded in the index)
    pending: int | None  # photos on disk not yet indexed (None: not counted)
    #: (path, reason) of what the scan could not look at: broken links, unreadable folders…
    #: (only counted with ``count_pending``; the index records photos, not these)
    scan_problems: tuple[tuple[str, str], ...] = ()


class Library:
    """A photo album: its folders and its index (one SQLite file)."""

    def __init__(self, index_path: str | os.PathLike[str] | None = None) -> None:
        if index_path is None:
            try:
                index_path = paths.index_path()  # creates the data folder
            except OSError as exc:
                raise IndexUnavailableError(
                    f"Cannot create the index folder {exc.filename or paths.HOME_ENV}: "
                    f"{exc.strerror or exc}. Nothing was changed."
                ) from exc
        self.store = IndexStore(index_path)
        remove_stale_parts()  # what a killed weights download left, once per start
        self._vectors: dict[str, tuple[int, VectorMatrix]] = {}
        self._vectors_lock = threading.Lock()

    @property
    def recovered_from(self) -> Path | None:
        """Where a corrupt index was moved when it was rebuilt at open, if it was."""
        return self.store.recovered_from

    def recovery_note(self) -> str | None:
        """What to tell the user when a damaged index was moved aside at open (else None):
        whether the album's folder list survived decides what they have to do."""
        if self.recovered_from is None:
            return None
        said = (
            f"The index was damaged, so it was moved aside to {self.recovered_from} and a new "
            "one was started."
        )
        if self.folders():
            return f"{said} Your folders are indexed again in the background."
        return f"{said} Its list of folders could not be recovered: add your folders again."

    def close(self) -> None:
        self.store.close()

    # -- folders -----------------------------------------------------------------------
    def folders(self) -> list[str]:
        return self.store.folders()

    def add_folder(self, folder: str | os.PathLike[str]) -> str:
        path = normalize_path(folder)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Folder not found: {path}")
        if not os.path.isdir(path):
            raise NotADirectoryError(f"Not a folder: {path}")
        if not os.access(path, os.R_OK | os.X_OK):
            raise PermissionError(f"Cannot read the folder {path} (permission denied)")
        if not is_storable_name(path):
            raise ValueError(f"Cannot add {path}: {NOT_UTF8}")
        same = self._same_folder_as(path)
        if same is not None:
            raise ValueError(
                f"Cannot add {path}: it is {same}, already in the album under that name "
                "(a symbolic link or another name for the same folder); nothing was added"
            )
        self.store.add_folder(path)
        return path

    def _same_folder_as(self, path: str) -> str | None:
        """How the album already spells ``path`` when it holds the same folder (same device
        and inode) under another name, itself or inside an album folder; else None.
        Both spellings would index every photo twice, and rescans would swap them."""
        album = self.store.folders()
        if any(is_under(path, folder) for folder in album):
            return None  # spelled as the album spells it: its photos are the same rows
        identities: dict[tuple[int, int], str] = {}
        for folder in album:
            try:
                info = os.stat(folder)
            except OSError:
                continue  # unplugged: nothing to compare with
            identities[(info.st_dev, info.st_ino)] = folder
        inner: list[str] = []
        candidate = os.path.realpath(path)
        while True:
            try:
                info = os.stat(candidate)
            except OSError:
                return None
            folder = identities.get((info.st_dev, info.st_ino))
            if folder is not None:
                return os.path.join(folder, *reversed(inner))
            parent = os.path.dirname(candidate)
            if parent == candidate:
                return None
            inner.append(os.path.basename(candidate))
            candidate = parent

    def remove_folder(self, folder: str | os.PathLike[str]) -> None:
        """Forget a folder and the vectors of photos no other album folder holds."""
        path = normalize_path(folder)
        self.store.remove_folder(path)
        others = self.store.folders()
        rows = self.store.files_under([path], model_key="")
        self.store.remove_files(
            row.id for row in rows.values() if not any(is_under(row.path, o) for o in others)
        )

    def leaving_with(self, folder: str | os.PathLike[str], photos: Iterable[str]) -> list[str]:
        """Those of ``photos`` that removing ``folder`` takes out of the album (the ones no
        other album folder holds), in their order: what a face stops showing at once."""
        path = normalize_path(folder)
        others = [f for f in self.folders() if f != path]
        return [p for p in photos if is_under(p, path) and not any(is_under(p, o) for o in others)]

    # -- indexing ----------------------------------------------------------------------
    def index(
        self,
        embedder: Embedder | LazyEmbedder,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        progress: Callable[[IndexProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        decode_workers: int | None = None,
    ) -> IndexReport:
        """Index ``folders`` (default: the album's folders) incrementally. A
        :class:`LazyEmbedder` is loaded only if a photo needs embedding."""
        roots = [normalize_path(f) for f in folders] if folders is not None else self.folders()
        try:
            return index_folders(self.store, roots, embedder, progress, should_stop, decode_workers)
        finally:
            release_free_memory()  # what the forward passes kept, until the next run

    def skipped(
        self, folders: Sequence[str] | None = None, model_key: str | None = None
    ) -> list[Skipped]:
        """Photos that could not be indexed (for ``model_key``: those it has no vector of)."""
        roots = [normalize_path(f) for f in folders] if folders is not None else self.folders()
        return [Skipped(p, r) for p, r in self.store.failures_under(roots, model_key)]

    def folder_status(self, model_key: str, count_pending: bool = False) -> list[FolderStatus]:
        out = []
        for folder in self.folders():
            rows = self.store.files_under([folder], model_key)
            indexed = sum(1 for r in rows.values() if r.has_vector)
            skipped = sum(1 for r in rows.values() if r.error is not None and not r.has_vector)
            exists = os.path.isdir(folder)
            pending = None
            problems: tuple[tuple[str, str], ...] = ()
            if count_pending and exists:
                scanned = scan([folder])
                found = scanned.files
                pending = sum(
                    1
                    for p, f in found.items()
                    if (r := rows.get(p)) is None
                    or (r.size, r.mtime_ns) != (f.size, f.mtime_ns)
                    or (not r.has_vector and r.error is None)
                )
                problems = tuple(sorted(scanned.problems.items()))
            out.append(FolderStatus(folder, exists, indexed, skipped, pending, problems))
        return out

    # -- search ------------------------------------------------------------------------
    def vectors(self, model_key: str) -> VectorMatrix:
        """The model's vectors in RAM, reloaded only when the index has changed."""
        generation = self.store.generation()
        with self._vectors_lock:
            cached = self._vectors.get(model_key)
            if cached is not None and cached[0] == generation:
                return cached[1]
            paths_, matrix = self.store.load_vectors(model_key)
            vectors = VectorMatrix(paths_, matrix)
            self._vectors[model_key] = (generation, vectors)
            return vectors

    def embed_query(self, embedder: Embedder, query: Query) -> np.ndarray:
        """The vector of a query photo: a path, a PIL image or encoded image bytes.

        An indexed, unchanged photo reuses its stored vector (no decoding at all).
        """
        if isinstance(query, Image.Image):
            image = query
        elif isinstance(query, bytes):
            image = open_photo_bytes(query, min_size=embedder.decode_size)
        else:
            path = normalize_path(query)
            try:
                info = os.stat(path)
            except OSError as exc:
                raise ImageLoadError(
                    path,
                    "file not found"
                    if isinstance(exc, FileNotFoundError)
                    else "cannot read the file",
                ) from exc
            vector = stored_vector(
                self.store, path, info.st_size, info.st_mtime_ns, embedder.model_key
            )
            if vector is not None and vector.shape == (embedder.dim,):  # else: damaged
                return vector / max(float(np.linalg.norm(vector)), 1e-12)
            image = open_photo(path, min_size=embedder.decode_size)
        return embedder.embed_prepared([embedder.prepare(image)], urgent=True)[0]

    def search(
        self,
        embedder: Embedder,
        query: Query,
        n: int = 10,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        exclude: Sequence[str | os.PathLike[str]] | None = None,
    ) -> list[SearchHit]:
        """The ``n`` indexed photos most like ``query``, best first.

        ``folders`` limits results to photos under those folders (default: all indexed);
        nothing under an ``exclude`` folder is a result. The query file itself never is.
        """
        vector = self.embed_query(embedder, query)
        query_file = None if isinstance(query, (Image.Image, bytes)) else normalize_path(query)
        roots = [normalize_path(f) for f in folders] if folders else None
        return search_vectors(
            self.vectors(embedder.model_key),
            vector,
            n,
            roots,
            query_file,
            exclude_folders=[normalize_path(f) for f in exclude] if exclude else None,
        )
