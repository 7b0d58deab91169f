"""`albumfinder-cli map` and `albumfinder-cli outliers` (issue #14, point 4): the JSON
schemas exactly, the picture, and the errors."""

from __future__ import annotations

import json

from PIL import Image

from albumfinder.cli import main
from albumfinder.library import Library

from atlas_photos import save_family, save_strangers
from cli_support import run_json


def _album(tmp_path):
    root = tmp_path / "album"
    families = [save_family(root / "trip", f"f{k}", 1400 + k, count=5) for k in range(2)]
    strangers = save_strangers(root / "trip", 1)
    return root, families, strangers


def test_map_and_outliers_json_and_picture(tmp_path, capsys, monkeypatch, warm_model):
    root, families, strangers = _album(tmp_path)
    run_json(capsys, "index", str(root), "--model", "builtin", "--json")
    monkeypatch.chdir(tmp_path)

    data = run_json(capsys, "map", "--model", "builtin", "--json")
    assert list(data) == ["model", "points", "picture"]
    assert data["model"] == "builtin"
    assert len(data["points"]) == 11
    for point in data["points"]:
        assert list(point) == ["path", "x", "y", "cluster"]
        assert isinstance(point["path"], str)
        assert isinstance(point["x"], float) and isinstance(point["y"], float)
        assert isinstance(point["cluster"], int)
    picture = tmp_path / "output" / "album-map.png"
    assert data["picture"] == str(picture)
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.width >= 1000
    assert Library.results_marker(picture.parent).exists()  # never indexed as a photo

    chosen = tmp_path / "maps" / "trip"
    data = run_json(
        capsys, "map", str(root / "trip"), "-o", str(chosen), "--model", "builtin", "--json"
    )
    assert data["picture"] == str(chosen.with_suffix(".png"))
    assert chosen.with_suffix(".png").is_file()

    data = run_json(
        capsys, "outliers", str(root / "trip"), "-n", "3", "--model", "builtin", "--json"
    )
    assert list(data) == ["model", "folder", "outliers"]
    assert data["model"] == "builtin" and data["folder"] == str(root / "trip")
    assert len(data["outliers"]) == 3
    for outlier in data["outliers"]:
        assert list(outlier) == ["path", "score", "reason"]
        assert isinstance(outlier["score"], float) and isinstance(outlier["reason"], str)
    assert data["outliers"][0]["path"] == str(strangers[0])  # most out of place first
    scores = [o["score"] for o in data["outliers"]]
    assert scores == sorted(scores, reverse=True)
    assert data["outliers"][0]["reason"].startswith("unlike the other 10 photos in trip; ")

    assert main(["outliers", str(root / "trip"), "--model", "builtin"]) == 0
    table = capsys.readouterr().out
    assert str(strangers[0]) in table and "unlike the other 10 photos in trip" in table
    assert main(["map", "--model", "builtin"]) == 0
    assert "Map of 11 photos" in capsys.readouterr().out


def _error(capsys, *argv) -> str:
    assert main(list(argv)) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    payload = json.loads(out)
    assert list(payload) == ["error"]
    return payload["error"]


def test_map_and_outliers_errors(tmp_path, capsys):
    root = tmp_path / "album"
    root.mkdir()
    assert "nothing in the album is indexed with builtin" in _error(
        capsys, "map", "--model", "builtin", "--json"
    )
    assert "nothing in the album is indexed" in _error(
        capsys, "outliers", str(root), "--model", "builtin", "--json"
    )
    assert "-n/--num must be at least 1" in _error(
        capsys, "outliers", str(root), "-n", "0", "--model", "builtin", "--json"
    )
    assert "cannot write a picture of type .xyz" in _error(
        capsys, "map", "-o", str(tmp_path / "map.xyz"), "--model", "builtin", "--json"
    )
    save_strangers(root, 3)
    assert main(["index", str(root), "--model", "builtin", "--json"]) == 0
    capsys.readouterr()
    assert "is not in the album" in _error(
        capsys, "map", str(tmp_path / "elsewhere"), "--model", "builtin", "--json"
    )
    assert "is not in the album" in _error(
        capsys, "outliers", str(tmp_path / "elsewhere"), "--model", "builtin", "--json"
    )
