"""Which photo of a group to keep: an ordered list of steps, each with its wording.

The first step (in the user's order) on which one photo beats all others decides; the
group's reason says it ("kept: 12 MP vs 3 MP"). Ties all through fall back to the path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key

from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.sharpness import sharpness
from albumfinder.report import KeeperRule
from albumfinder.scan import is_under

#: originals over derived copies: RAW > HEIC > JPEG > PNG/WebP and other re-saves (and,
#: within JPEG, the higher quality over a re-save at a lower one)
FORMAT_RANK = {"RAW": 4, "HEIF": 3, "HEIC": 3, "AVIF": 3, "JPEG": 2, "MPO": 2}


@dataclass(frozen=True)
class KeeperStep:
    name: str
    title: str  # how a face lists the step
    #: higher is better; the folder step needs the rule's folder priority
    score: Callable[[Photo, Sequence[str]], float]
    #: "kept: …" wording of the keeper against the runner-up
    words: Callable[[Photo, Photo, Sequence[str]], str]


def _versus(keeper: str, other: str, keeper_exact: str, other_exact: str) -> str:
    """ "A vs B" in round figures, or exact ones where the round ones read the same."""
    if keeper == other:
        return f"kept: {keeper_exact} vs {other_exact}"
    return f"kept: {keeper} vs {other}"


def _pixels_words(keeper: Photo, other: Photo, _priority: Sequence[str]) -> str:
    def exact(photo: Photo) -> str:
        facts = photo.facts
        return f"{facts.width}×{facts.height}" if facts else "unknown size"

    return _versus(
        f"{keeper.pixels / 1e6:.2g} MP", f"{other.pixels / 1e6:.2g} MP", exact(keeper), exact(other)
    )


def _file_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.0f} KB"


def _size_words(keeper: Photo, other: Photo, _priority: Sequence[str]) -> str:
    return _versus(
        _file_size(keeper.size), _file_size(other.size), f"{keeper.size:,} B", f"{other.size:,} B"
    )


def _age_words(keeper: Photo, other: Photo, _priority: Sequence[str]) -> str:
    day, other_day = (
        datetime.fromtimestamp(p.mtime_ns / 1e9).strftime("%Y-%m-%d") for p in (keeper, other)
    )
    when = datetime.fromtimestamp(keeper.mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")
    return f"kept: older file ({day if day != other_day else when})"


def _exif_parts(photo: Photo) -> list[str]:
    facts = photo.facts
    if facts is None:
        return []
    return [
        name
        for name, present in (
            ("date", facts.taken_from == "exif"),
            ("camera", facts.camera is not None),
            ("GPS", facts.has_gps),
        )
        if present
    ]


def _folder_rank(photo: Photo, priority: Sequence[str]) -> float:
    for rank, folder in enumerate(priority):
        if is_under(photo.path, folder):
            return float(len(priority) - rank)
    return 0.0


def _folder_words(keeper: Photo, other: Photo, priority: Sequence[str]) -> str:
    folder = next((f for f in priority if is_under(keeper.path, f)), keeper.folder)
    return f"kept: in {folder} (folder priority)"


def _sharpness(photo: Photo, _priority: Sequence[str] = ()) -> float:
    """A burst frame's focus measure (decoded when first asked); other photos tie at 0."""
    if not photo.burst:
        return 0.0
    return sharpness(photo.path, photo.size, photo.mtime_ns) or 0.0


def _sharpness_words(keeper: Photo, other: Photo, _priority: Sequence[str]) -> str:
    ratio = _sharpness(keeper) / max(_sharpness(other), 1e-9)
    if ratio >= 100:
        return "kept: sharpest frame"
    if ratio < 1.1:
        return "kept: sharpest frame (by a little)"
    return f"kept: sharpest frame ({ratio:.1f}× the next)"


def _format_name(photo: Photo) -> str:
    return photo.format or "unknown format"


def _jpeg_quality(photo: Photo) -> int | None:
    facts = photo.facts
    return facts.jpeg_quality if facts and photo.format in ("JPEG", "MPO") else None


