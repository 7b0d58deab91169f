"""The index's schema, versioned with ``PRAGMA user_version``, and its migrations.

Files are keyed by path and carry size, mtime_ns and a partial content hash, so a changed
photo is noticed and a moved one keeps its vector. Vectors are stored as float16 per model
key (model name + preprocessing version). A database from a newer version is left
untouched (:func:`check_not_newer`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from albumfinder.errors import IndexTooNewError

SCHEMA_VERSION = 2

_SCHEMA_V1 = """
CREATE TABLE folders (
    path TEXT PRIMARY KEY,
    added_ns INTEGER NOT NULL
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    quick_hash TEXT,
    error TEXT
);
CREATE INDEX files_by_hash ON files (quick_hash, size);
CREATE TABLE vectors (
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    model_key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (file_id, model_key)
) WITHOUT ROWID;
CREATE INDEX vectors_by_model ON vectors (model_key);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', '0');
"""

#: Version 2: what each photo is besides its look (:mod:`albumfinder.photo_facts`), read
#: when it is indexed. A row holds for the file's content it was read from: its size,
#: mtime_ns and the facts version must match (a changed photo's facts are read again).
_SCHEMA_V2 = """
CREATE TABLE photo_facts (
    file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    version INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    taken_ns INTEGER,
    taken_from TEXT,
    camera TEXT,
    has_gps INTEGER NOT NULL DEFAULT 0,
    format TEXT,
    jpeg_quality INTEGER,
    content_hash TEXT,
    orientation_hashes BLOB
);
CREATE INDEX photo_facts_by_content ON photo_facts (content_hash);
"""

#: Photos an indexing run is embedding now, so that another run at the same time skips
#: them. Made when first needed (older versions ignore it: no schema change). A claim of a
#: run that is gone (its process ended, or it stopped renewing) is ignored and removed.
CLAIMS_TABLE = """
CREATE TABLE IF NOT EXISTS claims (
    path TEXT NOT NULL,
    model_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    process_start TEXT,
    expires_ns INTEGER NOT NULL,
    PRIMARY KEY (path, model_key)
) WITHOUT ROWID
"""

#: Migrations from version N-1 to N, applied in order inside one transaction each.
MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _SCHEMA_V2}


def check_not_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise IndexTooNewError(
            f"The index at {path} was written by a newer Album Finder (schema "
            f"{version}, this version knows {SCHEMA_VERSION}). It was left untouched; "
            "update Album Finder, or set ALBUMFINDER_HOME to use another index."
        )


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate_one(conn: sqlite3.Connection, path: Path, target: int) -> None:
    """Bring the schema to version ``target`` inside the caller's transaction. Another
    process may have migrated since the caller looked: look again under the lock."""
    current = user_version(conn)
    check_not_newer(path, current)
    if current >= target:
        return
    for statement in MIGRATIONS[target].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {target}")


def declared_version(path: Path) -> int:
    """The schema version an existing index declares, read without opening it for writing,
    so that a newer version's index is left exactly as it is (no -wal or -shm created).
    0 when it cannot tell; the normal open then decides (and detects damage)."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:  # the newest header may be in the WAL
        try:
            probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                return user_version(probe)
            finally:
                probe.close()
        except sqlite3.Error:
            return 0
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return 0
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return 0
    return int.from_bytes(header[60:64], "big", signed=True)
