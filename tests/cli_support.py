"""Running the command line in process (the same code path as the console script)."""

from __future__ import annotations

import json

from albumfinder.cli import main


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # exactly one JSON object on stdout
    return json.loads(out)
