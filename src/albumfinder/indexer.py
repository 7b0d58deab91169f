"""The indexing pipeline: scan → diff with the index → decode (threads) → embed → store.

Decoding runs on a thread pool ahead of the model; every batch is committed as it
finishes, so a run that is cancelled or killed resumes where it stopped. Progress is
reported through a plain callback (the GUI turns it into Qt signals); ``should_stop`` is
polled between photos for a cooperative cancel.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from albumfinder.decode_pool import DecodePool, Task
from albumfinder.embedding.loading import LazyEmbedder, loaded
from albumfinder.images import (
    READ_TIMEOUT,
    ImageLoadError,
    describe_error,
    is_retryable,
    open_photo,
    open_regular_file,
)
from albumfinder.report import IndexProgress, IndexReport, Phase, Skipped
from albumfinder.scan import FoundFile, is_under, normalize_path, scan
from albumfinder.store import FileRow, IndexStore, IndexUnavailableError, NewFailure, NewVector

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder

QUICK_HASH_BYTES = 64 * 1024
PROGRESS_INTERVAL_S = 0.2
#: A photo whose decode takes longer is skipped for this run (a hung mount, a cloud file).
DECODE_DEADLINE_S = 60.0
#: How often a wait for a decode looks at Cancel and the deadline.
WAIT_SLICE_S = 0.1


@dataclass(frozen=True)
class _Job:
    file: FoundFile
    is_update: bool


@dataclass
class _Decoded:
    job: _Job
    quick_hash: str | None
    pixels: np.ndarray | None
    reason: str | None
    vanished: bool = False


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


def default_decode_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 2
    return max(2, min(8, cores))


def index_folders(
    store: IndexStore,
    folders: Sequence[str],
    embedder: Embedder | LazyEmbedder,
    progress: Callable[[IndexProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    decode_workers: int | None = None,
) -> IndexReport:
    """Bring the index of ``folders`` (folders or single files) up to date for ``embedder``
    (a :class:`LazyEmbedder` is loaded only if a photo needs embedding)."""
    started = time.monotonic()
    roots = [normalize_path(f) for f in folders]
    stop = should_stop or (lambda: False)
    notify = progress or (lambda _event: None)
    report = IndexReport(model=embedder.spec.name, folders=roots)

    notify(IndexProgress(Phase.SCANNING, 0, 0))
    found = scan(roots, stop, lambda n: notify(IndexProgress(Phase.SCANNING, n, 0)))
    report.missing_folders = found.missing_roots
    report.skipped += [Skipped(p, r) for p, r in sorted(found.problems.items())]
    if stop():
        report.cancelled = True
        notify(IndexProgress(Phase.CANCELLED, 0, 0))
        return report

    live_roots = [r for r in roots if r not in found.missing_roots]
    known = store.files_under(live_roots, embedder.model_key)
    jobs = _diff(store, found.files, known, found.problems, report)
    try:
        jobs = _claim(store, embedder.model_key, jobs, report)
        if jobs:
            embedder = loaded(embedder)
        report.cancelled = _embed(
            store, embedder, jobs, report, notify, stop, decode_workers or default_decode_workers()
        )
    except IndexUnavailableError as exc:  # e.g. the disk filled: the batches before are kept
        told = exc.after_storing(report.added + report.updated)
        if told is exc:
            raise
        raise told from exc
    finally:
        with contextlib.suppress(IndexUnavailableError):  # unrenewed claims expire anyway
            store.release_claims()
    report.seconds = time.monotonic() - started
    total = len(jobs)
    notify(
        IndexProgress(
            Phase.CANCELLED if report.cancelled else Phase.DONE, total, total, len(report.skipped)
        )
    )
    return report


def _claim(store: IndexStore, model_key: str, jobs: list[_Job], report: IndexReport) -> list[_Job]:
    """The jobs this run takes: another run indexing the same photos now keeps its own."""
    if not jobs:
        return jobs
    files = [(job.file.path, job.file.size, job.file.mtime_ns) for job in jobs]
    claimed, elsewhere = store.claim(model_key, files)
    report.elsewhere = len(elsewhere)
    mine = set(claimed)
    return [job for job in jobs if job.file.path in mine]


def _diff(
    store: IndexStore,
    found: dict[str, FoundFile],
    known: dict[str, FileRow],
    problems: dict[str, str],
    report: IndexReport,
) -> list[_Job]:
    """Decide what to embed, what moved, what is gone; apply moves and removals."""
    jobs: list[_Job] = []
    new: list[FoundFile] = []
    for path, file in found.items():
        row = known.get(path)
        if row is None:
            new.append(file)
        elif (row.size, row.mtime_ns) != (file.size, file.mtime_ns):
            jobs.append(_Job(file, is_update=True))
        elif row.has_vector:
            report.unchanged += 1  # even if it failed for another model since: still valid
        elif row.error is not None and not is_retryable(row.error):
            report.skipped.append(Skipped(path, row.error))  # not retried until it changes
        else:
            jobs.append(_Job(file, is_update=False))  # known file, new model

    unreadable = [p for p in problems if p not in found]
    gone = [
        row
        for path, row in known.items()
        if path not in found and not any(is_under(path, p) for p in unreadable)
    ]
    moved_ids = _apply_moves(store, new, gone, report)
    store.remove_files(row.id for row in gone if row.id not in moved_ids)
    report.removed = len(gone) - len(moved_ids)
    jobs += [_Job(file, is_update=False) for file in new]
    return jobs


def _apply_moves(
    store: IndexStore, new: list[FoundFile], gone: list[FileRow], report: IndexReport
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
        else:
            new.append(file)  # moved, but still needs this model's vector
    return moved


def _decode(job: _Job, embedder: Embedder) -> _Decoded:
    file = job.file
    digest = None
    try:
        digest = quick_hash(file.path, file.size)
        image = open_photo(file.path, min_size=embedder.decode_size)
        return _Decoded(job, digest, embedder.prepare(image), None)
    except FileNotFoundError:
        return _Decoded(job, None, None, "file no longer exists", vanished=True)
    except ImageLoadError as exc:
        vanished = exc.reason == "file no longer exists"
        return _Decoded(job, digest, None, exc.reason, vanished=vanished)
    except Exception as exc:  # noqa: BLE001 - one bad photo never stops the run
        return _Decoded(job, digest, None, describe_error(exc))


def _embed(
    store: IndexStore,
    embedder: Embedder,
    jobs: list[_Job],
    report: IndexReport,
    notify: Callable[[IndexProgress], None],
    stop: Callable[[], bool],
    workers: int,
) -> bool:
    """Decode ahead on threads, embed in batches, commit each batch. True if cancelled."""
    total = len(jobs)
    if not total:
        return False
    batch_size = max(1, embedder.batch_size)
    started = time.monotonic()
    last_note = 0.0
    done = 0
    ready: list[_Decoded] = []
    failed: list[_Decoded] = []

    def flush() -> None:
        nonlocal ready, failed
        vectors: list[NewVector] = []
        if ready:
            matrix = embedder.embed_prepared([d.pixels for d in ready])
            for item, vector in zip(ready, matrix, strict=True):
                f = item.job.file
                vectors.append(NewVector(f.path, f.size, f.mtime_ns, item.quick_hash, vector))
        failures = [
            NewFailure(
                d.job.file.path,
                d.job.file.size,
                d.job.file.mtime_ns,
                d.quick_hash,
                d.reason or "unknown error",
            )
            for d in failed
            if not d.vanished
        ]
        store.record_batch(embedder.model_key, vectors, failures)
        for item in ready:
            if item.job.is_update:
                report.updated += 1
            else:
                report.added += 1
        report.skipped += [Skipped(d.job.file.path, d.reason or "unknown error") for d in failed]
        ready, failed = [], []

    def note(current: str | None, force: bool = False) -> None:
        nonlocal last_note
        now = time.monotonic()
        if not force and now - last_note < PROGRESS_INTERVAL_S:
            return
        last_note = now
        elapsed = max(now - started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        notify(
            IndexProgress(
                Phase.EMBEDDING, done, total, len(report.skipped) + len(failed), rate, eta, current
            )
        )

    note(None, force=True)
    # Decoded photos waiting for the model (~150 KB each): enough to ride out a slow file.
    prefetch = max(2 * batch_size, 4 * workers, 16)
    queue: deque[tuple[_Job, Task[_Decoded]]] = deque()
    todo = iter(jobs)
    cancelled = False
    pool = DecodePool(workers)

    def fill() -> None:
        while len(queue) < prefetch:
            job = next(todo, None)
            if job is None:
                return
            queue.append((job, pool.submit(lambda job=job: _decode(job, embedder))))

    try:
        fill()
        while queue:
            job, task = queue.popleft()
            item = _wait(pool, job, task, stop)
            if item is None:
                cancelled = True
                for _, waiting in [(job, task), *queue]:
                    pool.abandon(waiting, replace=False)
                queue.clear()
                break
            fill()
            (ready if item.pixels is not None else failed).append(item)
            if len(ready) >= batch_size:
                flush()
            done += 1
            note(item.job.file.path)
        if not cancelled or ready or failed:
            flush()  # what was decoded before a cancel is kept
    finally:
        for _, waiting in queue:  # an exception (Ctrl+C): nothing more is decoded
            pool.abandon(waiting, replace=False)
        pool.close()  # joins no thread: one stuck in the kernel stays behind, harmless
    note(None, force=True)
    return cancelled


def _wait(
    pool: DecodePool, job: _Job, task: Task[_Decoded], stop: Callable[[], bool]
) -> _Decoded | None:
    """The decoded photo; a skip if its decode passed the deadline; None on Cancel.
    Waits in short slices, so Cancel and Ctrl+C are seen even while a read hangs."""
    while not stop():
        try:
            return task.future.result(timeout=WAIT_SLICE_S)
        except FutureTimeout:
            pass
        if task.running_for() > DECODE_DEADLINE_S:
            pool.abandon(task)
            return _Decoded(job, None, None, READ_TIMEOUT)
    return None
