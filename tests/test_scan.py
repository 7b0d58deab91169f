import os
import sqlite3

from albumfinder.scan import is_under, scan, under

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


def test_under_says_the_same_in_python_and_in_sql():
    """One decision of "under these folders", asked of paths in Python and of rows in SQL."""
    paths = ["/a", "/a/x.jpg", "/a/b/y.jpg", "/a-b/z.jpg", "/a0.jpg", "/ab", "/é/x", "/c"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE files (path TEXT PRIMARY KEY)")
    conn.executemany("INSERT INTO files VALUES (?)", [(p,) for p in paths])
    for folders in (["/a"], ["/a/"], ["/a", "/é"], ["/c", "/a/b"], ["/"], []):
        where, params = under(folders).sql("path")
        in_sql = {p for (p,) in conn.execute(f"SELECT path FROM files WHERE {where}", params)}
        in_python = {p for p in paths if p in under(folders)}
        by_position = {paths[i] for i in under(folders).select(paths)}
        assert in_sql == in_python == by_position, folders
        assert in_python == {p for p in paths if any(is_under(p, f) for f in folders)}
    assert {p for p in paths if p in under(["/a"])} == {"/a", "/a/x.jpg", "/a/b/y.jpg"}
