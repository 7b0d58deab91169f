"""One photo as grouping sees it: its row in the vector matrix, its file and its facts."""

from __future__ import annotations

import os
from dataclasses import dataclass

from albumfinder.photo_facts import PhotoFacts


@dataclass(frozen=True)
class Photo:
    row: int  # in the vector matrix
    path: str
    file_id: int
    size: int
    mtime_ns: int
    facts: PhotoFacts | None
    #: a frame of a burst: the keeper rule's sharpness step measures it, and its JPEG
    #: quality is the camera's (no re-save to rank below)
    burst: bool = False

    @property
    def content_hash(self) -> str | None:
        return self.facts.content_hash if self.facts else None

    @property
    def pixels(self) -> int:
        return self.facts.pixels if self.facts else 0

    @property
    def format(self) -> str | None:
        return self.facts.format if self.facts else None

    @property
    def taken_ns(self) -> int | None:
        return self.facts.taken_ns if self.facts else None

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)
