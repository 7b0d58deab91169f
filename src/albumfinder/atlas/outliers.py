"""Photos that do not belong: each photo's distance to its nearest look-alikes in its
folder, in units of that folder's usual spread, and the reason in words."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from albumfinder.atlas.neighbours import nearest, unit_rows
from albumfinder.report import Outlier

FEWEST = 3  # a folder with fewer photos has no "rest" to stand out from
MOST_NEIGHBOURS = 10
#: the smallest spread a folder is taken to have (cosine distance): in a folder of near
#: copies, a photo a little less alike is not made to look like a stranger
SPREAD_FLOOR = 0.02


@dataclass(frozen=True)
class Group:
    """Photos judged together (rows of the matrix), and the name the reason uses."""

    rows: np.ndarray
    name: str


def neighbour_count(size: int) -> int:
    """How many look-alikes a photo's distance is averaged over: a quarter of the rest of
    its folder, 1 to 10, so that a small family of look-alikes in the folder is not odd,
    and one stranger's single near miss does not hide it."""
    return int(np.clip((size - 1) // 4, 1, MOST_NEIGHBOURS))


def scores(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For unit ``vectors`` (one folder): (score, nearest row, its similarity) of each.
    The score is the mean cosine distance to the photo's nearest look-alikes, less the
    folder's median of it, over the folder's spread (1.4826 x the median absolute
    deviation, the robust standard deviation): 0 is usual, 3 is far out."""
    k = neighbour_count(len(vectors))
    index, sims = nearest(vectors, vectors, k, same_rows=True)
    distance = 1.0 - sims.mean(axis=1)
    middle = float(np.median(distance))
    spread = max(1.4826 * float(np.median(np.abs(distance - middle))), SPREAD_FLOOR)
    return (distance - middle) / spread, index[:, 0], sims[:, 0]


def photo_name(path: str) -> str:
    """A photo as a reason names it: its file name without the extension."""
    return os.path.splitext(os.path.basename(path))[0]


def reason(others: int, where: str, closest: str, similarity: float) -> str:
    """The one wording of why a photo is odd (both faces show it as it is)."""
    percent = round(100 * float(np.clip(similarity, 0.0, 1.0)))
    photos = "photo" if others == 1 else "photos"
    return f"unlike the other {others:,} {photos} in {where}; closest is {closest} at {percent} %"


def rank_outliers(
    paths: Sequence[str], matrix: np.ndarray, groups: Sequence[Group], n: int
) -> list[Outlier]:
    """The ``n`` photos that sit farthest from the rest of their group, most out of place
    first; photos deleted since they were indexed are left out."""
    judged: list[tuple[float, str, Group, int, float]] = []  # score, path, group, near, sim
    for group in groups:
        if len(group.rows) < FEWEST:
            continue
        score, closest, similarity = scores(unit_rows(matrix[group.rows]))
        for i, row in enumerate(group.rows):
            near = int(group.rows[closest[i]])
            judged.append((float(score[i]), paths[int(row)], group, near, float(similarity[i])))
    judged.sort(key=lambda item: (-item[0], item[1]))
    out: list[Outlier] = []
    for score_, path, group, near, similarity_ in judged:
        if len(out) >= n:
            break
        if os.path.exists(path):
            words = reason(len(group.rows) - 1, group.name, photo_name(paths[near]), similarity_)
            out.append(Outlier(path, score_, words))
    return out


def folder_groups(paths: Sequence[str], rows: np.ndarray) -> list[Group]:
    """``rows`` grouped by the folder each photo is in (the whole album's odd ones out:
    each photo judged against its own folder)."""
    by_folder: dict[str, list[int]] = {}
    for row in rows:
        by_folder.setdefault(os.path.dirname(paths[int(row)]), []).append(int(row))
    return [
        Group(np.asarray(members, dtype=np.int64), os.path.basename(folder) or folder)
        for folder, members in sorted(by_folder.items())
    ]
