"""Clean up the album: exact copies, near-duplicates, bursts and look-alike groups.

:func:`find_groups` is the one entry point (``Library.duplicate_groups`` calls it):
candidates from the kNN graph of the stored vectors (:mod:`.candidates`, cached and
extended incrementally by :mod:`.graph`), a verdict per pair (:mod:`.verify`), groups
(:mod:`.groups`), a keeper by the user's rule (:mod:`.keeper`) and the user's decisions
(:mod:`.decisions`). Thresholds live in :mod:`.thresholds`.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Sequence

from albumfinder.duplicates import alignment, decisions
from albumfinder.duplicates.candidates import Progress, ShouldStop
from albumfinder.duplicates.graph import album_graph
from albumfinder.duplicates.groups import Grouping
from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.thresholds import KNN_NEIGHBOURS, thresholds_for
from albumfinder.errors import AlbumFinderError
from albumfinder.index import FileRow, IndexStore
from albumfinder.index import decisions as table
from albumfinder.photo_facts import PhotoFacts
from albumfinder.report import DuplicateGroup, GroupKind, JobProgress
from albumfinder.scan import under
from albumfinder.search import VectorMatrix

DEFAULT_KINDS = (GroupKind.EXACT, GroupKind.NEAR_DUPLICATE, GroupKind.BURST)


def find_groups(
    store: IndexStore,
    vectors: VectorMatrix,
    model_key: str,
    roots: Sequence[str],
    kinds: Sequence[GroupKind] = DEFAULT_KINDS,
    strictness: float = 0.5,
    progress: Progress = None,
    should_stop: ShouldStop = None,
) -> list[DuplicateGroup]:
    """The groups among the photos under ``roots`` that have a vector of ``model_key``,
    largest first; groups the user kept or resolved are left out."""
    if not roots or not len(vectors):
        return []
    thresholds = thresholds_for(model_key)
    everything = store.files_under([os.sep], model_key="")  # the graph spans the model
    looks = GroupKind.LOOK_ALIKE in kinds
    edges = album_graph(
        store,
        f"{model_key}#look-alike" if looks else model_key,  # two graphs, cached apart
        vectors.paths,
        vectors.matrix,
        everything,
        thresholds.look_floor if looks else thresholds.copy_floor,
        KNN_NEIGHBOURS,
        progress,
        should_stop,
    )
    facts = store.facts_under(roots)
    scope = under(roots)
    photos = {
        row: _photo(row, everything[path], facts.get(path))
        for row, path in enumerate(vectors.paths)
        if path in scope and path in everything
    }
    grouping = Grouping(  # bursts need no graph: they are found by time
        photos=photos,
        matrix=vectors.matrix,
        thresholds=thresholds,
        strictness=strictness,
        rule=decisions.keeper_rule(store),
        decisions=decisions.load(store),
        should_stop=should_stop,
        progress=progress,
    )
    if store not in _read_alignments:  # once a process: later results stay in memory
        alignment.remember(table.alignments(store, alignment.VERSION))
        _read_alignments.add(store)
    try:
        groups = grouping.build(edges, [GroupKind(k) for k in kinds])
    finally:  # what was decoded is kept, a cancelled grouping's too
        _keep_alignments(store)
    _tell(progress, "Done")
    return groups


#: the indexes whose stored decoded checks this process has read
_read_alignments: weakref.WeakSet[IndexStore] = weakref.WeakSet()


def _keep_alignments(store: IndexStore) -> None:
    """Store the decoded checks made since the last call. Best effort: an index that cannot
    be written now (locked, read-only, full) costs those decodes again later, never the
    grouping (or the cancel) under way."""
    if fresh := alignment.take_fresh():
        with contextlib.suppress(AlbumFinderError):
            table.store_alignments(store, alignment.VERSION, fresh)


def _photo(row: int, file: FileRow, facts: PhotoFacts | None) -> Photo:
    return Photo(row, file.path, file.id, file.size, file.mtime_ns, facts)


def _tell(progress: Callable[[JobProgress], None] | None, text: str) -> None:
    if progress is not None:
        progress(JobProgress(0, 0, text))
