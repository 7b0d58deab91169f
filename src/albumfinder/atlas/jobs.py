"""What the album-level jobs share: being cancelled, and telling how far they are."""

from __future__ import annotations

from collections.abc import Callable

from albumfinder.errors import AlbumFinderError
from albumfinder.report import JobProgress

Progress = Callable[[JobProgress], None]
ShouldStop = Callable[[], bool]


class JobCancelled(AlbumFinderError):
    """The user stopped an album-level job; nothing it would have saved was saved."""

    def __init__(self, message: str = "Stopped: the map was left as it was.") -> None:
        super().__init__(message)


def check(should_stop: ShouldStop | None) -> None:
    """Raise :class:`JobCancelled` when the job has been asked to stop."""
    if should_stop is not None and should_stop():
        raise JobCancelled()


def tell(progress: Progress | None, done: int, total: int, text: str) -> None:
    if progress is not None:
        progress(JobProgress(done, total, text))
