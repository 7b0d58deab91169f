import os

from albumfinder.scan import scan

from photo_factory import save_photo


def test_finds_photos_case_insensitively_and_skips_clutter(tmp_path):
    wanted = [tmp_path / n for n in ("a.jpg", "b.JPEG", "c.Png", "d.webp", "e.TIF", "sub/f.jpe")]
    for i, path in enumerate(wanted):
        save_photo(path.with_suffix(".png"), i, (32, 32))
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path.with_suffix(".png"), path)
    clutter = [
        tmp_path / ".thumbnails" / "x.jpg",
        tmp_path / "@eaDir" / "y.jpg",
        tmp_path / ".Trashes" / "z.jpg",
        tmp_path / "._a.jpg",
        tmp_path / "notes.txt",
    ]
    for path in clutter:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    result = scan([tmp_path])
    assert sorted(result.files) == sorted(str(p) for p in wanted)
    found = result.files[str(tmp_path / "a.jpg")]
    assert found.size == (tmp_path / "a.jpg").stat().st_size


def test_symlinks_followed_without_loops_and_broken_links_reported(tmp_path):
    album = tmp_path / "album"
    save_photo(album / "inner" / "p.jpg", 1, (32, 32))
    os.symlink(album, album / "inner" / "loop")  # a folder that contains itself
    os.symlink(tmp_path / "missing.jpg", album / "broken.jpg")
    outside = save_photo(tmp_path / "elsewhere" / "q.jpg", 2, (32, 32))
    os.symlink(outside.parent, album / "linked")
    result = scan([album])
    assert str(album / "inner" / "p.jpg") in result.files
    assert str(album / "linked" / "q.jpg") in result.files
    assert len(result.files) == 2
    assert result.problems[str(album / "broken.jpg")] == "broken symbolic link"


def test_missing_root_is_reported_not_raised(tmp_path):
    result = scan([tmp_path / "gone"])
    assert result.missing_roots == [str(tmp_path / "gone")]
    assert not result.files
