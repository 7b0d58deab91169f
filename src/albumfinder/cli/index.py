"""``albumfinder-cli index [FOLDER…]``: add folders to the album and index them."""

from __future__ import annotations

import argparse
import os
import sys

from albumfinder.cli import loading
from albumfinder.cli.output import CliError, emit_json, print_skips, say, split_skips


def run_index(args: argparse.Namespace) -> int:
    from albumfinder.library import Library

    with loading.open_library() as library:
        if args.folders:
            for folder in args.folders:  # all or none: a typo adds nothing to the album
                path = Library.normalize_path(folder)
                if not os.path.isdir(path):
                    what = "not a folder" if os.path.exists(path) else "folder not found"
                    raise CliError(f"{what}: {path}")
            roots = [library.add_folder(folder) for folder in args.folders]
        else:
            roots = library.folders()
            if not roots:
                raise CliError("no folders in the album yet: albumfinder-cli index FOLDER...")
        model = library.embedder(  # loaded only if a photo needs it
            loading.model_name(args),
            args.model_path,
            say,
            device=args.device,
            precision=args.precision,
            allow_download=True,
        )
        roots = [Library.normalize_path(r) for r in roots]
        known = loading.known_skips(library, roots, model)
        report = loading.index_with_progress(library, model, roots)
    if args.json:
        emit_json(report.to_json())
        return 0
    print(
        f"Indexed {len(report.folders)} folder(s) with {report.model} in "
        f"{report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.moved} moved, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped."
    )
    for folder in report.missing_folders:
        print(f"Folder not found (kept in the album; unplugged drive?): {folder}")
    if report.elsewhere:
        print(f"{report.elsewhere} photo(s) left to another indexing run at work on them.")
    new, old = split_skips(report, known)
    print_skips(new + old, len(old), stream=sys.stdout)
    return 0
