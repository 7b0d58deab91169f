"""The one API both faces use: the album's folders, indexing, search and status.

The CLI and the GUI call these functions and nothing below them. Nothing here imports Qt
or torch: the embedder is passed in (see :meth:`Library.embedder`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from albumfinder import duplicates, fetch, paths, safe_trash
from albumfinder.about import about_facts
from albumfinder.allocator import release_free_memory
from albumfinder.atlas import outliers as odd_ones
from albumfinder.atlas.jobs import JobCancelled as JobCancelled  # the faces name it
from albumfinder.duplicates import decisions as dup_decisions
from albumfinder.duplicates.keeper import KEEPER_STEPS
from albumfinder.embedding import loading
from albumfinder.embedding.loading import LazyEmbedder as LazyEmbedder  # the faces name it
from albumfinder.errors import (
    FolderError,
    FolderNotFoundError,
    Hint,
    ImageLoadError,
    IndexUnavailableError,
)
from albumfinder.images import open_photo, open_photo_bytes
from albumfinder.index import FileRow, IndexStore, stored_vector
from albumfinder.indexer import index_folders
from albumfinder.models import registry, weights
from albumfinder.models.weights import remove_stale_parts
from albumfinder.photo_facts import PhotoFacts, wall_clock_ns
from albumfinder.regions import QueryError, check_crop, open_region
from albumfinder.report import (
    AboutFacts,
    AlbumMap,
    AlbumStatus,
    CombinedQuery,
    DuplicateGroup,
    Explanation,
    FolderStatus,
    GroupKind,
    IndexProgress,
    IndexReport,
    JobProgress,
    KeeperRule,
    ModelRow,
    Outlier,
    PutBack,
    QueryPart,
    SearchFilter,
    SearchHit,
    Skipped,
    TrashAction,
    merge_skipped,
)
from albumfinder.scan import (
    NOT_UTF8,
    OUTPUT_MARKER,
    Under,
    album_roots,
    expand_queries,
    folder_holding,
    is_storable_name,
    is_under,
    leaves_with,
    normalize_path,
    root_problem,
    same_folder_in,
    scan,
)
from albumfinder.search import NO_DATE, VectorMatrix, combine_vectors, filter_rows, search_vectors

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder

Query = str | os.PathLike[str] | Image.Image | bytes
#: what a search can be asked with: one photo, one photo's part (a region, a weight), or several
AnyQuery = Query | QueryPart | CombinedQuery


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
        said = f"The index was damaged, so it was moved aside to {self.recovered_from} and rebuilt."
        if self.folders():
            return f"{said} Your folders were kept; their photos will be indexed again."
        return f"{said} Its list of folders could not be recovered: add your folders again."

    def close(self) -> None:
        self.store.close()

    # -- folders -----------------------------------------------------------------------
    def folders(self) -> list[str]:
        return self.store.folders()

    def add_folder(self, folder: str | os.PathLike[str]) -> str:
        path = normalize_path(folder)
        if not os.path.exists(path):
            raise FolderNotFoundError(f"Folder not found: {path}", path=path)
        if not os.path.isdir(path):
            raise FolderError(f"Not a folder: {path}", path=path)
        if not os.access(path, os.R_OK | os.X_OK):
            raise FolderError(f"Cannot read the folder {path} (permission denied)", path=path)
        if not is_storable_name(path):
            raise FolderError(f"Cannot add {path}: {NOT_UTF8}", path=path)
        same = same_folder_in(path, self.store.folders())
        if same is not None:
            raise FolderError(
                f"Cannot add {path}: it is {same}, already in the album under that name "
                "(a symbolic link or another name for the same folder); nothing was added",
                path=path,
            )
        self.store.add_folder(path)
        return path

    def remove_folder(self, folder: str | os.PathLike[str]) -> None:
        """Forget a folder and the vectors of photos no other album folder holds."""
        path = normalize_path(folder)
        leaves = leaves_with(path, self.store.folders())
        self.store.remove_folder(path)
        rows = self.store.files_under([path], model_key="")
        self.store.remove_files(row.id for row in rows.values() if leaves(row.path))

    @staticmethod
    def leaving_with(
        folder: str | os.PathLike[str], photos: Iterable[str], album: Sequence[str]
    ) -> list[str]:
        """Those of ``photos`` that removing ``folder`` from the ``album`` folders takes out
        of the album, in their order: what a face stops showing at once (no index read, so
        the GUI thread may ask)."""
        leaves = leaves_with(normalize_path(folder), album)
        return [p for p in photos if leaves(p)]

    # -- photos cached outside the album (seed-form searches) ---------------------------
    def album_folder_holding(self, path: str | os.PathLike[str]) -> str | None:
        """The album folder ``path`` lies in (or is), if any."""
        return folder_holding(normalize_path(path), self.folders())

    def _outside_rows(self, under: str | None = None, model_key: str = "") -> list[FileRow]:
        album = Under(self.folders())
        rows = self.store.files_under([under or os.sep], model_key=model_key)
        return [r for r in rows.values() if r.path not in album]

    def count_outside_album(self) -> int:
        """Photos indexed by a one-off search of a folder (the CLI's ``-q … -d FOLDER``)
        that lie under no album folder: their vectors are cached for a fast re-run, and they
        are never results of an album search."""
        cached: set[int] = set()
        for model_key in self.store.model_keys():
            cached.update(r.id for r in self._outside_rows(model_key=model_key) if r.has_vector)
        return len(cached)

    def album_photo_count(self, model_key: str) -> int:
        """Photos of the album's folders that have a vector of ``model_key``."""
        return self.indexed_count(model_key, self.folders())

    def indexed_count(self, model_key: str, folders: Sequence[str | os.PathLike[str]]) -> int:
        """Photos under ``folders`` (album folders or not) that have a vector of
        ``model_key``: what a search there can compare with."""
        if not folders:
            return 0
        rows = self.vectors(model_key).rows_under([normalize_path(f) for f in folders])
        return len(rows) if rows is not None else 0

    def forget(self, folder: str | os.PathLike[str]) -> int:
        """Drop the cached vectors of photos under ``folder`` that no album folder holds;
        returns how many photos were dropped. The photos themselves are not touched.

        Raises :class:`FolderError` when ``folder`` is (or lies in) an album folder: its photos are
        the album's, and removing the folder from the album is what drops them.
        """
        path = normalize_path(folder)
        holder = self.album_folder_holding(path)
        if holder is not None:
            what = "is an album folder" if holder == path else f"lies in the album folder {holder}"
            raise FolderError(
                f"{path} {what}: its photos are the album's and are kept. To drop them, "
                "remove the folder from the album.",
                path=path,
                hint=Hint.REMOVE_FOLDER,
            )
        rows = self._outside_rows(path)
        self.store.remove_files(r.id for r in rows)
        return len(rows)

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
            skipped = sum(1 for r in rows.values() if r.skipped)
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

    def photo_facts(
        self, folders: Sequence[str | os.PathLike[str]] | None = None
    ) -> dict[str, PhotoFacts]:
        """What indexing read of each photo under ``folders`` (default: the album's folders)
        besides its look: date taken, size, format, camera, hashes (by path)."""
        roots = [normalize_path(f) for f in folders] if folders is not None else self.folders()
        return self.store.facts_under(roots) if roots else {}

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

    def embed_query(self, embedder: Embedder | LazyEmbedder, query: Query) -> np.ndarray:
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
        model = loading.loaded(embedder)
        embedded: np.ndarray = model.embed_prepared([model.prepare(image)], urgent=True)[0]
        return embedded

    def embed_part(self, embedder: Embedder | LazyEmbedder, part: QueryPart) -> np.ndarray:
        """The unit vector of one query part: its region (cut from the upright photo at a
        resolution the model can use, then embedded like a photo), or the whole photo (an
        indexed, unchanged one reuses its stored vector)."""
        if part.crop is None:
            return self.embed_query(embedder, part.photo)
        photo = part.photo
        if not isinstance(photo, (Image.Image, bytes)):
            photo = normalize_path(photo)
        check_crop(part.crop)  # before the photo is read
        region = open_region(photo, part.crop, embedder.decode_size)
        model = loading.loaded(embedder)
        embedded: np.ndarray = model.embed_prepared([model.prepare(region)], urgent=True)[0]
        return embedded

    def query_vector(self, embedder: Embedder | LazyEmbedder, query: AnyQuery) -> np.ndarray:
        """The one unit vector a search compares with (see :class:`CombinedQuery`)."""
        combined = as_combined(query)
        if not combined.parts:
            raise QueryError("a combined query needs at least one photo")
        for part in combined.parts + combined.negatives:
            check_crop(part.crop)  # every region is checked before any photo is read
        if not combined.negatives and len(combined.parts) == 1:
            return self.embed_part(embedder, combined.parts[0])
        return combine_vectors(
            [self.embed_part(embedder, p) for p in combined.parts],
            [p.weight for p in combined.parts],
            [self.embed_part(embedder, p) for p in combined.negatives],
            [p.weight for p in combined.negatives],
            combined.negative_weight,
        )

    def search(
        self,
        embedder: Embedder | LazyEmbedder,
        query: AnyQuery,
        n: int = 10,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        exclude: Sequence[str | os.PathLike[str]] | None = None,
        album_only: bool = True,
        filters: SearchFilter | None = None,
    ) -> list[SearchHit]:
        """The ``n`` indexed photos most like ``query``, best first.

        Results are photos of the album's folders (narrowed to ``folders`` when given); with
        ``album_only=False`` (a one-off search of a folder) they are photos under ``folders``,
        album or not. Nothing under an ``exclude`` folder is a result; no query file (a part
        or a negative of a combined query) ever is. ``filters`` narrow the candidates inside
        the top-k (see :class:`SearchFilter`).
        """
        if filters is not None and (problem := filters.problem()) is not None:
            raise QueryError(problem)
        requested = [normalize_path(f) for f in folders] if folders else None
        roots = album_roots(self.folders(), requested) if album_only else requested
        vector = self.query_vector(embedder, query)  # a bad query says so, album or not
        if album_only and not roots:
            return []  # no album folder to look in: cached photos outside it are no results
        combined = as_combined(query)
        query_files = _query_files(combined.parts)
        vectors = self.vectors(embedder.model_key)
        keep = None
        if filters is not None:
            filters = SearchFilter(
                tuple(normalize_path(f) for f in filters.under),
                filters.taken_after,
                filters.taken_before,
                filters.exclude_query_folders,
                filters.min_score,
            )
            if filters.taken_after is not None or filters.taken_before is not None:
                self._fill_dates(vectors)
            keep = filter_rows(vectors, filters, query_files)
        return search_vectors(
            vectors,
            vector,
            n,
            roots,
            exclude_folders=[normalize_path(f) for f in exclude] if exclude else None,
            exclude_files=query_files + _query_files(combined.negatives),
            keep=keep,
            min_score=filters.min_score if filters is not None else None,
        )

    def _fill_dates(self, vectors: VectorMatrix) -> None:
        """``vectors.taken_ns``: each photo's date taken from its facts; a photo whose facts
        are not read yet (an index from before they were, until its next index run) counts
        by its file's modification time in the index, as a photo without EXIF date does."""
        if vectors.taken_ns is not None:
            return
        facts = self.store.facts_under([os.sep])
        rows = self.store.files_under([os.sep], model_key="")
        taken = np.full(len(vectors), NO_DATE, dtype=np.int64)
        for i, path in enumerate(vectors.paths):
            fact = facts.get(path)
            if fact is not None and fact.taken_ns is not None:
                taken[i] = fact.taken_ns
            elif (row := rows.get(path)) is not None:
                taken[i] = wall_clock_ns(datetime.fromtimestamp(row.mtime_ns / 1e9))
        vectors.taken_ns = taken

    @staticmethod
    def query_picture(part: QueryPart, min_size: int) -> Image.Image:
        """The upright picture ``part`` searches with (its region when cropped), decoded
        so that both sides stay at least ``min_size`` pixels where the photo has them."""
        return open_region(part.photo, part.crop, min_size)

    def explain(
        self, embedder: Embedder | LazyEmbedder, query: Query | QueryPart, result: str
    ) -> Explanation:
        """Why ``result`` matches ``query``: a map over each photo of how well each region
        matches the other (see :class:`Explanation`), computed now from the two photos."""
        from albumfinder.explain import explain_pair

        part = query if isinstance(query, QueryPart) else QueryPart(query)
        if not isinstance(part.photo, (Image.Image, bytes)):
            part = QueryPart(normalize_path(part.photo), part.weight, part.crop)
        result_path = normalize_path(result)
        score = float(
            np.dot(self.embed_part(embedder, part), self.embed_query(embedder, result_path))
        )
        return explain_pair(loading.loaded(embedder), part, result_path, score)

    # -- for the command line ------------------------------------------------------------
    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    #: the path helpers a face needs to word its checks (absolute, user-expanded; "in")
    normalize_path = staticmethod(normalize_path)
    is_under = staticmethod(is_under)

    @staticmethod
    def root_problem(path: str) -> str | None:
        """Why ``path`` cannot be a folder to search or a photo (None when it can)."""
        return root_problem(path)

    @staticmethod
    def results_marker(folder: str | os.PathLike[str]) -> Path:
        """The file that keeps a folder of result pictures out of every scan."""
        return Path(folder) / OUTPUT_MARKER

    #: the photos some query items stand for, each item without one with its reason
    expand_queries = staticmethod(expand_queries)

    def status(self, model: str | None = None) -> AlbumStatus:
        """The album at a glance, for the vectors of ``model`` (None: the model with the most
        photos indexed): folders with counts, photos per model, photos outside the album,
        and everything skipped (what the index recorded and what the scan met, merged)."""
        models = self.store.model_keys()
        if model:
            model_key = registry.get_spec(model).key
        else:
            model_key = max(models, key=lambda key: models[key]) if models else ""
        folders = self.folder_status(model_key, count_pending=True)
        return AlbumStatus(
            index=str(self.store.path),
            model_key=model_key,
            models=models,
            folders=folders,
            outside_album=self.count_outside_album(),
            skipped=merge_skipped(self.skipped(model_key=model_key or None), folders),
        )

    # -- models (static: no index needed, so a face may ask before it has opened one) --
    @staticmethod
    def models(model_path: str | os.PathLike[str] | None = None) -> list[ModelRow]:
        """Every model: the listed ones first, in the order the faces offer them."""
        return loading.model_rows(model_path)

    @staticmethod
    def about() -> AboutFacts:
        """The version, this computer's CPU and its kind, what "auto" measured for each
        listed model here, and where the app keeps its files (no index needed; it asks torch
        which device runs the models)."""
        return about_facts()

    @staticmethod
    def default_model(
        model_path: str | os.PathLike[str] | None = None, *, allow_download: bool = True
    ) -> tuple[str, str | None]:
        """(name, None), or ("builtin", why DINOv2 is not used): see
        :func:`albumfinder.embedding.loading.default_model_name` (``allow_download=False``:
        only weights already here count, and nothing is asked of the network)."""
        return loading.default_model_name(model_path, allow_download=allow_download)

    @staticmethod
    def embedder(
        name: str | None,
        model_path: str | os.PathLike[str] | None = None,
        log: Callable[[str], None] | None = None,
        *,
        device: str | None = None,
        precision: str = "auto",
        allow_download: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> LazyEmbedder:
        """``name`` (None: the default model, ``log`` told why when it falls back), loaded
        on first real use and then kept for the life of the process, whichever Library or
        thread asks (a static method: the cache is the process's). ``allow_download``:
        missing weights are downloaded then (with ``progress``), unless downloads are off."""

        def load(chosen: str) -> Embedder:
            return loading.cached_embedder(
                chosen,
                model_path,
                device=device,
                precision=precision,
                allow_download=allow_download,
                progress=progress,
            )

        return LazyEmbedder.named(name, load, model_path, log)

    @staticmethod
    def download_model(
        name: str,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        url: str | None = None,
    ) -> Path:
        """Download ``name``'s weights (from ``url``, default the official one or the
        mirror) into the weights folder; the file."""
        return weights.download_weights(
            registry.get_spec(name), url=url, progress=progress, should_stop=should_stop
        )

    @staticmethod
    def weights_present(name: str, model_path: str | os.PathLike[str] | None = None) -> bool:
        """Whether ``name`` has weights here (in ``model_path`` when one was chosen)."""
        return weights.find_weights(registry.get_spec(name), model_path) is not None

    @staticmethod
    def fetch_photo(url: str, should_stop: Callable[[], bool] | None = None) -> bytes:
        """The encoded photo at a web address (dropped from a browser), within the fetch
        limits of :mod:`albumfinder.fetch` (deadline, stall timeout, public addresses)."""
        return fetch.fetch_bytes(url, should_stop=should_stop)

    def embed(
        self, embedder: Embedder | LazyEmbedder, photos: Iterable[str | os.PathLike[str]]
    ) -> np.ndarray:
        """(len(photos), dim) unit vectors of photos by path; an indexed, unchanged photo
        reuses its stored vector. Raises ImageLoadError for a photo that cannot be read."""
        rows = [self.embed_query(embedder, photo) for photo in photos]
        if not rows:
            return np.empty((0, embedder.dim), dtype=np.float32)
        return np.stack(rows).astype(np.float32, copy=False)

    # -- safe actions: the system trash, one undo step per action --------------------------
    def trash(self, paths: Iterable[str | os.PathLike[str]]) -> TrashAction:
        """Move album photos to the system trash (never a permanent delete) as one action
        that :meth:`put_back` undoes; they leave the index at once. Those that cannot go
        are left as they are, in ``refused`` with their reasons."""
        return safe_trash.move_to_trash(self.store, paths)

    def put_back(self, action_id: str | None = None) -> PutBack:
        """Put the photos of a trash action back where they were, and in the index with
        their vectors (nothing is embedded again); None: the last action not put back yet.
        Raises :class:`NothingToPutBackError` or :class:`UnknownTrashActionError`."""
        return safe_trash.put_back(self.store, action_id)

    def trash_history(self, limit: int = 20) -> list[TrashAction]:
        """The latest trash actions, newest first."""
        return safe_trash.history(self.store, limit)

    # -- duplicates: copies, near-duplicates, bursts, look-alikes ---------------------------
    def duplicate_groups(
        self,
        embedder: Embedder | LazyEmbedder,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        kinds: Sequence[GroupKind | str] = duplicates.DEFAULT_KINDS,
        strictness: float = 0.5,
        progress: Callable[[JobProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of photos under ``folders`` (default: the album's folders) of ``kinds``,
        largest first, each photo in at most one group; groups kept or resolved before are
        left out. Only ``embedder``'s model key is used (nothing is loaded); only photos
        new or changed since the last grouping are compared. ``strictness`` (0..1) moves
        the near-duplicate / look-alike boundary. Raises GroupingCancelled when stopped."""
        return duplicates.find_groups(
            self.store,
            self.vectors(embedder.model_key),
            embedder.model_key,
            self.album_roots_of(folders),
            [GroupKind(k) for k in kinds],
            strictness,
            progress,
            should_stop,
        )

    def album_roots_of(self, folders: Sequence[str | os.PathLike[str]] | None) -> list[str]:
        """The album folders (or folders in them) that ``folders`` stand for (None or
        empty: the album's folders). Raises FolderError for a folder that is neither in
        the album nor holds an album folder: an album-level job has nothing to do there."""
        if not folders:
            return self.folders()
        roots: list[str] = []
        for folder in folders:
            path = normalize_path(folder)
            found = album_roots(self.folders(), [path])
            if not found:
                raise FolderError(
                    f"{path} is not in the album: add it to the album and index it first "
                    "(nothing was done)",
                    path=path,
                )
            roots += [r for r in found if r not in roots]  # in the album: none there is none
        return roots

    def keeper_rule(self) -> KeeperRule:
        """How the photo to keep is chosen (stored in the index; default: every step)."""
        return dup_decisions.keeper_rule(self.store)

    def set_keeper_rule(self, rule: KeeperRule) -> None:
        dup_decisions.set_keeper_rule(self.store, rule)

    @staticmethod
    def keeper_steps() -> list[tuple[str, str]]:
        """(name, title) of each step a keeper rule may order, in the default order."""
        return [(step.name, step.title) for step in KEEPER_STEPS.values()]

    def keep_all(self, group: DuplicateGroup) -> None:
        """Keep every photo of ``group``: it is not shown again unless a new photo joins."""
        dup_decisions.keep_all(self.store, group)

    def not_duplicates(self, group: DuplicateGroup) -> None:
        """The photos of ``group`` are not copies of one another: never grouped together."""
        dup_decisions.not_duplicates(self.store, group)

    def group_together(self, photos: Sequence[str | os.PathLike[str]]) -> None:
        """A group made by hand: these photos are shown as one group from now on."""
        dup_decisions.group_together(self.store, [normalize_path(p) for p in photos])

    def resolve(
        self,
        groups: Sequence[DuplicateGroup],
        keep: dict[str, set[str]] | None = None,
    ) -> TrashAction:
        """Move every non-keeper of ``groups`` (or, for a group in ``keep``, every photo
        not in its set) to the system trash as one action, and mark the groups resolved
        (a group a photo of which could not go is not marked; putting the action back
        shows the groups again)."""
        targets: dict[str, list[str]] = {}
        for group in groups:
            kept = keep.get(group.id) if keep else None
            targets[group.id] = [
                m.path for m in group.members if (m.path not in kept if kept else not m.keep)
            ]
        # before trashing: the index still has their hashes
        hashes = {g.id: dup_decisions.member_hashes(self.store, g) for g in groups}
        action = self.trash([p for paths_ in targets.values() for p in paths_])
        refused = {s.path for s in action.refused}
        for group in groups:
            if not refused.intersection(targets[group.id]):
                dup_decisions.resolved(self.store, hashes[group.id], action.id)
        return action

    # -- the whole album: its map, and the photos that do not belong ---------------------
    def album_map(
        self,
        embedder: Embedder | LazyEmbedder,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        progress: Callable[[JobProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> AlbumMap:
        """Every indexed album photo placed on a 2-D map by its vector (look-alikes
        together), in groups, its points those under ``folders`` (None: the whole album).

        The layout covers the whole album and is cached in the index per model: a later
        call places only new photos (the others stay where they were) and computes it all
        again only when much has changed (:mod:`albumfinder.atlas.mapping`). Only the
        embedder's model key is used: nothing is loaded. Raises :class:`JobCancelled` when
        ``should_stop`` says so (nothing is saved), :class:`FolderError` when none of
        ``folders`` is in the album."""
        from albumfinder.atlas import mapping  # openTSNE and scikit-learn: for the map only

        shown = self.album_roots_of(folders) if folders else None
        return mapping.album_map(
            self.store,
            self.vectors(embedder.model_key),
            self.folders(),
            shown,
            (embedder.spec.name, embedder.model_key),
            progress,
            should_stop,
        )

    def outliers(
        self,
        embedder: Embedder | LazyEmbedder,
        folder: str | os.PathLike[str] | None = None,
        n: int = 20,
    ) -> list[Outlier]:
        """The ``n`` photos of ``folder`` (and its subfolders) that sit farthest from the
        rest of it by their vectors, most out of place first, each with its reason. None:
        the whole album, each photo judged against the rest of its own folder. Only the
        embedder's model key is used: nothing is loaded."""
        vectors = self.vectors(embedder.model_key)
        if folder is None:
            rows = vectors.rows_under(self.folders())
            groups = odd_ones.folder_groups(vectors.paths, rows) if rows is not None else []
        else:
            path = normalize_path(folder)
            rows = vectors.rows_under(self.album_roots_of([path]))
            name = os.path.basename(path.rstrip(os.sep)) or path
            groups = [odd_ones.Group(rows, name)] if rows is not None else []
        return odd_ones.rank_outliers(vectors.paths, vectors.matrix, groups, n)


def as_combined(query: AnyQuery) -> CombinedQuery:
    """Any query as a :class:`CombinedQuery` (one photo: one part of weight 1)."""
    if isinstance(query, CombinedQuery):
        return query
    return CombinedQuery((query if isinstance(query, QueryPart) else QueryPart(query),))


def _query_files(parts: Sequence[QueryPart]) -> list[str]:
    """The files among ``parts`` (a pasted image or bytes is none)."""
    return [normalize_path(p.photo) for p in parts if not isinstance(p.photo, (Image.Image, bytes))]
