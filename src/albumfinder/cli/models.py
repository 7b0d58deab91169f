"""``albumfinder-cli models [--download NAME]``: the models offered, and their weights."""

from __future__ import annotations

import argparse

from albumfinder.cli.output import emit_json, say
from albumfinder.cli.progress import ProgressPrinter


def run_models(args: argparse.Namespace) -> int:
    from albumfinder.library import Library

    if args.download:
        printer = ProgressPrinter()
        try:
            path = Library.download_model(args.download, progress=printer.download, url=args.url)
        finally:
            printer.finish()
        say(f"Saved {_spec_name(args.download)} weights to {path}")
    rows = []
    for model in (m for m in Library.models() if m.listed):
        found = Library.weights_file(model.name)
        rows.append(
            {
                "name": model.name,
                "title": model.title,
                "dim": model.dim,
                "weights": str(found) if found else None,
                "present": found is not None,
                "url": Library.download_url(model.name),
            }
        )
    if args.json:
        emit_json({"models": rows})
    else:
        print(f"{'name':<18} {'dim':>5}  {'weights':<8} description")
        for row in rows:
            present = "present" if row["present"] else "missing"
            print(f"{row['name']:<18} {row['dim']:>5}  {present:<8} {row['title']}")
    return 0


def _spec_name(name: str) -> str:
    """The model's own name for one of its aliases ("small" is dinov2-small)."""
    from albumfinder.models.registry import get_spec

    return get_spec(name).name
