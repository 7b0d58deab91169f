import sqlite3

import numpy as np
import pytest

from albumfinder.errors import IndexTooNewError, IndexUnavailableError
from albumfinder.index import SCHEMA_VERSION, IndexStore, NewFailure, NewVector
from reliability_support import permissions_enforced


def _unit(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_vectors_round_trip_as_float16(tmp_path):
    store = IndexStore(tmp_path / "index.sqlite3")
    vectors = [NewVector(f"/album/{i}.jpg", 10 + i, 1000 + i, f"h{i}", _unit(i)) for i in range(3)]
    store.record_batch("m/p1", vectors, [NewFailure("/album/bad.jpg", 5, 6, None, "broken")])
    paths, matrix = store.load_vectors("m/p1")
    assert paths == [f"/album/{i}.jpg" for i in range(3)]
    assert matrix.dtype == np.float16
    np.testing.assert_allclose(matrix[1].astype(np.float32), _unit(1), atol=1e-3)
    assert store.failures_under(["/album"]) == [("/album/bad.jpg", "broken")]
    assert store.load_vectors("other/p1")[0] == []


def test_changed_file_loses_its_stale_vector(tmp_path):
    store = IndexStore(tmp_path / "index.sqlite3")
    store.record_batch("m/p1", [NewVector("/a/x.jpg", 1, 1, None, _unit(1))], [])
    store.record_batch("m/p2", [NewVector("/a/x.jpg", 1, 1, None, _unit(2))], [])
    store.record_batch("m/p1", [NewVector("/a/x.jpg", 2, 2, None, _unit(3))], [])
    assert store.model_keys() == {"m/p1": 1}  # the p2 vector was of the old content


def test_garbage_database_is_moved_aside_and_rebuilt(tmp_path):
    path = tmp_path / "index.sqlite3"
    path.write_bytes(b"definitely not sqlite " * 200)
    store = IndexStore(path)
    assert store.recovered_from is not None and store.recovered_from.exists()
    assert store.recovered_from.read_bytes().startswith(b"definitely")
    assert store.folders() == []


def test_truncated_database_is_detected(tmp_path):
    path = tmp_path / "index.sqlite3"
    store = IndexStore(path)
    many = [NewVector(f"/a/{i}.jpg", i, i, None, _unit(i, 384)) for i in range(400)]
    store.record_batch("m/p1", many, [])
    store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rebuilt = IndexStore(path)
    assert rebuilt.recovered_from is not None
    assert rebuilt.load_vectors("m/p1")[0] == []


def test_newer_schema_is_left_untouched(tmp_path):
    path = tmp_path / "index.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(IndexTooNewError, match="newer Album Finder"):
        IndexStore(path)
    assert path.read_bytes() == before


def test_read_only_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        # as root too: inside, the permission bits apply
        with permissions_enforced(), pytest.raises(IndexUnavailableError):
            IndexStore(folder / "index.sqlite3")
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []  # nothing was left behind in the folder


def test_content_rewritten_in_place_loses_its_vectors(tmp_path):
    """Same size and mtime but another partial hash: the content changed (a tool that restores
    the mtime), so the vectors of every model go, even when only a failure is recorded."""
    store = IndexStore(tmp_path / "index.sqlite3")
    store.record_batch("m/p1", [NewVector("/a/x.jpg", 5, 7, "h-old", _unit(1))], [])
    store.record_batch("m/p2", [], [NewFailure("/a/x.jpg", 5, 7, "h-new", "truncated")])
    assert store.load_vectors("m/p1")[0] == []


def test_unreadable_moment_keeps_the_hash_and_the_vectors(tmp_path):
    """A failure with no hash (the file could not be read at all) on unchanged content keeps
    the stored hash, which finds the photo again when it is moved, and its vectors."""
    store = IndexStore(tmp_path / "index.sqlite3")
    store.record_batch("m/p1", [NewVector("/a/x.jpg", 5, 7, "h1", _unit(1))], [])
    store.record_batch("m/p2", [], [NewFailure("/a/x.jpg", 5, 7, None, "permission denied")])
    assert store.load_vectors("m/p1")[0] == ["/a/x.jpg"]
    row = store.files_under(["/a"], "m/p1")["/a/x.jpg"]
    assert (row.quick_hash, row.error, row.has_vector) == ("h1", "permission denied", True)


def test_the_skipped_count_and_the_skipped_list_agree(tmp_path):
    """One meaning of "skipped": the count per folder and the list come from the same rule,
    even for a photo that failed for another model and whose vector of this one is damaged."""
    from albumfinder.library import Library

    album = str(tmp_path / "album")
    store = IndexStore(tmp_path / "index.sqlite3")
    store.add_folder(album)
    sound = [NewVector(f"{album}/{i}.jpg", 10 + i, 1000 + i, f"h{i}", _unit(i)) for i in range(3)]
    damaged = NewVector(f"{album}/odd.jpg", 5, 6, "h", _unit(9))
    store.record_batch("m/p1", [*sound, damaged], [])
    store.record_batch("other/p1", [], [NewFailure(damaged.path, 5, 6, "h", "broken")])
    store.connection().execute(  # the blob of odd.jpg cut short: damage quick_check misses
        "UPDATE vectors SET vector = substr(vector, 1, 6) WHERE file_id = "
        "(SELECT id FROM files WHERE path = ?)",
        (damaged.path,),
    )
    store.close()

    library = Library(tmp_path / "index.sqlite3")
    (status,) = library.folder_status("m/p1")
    listed = library.skipped(model_key="m/p1")
    assert status.skipped == len(listed) == 1  # before: counted 1, listed none
    assert [(s.path, s.reason) for s in listed] == [(damaged.path, "broken")]
    library.close()


def test_one_query_under_several_folders_finds_each_row_once(tmp_path):
    store = IndexStore(tmp_path / "index.sqlite3")
    paths = ["/a/x.jpg", "/a/b/y.jpg", "/a-b/z.jpg", "/ab.jpg", "/c/w.jpg"]
    store.record_batch("m/p1", [], [NewFailure(p, 1, 1, None, "broken") for p in paths])
    assert sorted(store.files_under(["/a", "/a/b", "/c/w.jpg"], "m/p1")) == [
        "/a/b/y.jpg",
        "/a/x.jpg",
        "/c/w.jpg",
    ]
    assert store.failures_under(["/a/b", "/a"]) == [  # each once, by path
        ("/a/b/y.jpg", "broken"),
        ("/a/x.jpg", "broken"),
    ]
    assert store.files_under([], "m/p1") == {}


def test_the_index_knows_nothing_of_the_embedder():
    """DESIGN.md: ``index/`` imports neither the embedder nor torch (vectors are arrays)."""
    import ast
    from pathlib import Path

    import albumfinder.index

    imported = set()
    for source in Path(albumfinder.index.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    forbidden = ("albumfinder.embedd", "albumfinder.lazy_embedder", "albumfinder.models", "torch")
    assert not {m for m in imported if m.startswith(forbidden)}
    assert "albumfinder.index.schema" in imported  # the walk saw the package's imports
