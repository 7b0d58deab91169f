"""The album's kNN graph of one model, cached in the index and extended incrementally.

After a rescan only the photos that are new or changed since they were last compared
(file id with another size or mtime, or never compared under these parameters) are
compared, with every photo of the model; the others' edges come from the cache
(:mod:`albumfinder.index.decisions`). Comparing many new photos at once, in a large
album, rebuilds the graph instead (one inverted-file pass is cheaper then).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from albumfinder.duplicates.candidates import EXACT_LIMIT, Edges, Progress, ShouldStop, knn_edges
from albumfinder.index import FileRow, IndexStore
from albumfinder.index import decisions as table
from albumfinder.report import JobProgress

#: the cache's own version: bump when what an edge means changes
GRAPH_VERSION = 1


def album_graph(
    store: IndexStore,
    model_key: str,
    paths: Sequence[str],
    matrix: np.ndarray,
    files: dict[str, FileRow],
    floor: float,
    k: int,
    progress: Progress = None,
    should_stop: ShouldStop = None,
) -> Edges:
    """The graph over the rows of ``matrix`` (one per path of ``paths``), as row pairs."""
    n = len(paths)
    ids = np.asarray([files[p].id if p in files else -1 for p in paths], dtype=np.int64)
    params = f"v{GRAPH_VERSION} floor={floor:.4f} k={k} dim={matrix.shape[1] if n else 0}"
    compared = table.compared_files(store, model_key, params)
    fresh = [
        i
        for i, p in enumerate(paths)
        if ids[i] >= 0 and compared.get(int(ids[i])) == (files[p].size, files[p].mtime_ns)
    ]
    new = np.setdiff1d(np.arange(n), np.asarray(fresh, dtype=np.int64))
    if len(new):
        if progress is not None:
            progress(JobProgress(0, len(new), f"Comparing {len(new):,} new photos"))
        rebuild = not fresh or (n > EXACT_LIMIT and len(new) * 20 > n)
        found = knn_edges(matrix, floor, k, None if rebuild else new, progress, should_stop)
        known = new[ids[new] >= 0]
        if rebuild:
            known = np.flatnonzero(ids >= 0)
        compared_now = [_compared(ids[i], files[paths[i]]) for i in known]
        keep = (ids[found.a] >= 0) & (ids[found.b] >= 0)
        pairs = (ids[found.a[keep]].tolist(), ids[found.b[keep]].tolist(), found.cos[keep].tolist())
        table.store_edges(
            store,
            model_key,
            params,
            compared_now,
            zip(*pairs, strict=True),
        )
    return _as_rows(table.cached_edges(store, model_key), ids)


def _compared(file_id: np.int64, row: FileRow) -> tuple[int, int, int]:
    return int(file_id), row.size, row.mtime_ns


def _as_rows(cached: tuple[np.ndarray, np.ndarray, np.ndarray], ids: np.ndarray) -> Edges:
    a_ids, b_ids, cos = cached
    order = np.argsort(ids)
    sorted_ids = ids[order]

    def rows_of(wanted: np.ndarray) -> np.ndarray:
        at = np.clip(np.searchsorted(sorted_ids, wanted), 0, max(len(ids) - 1, 0))
        if not len(ids):
            return np.full(len(wanted), -1, np.int64)
        return np.where(sorted_ids[at] == wanted, order[at], -1)

    a, b = rows_of(a_ids), rows_of(b_ids)
    keep = (a >= 0) & (b >= 0)
    low, high = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    return Edges(low.astype(np.int64), high.astype(np.int64), cos[keep])
