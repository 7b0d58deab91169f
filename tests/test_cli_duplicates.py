"""``albumfinder-cli duplicates``: the JSON object exactly as issue 12 gives it, the table,
nothing changed without --trash, the non-keepers in the (test's) system trash with it."""

from __future__ import annotations

import json
import os

import pytest

from albumfinder.cli import main
from duplicate_album import make_small_album

from cli_support import run_json
from trash_support import redirect_trash, trash_entries


@pytest.fixture
def album(tmp_path, capsys, warm_model):
    small = make_small_album(tmp_path / "album")
    run_json(capsys, "index", str(small.root), "--model", "builtin", "--json")
    return small


def _state(root) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    }


def test_json_is_exactly_the_issue_s_object(album, capsys):
    before = _state(album.root)
    out = run_json(capsys, "duplicates", "--model", "builtin", "--json")
    assert list(out) == ["model", "groups", "trashed", "skipped"]
    assert out["model"] == "builtin" and out["trashed"] == [] and out["skipped"] == []
    assert sorted(g["kind"] for g in out["groups"]) == ["burst", "near-duplicate"]
    sizes = [len(g["members"]) for g in out["groups"]]
    assert sizes == sorted(sizes, reverse=True) == [3, 3]  # largest first
    for group in out["groups"]:
        assert list(group) == ["id", "kind", "reason", "members"]
        assert isinstance(group["id"], str) and group["reason"].startswith("kept: ")
        keeper, *others = group["members"]
        assert keeper["keep"] is True and keeper["score"] == 1.0
        for member in group["members"]:
            assert list(member) == ["path", "keep", "why", "score"]
            assert os.path.isabs(member["path"]) and isinstance(member["score"], float)
        assert all(m["keep"] is False and 0 < m["score"] <= 1 for m in others)
    copies = next(g for g in out["groups"] if g["kind"] == "near-duplicate")
    assert copies["members"][0]["path"] == str(album.original)  # most pixels, EXIF, oldest
    why = {m["path"]: m["why"] for m in copies["members"]}
    assert why[str(album.copy)] == "identical file"
    assert why[str(album.resized)].startswith("same picture, 50 % smaller")
    assert _state(album.root) == before  # without --trash nothing changes


def test_kinds_and_folders_narrow_the_groups(album, capsys):
    out = run_json(
        capsys,
        "duplicates",
        str(album.root / "Camera roll"),
        "--kind",
        "burst",
        "--model",
        "builtin",
        "--json",
    )
    assert [g["kind"] for g in out["groups"]] == ["burst"]
    assert {m["path"] for m in out["groups"][0]["members"]} == {str(p) for p in album.frames}
    out = run_json(capsys, "duplicates", "--kind", "exact", "--model", "builtin", "--json")
    # asked alone, the byte copy is an exact group (with near-duplicates: in the near group)
    assert [g["kind"] for g in out["groups"]] == ["exact"]
    assert [m["why"] for m in out["groups"][0]["members"]][1] == "identical file"


def test_table_without_json(album, capsys):
    assert main(["duplicates", "--model", "builtin"]) == 0
    out = capsys.readouterr().out
    assert "near-duplicate · 3 photos" in out and "burst · 3 photos" in out
    assert f"keep   1.000  {album.original}" in out
    assert "identical file" in out and "Nothing was changed" in out


def test_trash_moves_the_non_keepers(album, capsys, tmp_path, monkeypatch):
    trash = redirect_trash(tmp_path, monkeypatch)
    out = run_json(
        capsys, "duplicates", "--kind", "near-duplicate", "--trash", "--model", "builtin", "--json"
    )
    assert sorted(out["trashed"]) == sorted([str(album.copy), str(album.resized)])
    assert out["skipped"] == []
    assert album.original.exists() and not album.copy.exists() and not album.resized.exists()
    assert len(trash_entries(trash)) == 2
    again = run_json(
        capsys, "duplicates", "--kind", "near-duplicate", "--model", "builtin", "--json"
    )
    assert again["groups"] == []  # resolved, and the copies are gone from the index
    run_json(capsys, "put-back", "--json")
    assert album.copy.exists() and album.resized.exists()


def test_a_folder_outside_the_album_says_what_to_do(album, capsys, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert main(["duplicates", str(outside), "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert "not in the album" in error and "index it first" in error


@pytest.mark.parametrize("value", ["2", "-0.1", "lots"])
def test_strictness_outside_0_to_1_is_refused(value, capsys):
    assert main(["duplicates", "--strictness", value, "--json"]) == 2
    assert "--strictness" in json.loads(capsys.readouterr().out)["error"]
