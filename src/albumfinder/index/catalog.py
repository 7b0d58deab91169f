"""The diff of a scan against the index: what to embed, what moved, what is gone.

A moved photo is recognised by its size and a partial content hash (:func:`quick_hash`)
and keeps its vectors; a photo whose last try failed for a reason that does not pass
(see :func:`albumfinder.images.is_retryable`) is not tried again until it changes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from albumfinder.images import is_retryable, open_regular_file
from albumfinder.index.store import FileRow, IndexStore
from albumfinder.report import IndexReport, Skipped
from albumfinder.scan import FoundFile, under

QUICK_HASH_BYTES = 64 * 1024


@dataclass(frozen=True)
class Job:
    """A photo to decode and embed; ``is_update``: its content changed since indexed;
    ``facts_only``: it has its vector, only its facts are missing (an index from before
    :mod:`albumfinder.photo_facts`): decoded small, never embedded."""

    file: FoundFile
    is_update: bool
    facts_only: bool = False


def quick_hash(path: str, size: int) -> str:
    """Hash of the size and the first and last 64 KiB: cheap, and enough to recognise a
    moved photo (metadata edits near the start change it, which is what we want)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(size).encode())
    with open_regular_file(path) as handle:
        digest.update(handle.read(QUICK_HASH_BYTES))
        if size > 2 * QUICK_HASH_BYTES:
            handle.seek(-QUICK_HASH_BYTES, os.SEEK_END)
            digest.update(handle.read(QUICK_HASH_BYTES))
        elif size > QUICK_HASH_BYTES:
            digest.update(handle.read())
    return digest.hexdigest()


def claim(store: IndexStore, model_key: str, jobs: list[Job], report: IndexReport) -> list[Job]:
    """The jobs this run takes: another run indexing the same photos now keeps its own.
    Facts-only jobs are not claimed: reading facts twice is harmless and cheap."""
    to_embed = [job for job in jobs if not job.facts_only]
    if not to_embed:
        return jobs
    files = [(job.file.path, job.file.size, job.file.mtime_ns) for job in to_embed]
    claimed, elsewhere = store.claim(model_key, files)
    report.elsewhere = len(elsewhere)
    mine = set(claimed)
    return [job for job in jobs if job.facts_only or job.file.path in mine]


def diff(
    store: IndexStore,
    found: dict[str, FoundFile],
    known: dict[str, FileRow],
    problems: dict[str, str],
    report: IndexReport,
) -> list[Job]:
    """Decide what to embed, what moved, what is gone; apply moves and removals."""
    jobs: list[Job] = []
    new: list[FoundFile] = []
    for path, file in found.items():
        row = known.get(path)
        if row is None:
            new.append(file)
        elif (row.size, row.mtime_ns) != (file.size, file.mtime_ns):
            jobs.append(Job(file, is_update=True))
        elif row.has_vector:
            report.unchanged += 1  # even if it failed for another model since: still valid
            if not row.has_facts:
                jobs.append(Job(file, is_update=False, facts_only=True))
        elif row.error is not None and not is_retryable(row.error):
            report.skipped.append(Skipped(path, row.error))  # not retried until it changes
        else:
            jobs.append(Job(file, is_update=False))  # known file, new model

    unreadable = under(p for p in problems if p not in found)
    gone = [row for path, row in known.items() if path not in found and path not in unreadable]
    moved_ids = _apply_moves(store, new, gone, report, jobs)
    store.remove_files(row.id for row in gone if row.id not in moved_ids)
    report.removed = len(gone) - len(moved_ids)
    jobs += [Job(file, is_update=False) for file in new]
    return jobs


def _apply_moves(
    store: IndexStore,
    new: list[FoundFile],
    gone: list[FileRow],
    report: IndexReport,
    jobs: list[Job],
) -> set[int]:
    """Match new files to vanished rows by size + partial hash; move rows, keep vectors."""
    by_key = {(row.size, row.quick_hash): row for row in gone if row.quick_hash}
    sizes = {size for size, _ in by_key}
    moved: set[int] = set()
    for file in list(new):
        if file.size not in sizes:
            continue
        try:
            key = (file.size, quick_hash(file.path, file.size))
        except OSError:
            continue
        row = by_key.pop(key, None)
        if row is None:
            continue  # a row with an error moves too: its vectors (other models') stay valid
        store.move_file(row.id, file.path, file.size, file.mtime_ns)
        new.remove(file)
        moved.add(row.id)
        report.moved += 1
        if row.has_vector:
            report.unchanged += 1
            if not row.has_facts:
                jobs.append(Job(file, is_update=False, facts_only=True))
        else:
            new.append(file)  # moved, but still needs this model's vector
    return moved
