"""The album map: the cached layout brought up to date with the index, then the points of
the folders asked for, with their groups.

Only new photos are placed (old ones keep their places) until the photos placed since the
last full layout exceed :data:`REFRESH_SHARE` of it; then the whole layout is computed
again, starting from where the photos were, so the map keeps its overall arrangement.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from albumfinder.atlas import clusters as grouping
from albumfinder.atlas import layout
from albumfinder.atlas.jobs import Progress, ShouldStop, check, tell
from albumfinder.atlas.neighbours import nearest, unit_rows
from albumfinder.errors import IndexUnavailableError
from albumfinder.index.layouts import (
    LayoutFrame,
    LayoutPoints,
    load_layout,
    save_layout,
    vector_digests,
)
from albumfinder.index.store import IndexStore
from albumfinder.report import AlbumMap, MapPoint
from albumfinder.scan import under
from albumfinder.search import VectorMatrix

log = logging.getLogger(__name__)

#: The whole layout is computed again when the photos placed into it since its last full
#: computation exceed this share of it. Placing keeps old photos where they were and puts
#: each new one by its nearest look-alikes, which is right for a few new photos among many
#: (openTSNE's transform is meant for that); a quarter new may be a kind of photo the map
#: has no island for, squeezed between others, and is worth the minute a new layout takes.
REFRESH_SHARE = 0.25
#: t-SNE's neighbours are found in this many principal components (standard practice for
#: t-SNE: the neighbour search is several times faster, the neighbours nearly the same)
REDUCED_DIM = 50


@dataclass
class _Album:
    """The album's photos with a vector of the model: what the layout must cover."""

    paths: list[str]
    file_ids: np.ndarray
    digests: np.ndarray
    matrix: np.ndarray  # their float16 vectors, as the index keeps them

    @cached_property
    def vectors(self) -> np.ndarray:
        """Unit float32 rows: made only when photos are laid out or placed (a map that is
        up to date needs none: at 100k photos of 1280-D vectors, 500 MB)."""
        return unit_rows(self.matrix)


