"""``albumfinder-cli status`` and ``forget FOLDER``: the album at a glance, and dropping
what one-off searches cached outside it."""

from __future__ import annotations

import argparse

from albumfinder.cli import loading
from albumfinder.cli.output import emit_json


def run_status(args: argparse.Namespace) -> int:
    with loading.open_library() as library:
        status = library.status(args.model)
        name = status.model_key.split("/")[0]
        calibration = next((r.calibration for r in library.models() if r.name == name), None)
    folders, skipped = status.folders, status.skipped
    if args.json:
        emit_json(
            {
                "index": status.index,
                "model_key": status.model_key,
                "models": status.models,
                "folders": [
                    {
                        "path": f.path,
                        "exists": f.exists,
                        "indexed": f.indexed,
                        "pending": f.pending,
                        "skipped": f.skipped_total,
                    }
                    for f in folders
                ],
                "outside_album": status.outside_album,
                "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
                "auto": calibration.to_json() if calibration else None,
            }
        )
        return 0
    print(f"Index: {status.index}")
    if not folders:
        print("No folders in the album yet: albumfinder-cli index FOLDER")
    else:
        model = f" (model {status.model_key.split('/')[0]})" if status.model_key else ""
        print(f"Folders{model}:")
    for f in folders:
        print(f"  {f.path}")
        if not f.exists:
            print("      not found (kept in the album; unplugged drive?)")
        pending = "" if f.pending is None else f", {f.pending:,} not indexed yet"
        print(f"      {f.indexed:,} indexed{pending}, {f.skipped_total:,} skipped")
    if status.outside_album:
        print(
            f"Also indexed: {status.outside_album:,} photos outside the album's folders, "
            "cached by `-q … -d FOLDER` searches and never shown in album searches. Drop them "
            "with `albumfinder-cli forget FOLDER`; add a folder to the album with "
            "`albumfinder-cli index FOLDER`."
        )
    if status.models:
        print("Photos indexed per model:")
        for key, count in sorted(status.models.items()):
            print(f"  {key.split('/')[0]:<18} {count:>8,}")
    if calibration is not None:
        print(f'Mode ("auto" on this CPU): {calibration.summary()}')
    if skipped:
        print(f"Skipped ({len(skipped):,}):")
        for item in skipped:
            print(f"  {item.path}: {item.reason}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Drop the cached vectors of photos under FOLDER that are in no album folder."""
    with loading.open_library() as library:
        dropped = library.forget(args.folder)
        left = library.count_outside_album()
    if args.json:
        emit_json({"forgotten": dropped, "outside_album": left})
    elif dropped:
        print(f"Forgot {dropped:,} photos (the photo files are untouched); {left:,} left.")
    else:
        print(f"Nothing cached under that folder outside the album; {left:,} left.")
    return 0
