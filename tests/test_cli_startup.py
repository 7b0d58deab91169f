"""A search of the album's own photos answers without loading the model or torch (issue 9,
should-fix: a single search on a large album within 2 s; see benchmarks/bench_startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401 - top_k's torch path needs torch loaded

from albumfinder.search import top_k

from cli_support import run_json
from photo_factory import make_album, make_photo

SEARCH = (
    "import json, sys\n"
    "from albumfinder.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(json.dumps({'status': status, 'torch': 'torch' in sys.modules}), file=sys.stderr)\n"
)


def _run_in_a_fresh_process(*argv: str) -> tuple[dict, dict]:
    result = subprocess.run(
        [sys.executable, "-c", SEARCH, *argv, "--model", "builtin", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), json.loads(result.stderr.strip().splitlines()[-1])


def test_a_search_of_indexed_photos_loads_no_model(tmp_path, capsys):
    folder = tmp_path / "Pictures"
    photos = make_album(folder, 5)
    run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    in_process = run_json(capsys, "search", str(photos[0]), "--model", "builtin", "--json")

    answer, process = _run_in_a_fresh_process("search", str(photos[0]))
    assert process == {"status": 0, "torch": False}
    fresh = [r["path"] for r in answer["queries"][0]["results"]]
    assert fresh == [r["path"] for r in in_process["queries"][0]["results"]]
    assert len(fresh) == 4

    outside = tmp_path / "new.jpg"  # a photo the index does not hold: the model loads
    make_photo(7).save(outside)
    answer, process = _run_in_a_fresh_process("search", str(outside))
    assert process == {"status": 0, "torch": True}
    assert len(answer["queries"][0]["results"]) == 5


@pytest.mark.parametrize("with_rows", [False, True])
def test_numpy_and_torch_top_k_agree(with_rows):
    from albumfinder.search import _top_k_numpy

    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((500, 64)).astype(np.float16)
    query = rng.standard_normal(64).astype(np.float32)
    rows = np.arange(0, 500, 3, dtype=np.int64) if with_rows else None
    fast_index, fast_scores = top_k(matrix, query, 10, rows)  # torch is loaded in the tests
    plain_index, plain_scores = _top_k_numpy(matrix, query, 10, rows)
    assert set(plain_index) == set(fast_index)
    assert list(plain_scores) == sorted(plain_scores, reverse=True)
    assert np.allclose(plain_scores, fast_scores, atol=0.05)


def test_a_seed_rerun_on_an_unchanged_folder_loads_no_model(tmp_path):
    folder = tmp_path / "Downloads"
    photos = make_album(folder, 4)
    argv = ["-q", str(photos[1]), "-d", str(folder), "-o", str(tmp_path / "out")]
    first, process = _run_in_a_fresh_process(*argv)
    assert process == {"status": 0, "torch": True}  # the folder had to be indexed
    again, process = _run_in_a_fresh_process(*argv)
    assert process == {"status": 0, "torch": False}
    before, after = first["queries"][0]["results"], again["queries"][0]["results"]
    assert [r["path"] for r in after] == [r["path"] for r in before]
    assert all(abs(a["score"] - b["score"]) < 1e-3 for a, b in zip(after, before, strict=True))
    assert Path(again["queries"][0]["picture"]).is_file()


def test_importing_the_cli_main_module_runs_nothing():
    """``python -m albumfinder.cli`` runs the CLI; importing its ``__main__`` (a tool that
    walks the package, say) does not."""
    out = subprocess.run(
        [sys.executable, "-c", "import albumfinder.cli.__main__; print('imported')", "--help"],
        capture_output=True,
        text=True,
    )
    assert (out.returncode, out.stdout) == (0, "imported\n"), out.stderr
