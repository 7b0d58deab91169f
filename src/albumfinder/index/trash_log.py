"""The trash log: each move to the system trash is one undo step, kept with what putting it
back needs (where each photo went, and the index rows it had, vectors included, so that a
photo put back is found again without being embedded again).

The tables are made when first needed (``CREATE TABLE IF NOT EXISTS``: an older version
ignores them, no schema change). Moving photos out of the index and logging them happen in
one transaction, and so do restoring them and marking them put back: the log and the index
never disagree. A log row is keyed by its action and the photo's path; its vectors by model
key (model and preprocessing version), so a vector only ever comes back to its own model.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from albumfinder.index.store import IndexStore
from albumfinder.scan import storable_ns, under

TRASH_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS trash_actions (
        id TEXT PRIMARY KEY,
        when_ns INTEGER NOT NULL,
        put_back_ns INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS trash_actions_by_time ON trash_actions (when_ns)",
    """
    CREATE TABLE IF NOT EXISTS trash_members (
        action_id TEXT NOT NULL REFERENCES trash_actions (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        trashed_ns INTEGER NOT NULL,
        trashed_to TEXT,
        info_file TEXT,
        in_index INTEGER NOT NULL,
        quick_hash TEXT,
        error TEXT,
        restored_ns INTEGER,
        PRIMARY KEY (action_id, path)
    )""",
    """
    CREATE TABLE IF NOT EXISTS trash_vectors (
        action_id TEXT NOT NULL,
        path TEXT NOT NULL,
        model_key TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (action_id, path, model_key),
        FOREIGN KEY (action_id, path) REFERENCES trash_members (action_id, path)
            ON DELETE CASCADE
    ) WITHOUT ROWID""",
)

#: How many actions the log keeps; the oldest beyond are forgotten (their photos stay in
#: the system trash, to be restored from there by hand).
LOG_LIMIT = 500


@dataclass(frozen=True)
class IndexRows:
    """What the index held for a photo that was sound for its file as it was: its file row's
    fields and its vectors per model key."""

    quick_hash: str | None
    error: str | None
    vectors: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class TrashedFile:
    """One photo of an action: where it was (with its size and mtime_ns then), when it went,
    where it went in the trash when that is known, and its index rows (None: it had none)."""

    path: str
    size: int
    mtime_ns: int
    trashed_ns: int
    trashed_to: str | None
    info_file: str | None
    rows: IndexRows | None
    restored_ns: int | None = None


@dataclass(frozen=True)
class LoggedAction:
    id: str
    when_ns: int
    put_back_ns: int | None
    members: list[TrashedFile]

    def waiting(self) -> list[TrashedFile]:
        """The members not put back yet."""
        return [m for m in self.members if m.restored_ns is None]


def _has_log(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trash_members'"
    ).fetchone()
    return row is not None


def _make_tables(conn: sqlite3.Connection) -> None:
    for statement in TRASH_TABLES:
        conn.execute(statement)


# -- reading -----------------------------------------------------------------------------
def index_rows(store: IndexStore, path: str, size: int, mtime_ns: int) -> IndexRows | None:
    """The index rows of ``path`` if they were made from the file as it is (same size and
    mtime_ns), else None: stale vectors are not worth keeping."""
    conn = store.connection()
    row = conn.execute(
        "SELECT id, size, mtime_ns, quick_hash, error FROM files WHERE path = ?", (path,)
    ).fetchone()
    if row is None or (row[1], row[2]) != (size, storable_ns(mtime_ns)):
        return None
    vectors = {
        str(key): bytes(blob)
        for key, blob in conn.execute(
            "SELECT model_key, CAST(vector AS BLOB) FROM vectors WHERE file_id = ?", (row[0],)
        )
    }
    return IndexRows(row[3], row[4], vectors)


def logged_actions(store: IndexStore, limit: int | None = None) -> list[LoggedAction]:
    """The logged actions, newest first (at most ``limit``)."""
    conn = store.connection()
    if not _has_log(conn):
        return []
    rows = conn.execute(
        "SELECT id, when_ns, put_back_ns FROM trash_actions ORDER BY when_ns DESC, rowid DESC "
        "LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    return [LoggedAction(r[0], r[1], r[2], _members(conn, r[0])) for r in rows]


def logged_action(store: IndexStore, action_id: str) -> LoggedAction | None:
    conn = store.connection()
    if not _has_log(conn):
        return None
    row = conn.execute(
        "SELECT id, when_ns, put_back_ns FROM trash_actions WHERE id = ?", (action_id,)
    ).fetchone()
    return None if row is None else LoggedAction(row[0], row[1], row[2], _members(conn, row[0]))


def last_not_put_back(store: IndexStore) -> LoggedAction | None:
    """The newest action that was never put back."""
    conn = store.connection()
    if not _has_log(conn):
        return None
    row = conn.execute(
        "SELECT id FROM trash_actions WHERE put_back_ns IS NULL "
        "ORDER BY when_ns DESC, rowid DESC LIMIT 1"
    ).fetchone()
    return None if row is None else logged_action(store, row[0])


def last_with_waiting(store: IndexStore) -> LoggedAction | None:
    """The newest action with photos not put back (a put back refused them, say)."""
    conn = store.connection()
    if not _has_log(conn):
        return None
    row = conn.execute(
        "SELECT a.id FROM trash_actions a WHERE EXISTS (SELECT 1 FROM trash_members m "
        "WHERE m.action_id = a.id AND m.restored_ns IS NULL) "
        "ORDER BY a.when_ns DESC, a.rowid DESC LIMIT 1"
    ).fetchone()
    return None if row is None else logged_action(store, row[0])


def _members(conn: sqlite3.Connection, action_id: str) -> list[TrashedFile]:
    vectors: dict[str, dict[str, bytes]] = {}
    for path, key, blob in conn.execute(
        "SELECT path, model_key, CAST(vector AS BLOB) FROM trash_vectors WHERE action_id = ?",
        (action_id,),
    ):
        vectors.setdefault(path, {})[key] = bytes(blob)
    members = []
    for r in conn.execute(
        "SELECT path, size, mtime_ns, trashed_ns, trashed_to, info_file, in_index, quick_hash, "
        "error, restored_ns FROM trash_members WHERE action_id = ? ORDER BY rowid",
        (action_id,),
    ):
        rows = IndexRows(r[7], r[8], vectors.get(r[0], {})) if r[6] else None
        members.append(TrashedFile(r[0], r[1], r[2], r[3], r[4], r[5], rows, r[9]))
    return members


# -- writing -----------------------------------------------------------------------------
def record_trashed(
    store: IndexStore, action_id: str, when_ns: int, files: Sequence[TrashedFile]
) -> None:
    """Log photos of the action (the first batch makes it) and take them out of the index,
    in one transaction (raises :class:`IndexUnavailableError` when it cannot be written:
    then nothing was)."""
    with store.transaction() as tx:
        conn = tx.conn
        _make_tables(conn)
        conn.execute(
            "INSERT OR IGNORE INTO trash_actions (id, when_ns, put_back_ns) VALUES (?, ?, NULL)",
            (action_id, when_ns),
        )
        for f in files:
            rows = f.rows
            conn.execute(
                "INSERT INTO trash_members (action_id, path, size, mtime_ns, trashed_ns, "
                "trashed_to, info_file, in_index, quick_hash, error, restored_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    action_id,
                    f.path,
                    f.size,
                    storable_ns(f.mtime_ns),
                    f.trashed_ns,
                    f.trashed_to,
                    f.info_file,
                    rows is not None,
                    rows.quick_hash if rows else None,
                    rows.error if rows else None,
                ),
            )
            if rows is not None:
                conn.executemany(
                    "INSERT INTO trash_vectors (action_id, path, model_key, vector) "
                    "VALUES (?, ?, ?, ?)",
                    [(action_id, f.path, key, blob) for key, blob in rows.vectors.items()],
                )
            conn.execute("DELETE FROM files WHERE path = ?", (f.path,))  # vectors cascade
        _forget_oldest(conn)
        tx.bump_generation()


def _forget_oldest(conn: sqlite3.Connection) -> None:
    conn.execute(
        "DELETE FROM trash_actions WHERE id NOT IN "
        "(SELECT id FROM trash_actions ORDER BY when_ns DESC, rowid DESC LIMIT ?)",
        (LOG_LIMIT,),
    )


def record_put_back(
    store: IndexStore,
    action_id: str,
    restored: Iterable[TrashedFile],
    album: Sequence[str],
    now_ns: int,
) -> None:
    """Mark the action put back, and ``restored`` (photos now at their place again, as they
    were) back in the index with their vectors, in one transaction. A photo outside the
    album's folders now is put back on disk only: it is no album photo any more."""
    in_album = under(album)
    with store.transaction() as tx:
        conn = tx.conn
        _make_tables(conn)
        for f in restored:
            if f.rows is not None and f.path in in_album:
                _restore_rows(conn, f)
            conn.execute(
                "UPDATE trash_members SET restored_ns = ? WHERE action_id = ? AND path = ?",
                (now_ns, action_id, f.path),
            )
            conn.execute(  # back in the index: the log's copy is not needed any more
                "DELETE FROM trash_vectors WHERE action_id = ? AND path = ?", (action_id, f.path)
            )
        conn.execute("UPDATE trash_actions SET put_back_ns = ? WHERE id = ?", (now_ns, action_id))
        tx.bump_generation()


def _restore_rows(conn: sqlite3.Connection, f: TrashedFile) -> None:
    assert f.rows is not None
    conn.execute("DELETE FROM files WHERE path = ?", (f.path,))  # a stale row: ours is right
    cursor = conn.execute(
        "INSERT INTO files (path, size, mtime_ns, quick_hash, error) VALUES (?, ?, ?, ?, ?)",
        (f.path, f.size, storable_ns(f.mtime_ns), f.rows.quick_hash, f.rows.error),
    )
    file_id = cursor.lastrowid
    conn.executemany(
        "INSERT INTO vectors (file_id, model_key, vector) VALUES (?, ?, ?)",
        [(file_id, key, blob) for key, blob in f.rows.vectors.items()],
    )


def without_rows(f: TrashedFile) -> TrashedFile:
    """``f`` put back without its index rows (its file changed meanwhile: it is indexed
    again like any changed photo)."""
    return replace(f, rows=None)
