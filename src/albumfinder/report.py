"""What the core tells its faces: the phases and progress of a run, its report, the photos
it skipped, search hits and the state of each album folder. Plain data, and the one rule for
what counts as skipped."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Phase(str, Enum):
    """Where an indexing run is (equal to its plain-string value)."""

    SCANNING = "scanning"
    EMBEDDING = "embedding"
    DONE = "done"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Skipped:
    """A photo (or a file that looks like one) that could not be indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IndexProgress:
    phase: Phase
    done: int
    total: int
    skipped: int = 0
    rate: float = 0.0  # photos per second in this run
    eta_s: float | None = None
    current: str | None = None


@dataclass
class IndexReport:
    model: str
    folders: list[str]
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    moved: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    missing_folders: list[str] = field(default_factory=list)
    elsewhere: int = 0  # photos another indexing run was embedding at the same time
    cancelled: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "folders": self.folders,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "elsewhere": self.elsewhere,
            "cancelled": self.cancelled,
            "missing_folders": self.missing_folders,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }


def duration_text(seconds: float | None, *, clock: bool = False) -> str:
    """A time left in words ("2 min 05 s"), or (``clock``) as a clock does ("2:05",
    "1:02:05"); "" (a clock: "--:--") when it is not known."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--" if clock else ""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if clock:
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:d}:{secs:02d}"
    if whole < 60:
        return f"{max(whole, 1)} s"
    if whole < 3600:
        return f"{minutes} min {secs:02d} s"
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class SearchHit:
    path: str
    score: float


@dataclass(frozen=True)
class FolderStatus:
    path: str
    exists: bool
    indexed: int  # photos with a vector for the model
    skipped: int  # photos that could not be read (recorded in the index)
    pending: int | None  # photos on disk not yet indexed (None: not counted)
    #: (path, reason) of what the scan could not look at: broken links, unreadable folders…
    #: (only counted with ``count_pending``; the index records photos, not these)
    scan_problems: tuple[tuple[str, str], ...] = ()

    @property
    def skipped_total(self) -> int:
        """The folder's skipped count: unreadable photos plus what its scan could not read."""
        return self.skipped + len(self.scan_problems)


def merge_skipped(
    index_skips: Iterable[Skipped], statuses: Iterable[FolderStatus]
) -> list[Skipped]:
    """Everything skipped, by path: what the index recorded and what the folders' last scan
    met (broken links, unreadable folders), the scan's reason winning for a path in both
    (it is the newer news). The one rule both faces list skips by."""
    reasons = {entry.path: entry.reason for entry in index_skips}
    for status in statuses:
        reasons.update(status.scan_problems)
    return [Skipped(path, why) for path, why in sorted(reasons.items())]


@dataclass(frozen=True)
class ModelRow:
    """One model as the faces list it (``Library.models``)."""

    name: str
    title: str
    dim: int
    weights_present: bool
    #: approximate size of the weights download in bytes (None: nothing to download)
    download_bytes: int | None
    #: offered in the faces' model lists (the others work by name)
    listed: bool
    weights_path: str | None = None  # where the weights are, when present
    download_url: str | None = None  # where they come from (the mirror, if one is set)


@dataclass
class QueryPhotos:
    """What :meth:`Library.expand_queries` found: the photos, in order, and what stands for
    none (``failed``: each item with the reason, a whole sentence)."""

    photos: list[str] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    #: what scanning the query folders could not look at (broken links, unreadable folders)
    skipped: list[Skipped] = field(default_factory=list)
    #: photo -> the query folder it was found in
    found_in: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlbumStatus:
    """What :meth:`Library.status` says."""

    index: str
    model_key: str  # the model the counts are for ("" when nothing is indexed)
    models: dict[str, int]  # photos indexed per model key
    folders: list[FolderStatus]
    outside_album: int  # photos cached by one-off folder searches, in no album folder
    skipped: list[Skipped]  # sorted by path


# -- album-level jobs (duplicates, map, outliers) -------------------------------------------
@dataclass(frozen=True)
class JobProgress:
    """How far an album-level job (grouping, the map) has come: ``done`` of ``total`` steps
    (``total`` 0: not known yet), and what it is doing, in words a person reads."""

    done: int
    total: int
    text: str


# -- safe actions: the system trash and putting back ---------------------------------------
@dataclass(frozen=True)
class TrashAction:
    """One move to the system trash, one undo step (:meth:`Library.trash`). ``id`` is ""
    when nothing was moved (then there is nothing to put back); ``refused``: the photos
    left where they are, each with its reason (only known to the call that refused them)."""

    id: str
    when_ns: int
    trashed: list[str]
    refused: list[Skipped] = field(default_factory=list)
    put_back_ns: int | None = None  # when it was put back (None: not yet)


@dataclass(frozen=True)
class PutBack:
    """What :meth:`Library.put_back` did: the photos back at their place (and in the index),
    and those it could not put back, each with its reason."""

    action_id: str
    restored: list[str]
    refused: list[Skipped] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action_id,
            "restored": self.restored,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.refused],
        }


# -- duplicates: groups of copies, bursts and look-alikes ------------------------------------
class GroupKind(str, Enum):
    """The kinds of duplicate groups, strictest first (equal to their plain-string values)."""

    EXACT = "exact"
    NEAR_DUPLICATE = "near-duplicate"
    BURST = "burst"
    LOOK_ALIKE = "look-alike"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class GroupMember:
    """One photo of a group: whether it is the suggested keeper, why it is in the group
    (one line: "identical file", "same picture, 50 % smaller", "burst, 0.4 s apart"…) and
    its similarity to the keeper (the keeper: 1.0)."""

    path: str
    keep: bool
    why: str
    score: float
    size: int
    width: int | None
    height: int | None
    taken_ns: int | None


@dataclass(frozen=True)
class DuplicateGroup:
    """Photos that are copies of one another (or one burst, or look-alikes); the keeper
    first. ``reason`` says why the keeper was chosen ("kept: 12 MP vs 3 MP"); ``id`` is
    the same for the same photos' contents, whatever their names."""

    id: str
    kind: GroupKind
    reason: str
    members: list[GroupMember]
    reclaimable: int  # bytes freed by trashing the non-keepers

    def to_json(self) -> dict[str, Any]:
        """The group as ``albumfinder-cli duplicates --json`` prints it."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "reason": self.reason,
            "members": [
                {"path": m.path, "keep": m.keep, "why": m.why, "score": round(m.score, 6)}
                for m in self.members
            ],
        }


@dataclass(frozen=True)
class KeeperRule:
    """How the photo to keep is chosen: the steps of :data:`albumfinder.duplicates.keeper.
    KEEPER_STEPS` by name in the user's order; ``folder_priority``: folders first in this
    list win the "folder" step."""

    steps: tuple[str, ...]
    folder_priority: tuple[str, ...] = ()
