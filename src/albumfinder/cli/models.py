"""``albumfinder-cli models [--download NAME]``: the models offered, and their weights."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from albumfinder.cli import loading
from albumfinder.cli.output import CliError, emit_json, say
from albumfinder.cli.progress import ProgressPrinter

if TYPE_CHECKING:
    from albumfinder.library import Library


def run_models(args: argparse.Namespace) -> int:
    with loading.open_library() as library:
        if args.download:
            _download(library, args.download, args.url)
        rows = [
            {
                "name": row.name,
                "title": row.title,
                "dim": row.dim,
                "weights": row.weights_path,
                "present": row.weights_present,
                "url": row.download_url,
            }
            for row in library.models()
            if row.listed
        ]
    if args.json:
        emit_json({"models": rows})
    else:
        print(f"{'name':<18} {'dim':>5}  {'weights':<8} description")
        for row in rows:
            present = "present" if row["present"] else "missing"
            print(f"{row['name']:<18} {row['dim']:>5}  {present:<8} {row['title']}")
    return 0


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
