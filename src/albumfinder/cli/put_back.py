"""``albumfinder-cli put-back [ACTION_ID]``: undo a move to the system trash, the last one
not put back yet or the one named. The photos go back where they were, and into the index
with their vectors (nothing is embedded again); a photo whose place is taken now stays in
the trash and is listed with its reason. Exit status 1 when one could not be put back."""

from __future__ import annotations

import argparse

from albumfinder.cli import loading
from albumfinder.cli.output import emit_json, say


def run_put_back(args: argparse.Namespace) -> int:
    with loading.open_library() as library:
        done = library.put_back(args.action)
    if args.json:
        emit_json(done.to_json())
    else:
        for path in done.restored:
            print(f"Put back {path}")
        photos = "photo" if len(done.restored) == 1 else "photos"
        print(f"{len(done.restored):,} {photos} put back (trash action {done.action_id}).")
    for item in done.refused:
        say(f"Not put back {item.path}: {item.reason}")
    return 1 if done.refused else 0
