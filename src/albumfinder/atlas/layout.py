"""The 2-D layout of the album's vectors: t-SNE through openTSNE (chosen over UMAP by
measurement: see benchmarks/bench_map.py and the notes), and the placing of new photos
into a layout without moving the photos already on it.

This module imports openTSNE (and scipy): import it only when a map is made.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.sparse as sp
from openTSNE import TSNE, TSNEEmbedding
from openTSNE.affinity import Affinities, joint_probabilities_nn

from albumfinder.atlas.jobs import JobCancelled, Progress, ShouldStop, check, tell
from albumfinder.atlas.neighbours import nearest

METHOD = "openTSNE"
#: bumped whenever the layout's parameters change: a layout cached by another version is
#: recomputed rather than extended with points placed by different rules
LAYOUT_VERSION = 2
EARLY_ITERATIONS = 250  # openTSNE's default early exaggeration phase
ITERATIONS = 500  # openTSNE's default
PERPLEXITY = 30.0
PLACE_PERPLEXITY = 5.0  # openTSNE's default for transform: new points sit by their nearest
PLACE_ITERATIONS = 100
#: the FFT grid's boxes per unit of the layout (openTSNE: 1): 2 halves the grid across, which
#: made 10k photos lay out in 20 s of CPU instead of 46, recall@10 unchanged (0.139, 0.14)
INTS_IN_INTERVAL = 2
SMALLEST = 4  # below this t-SNE has nothing to do: the photos are set on a small circle


def method_key() -> str:
    """What a cached layout must have been made with to be extended."""
    return f"{METHOD}/{LAYOUT_VERSION}"


#: below this many photos openTSNE runs on one thread: its threads meet at every step,
#: which on a busy machine costs far more than it saves (measured: 30 photos, 0.3 s on one
#: thread, 19 s on two while other programs kept both cores busy)
THREADED_FROM = 20_000


#: from this many photos the repulsion between all photos is interpolated on a grid (FFT)
#: rather than summed over a tree (Barnes-Hut): measured on one core, per iteration, 4.0 ms
#: against 13.7 ms at 1,000 photos, 17 against 17 at 4,000, 55 against 18 at 10,000
FFT_FROM = 5_000


def _threads(count: int) -> int:
    return 1 if count < THREADED_FROM else max(1, min(os.cpu_count() or 1, 8))


def full_layout(
    vectors: np.ndarray,
    initial: np.ndarray | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """(N, 2) positions of ``vectors`` (unit rows, or their principal components): look-alikes
    together. ``initial`` (N, 2): where
    to start from (the last layout, so that a recomputed map keeps its overall arrangement);
    None: the vectors' first two principal components, as openTSNE does."""
    count = len(vectors)
    if count < SMALLEST:
        return _circle(count)
    total = EARLY_ITERATIONS + ITERATIONS
    phase = {"early": True}

    def step(iteration: int, _error: float, _embedding: np.ndarray) -> bool:
        check(should_stop)
        done = iteration if phase["early"] else EARLY_ITERATIONS + iteration
        if phase["early"] and iteration >= EARLY_ITERATIONS:
            phase["early"] = False
        tell(progress, done, total, f"Laying out {count:,} photos")
        return False

    tell(progress, 0, total, f"Finding the look-alikes of {count:,} photos")
    start: Any = "pca" if initial is None else _rescaled(initial)
    tsne = TSNE(
        perplexity=min(PERPLEXITY, (count - 1) / 3),
        metric="euclidean",  # unit vectors, or their principal components
        initialization=start,
        early_exaggeration_iter=EARLY_ITERATIONS,
        n_iter=ITERATIONS,
        n_jobs=_threads(count),
        negative_gradient_method="fft" if count >= FFT_FROM else "bh",
        ints_in_interval=INTS_IN_INTERVAL,
        random_state=0,
        callbacks=step,
        callbacks_every_iters=25,
    )
    check(should_stop)
    embedding = tsne.fit(np.ascontiguousarray(vectors, dtype=np.float32))
    check(should_stop)
    tell(progress, total, total, f"Laid out {count:,} photos")
    return np.asarray(embedding, dtype=np.float64)


