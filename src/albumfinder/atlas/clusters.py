"""Groups of look-alikes on the map: the islands of the 2-D layout (HDBSCAN, which finds
islands of any shape and number without being told how many), every photo in one, and the
label each group gets."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence

import numpy as np

from albumfinder.report import MapCluster

#: a group's label names the folder that holds at least this share of its photos
FOLDER_SHARE = 0.5


def smallest_group(count: int) -> int:
    """The fewest photos a group on the map has: 5, more in a big album (about half the
    square root: 600 photos, 12; 100k photos, 158), so that labels do not crowd the map."""
    return max(5, round(math.sqrt(count) / 2))


def find_clusters(xy: np.ndarray) -> np.ndarray:
    """(N,) group ids 0, 1, … (the largest group first) of the points ``xy``; a point no
    island claims joins the group of its nearest point that one does."""
    count = len(xy)
    if count < 2 * smallest_group(count):
        return np.zeros(count, dtype=np.int64)
    from sklearn.cluster import HDBSCAN

    found = HDBSCAN(min_cluster_size=smallest_group(count), copy=True).fit_predict(xy)
    found = np.asarray(found, dtype=np.int64)
    claimed = found >= 0
    if not claimed.any():
        return np.zeros(count, dtype=np.int64)
    if not claimed.all():
        found[~claimed] = found[claimed][_nearest_2d(xy[~claimed], xy[claimed])]
    return _by_size(found)


def join_nearest(new_xy: np.ndarray, xy: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Groups for points placed into a layout: the group of their nearest placed point."""
    if not len(new_xy):
        return np.zeros(0, dtype=np.int64)
    if not len(xy):
        return np.zeros(len(new_xy), dtype=np.int64)
    joined: np.ndarray = np.asarray(clusters, dtype=np.int64)[_nearest_2d(new_xy, xy)]
    return joined


def _nearest_2d(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    from sklearn.neighbors import KDTree

    return np.asarray(KDTree(points).query(queries, k=1, return_distance=False)[:, 0])


def _by_size(labels: np.ndarray) -> np.ndarray:
    ids, counts = np.unique(labels, return_counts=True)
    order = ids[np.argsort(-counts, kind="stable")]
    renumber = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    renumbered: np.ndarray = renumber[labels]
    return renumbered


def folder_name(path: str) -> str:
    """The name a group's label uses for where a photo is: its folder's name."""
    return os.path.basename(os.path.dirname(path)) or os.path.dirname(path)


def describe_clusters(
    paths: Sequence[str], xy: np.ndarray, clusters: np.ndarray
) -> list[MapCluster]:
    """Each group among these points: size, centre (the median point, which lies inside
    the group even when it is curved) and label, largest first."""
    out: list[MapCluster] = []
    if not len(clusters):
        return out
    order = np.argsort(clusters, kind="stable")  # each group's members, in one pass
    starts = np.flatnonzero(np.diff(clusters[order], prepend=-1))
    for members in np.split(order, starts[1:]):
        cluster = clusters[members[0]]
        centre = np.median(xy[members], axis=0)
        names = Counter(folder_name(paths[int(i)]) for i in members)
        out.append(
            MapCluster(
                id=int(cluster),
                size=len(members),
                x=float(centre[0]),
                y=float(centre[1]),
                label=cluster_label(len(members), names),
            )
        )
    out.sort(key=lambda c: (-c.size, c.id))
    return out


def cluster_label(size: int, folders: Counter[str]) -> str:
    """ "Holidays 2024 · 143" when one folder holds most of the group, else "143 photos"."""
    if folders:
        name, count = folders.most_common(1)[0]
        if name and count >= FOLDER_SHARE * size:
            return f"{name} · {size:,}"
    return f"{size:,} photo" if size == 1 else f"{size:,} photos"
