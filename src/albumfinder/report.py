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
class ModeFigures:
    """One mode as calibration measured it: model-only speed, and the lowest cosine of its
    vectors to fp32's over the same batch."""

    mode: str  # a precision ("fp32", "bf16", "int8")
    photos_per_s: float
    cosine: float
    valid: bool  # cosine high enough to be chosen

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "photos_per_s": round(self.photos_per_s, 2),
            "cosine": round(self.cosine, 6),
            "valid": self.valid,
        }


@dataclass(frozen=True)
class Calibration:
    """What "auto" measured for one model on one device of this machine, and chose."""

    model_key: str
    device: str
    chosen: str  # the fastest valid mode
    figures: tuple[ModeFigures, ...]
    seconds: float  # how long the calibration took
    threads: int
    measured_at: float  # Unix time
    machine: dict[str, str]  # what it is remembered for: CPU, flags, torch version

    def to_json(self) -> dict[str, Any]:
        return {
            "model_key": self.model_key,
            "device": self.device,
            "chosen": self.chosen,
            "figures": [f.to_json() for f in self.figures],
            "seconds": round(self.seconds, 2),
            "threads": self.threads,
            "measured_at": self.measured_at,
            "machine": dict(self.machine),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        figures = tuple(
            ModeFigures(
                str(f["mode"]), float(f["photos_per_s"]), float(f["cosine"]), bool(f["valid"])
            )
            for f in data["figures"]
        )
        return cls(
            model_key=str(data["model_key"]),
            device=str(data["device"]),
            chosen=str(data["chosen"]),
            figures=figures,
            seconds=float(data["seconds"]),
            threads=int(data["threads"]),
            measured_at=float(data["measured_at"]),
            machine={str(k): str(v) for k, v in dict(data["machine"]).items()},
        )

    def summary(self) -> str:
        """One line: "bf16 (measured: fp32 4.9/s, bf16 12.8/s, int8 10.1/s cos 0.99937)"."""
        parts = []
        for f in self.figures:
            cosine = "" if f.mode == "fp32" else f" cos {f.cosine:.5f}"
            invalid = "" if f.valid else " (too far from fp32)"
            parts.append(f"{f.mode} {f.photos_per_s:.1f}/s{cosine}{invalid}")
        return f"{self.chosen} (measured: {', '.join(parts)})"


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
    #: what "auto" measured and chose for this model on this machine's CPU (None: not yet)
    calibration: Calibration | None = None


@dataclass(frozen=True)
class AboutFacts:
    """What the About box says (:meth:`Library.about`)."""

    version: str
    python: str
    cpu: str  # the CPU's model name
    cores: int  # the logical CPUs this process may run on
    cpu_kind: str  # in words: what the CPU computes natively
    #: (title, how "auto" runs it here and why) for each listed model
    models: list[tuple[str, str]]
    locations: list[tuple[str, str]]  # (what, folder or file)


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


# -- richer questions (issue 13): several photos, a region, filters, why a result matches ----
@dataclass(frozen=True)
class Crop:
    """A region of a photo, in fractions 0-1 of the upright photo's width and height."""

    left: float
    top: float
    width: float
    height: float

    def problem(self) -> str | None:
        """Why this is no region of a photo (a sentence part), or None when it is one."""
        values = (self.left, self.top, self.width, self.height)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            return "its values must be numbers"
        if min(values) < 0 or max(values) > 1:
            return "each value must be a fraction between 0 and 1"
        if self.width <= 0 or self.height <= 0:
            return "its width and height must be more than 0"
        if self.left + self.width > 1 + 1e-9 or self.top + self.height > 1 + 1e-9:
            return "it must lie inside the photo (LEFT + WIDTH and TOP + HEIGHT at most 1)"
        return None

    def as_list(self) -> list[float]:
        return [self.left, self.top, self.width, self.height]


@dataclass(frozen=True)
class QueryPart:
    """One photo of a query: a path, encoded image bytes or a PIL image (upright), with its
    weight in a combined query and, optionally, the region of it to search with."""

    photo: Any  # str | os.PathLike[str] | bytes | PIL.Image.Image
    weight: float = 1.0
    crop: Crop | None = None


@dataclass(frozen=True)
class CombinedQuery:
    """Several photos as one query: the normalised weighted mean of the parts' vectors,
    minus ``negative_weight`` times that of the negatives, renormalised (rclip's ``-``).
    No query photo (part or negative) is ever a result."""

    parts: tuple[QueryPart, ...]
    negatives: tuple[QueryPart, ...] = ()
    negative_weight: float = 0.5


@dataclass(frozen=True)
class SearchFilter:
    """What a result must be, applied inside the top-k search (results stay ``n`` long when
    enough photos pass)."""

    #: only photos under these folders (or their subfolders)
    under: tuple[str, ...] = ()
    #: inclusive days of the wall-clock date taken (EXIF DateTimeOriginal, else the file's
    #: mtime; a photo whose facts are not read yet counts by its file's mtime in the index)
    taken_after: Any = None  # datetime.date | None
    taken_before: Any = None  # datetime.date | None
    #: leave out photos in the folder of any query photo (not its subfolders)
    exclude_query_folders: bool = False
    min_score: float | None = None

    def problem(self) -> str | None:
        """Why this filter cannot be searched with (a sentence), or None."""
        if self.taken_after and self.taken_before and self.taken_after > self.taken_before:
            return (
                f"the first day ({self.taken_after.isoformat()}) is after the last day "
                f"({self.taken_before.isoformat()}): no photo can be taken between them"
            )
        if self.min_score is not None and not -1.0 <= self.min_score <= 1.0:
            return f"the minimum score must be between -1 and 1, not {self.min_score:g}"
        return None


@dataclass(frozen=True)
class Explanation:
    """Why a result matches its query: a map over each upright photo (row 0 at the top), of
    how well each region matches the other photo: the best cosine of its patch token (DINOv2)
    or feature-map cell (built-in model), centred, against all of the other photo's,
    stretched to [0, 1] over both maps together (0: the weakest cell of either map, 1: the
    strongest). Both photos are squashed to one square, so the grids are alike and cell
    (r, c) covers rows r/rows..(r+1)/rows of the photo's height. For a region query the
    query map covers the region."""

    model: str
    query: str
    result: str
    score: float
    rows: int
    cols: int
    result_map: list[list[float]]
    query_map: list[list[float]]


# -- the album map and the photos that do not belong (atlas) ----------------------------------
@dataclass(frozen=True)
class MapPoint:
    """One photo on the album map: ``x``, ``y`` in [-1, 1] (the frame of the whole album's
    last full layout, so a folder's map shows its photos where they sit on the album's;
    photos placed into it since may lie a little outside), ``cluster`` its group."""

    path: str
    x: float
    y: float
    cluster: int


@dataclass(frozen=True)
class MapCluster:
    """A group of look-alikes on the map: its centre, its size and a label to show there
    ("Holidays 2024 · 143" when one folder holds most of it, else "143 photos")."""

    id: int
    size: int
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class AlbumMap:
    """What :meth:`Library.album_map` gives: every photo placed, and the groups they form."""

    model: str  # the model's name (its vectors were laid out)
    points: list[MapPoint]
    clusters: list[MapCluster]
    method: str  # how the layout was made, e.g. "openTSNE"


@dataclass(frozen=True)
class Outlier:
    """A photo that does not belong where it is: ``score`` (higher: more out of place; the
    distance to its nearest look-alikes in the folder, in units of the folder's usual
    spread) and the reason in words."""

    path: str
    score: float
    reason: str