def place_new(
    reference_vectors: np.ndarray,
    reference_xy: np.ndarray,
    new_vectors: np.ndarray,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """(M, 2) positions for ``new_vectors`` in the layout ``reference_xy`` of
    ``reference_vectors``, which stays exactly as it is: openTSNE's
    ``TSNEEmbedding.transform`` (each new photo is drawn to its nearest look-alikes on the
    map), with the neighbours found exactly here (the layout's own index is not kept)."""
    if not len(new_vectors):
        return np.zeros((0, 2))
    if len(reference_vectors) < SMALLEST:
        return _beside(reference_vectors, reference_xy, new_vectors)
    reference = np.array(reference_xy, dtype=np.float64, order="C")
    centre = (reference.max(axis=0) + reference.min(axis=0)) / 2  # transform centres the map
    embedding = TSNEEmbedding(
        reference,
        _NewAmongPlaced(reference_vectors, should_stop),
        n_jobs=_threads(len(reference_vectors)),
        random_state=0,
    )
    placed = embedding.transform(
        np.ascontiguousarray(new_vectors, dtype=np.float32),
        perplexity=min(PLACE_PERPLEXITY, (len(reference_vectors) - 1) / 3),
        k=min(25, len(reference_vectors)),
        n_iter=PLACE_ITERATIONS,
    )
    positions: np.ndarray = np.asarray(placed, dtype=np.float64) + centre
    return positions


class _NewAmongPlaced(Affinities):  # type: ignore[misc]
    """openTSNE affinities of new photos to the placed ones, their neighbours found by
    exact cosine (the layout's approximate index is not kept between runs)."""

    def __init__(self, reference: np.ndarray, should_stop: ShouldStop | None) -> None:
        super().__init__()
        self.reference = reference
        self.should_stop = should_stop
        self.P = sp.csr_matrix((len(reference), len(reference)))  # only its shape is read

    def to_new(
        self,
        data: np.ndarray,
        perplexity: float = PLACE_PERPLEXITY,
        return_distances: bool = False,
        k_neighbors: str | int = "auto",
    ) -> Any:
        count = len(self.reference)
        k = min(count, int(3 * perplexity)) if k_neighbors == "auto" else int(k_neighbors)
        neighbours, sims = nearest(data, self.reference, max(k, 1), should_stop=self.should_stop)
        distances = np.clip(1.0 - sims, 0.0, 2.0).astype(np.float64)
        P = joint_probabilities_nn(
            neighbours,
            distances,
            [perplexity],
            symmetrize=False,
            normalization="point-wise",
            n_reference_samples=count,
            n_jobs=_threads(count),
        )
        return (P, neighbours, distances) if return_distances else P


def _rescaled(initial: np.ndarray) -> np.ndarray:
    """A start layout as openTSNE wants one: centred, standard deviation 1e-4 along x."""
    start = np.asarray(initial, dtype=np.float64)
    start = start - start.mean(axis=0)
    spread = float(start[:, 0].std()) or 1.0
    return np.ascontiguousarray(start / spread * 1e-4)


def _circle(count: int) -> np.ndarray:
    angles = np.linspace(0.0, 2 * np.pi, num=count, endpoint=False)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) if count > 1 else np.zeros((count, 2))


def _beside(reference: np.ndarray, reference_xy: np.ndarray, new: np.ndarray) -> np.ndarray:
    """New photos of a tiny map: next to their nearest placed photo."""
    if not len(reference):
        return _circle(len(new))
    index, _ = nearest(new, reference, 1)
    offsets = 0.1 * _circle(len(new)) if len(new) > 1 else np.full((1, 2), 0.1)
    beside: np.ndarray = np.asarray(reference_xy)[index[:, 0]] + offsets
    return beside


__all__ = ["METHOD", "JobCancelled", "full_layout", "method_key", "place_new"]