def album_map(
    store: IndexStore,
    vectors: VectorMatrix,
    album: Sequence[str],
    shown: Sequence[str] | None,
    model: tuple[str, str],
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AlbumMap:
    """The map of the ``album`` folders' photos (``model``: name, key), brought up to date
    and cached; its points those under ``shown`` (None: all)."""
    name, model_key = model
    photos = _album_photos(store, vectors, album, model_key)
    if not photos.paths:
        return AlbumMap(name, [], [], layout.METHOD)
    frame, points = _up_to_date(store, model_key, photos, progress, should_stop)
    keep = (
        np.asarray(under(list(shown)).select(photos.paths), dtype=np.int64)
        if shown
        else np.arange(len(photos.paths))
    )
    xy = (points.xy[keep] - np.asarray(frame.centre)) / frame.scale
    shown_paths = [photos.paths[i] for i in keep]
    groups = points.clusters[keep]
    return AlbumMap(
        model=name,
        points=[
            MapPoint(path, float(x), float(y), int(c))
            for path, (x, y), c in zip(shown_paths, xy, groups, strict=True)
        ],
        clusters=grouping.describe_clusters(shown_paths, xy, groups),
        method=layout.METHOD,
    )


def _album_photos(
    store: IndexStore, vectors: VectorMatrix, album: Sequence[str], model_key: str
) -> _Album:
    rows = vectors.rows_under(list(album)) if album else np.zeros(0, dtype=np.int64)
    assert rows is not None
    ids_by_path = {path: row.id for path, row in store.files_under(album, model_key).items()}
    chosen = [int(r) for r in rows if vectors.paths[int(r)] in ids_by_path]
    paths = [vectors.paths[r] for r in chosen]
    if len(chosen) == len(vectors.paths):
        matrix = vectors.matrix  # every row, in order: no copy
    else:
        matrix = vectors.matrix[chosen] if chosen else np.zeros((0, 0), dtype=np.float16)
    return _Album(
        paths=paths,
        file_ids=np.asarray([ids_by_path[p] for p in paths], dtype=np.int64),
        digests=vector_digests(matrix),
        matrix=matrix,
    )


def _up_to_date(
    store: IndexStore,
    model_key: str,
    photos: _Album,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> tuple[LayoutFrame, LayoutPoints]:
    """The layout of every photo in ``photos``, in their order: the cached one where its
    points still stand for these vectors, new photos placed into it, or a new one."""
    cached = load_layout(store, model_key)
    count = len(photos.paths)
    where = np.full(count, -1, dtype=np.int64)  # row in the cached points, or -1
    if cached is not None and cached[0].method == layout.method_key():
        frame, old = cached
        row_of = {int(fid): j for j, fid in enumerate(old.file_ids)}
        for i, (fid, digest) in enumerate(zip(photos.file_ids, photos.digests, strict=True)):
            j = row_of.get(int(fid), -1)
            if j >= 0 and old.digests[j] == digest:
                where[i] = j
    else:
        frame, old = None, None
    kept = where >= 0
    new = np.flatnonzero(~kept)
    if frame is None or old is None or not kept.any() or _much_changed(frame, len(new)):
        return _computed_again(store, model_key, photos, frame, old, where, progress, should_stop)
    xy = np.zeros((count, 2))
    groups = np.zeros(count, dtype=np.int64)
    xy[kept], groups[kept] = old.xy[where[kept]], old.clusters[where[kept]]
    dropped = np.setdiff1d(old.file_ids, photos.file_ids[kept])
    if len(new):
        tell(progress, 0, len(new), f"Placing {len(new):,} new photos on the map")
        xy[new] = layout.place_new(photos.vectors[kept], xy[kept], photos.vectors[new], should_stop)
        groups[new] = grouping.join_nearest(xy[new], xy[kept], groups[kept])
        check(should_stop)
        tell(progress, len(new), len(new), f"Placed {len(new):,} new photos")
        frame = replace(frame, placed_since=frame.placed_since + len(new))
    points = LayoutPoints(photos.file_ids, photos.digests, xy, groups)
    if len(new) or len(dropped):
        added = LayoutPoints(photos.file_ids[new], photos.digests[new], xy[new], groups[new])
        _save(store, model_key, frame, added, replace_all=False, dropped=dropped)
    return frame, points


def _much_changed(frame: LayoutFrame, new: int) -> bool:
    return frame.placed_since + new > REFRESH_SHARE * max(frame.full_count, 1)


def _computed_again(
    store: IndexStore,
    model_key: str,
    photos: _Album,
    frame: LayoutFrame | None,
    old: LayoutPoints | None,
    where: np.ndarray,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> tuple[LayoutFrame, LayoutPoints]:
    xy, groups = compute_layout(
        photos.vectors, _start_from(photos, old, where), progress, should_stop
    )
    low, high = xy.min(axis=0), xy.max(axis=0)
    frame = LayoutFrame(
        method=layout.method_key(),
        full_count=len(xy),
        placed_since=0,
        centre=(float((low[0] + high[0]) / 2), float((low[1] + high[1]) / 2)),
        scale=float(max((high - low).max() / 2, 1e-9)),
    )
    points = LayoutPoints(photos.file_ids, photos.digests, xy, groups)
    return _save(store, model_key, frame, points, replace_all=True), points


def compute_layout(
    vectors: np.ndarray,
    initial: np.ndarray | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A whole new layout of unit ``vectors``: (N, 2) positions and (N,) group ids."""
    xy = layout.full_layout(_reduced(vectors), initial, progress, should_stop)
    tell(progress, 0, 0, "Finding the groups of look-alikes")
    groups = grouping.find_clusters(xy)
    check(should_stop)
    return xy, groups


def _start_from(photos: _Album, old: LayoutPoints | None, where: np.ndarray) -> np.ndarray | None:
    """Where a new full layout starts: the old places of the photos still on it, each new
    photo at its nearest look-alike's (None, PCA's start, when most photos are new)."""
    kept = where >= 0
    if old is None or kept.sum() < max(len(where) / 2, layout.SMALLEST):
        return None
    start = np.zeros((len(where), 2))
    start[kept] = old.xy[where[kept]]
    new = np.flatnonzero(~kept)
    if len(new):
        placed = np.flatnonzero(kept)
        index, _ = nearest(photos.vectors[new], photos.vectors[placed], 1)
        jitter = np.random.default_rng(0).normal(scale=1e-3, size=(len(new), 2))
        start[new] = start[placed[index[:, 0]]] + jitter * start.std()
    return start


def _reduced(vectors: np.ndarray) -> np.ndarray:
    """The vectors in their first :data:`REDUCED_DIM` principal components (as they are
    when they have fewer dimensions, or the album fewer photos)."""
    if vectors.shape[1] <= REDUCED_DIM or len(vectors) <= REDUCED_DIM:
        return vectors
    from sklearn.decomposition import PCA

    reduced = PCA(n_components=REDUCED_DIM, svd_solver="randomized", random_state=0)
    return np.ascontiguousarray(reduced.fit_transform(vectors), dtype=np.float32)


def _save(
    store: IndexStore,
    model_key: str,
    frame: LayoutFrame,
    points: LayoutPoints,
    *,
    replace_all: bool,
    dropped: np.ndarray | None = None,
) -> LayoutFrame:
    """Cache the layout (the frame as saved); an index that cannot be written now (a full
    disk) only means the map is computed again next time."""
    try:
        saved = save_layout(store, model_key, frame, points, replace=replace_all, dropped=dropped)
    except IndexUnavailableError as exc:
        log.warning("the map was not cached: %s", exc)
        return frame
    return frame if saved is None else saved
