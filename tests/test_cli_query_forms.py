"""Issue 13.5 on the command line: `search … --together [--not …]`, `--crop` (search and the
seed form), the filters, and `explain QUERY RESULT`; each JSON form exactly, and a clear
message for each bad value."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from albumfinder.cli import main

from cli_support import run_json
from photo_factory import exif_bytes, make_album, make_photo

BUILTIN = ("--model", "builtin", "--json")


@pytest.fixture
def album(tmp_path, capsys):
    """An indexed album of 9 photos (three in "trip"), dated by EXIF: photo i on 2023-06-(i+1)."""
    folder = tmp_path / "Pictures"
    photos = make_album(folder, 9)
    for i, path in enumerate(photos):
        make_photo(100 + i).save(
            path, quality=90, exif=exif_bytes(taken=f"2023:06:{i + 1:02d} 12:00:00")
        )
    run_json(capsys, "index", str(folder), *BUILTIN)
    return folder, [str(p) for p in photos]


def _paths(block: dict) -> list[str]:
    return [r["path"] for r in block["results"]]


def test_together_with_negatives_is_one_entry_with_a_list_of_photos(capsys, album):
    _, photos = album
    a, b, c = photos[0], photos[1], photos[3]
    answer = run_json(capsys, "search", a, b, "--together", "--not", c, "-n", "4", *BUILTIN)
    assert list(answer) == ["model", "queries", "failed", "skipped"]
    (block,) = answer["queries"]
    assert list(block) == ["query", "not", "results"]
    assert block["query"] == [a, b] and block["not"] == [c]
    assert len(block["results"]) == 4 and not {a, b, c} & set(_paths(block))
    assert all(list(r) == ["path", "score"] for r in block["results"])

    cropped = run_json(
        capsys, "search", a, b, "--together", "--crop", "0,0,0.5,0.5", "-n", "2", *BUILTIN
    )
    (block,) = cropped["queries"]
    assert list(block) == ["query", "not", "crop", "results"]
    assert block["query"] == [a, b] and block["not"] == [] and block["crop"] == [0, 0, 0.5, 0.5]


def test_without_together_each_photo_is_its_own_query_with_the_crop_and_negatives(capsys, album):
    _, photos = album
    a, b, c = photos[0], photos[1], photos[3]
    answer = run_json(capsys, "search", a, b, "--crop", "0.25,0.25,0.5,0.5", "-n", "3", *BUILTIN)
    assert [list(q) for q in answer["queries"]] == [["query", "crop", "results"]] * 2
    assert [q["query"] for q in answer["queries"]] == [a, b]
    assert all(q["crop"] == [0.25, 0.25, 0.5, 0.5] for q in answer["queries"])
    answer = run_json(capsys, "search", a, "--not", c, "-n", "3", *BUILTIN)
    (block,) = answer["queries"]
    assert list(block) == ["query", "not", "results"] and block == {**block, "not": [c]}
    assert c not in _paths(block) and a not in _paths(block)


def test_the_table_names_every_part_of_a_combined_query(capsys, album):
    _, photos = album
    a, b, c = photos[0], photos[1], photos[3]
    argv = ["search", a, b, "--together", "--not", c, "--crop", "0,0,1,0.5"]
    assert main([*argv, "--model", "builtin"]) == 0
    out = capsys.readouterr().out
    assert f"Query: {a} + {b}, not {c} (region 0,0,1,0.5)" in out


def test_the_filters_narrow_the_results_and_keep_them_n_long(capsys, album):
    folder, photos = album
    trip = folder / "trip"
    query = photos[0]
    block = run_json(capsys, "search", query, "--under", str(trip), "-n", "3", *BUILTIN)
    assert len(_paths(block["queries"][0])) == 3
    assert all(p.startswith(str(trip) + os.sep) for p in _paths(block["queries"][0]))
    dated = run_json(
        capsys,
        "search",
        query,
        "--taken-after",
        "2023-06-03",
        "--taken-before",
        "2023-06-05",
        "-n",
        "9",
        *BUILTIN,
    )
    assert sorted(_paths(dated["queries"][0])) == sorted(photos[2:5])
    everything = run_json(capsys, "search", query, "-n", "9", *BUILTIN)["queries"][0]["results"]
    floor = everything[2]["score"] - 1e-6  # the JSON rounds scores to 6 places
    scored = run_json(capsys, "search", query, "--min-score", str(floor), "-n", "9", *BUILTIN)
    assert scored["queries"][0]["results"] == [r for r in everything if r["score"] >= floor]
    outside = run_json(capsys, "search", photos[2], "--exclude-query-folder", *BUILTIN)
    assert all(Path(p).parent != trip for p in _paths(outside["queries"][0]))


def test_the_seed_form_takes_a_crop_and_draws_the_region(tmp_path, capsys):
    database = tmp_path / "db"
    make_album(database, 5)
    query = tmp_path / "query.jpg"
    make_photo(7).save(query, quality=92)
    out = tmp_path / "out"
    answer = run_json(
        capsys,
        "-q",
        str(query),
        "-d",
        str(database),
        "-o",
        str(out),
        "--crop",
        "0,0,0.5,1",
        "-n",
        "2",
        *BUILTIN,
    )
    (block,) = answer["queries"]
    assert list(block) == ["query", "crop", "results", "picture"]
    assert block["crop"] == [0, 0, 0.5, 1]
    with Image.open(block["picture"]) as picture:
        assert picture.width > 0


def test_explain_json_is_exactly_the_issue_s_object_and_the_picture_is_written(
    tmp_path, capsys, album, monkeypatch
):
    _, photos = album
    query, result = photos[0], photos[4]
    picture = tmp_path / "why.png"
    answer = run_json(capsys, "explain", query, result, "-o", str(picture), *BUILTIN)
    keys = ["model", "query", "result", "score", "rows", "cols", "result_map", "query_map"]
    assert list(answer) == keys + ["picture"]
    assert (answer["model"], answer["query"], answer["result"]) == ("builtin", query, result)
    assert isinstance(answer["score"], float) and -1 <= answer["score"] <= 1
    assert (answer["rows"], answer["cols"]) == (14, 14)
    for grid in (answer["result_map"], answer["query_map"]):
        assert len(grid) == answer["rows"] and all(len(r) == answer["cols"] for r in grid)
        assert all(isinstance(v, float) and 0 <= v <= 1 for r in grid for v in r)
    assert answer["picture"] == str(picture)
    with Image.open(picture) as drawn:
        assert drawn.format == "PNG" and drawn.width > 2 * 420  # two photos side by side
    monkeypatch.chdir(tmp_path)
    default = run_json(capsys, "explain", query, result, *BUILTIN)
    expected = tmp_path / "output" / "why" / "photo_000_photo_004_why.png"
    assert default["picture"] == str(expected) and expected.is_file()
    assert (expected.parent / ".albumfinder-results").is_file()  # never indexed as a photo


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--crop", "0,0,0.5"], "--crop must be four numbers"),
        (["--crop", "a,b,c,d"], "--crop must be four numbers"),
        (["--crop", "0.6,0,0.5,0.5"], "--crop 0.6,0,0.5,0.5 is no region of a photo"),
        (["--crop", "0,0,0,0.5"], "width and height must be more than 0"),
        (["--taken-after", "2023-13-01"], "--taken-after must be a date as YYYY-MM-DD"),
        (["--taken-before", "last week"], "--taken-before must be a date"),
        (["--taken-after", "2023-06-05", "--taken-before", "2023-06-01"], "after the last day"),
        (["--min-score", "3"], "between -1 and 1"),
        (["--not", "/nowhere/missing.jpg"], "--not photo not found: /nowhere/missing.jpg"),
    ],
)
def test_a_bad_value_gets_a_clear_message_and_nothing_is_searched(tmp_path, capsys, argv, words):
    query = tmp_path / "query.jpg"
    make_photo(1).save(query)
    assert main(["search", str(query), *argv, *BUILTIN]) == 1
    captured = capsys.readouterr()
    assert words in json.loads(captured.out)["error"]
    assert words in captured.err


def test_explain_refuses_a_missing_photo_and_a_bad_crop(tmp_path, capsys):
    query = tmp_path / "query.jpg"
    make_photo(1).save(query)
    assert main(["explain", str(query), str(tmp_path / "gone.jpg"), *BUILTIN]) == 1
    assert "result not found" in json.loads(capsys.readouterr().out)["error"]
    assert main(["explain", str(query), str(query), "--crop", "0,0,2,2", *BUILTIN]) == 1
    assert "is no region of a photo" in json.loads(capsys.readouterr().out)["error"]