def _format_score(photo: Photo, _priority: Sequence[str]) -> float:
    """The format's rank; among JPEGs, the higher quality (a re-save at a lower quality is
    derived from the other, whatever its file size): a fraction within the rank."""
    rank = FORMAT_RANK.get(photo.format or "", 1 if photo.format else 0)
    quality = None if photo.burst else _jpeg_quality(photo)  # a camera's own, not a re-save
    return rank + (quality / 1000 if quality is not None else 0.0)


def _format_words(keeper: Photo, other: Photo, _priority: Sequence[str]) -> str:
    kept, beaten = _jpeg_quality(keeper), _jpeg_quality(other)
    if keeper.format == other.format and kept is not None and beaten is not None:
        return f"kept: {_format_name(keeper)} q{kept} vs q{beaten}"
    return f"kept: {_format_name(keeper)} over {_format_name(other)}"


KEEPER_STEPS: dict[str, KeeperStep] = {
    step.name: step
    for step in (
        KeeperStep(
            "pixels",
            "More pixels",
            lambda p, _: float(p.pixels),
            _pixels_words,
        ),
        KeeperStep(
            "format",
            "Original format (RAW > HEIC > JPEG > PNG/WebP)",
            _format_score,
            _format_words,
        ),
        KeeperStep(
            "metadata",
            "More EXIF (date, camera, GPS)",
            lambda p, _: float(len(_exif_parts(p))),
            lambda k, o, _: (
                "kept: more EXIF ("
                + ", ".join(x for x in _exif_parts(k) if x not in _exif_parts(o))
                + ")"
            ),
        ),
        KeeperStep(
            "sharpness",
            "Sharpest frame (bursts)",
            _sharpness,
            _sharpness_words,
        ),
        KeeperStep(
            "file size",
            "Larger file",
            lambda p, _: float(p.size),
            _size_words,
        ),
        KeeperStep(
            "age",
            "Older file",
            lambda p, _: -float(p.mtime_ns),
            lambda k, o, _: (
                "kept: older file ("
                + datetime.fromtimestamp(k.mtime_ns / 1e9).strftime("%Y-%m-%d")
                + ")"
            ),
        ),
        KeeperStep("folder", "Folder priority", _folder_rank, _folder_words),
    )
}

DEFAULT_RULE = KeeperRule(steps=tuple(KEEPER_STEPS))


def checked_rule(rule: KeeperRule) -> KeeperRule:
    """``rule`` with unknown steps left out and missing ones (a rule saved before a step
    existed) put where the default order has them: after the last of the steps that come
    before them there (else first), so a new step does not land behind every step the user
    never moved, and the user's own order stays as it is."""
    steps = [s for s in dict.fromkeys(rule.steps) if s in KEEPER_STEPS]
    default = list(KEEPER_STEPS)
    for name in default:
        if name in steps:
            continue
        earlier = [steps.index(s) for s in default[: default.index(name)] if s in steps]
        steps.insert(max(earlier) + 1 if earlier else 0, name)
    return KeeperRule(tuple(steps), tuple(rule.folder_priority))


def choose_keeper(photos: Sequence[Photo], rule: KeeperRule) -> tuple[list[Photo], str]:
    """The photos best first (the keeper first) by ``rule``, and the reason in words."""
    rule = checked_rule(rule)
    steps = [KEEPER_STEPS[name] for name in rule.steps]
    priority = rule.folder_priority

    scores: dict[tuple[str, str], float] = {}

    def score(step: KeeperStep, photo: Photo) -> float:
        """Each score once, and only when the steps before it tie (the sharpness step
        decodes a frame: only frames that the earlier steps cannot tell apart are)."""
        key = (step.name, photo.path)
        if key not in scores:
            scores[key] = step.score(photo, priority)
        return scores[key]

    def better_first(a: Photo, b: Photo) -> int:
        for step in steps:
            first, second = score(step, a), score(step, b)
            if first != second:
                return -1 if first > second else 1
        return (a.path > b.path) - (a.path < b.path)

    ordered = sorted(photos, key=cmp_to_key(better_first))
    if len(ordered) < 2:
        return ordered, "kept: the only photo"
    keeper, runner_up = ordered[0], ordered[1]
    for step in steps:
        if score(step, keeper) != score(step, runner_up):
            return ordered, step.words(keeper, runner_up, priority)
    return ordered, "kept: first by name (the rule's steps tie)"
