"""The indexing pipeline: scan → diff with the index → decode (threads) → embed → store.

Decoding runs on a thread pool ahead of the model; every batch is committed as it
finishes, so a run that is cancelled or killed resumes where it stopped. Progress is
reported through a plain callback (the GUI turns it into Qt signals); ``should_stop`` is
polled between photos for a cooperative cancel.
"""

from __future__ import annotations

import contextlib
import functools
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
from albumfinder.errors import ImageLoadError, IndexUnavailableError
from albumfinder.images import READ_TIMEOUT, describe_error, open_photo
from albumfinder.index import IndexStore, NewFacts, NewFailure, NewVector
from albumfinder.index.catalog import Job, claim, diff, quick_hash
from albumfinder.photo_facts import PhotoFacts, read_facts
from albumfinder.report import IndexProgress, IndexReport, Phase, Skipped
from albumfinder.scan import normalize_path, scan

if TYPE_CHECKING:
    from albumfinder.embedding.embedder import Embedder

PROGRESS_INTERVAL_S = 0.2
#: A photo whose decode takes longer is skipped for this run (a hung mount, a cloud file).
DECODE_DEADLINE_S = 60.0
#: How often a wait for a decode looks at Cancel and the deadline.
WAIT_SLICE_S = 0.1


#: Facts-only jobs decode this small: the perceptual hashes need 64 pixels, nothing more.
FACTS_DECODE_SIZE = 64


@dataclass
class _Decoded:
    job: Job
    quick_hash: str | None
    pixels: np.ndarray | None
    reason: str | None
    vanished: bool = False
    facts: PhotoFacts | None = None


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
    jobs = diff(store, found.files, known, found.problems, report)
    try:
        jobs = claim(store, embedder.model_key, jobs, report)
        if jobs:
            workers = decode_workers or default_decode_workers()
            model = loaded(embedder) if any(not j.facts_only for j in jobs) else None
            report.cancelled = _embed(
                store, model, embedder.model_key, jobs, report, notify, stop, workers
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


def _decode(job: Job, embedder: Embedder | None) -> _Decoded:
    """Decode for the model (or, for a facts-only job, small) and read the photo's facts."""
    file = job.file
    digest = None
    try:
        digest = quick_hash(file.path, file.size)
        if job.facts_only or embedder is None:
            image = open_photo(file.path, min_size=FACTS_DECODE_SIZE)
            return _Decoded(
                job, digest, None, None, facts=read_facts(file.path, file.mtime_ns, image)
            )
        image = open_photo(file.path, min_size=embedder.decode_size)
        facts = read_facts(file.path, file.mtime_ns, image)
        return _Decoded(job, digest, embedder.prepare(image), None, facts=facts)
    except FileNotFoundError:
        return _Decoded(job, None, None, "file no longer exists", vanished=True)
    except ImageLoadError as exc:
        vanished = exc.reason == "file no longer exists"
        return _Decoded(job, digest, None, exc.reason, vanished=vanished)
    except Exception as exc:  # noqa: BLE001 - one bad photo never stops the run
        return _Decoded(job, digest, None, describe_error(exc))


def _embed(
    store: IndexStore,
    embedder: Embedder | None,
    model_key: str,
    jobs: list[Job],
    report: IndexReport,
    notify: Callable[[IndexProgress], None],
    stop: Callable[[], bool],
    workers: int,
) -> bool:
    """Decode ahead on threads, embed in batches, commit each batch. True if cancelled."""
    total = len(jobs)
    if not total:
        return False
    batch_size = max(1, embedder.batch_size if embedder is not None else 32)
    started = time.monotonic()
    last_note = 0.0
    done = 0
    ready: list[_Decoded] = []
    failed: list[_Decoded] = []
    facts_read: list[NewFacts] = []

    def flush() -> None:
        nonlocal ready, failed, facts_read
        vectors: list[NewVector] = []
        if ready and embedder is not None:
            matrix = embedder.embed_prepared([d.pixels for d in ready if d.pixels is not None])
            for item, vector in zip(ready, matrix, strict=True):
                f = item.job.file
                vectors.append(
                    NewVector(f.path, f.size, f.mtime_ns, item.quick_hash, vector, item.facts)
                )
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
        store.record_batch(model_key, vectors, failures, facts_read)
        for item in ready:
            if item.job.is_update:
                report.updated += 1
            else:
                report.added += 1
        report.skipped += [Skipped(d.job.file.path, d.reason or "unknown error") for d in failed]
        ready, failed, facts_read = [], [], []

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
    queue: deque[tuple[Job, Task[_Decoded]]] = deque()
    todo = iter(jobs)
    cancelled = False
    pool = DecodePool(workers)

    def fill() -> None:
        while len(queue) < prefetch:
            job = next(todo, None)
            if job is None:
                return
            queue.append((job, pool.submit(functools.partial(_decode, job, embedder))))

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
            if item.job.facts_only:
                if item.facts is not None:  # else: left for the next run (its vector holds)
                    f = item.job.file
                    facts_read.append(NewFacts(f.path, f.size, f.mtime_ns, item.facts))
            else:
                (ready if item.pixels is not None else failed).append(item)
            if len(ready) >= batch_size or len(facts_read) >= 4 * batch_size:
                flush()
            done += 1
            note(item.job.file.path)
        if not cancelled or ready or failed or facts_read:
            flush()  # what was decoded before a cancel is kept
    finally:
        for _, waiting in queue:  # an exception (Ctrl+C): nothing more is decoded
            pool.abandon(waiting, replace=False)
        pool.close()  # joins no thread: one stuck in the kernel stays behind, harmless
    note(None, force=True)
    return cancelled


def _wait(
    pool: DecodePool, job: Job, task: Task[_Decoded], stop: Callable[[], bool]
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
