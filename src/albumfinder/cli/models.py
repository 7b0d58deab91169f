"""``albumfinder-cli models [--download NAME]``: the models offered, and their weights."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.output import CliError, emit_json, say
from albumfinder.cli.progress import ProgressPrinter

if TYPE_CHECKING:
    from albumfinder.library import Library
    from albumfinder.report import ModelRow


def run_models(args: argparse.Namespace) -> int:
    with loading.open_library() as library:
        if args.download:
            _download(library, args.download, args.url)
        models = library.models()
        rows = [
            {
                "name": row.name,
                "title": row.title,
                "dim": row.dim,
                "weights": row.weights_path,
                "present": row.weights_present,
                "url": row.download_url,
                "auto": row.calibration.to_json() if row.calibration else None,
            }
            for row in models
            if row.listed
        ]
    if args.json:
        emit_json({"models": rows})
    else:
        print(f"{'name':<18} {'dim':>5}  {'weights':<8} description")
        for row in rows:
            present = "present" if row["present"] else "missing"
            print(f"{row['name']:<18} {row['dim']:>5}  {present:<8} {row['title']}")
        _say_calibrations(models)
    return 0


def _say_calibrations(rows: list[ModelRow]) -> None:
    """What "auto" measured and chose on this CPU, for the models it has run."""
    measured = [row for row in rows if row.listed and row.calibration is not None]
    if measured:
        print('\n"auto" on this CPU (measured on first use):')
    for row in measured:
        assert row.calibration is not None
        print(f"  {row.name:<16} {row.calibration.summary()}")


def _download(library: Library, name: str, url: str | None) -> None:
    from albumfinder.models.registry import get_spec

    spec = get_spec(name)  # an alias ("small") names its model
    if spec.weights_url is None and url is None:
        raise CliError(f"{spec.name} needs no download")
    printer = ProgressPrinter()
    try:
        path = library.download_model(spec.name, progress=printer.download, url=url)
    finally:
        printer.finish()
    say(f"Saved {spec.name} weights to {path}")
