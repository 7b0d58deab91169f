"""The command line end to end, in process (same code path as the console script)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from albumfinder import paths
from albumfinder.cli import main

from cli_support import run_json
from photo_factory import make_album, make_photo, save_photo


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "Pictures"
    make_album(folder, 10)
    original = make_photo(42, (800, 600))
    original.resize((400, 300)).save(folder / "smaller copy.jpg", quality=80)
    (folder / "notes.jpg").write_bytes(b"not a photo")
    query = tmp_path / "query.jpg"
    original.save(query, quality=95)
    return folder, query


def test_seed_form_json_table_and_picture(tmp_path, capsys, album, monkeypatch):
    folder, query = album
    monkeypatch.chdir(tmp_path)
    data = run_json(
        capsys, "-q", str(query), "-d", str(folder), "-n", "3", "--model", "builtin", "--json"
    )
    assert data["model"] == "builtin"
    [block] = data["queries"]
    assert block["query"] == str(query)
    results = block["results"]
    assert len(results) == 3
    assert results[0]["path"] == str(folder / "smaller copy.jpg")
    assert all(os.path.isabs(r["path"]) for r in results)
    # scores are cosines: the resized copy near 1 (0.962 measured), clear of the next photo
    # (0.883; the factory's photos look alike)
    assert results[0]["score"] > 0.9 and results[0]["score"] - results[1]["score"] > 0.05
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {"path": str(folder / "notes.jpg"), "reason": "not a recognised image format"} in (
        data["skipped"]
    )
    picture = tmp_path / "output" / "Pictures" / "builtin" / "query_output.jpg"
    assert picture.exists()
    with Image.open(picture) as image:
        assert image.width == 4 * 224 + 3 * 10 and image.height > 224

    # the readable table
    assert (
        main(
            [
                "-q",
                str(query),
                "-d",
                str(folder),
                "-n",
                "2",
                "--model",
                "builtin",
                "--size",
                "96",
                "-m",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "rank" in out and "smaller copy.jpg" in out
    with Image.open(picture) as image:
        assert image.width == 3 * 96


def test_seed_form_reembeds_nothing_then_one(tmp_path, capsys, album):
    folder, query = album
    args = ["index", str(folder), "--model", "builtin", "--json"]
    first = run_json(capsys, *args)
    assert first["added"] == 11 and first["unchanged"] == 0
    assert first["folders"] == [str(folder)]
    assert [s["path"] for s in first["skipped"]] == [str(folder / "notes.jpg")]
    second = run_json(capsys, *args)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 11)
    save_photo(folder / "photo_000.jpg", 4321)
    third = run_json(capsys, *args)
    assert (third["added"], third["updated"], third["removed"]) == (0, 1, 0)


def test_disable_cache_leaves_the_user_index_alone(tmp_path, capsys, album):
    folder, query = album
    index = paths.index_path()
    run_json(
        capsys,
        "-q",
        str(query),
        "-d",
        str(folder),
        "--model",
        "builtin",
        "--disable-cache",
        "--json",
        "-o",
        str(tmp_path / "out"),
    )
    from albumfinder.library import Library

    library = Library(index)
    assert library.store.model_keys() == {}
    library.close()


def test_subcommands_search_embed_models_status(tmp_path, capsys, album):
    folder, query = album
    run_json(capsys, "index", str(folder), "--model", "builtin", "--json")

    found = run_json(capsys, "search", str(query), "-n", "2", "--model", "builtin", "--json")
    assert found["queries"][0]["results"][0]["path"] == str(folder / "smaller copy.jpg")
    assert found["skipped"] == []

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG garbage")
    embedded = run_json(capsys, "embed", str(query), str(bad), "--model", "builtin", "--json")
    [row] = embedded["embeddings"]
    assert row["path"] == str(query) and len(row["vector"]) == 1280
    assert abs(sum(x * x for x in row["vector"]) - 1) < 1e-3
    assert embedded["skipped"][0]["path"] == str(bad)

    models = run_json(capsys, "models", "--json")
    names = {m["name"]: m for m in models["models"]}
    assert {"builtin", "dinov2-small", "dinov2-base", "dinov2-large", "dinov2-giant"} <= set(names)
    assert names["builtin"]["present"] is True
    assert names["dinov2-small"]["present"] is False  # nothing downloaded in this test home

    status = run_json(capsys, "status", "--json")
    [entry] = status["folders"]
    assert entry["path"] == str(folder) and entry["indexed"] == 11 and entry["pending"] == 0
    assert entry["skipped"] == 1
    assert status["skipped"] == [
        {"path": str(folder / "notes.jpg"), "reason": "not a recognised image format"}
    ]


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert (
        main(
            [
                "-q",
                str(tmp_path / "nope.jpg"),
                "-d",
                str(tmp_path / "nowhere"),
                "--model",
                "builtin",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "database not found" in err and "Traceback" not in err
    photo = save_photo(tmp_path / "photo.jpg", 1)
    assert main(["search", str(photo), "--model", "no-such-model"]) == 1
    assert "no-such-model" in capsys.readouterr().err


def test_console_script_help_is_quick_to_import():
    # --help must not import torch: check in a fresh interpreter
    code = (
        "import sys; from albumfinder.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported for --help'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    assert result.returncode == 0, result.stderr
    assert "-q QUERY" in result.stdout


def test_status_counts_photos_indexed_by_a_seed_search(tmp_path, capsys, album):
    folder, query = album
    seed = ["-q", str(query), "-d", str(folder), "--model", "builtin", "--json"]
    run_json(capsys, *seed, "-o", str(tmp_path / "out"))
    status = run_json(capsys, "status", "--json")
    assert status["folders"] == []  # `-d` searches a folder; it does not join the album
    assert status["outside_album"] == 11  # 10 photos and the smaller copy; notes.jpg skipped
    assert main(["status"]) == 0
    assert "Also indexed: 11 photos outside the album's folders" in capsys.readouterr().out
    run_json(capsys, "index", str(folder), "--model", "builtin", "--json")
    assert run_json(capsys, "status", "--json")["outside_album"] == 0


def test_a_library_in_a_with_block_is_closed_at_its_end_even_on_an_error(tmp_path):
    from albumfinder.library import Library

    index = tmp_path / "index.sqlite3"
    wal = tmp_path / "index.sqlite3-wal"  # SQLite removes it when the last connection closes
    with pytest.raises(KeyError), Library(index) as library:
        library.add_folder(tmp_path)
        assert wal.exists()
        raise KeyError("a command failed")
    assert not wal.exists()
    with Library(index) as library:
        assert library.folders() == [str(tmp_path)]
    assert not wal.exists()
