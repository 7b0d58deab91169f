"""``albumfinder-cli embed PHOTO…``: print the embeddings of photos."""

from __future__ import annotations

import argparse
from typing import Any

from albumfinder.cli import loading
from albumfinder.cli.output import CliError, emit_json, say
from albumfinder.cli.queries import plan_queries
from albumfinder.errors import ImageLoadError


def run_embed(args: argparse.Namespace) -> int:
    """Each photo's vector (an indexed, unchanged photo's is the stored one)."""
    plan = plan_queries(args.photos, what="photo")
    if plan.failed:
        raise CliError(plan.failed[0]["error"])
    photos, skipped = plan.photos, plan.skipped
    rows: list[dict[str, Any]] = []
    with loading.open_library() as library:
        model = loading.embedder(args, library)
        for path in photos:
            try:
                [vector] = library.embed(model, [path])
            except ImageLoadError as exc:
                skipped.append({"path": path, "reason": exc.reason})
                continue
            rows.append({"path": path, "vector": [round(float(x), 6) for x in vector]})
    if args.json:
        emit_json({"model": model.spec.name, "embeddings": rows, "skipped": skipped})
    else:
        for row in rows:
            print(row["path"] + "\t" + " ".join(f"{x:.6f}" for x in row["vector"]))
        for item in skipped:
            say(f"Skipped {item['path']}: {item['reason']}")
    return 0
