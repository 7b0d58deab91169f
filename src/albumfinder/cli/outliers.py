"""``albumfinder-cli outliers FOLDER [-n N]``: the photos of a folder that do not belong,
most out of place first, each with the reason."""

from __future__ import annotations

import argparse

from albumfinder.cli import loading
from albumfinder.cli.map import album_model
from albumfinder.cli.output import CliError, emit_json


def run_outliers(args: argparse.Namespace) -> int:
    from albumfinder.library import Library

    if args.num < 1:
        raise CliError("-n/--num must be at least 1")
    folder = Library.normalize_path(args.folder)
    with loading.open_library() as library:
        model = album_model(args, library)
        found = library.outliers(model, folder, n=args.num)
    if args.json:
        emit_json(
            {
                "model": model.spec.name,
                "folder": folder,
                "outliers": [{"path": o.path, "score": o.score, "reason": o.reason} for o in found],
            }
        )
        return 0
    if not found:
        print(f"Too few indexed photos in {folder} to tell which do not belong.")
        return 0
    print(f"Photos that do not belong in {folder} (model {model.spec.name}):")
    print(f"  {'rank':>4}  {'score':>6}  path")
    for rank, outlier in enumerate(found, start=1):
        print(f"  {rank:>4}  {outlier.score:>6.2f}  {outlier.path}")
        print(f"  {'':>4}  {'':>6}  {outlier.reason}")
    return 0
