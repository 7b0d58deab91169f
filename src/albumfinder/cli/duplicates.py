"""``albumfinder-cli duplicates [FOLDER ...]``: exact copies, near-duplicates, bursts and
look-alikes of the indexed album, each group with its suggested keeper. Nothing changes
without ``--trash``; with it the non-keepers of every listed group go to the system trash
(one action: ``albumfinder-cli put-back`` undoes it)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.output import CliError, emit_json, say
from albumfinder.cli.progress import ProgressPrinter

if TYPE_CHECKING:
    from albumfinder.report import DuplicateGroup, JobProgress

KINDS = ("exact", "near-duplicate", "burst", "look-alike")
DEFAULT_KINDS = ("exact", "near-duplicate", "burst")


def strictness(text: str) -> float:
    """argparse type of ``--strictness``: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def run_duplicates(args: argparse.Namespace) -> int:
    kinds = list(dict.fromkeys(args.kind or DEFAULT_KINDS))
    with loading.open_library() as library:
        if not library.folders():
            raise CliError("the album has no folders yet: run `albumfinder-cli index FOLDER` first")
        folders = library.album_roots_of(args.folders)  # a folder outside says what to do
        model = loading.embedder(args, library)
        if not library.indexed_count(model.model_key, folders):
            raise CliError(
                f"nothing under {', '.join(folders)} is indexed with {model.spec.name} yet: "
                "run `albumfinder-cli index` first"
            )
        printer = ProgressPrinter()

        def progress(event: JobProgress) -> None:
            if event.total:
                printer.count(event.text, event.done, event.total)

        try:
            groups = library.duplicate_groups(
                model, folders, kinds, args.strictness, progress=progress
            )
        finally:
            printer.finish()
        trashed: list[str] = []
        skipped: list[dict] = []
        action_id = ""
        if args.trash and groups:
            action = library.resolve(groups)
            trashed, action_id = list(action.trashed), action.id
            skipped = [{"path": s.path, "reason": s.reason} for s in action.refused]
    if args.json:
        emit_json(
            {
                "model": model.spec.name,
                "groups": [g.to_json() for g in groups],
                "trashed": trashed,
                "skipped": skipped,
            }
        )
    else:
        _print_groups(groups)
        _print_summary(groups, args.trash, trashed, action_id)
    for item in skipped:
        say(f"Not moved to the trash {item['path']}: {item['reason']}")
    return 1 if skipped else 0


def _size(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.0f} KB"


def _print_groups(groups: list[DuplicateGroup]) -> None:
    for group in groups:
        photos = len(group.members)
        print(
            f"{group.kind} · {photos} photos · {_size(group.reclaimable)} to reclaim · "
            f"{group.reason} [{group.id}]"
        )
        for member in group.members:
            action = "keep " if member.keep else "trash"
            why = "" if member.keep else f"  {member.why}"
            print(f"  {action}  {member.score:5.3f}  {member.path}{why}")
        print()


def _print_summary(
    groups: list[DuplicateGroup], trash: bool, trashed: list[str], action_id: str
) -> None:
    if not groups:
        print("No duplicate groups found.")
        return
    counts: dict[str, int] = {}
    for group in groups:
        counts[str(group.kind)] = counts.get(str(group.kind), 0) + 1
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    space = _size(sum(g.reclaimable for g in groups))
    print(f"{len(groups):,} groups ({kinds}); {space} can be reclaimed.")
    if not trash:
        print("Nothing was changed. With --trash the photos marked trash go to the system trash.")
    elif trashed:
        print(
            f"{len(trashed):,} photos moved to the system trash (action {action_id}); "
            "`albumfinder-cli put-back` puts them back."
        )
