"""The duplicates' tables: the user's decisions, the keeper rule and the cached kNN edges.

Made when first needed (``CREATE TABLE IF NOT EXISTS``: an older version ignores them).

- ``duplicate_decisions``: "keep all", "not a duplicate", manual groups and resolved groups,
  keyed by the members' content hashes (sorted, space-separated, one per member), so that a decision
  survives rescans, moves and renames, and a changed photo (another hash) is a new member.
- ``duplicate_settings``: the keeper rule (JSON).
- ``duplicate_alignments``: where one photo lies in another, as the decoded check found it
  (:mod:`albumfinder.duplicates.alignment`), keyed by both photos' content hashes: a
  regrouping, a rescan or a move decodes none of these pairs again.
- ``duplicate_edges`` / ``duplicate_compared``: the kNN graph of a model, cached by file id.
  A file counts as compared while its size and mtime are those it was compared with, under
  the same graph parameters; a changed, new or re-embedded photo is compared again, and a
  removed file's edges go with it (foreign keys, ON DELETE CASCADE).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

import numpy as np

from albumfinder.index.store import IndexStore

DECISION_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS duplicate_decisions (
        decision TEXT NOT NULL,
        members TEXT NOT NULL,
        made_ns INTEGER NOT NULL,
        PRIMARY KEY (decision, members)
    ) WITHOUT ROWID""",
    """
    CREATE TABLE IF NOT EXISTS duplicate_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS duplicate_compared (
        model_key TEXT NOT NULL,
        file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        params TEXT NOT NULL,
        PRIMARY KEY (model_key, file_id)
    ) WITHOUT ROWID""",
    """
    CREATE TABLE IF NOT EXISTS duplicate_edges (
        model_key TEXT NOT NULL,
        a INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        b INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        cos REAL NOT NULL,
        PRIMARY KEY (model_key, a, b)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS duplicate_edges_by_b ON duplicate_edges (model_key, b)",
    """
    CREATE TABLE IF NOT EXISTS duplicate_alignments (
        small TEXT NOT NULL,
        big TEXT NOT NULL,
        turns TEXT NOT NULL,
        version INTEGER NOT NULL,
        result TEXT NOT NULL,
        PRIMARY KEY (small, big, turns)
    ) WITHOUT ROWID""",
)


def _ensure(store: IndexStore) -> None:
    with store.transaction() as tx:
        for statement in DECISION_TABLES:
            tx.conn.execute(statement)


def members_key(hashes: Iterable[str]) -> str:
    """The members' content hashes, sorted, each as often as a member has it (two byte
    copies are two members: a third copy joining is a new member)."""
    return " ".join(sorted(hashes))


# -- decisions -----------------------------------------------------------------------------
def add_decision(store: IndexStore, decision: str, hashes: Iterable[str]) -> None:
    key = members_key(hashes)
    if not key:
        return
    _ensure(store)
    with store.transaction() as tx:
        tx.conn.execute(
            "INSERT OR REPLACE INTO duplicate_decisions (decision, members, made_ns) "
            "VALUES (?, ?, ?)",
            (decision, key, time.time_ns()),
        )


def remove_decision(store: IndexStore, decision: str, hashes: Iterable[str]) -> None:
    _ensure(store)
    with store.transaction() as tx:
        tx.conn.execute(
            "DELETE FROM duplicate_decisions WHERE decision = ? AND members = ?",
            (decision, members_key(hashes)),
        )


def decisions(store: IndexStore) -> list[tuple[str, tuple[str, ...]]]:
    """(decision, the members' content hashes, sorted) of every decision, oldest first."""
    _ensure(store)
    rows = store.connection().execute(
        "SELECT decision, members FROM duplicate_decisions ORDER BY made_ns"
    )
    return [(str(d), tuple(str(m).split())) for d, m in rows]


def content_hashes(store: IndexStore, paths: Sequence[str]) -> dict[str, str]:
    """path -> content hash of the indexed photos among ``paths`` that have one."""
    out: dict[str, str] = {}
    conn = store.connection()
    for start in range(0, len(paths), 500):
        chunk = list(paths[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT f.path, p.content_hash FROM files f JOIN photo_facts p ON p.file_id = f.id "
            f"WHERE p.content_hash IS NOT NULL AND f.path IN ({marks})",
            chunk,
        )
        out.update({str(path): str(digest) for path, digest in rows})
    return out


# -- settings ------------------------------------------------------------------------------
def setting(store: IndexStore, key: str) -> object | None:
    _ensure(store)
    row = (
        store.connection()
        .execute("SELECT value FROM duplicate_settings WHERE key = ?", (key,))
        .fetchone()
    )
    if row is None:
        return None
    try:
        value: object = json.loads(row[0])
        return value
    except ValueError:
        return None  # damaged: the default


def set_setting(store: IndexStore, key: str, value: object) -> None:
    _ensure(store)
    with store.transaction() as tx:
        tx.conn.execute(
            "INSERT OR REPLACE INTO duplicate_settings (key, value) VALUES (?, ?)",
            (key, json.dumps(value)),
        )


# -- the cached kNN graph --------------------------------------------------------------------
def compared_files(store: IndexStore, model_key: str, params: str) -> dict[int, tuple[int, int]]:
    """file id -> (size, mtime_ns) it was compared with, under ``params``."""
    _ensure(store)
    rows = store.connection().execute(
        "SELECT file_id, size, mtime_ns FROM duplicate_compared WHERE model_key = ? AND params = ?",
        (model_key, params),
    )
    return {int(f): (int(s), int(m)) for f, s, m in rows}


def cached_edges(store: IndexStore, model_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(file id a, file id b, cosine) of the model's cached edges."""
    _ensure(store)
    rows = (
        store.connection()
        .execute("SELECT a, b, cos FROM duplicate_edges WHERE model_key = ?", (model_key,))
        .fetchall()
    )
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    table = np.asarray(rows, dtype=np.float64)
    ids = table[:, :2].astype(np.int64)
    return ids[:, 0], ids[:, 1], table[:, 2].astype(np.float32)


def store_edges(
    store: IndexStore,
    model_key: str,
    params: str,
    compared: Sequence[tuple[int, int, int]],
    edges: Iterable[tuple[int, int, float]],
) -> None:
    """Record ``compared`` (file id, size, mtime_ns) and their new edges (file ids, cosine);
    their old edges and those of other parameters are dropped first."""
    _ensure(store)
    with store.transaction() as tx:
        conn = tx.conn
        conn.execute(
            "DELETE FROM duplicate_compared WHERE model_key = ? AND params != ?",
            (model_key, params),
        )
        ids = [(model_key, c[0], c[0]) for c in compared]
        conn.executemany(
            "DELETE FROM duplicate_edges WHERE model_key = ? AND (a = ? OR b = ?)", ids
        )
        conn.executemany(
            "INSERT OR REPLACE INTO duplicate_compared (model_key, file_id, size, mtime_ns, "
            "params) VALUES (?, ?, ?, ?, ?)",
            [(model_key, f, s, m, params) for f, s, m in compared],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO duplicate_edges (model_key, a, b, cos) VALUES (?, ?, ?, ?)",
            [(model_key, min(a, b), max(a, b), float(c)) for a, b, c in edges],
        )


def forget_graph(store: IndexStore, model_key: str) -> None:
    _ensure(store)
    with store.transaction() as tx:
        tx.conn.execute("DELETE FROM duplicate_compared WHERE model_key = ?", (model_key,))
        tx.conn.execute("DELETE FROM duplicate_edges WHERE model_key = ?", (model_key,))


def alignments(store: IndexStore, version: int) -> list[tuple[str, str, str, str]]:
    """(smaller's hash, bigger's hash, turns, result JSON) of the decoded checks made by
    ``version`` of the search."""
    _ensure(store)
    rows = store.connection().execute(
        "SELECT small, big, turns, result FROM duplicate_alignments WHERE version = ?",
        (version,),
    )
    return [(str(a), str(b), str(t), str(r)) for a, b, t, r in rows]


def store_alignments(
    store: IndexStore, version: int, rows: Sequence[tuple[str, str, str, str]]
) -> None:
    _ensure(store)
    with store.transaction() as tx:
        tx.conn.executemany(
            "INSERT OR REPLACE INTO duplicate_alignments (small, big, turns, version, result) "
            "VALUES (?, ?, ?, ?, ?)",
            [(a, b, t, version, r) for a, b, t, r in rows],
        )
