"""The command line's promises on queries (issue 9.3, 9.8, 9.9; issue 10.12, 10.13): each
query gets its own answer or reason, a one-off `-q … -d FOLDER` search never leaks into the
album, every query gets its own result picture, and reruns do not repeat old skips."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumfinder.cli import main
from albumfinder.cli.montage import fit_tile
from albumfinder.library import Library

from cli_support import run_json
from photo_factory import make_album, make_photo, save_photo


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "Pictures"
    make_album(folder, 6)
    query = tmp_path / "query.jpg"
    make_photo(101, (640, 480)).save(query, quality=95)  # a copy of photo_001
    return folder, query


def _one_json_object(out: str) -> dict:
    assert out.count("\n") == 1, out
    return json.loads(out)


def test_search_answers_the_good_queries_and_gives_each_bad_one_its_reason(tmp_path, capsys, album):
    folder, query = album
    run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    missing = tmp_path / "missing.jpg"
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list")
    empty = tmp_path / "empty folder"
    empty.mkdir()
    argv = ["search", str(query), str(missing), str(notes), str(empty), "--model", "builtin"]

    assert main([*argv, "--json"]) == 1  # not every query was answered
    captured = capsys.readouterr()
    data = _one_json_object(captured.out)
    [answered] = data["queries"]
    assert answered["query"] == str(query)
    assert answered["results"][0]["path"] == str(folder / "photo_001.jpg")
    reasons = {f["query"]: f["error"] for f in data["failed"]}
    assert reasons == {
        str(missing): f"query not found: {missing}",
        str(notes): f"cannot search with {notes}: not a recognised image format",
        str(empty): f"no photos in the folder {empty}",
    }
    assert all(reason in data["error"] for reason in reasons.values())

    assert main(argv) == 1  # the table: the good query answered, each bad one on stderr
    captured = capsys.readouterr()
    assert f"Query: {query}" in captured.out and "photo_001.jpg" in captured.out
    assert "No results." not in captured.out
    for reason in reasons.values():
        assert f"albumfinder-cli: error: {reason}" in captured.err.splitlines()
    assert "3 of 4 queries were not answered." in captured.err

    assert main(["search", str(query), "--model", "builtin"]) == 0  # all answered: 0


def test_a_usage_error_with_json_is_still_one_json_object(capsys):
    assert main(["search", "--json"]) == 2
    captured = capsys.readouterr()
    assert (
        "the following arguments are required: queries" in (_one_json_object(captured.out)["error"])
    )
    assert "usage:" in captured.err


def test_the_seed_form_answers_the_good_photos_of_a_query_folder(
    tmp_path, capsys, album, monkeypatch
):
    folder, _ = album
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)  # a terminal
    queries = tmp_path / "queries"
    save_photo(queries / "good.jpg", 101)
    (queries / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    argv = ["-q", str(queries), "-d", str(folder), "--model", "builtin", "--json"]
    argv += ["-o", str(tmp_path / "out")]
    assert main(argv) == 1
    captured = capsys.readouterr()
    data = _one_json_object(captured.out)
    assert [b["query"] for b in data["queries"]] == [str(queries / "good.jpg")]
    assert Path(data["queries"][0]["picture"]).is_file()
    [failed] = data["failed"]
    assert failed["query"] == str(queries / "broken.jpg")
    assert failed["error"].startswith(f"cannot search with {queries / 'broken.jpg'}: ")
    assert "Searching… 2/2" in captured.err  # a folder of queries shows its progress


def test_a_seed_search_never_leaks_into_album_searches(tmp_path, capsys, album):
    folder, query = album
    elsewhere = tmp_path / "Downloads"
    make_album(elsewhere, 4, first_seed=100)  # the same pictures as photo_000..003
    run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    seed = run_json(
        capsys, "-q", str(query), "-d", str(elsewhere), "-n", "10", "--model", "builtin",
        "--json", "-o", str(tmp_path / "out"),
    )  # fmt: skip
    # the seed form searched its -d folder only, though the album is indexed too
    seed_paths = [r["path"] for r in seed["queries"][0]["results"]]
    assert len(seed_paths) == 4 and all(p.startswith(str(elsewhere)) for p in seed_paths)

    found = run_json(capsys, "search", str(query), "-n", "20", "--model", "builtin", "--json")
    paths = [r["path"] for r in found["queries"][0]["results"]]
    assert len(paths) == 6 and all(p.startswith(str(folder)) for p in paths)
    # --folder outside the album adds nothing either
    outside = run_json(
        capsys, "search", str(query), "--folder", str(elsewhere), "--model", "builtin", "--json"
    )
    assert outside["queries"][0]["results"] == []

    status = run_json(capsys, "status", "--json")
    assert status["outside_album"] == 4
    assert main(["status"]) == 0
    assert "albumfinder-cli forget FOLDER" in capsys.readouterr().out

    # forget: an album folder is refused, its photos kept
    assert main(["forget", str(folder)]) == 1
    refused = capsys.readouterr().err
    assert "is an album folder: its photos are the album's and are kept" in refused
    # the core hints "remove the folder"; the command line words where that is done
    assert refused.rstrip().endswith(
        "remove the folder from the album (Album Finder's window: select it, Remove)."
    )
    assert run_json(capsys, "status", "--json")["folders"][0]["indexed"] == 6
    assert run_json(capsys, "forget", str(tmp_path), "--json") == {
        "forgotten": 4,
        "outside_album": 0,
    }
    assert all(p.is_file() for p in elsewhere.rglob("*.jpg"))  # the photos are untouched
    assert run_json(capsys, "status", "--json")["folders"][0]["indexed"] == 6


def test_library_search_with_no_album_folder_has_no_results(tmp_path, warm_model):
    """The GUI's search (Library.search without folders) on an index holding only
    photos of a one-off search: no results, though vectors are cached."""
    elsewhere = tmp_path / "Downloads"
    photos = make_album(elsewhere, 3)
    library = Library(tmp_path / "index.sqlite3")
    try:
        library.index(warm_model, [str(elsewhere)])
        assert library.count_outside_album() == 3
        assert library.search(warm_model, photos[0]) == []
        hits = library.search(warm_model, photos[0], folders=[str(elsewhere)], album_only=False)
        assert len(hits) == 2
    finally:
        library.close()


def _query_tile_distance(picture: Path, query: Path, size: int) -> float:
    with Image.open(picture) as image:
        tile = np.asarray(image.convert("RGB").crop((0, 0, size, size)), dtype=np.float32)
    with Image.open(query) as image:
        expected = np.asarray(fit_tile(image.convert("RGB"), size), dtype=np.float32)
    return float(np.abs(tile - expected).mean())


def test_each_query_of_a_folder_gets_its_own_picture(tmp_path, capsys, album, monkeypatch):
    folder, _ = album
    queries = tmp_path / "queries"
    first = save_photo(queries / "a" / "image_0001.jpg", 101)
    second = save_photo(queries / "b" / "image_0001.jpg", 104)
    alone = save_photo(queries / "b" / "other.jpg", 102)
    monkeypatch.chdir(tmp_path)
    data = run_json(
        capsys, "-q", str(queries), "-d", str(folder), "--model", "builtin", "--json",
        "--size", "64",
    )  # fmt: skip
    pictures = {b["query"]: Path(b["picture"]) for b in data["queries"]}
    out = (tmp_path / "output" / "Pictures" / "builtin").resolve()
    assert pictures == {
        str(first): out / "a" / "image_0001_output.jpg",
        str(second): out / "b" / "image_0001_output.jpg",
        str(alone): out / "other_output.jpg",  # no clash: the seed's own name
    }
    for query, picture in pictures.items():  # each picture shows its own query first
        own = _query_tile_distance(picture, Path(query), 64)
        others = [_query_tile_distance(picture, Path(q), 64) for q in pictures if q != query]
        assert own < min(others) / 2, (query, own, others)


def test_size_is_capped_before_any_work(tmp_path, capsys, album, album_home):
    folder, query = album
    assert main(["-q", str(query), "-d", str(folder), "--size", "5000", "--json"]) == 1
    data = _one_json_object(capsys.readouterr().out)
    assert data == {"error": "--size must be between 16 and 1024 pixels"}
    assert not (album_home / "data" / "index.sqlite3").exists()


def test_version(capsys):
    from albumfinder import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"albumfinder-cli {__version__}"


def test_a_rescan_prints_only_new_skips_and_counts_the_rest(tmp_path, capsys, album):
    folder, _ = album
    (folder / "bad one.jpg").write_bytes(b"not a photo")
    (folder / "bad two.jpg").write_bytes(b"not a photo either")
    assert main(["index", str(folder), "--model", "builtin"]) == 0
    first = capsys.readouterr().out
    assert "bad one.jpg" in first and "bad two.jpg" in first

    (folder / "bad three.jpg").write_bytes(b"new garbage")
    assert main(["index", "--model", "builtin"]) == 0
    second = capsys.readouterr().out
    assert "bad one.jpg" not in second and "bad two.jpg" not in second
    assert f"Skipped {folder / 'bad three.jpg'}: not a recognised image format" in second
    assert "2 photos skipped as in earlier runs (list them: albumfinder-cli status)." in second
    report = run_json(capsys, "index", "--model", "builtin", "--json")
    assert len(report["skipped"]) == 3  # JSON lists them all


def test_a_model_that_fails_to_load_after_answers_keeps_them(tmp_path, capsys, album):
    """DINOv2 from a file damaged after indexing: the album photo is answered from its
    stored vector, then the photo that needs the model cannot be searched. The answer given
    stays, the error is added, and the query gets its own reason."""
    from helpers_models import save_dinov2_checkpoint

    folder, query = album
    weights = save_dinov2_checkpoint(tmp_path / "weights" / "dinov2_vits14_pretrain.pth")
    model = ["--model", "dinov2-small", "-p", str(weights)]
    run_json(capsys, "index", str(folder), *model, "--json")
    weights.write_bytes(b"\x80\x02 overwritten" * 1000)
    indexed = folder / "photo_003.jpg"

    assert main(["search", str(indexed), str(query), *model, "--json"]) == 1
    captured = capsys.readouterr()
    data = _one_json_object(captured.out)
    [answered] = data["queries"]
    assert answered["query"] == str(indexed) and len(answered["results"]) == 5
    assert data["failed"] == [
        {"query": str(query), "error": f"{query} was not searched: the search stopped"}
    ]
    assert "not a PyTorch weights file (damaged" in data["error"]

    assert main(["search", str(indexed), str(query), *model]) == 1  # the table too
    captured = capsys.readouterr()
    assert f"Query: {indexed}" in captured.out and "photo_" in captured.out
    assert "Traceback" not in captured.err and "damaged" in captured.err


def test_an_unexpected_error_with_json_is_still_one_json_object(tmp_path, capsys, monkeypatch):
    import os

    def broken_listing(*_args, **_kwargs):  # the OS boundary fails in a way nobody planned
        raise RuntimeError("the file system went away")

    folder = tmp_path / "Pictures"
    make_album(folder, 1)
    monkeypatch.setattr(os, "scandir", broken_listing)
    assert main(["index", str(folder), "--model", "builtin", "--json"]) == 1
    captured = capsys.readouterr()
    data = _one_json_object(captured.out)
    assert data["error"] == "unexpected error: RuntimeError: the file system went away"
    assert "Traceback" in captured.err


def test_a_seed_search_whose_model_fails_while_indexing_gives_each_query_its_reason(
    tmp_path, capsys, album
):
    from helpers_models import save_dinov2_checkpoint

    folder, query = album
    weights = save_dinov2_checkpoint(tmp_path / "weights" / "dinov2_vits14_pretrain.pth")
    weights.write_bytes(b"\x80\x02 damaged" * 1000)
    argv = ["-q", str(query), "-d", str(folder), "--model", "dinov2-small", "-p", str(weights)]
    assert main([*argv, "-o", str(tmp_path / "out"), "--json"]) == 1
    data = _one_json_object(capsys.readouterr().out)
    assert data["queries"] == []
    assert data["failed"] == [
        {"query": str(query), "error": f"{query} was not searched: the search stopped"}
    ]
    assert "not a PyTorch weights file (damaged" in data["error"]


@pytest.mark.parametrize("contents", ["empty", "unreadable"])
def test_a_seed_search_of_a_folder_with_no_photos_is_an_error(tmp_path, capsys, album, contents):
    _, query = album
    database = tmp_path / "nothing here"
    database.mkdir()
    if contents == "unreadable":
        (database / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    argv = ["-q", str(query), "-d", str(database), "--model", "builtin"]
    argv += ["-o", str(tmp_path / "out")]
    assert main([*argv, "--json"]) == 1
    data = _one_json_object(capsys.readouterr().out)
    assert data["queries"] == []
    if contents == "empty":
        assert data["error"] == f"no photos in {database}: nothing to compare with"
    else:
        assert data["error"].startswith(f"no photo in {database} could be indexed (1 could not")
        assert [s["path"] for s in data["skipped"]] == [str(database / "broken.jpg")]

    assert main(argv) == 1  # the table: no "(no indexed photos to compare with)", exit 0
    captured = capsys.readouterr()
    assert "no indexed photos to compare with" not in captured.out
    assert "albumfinder-cli: error: no photo" in captured.err


def test_the_precision_help_says_what_auto_picks(capsys):
    """The help matches resolve_precision: int8 only with int8 dot products, else fp32."""
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "else int8" not in text
    assert "int8 where the CPU has int8 dot products (x86 VNNI)" in text
    assert "else (a plain AVX2 CPU, Arm) fp32" in text
