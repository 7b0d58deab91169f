"""The album map's layouts, cached in the index per model key.

A cached point is tied to the vector it was computed from: it is keyed by (model key,
file id) and carries a digest of that vector, so a photo whose content changed (a new
vector, same file id) or that left the album is never shown where its old vector put it.
The tables are made when first written (older versions ignore them: no schema change).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from dataclasses import replace as replace_field

import numpy as np

from albumfinder.index.store import IndexStore

LAYOUTS_TABLE = """
CREATE TABLE IF NOT EXISTS layouts (
    model_key TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    full_count INTEGER NOT NULL,
    placed_since INTEGER NOT NULL,
    centre_x REAL NOT NULL,
    centre_y REAL NOT NULL,
    scale REAL NOT NULL,
    made_ns INTEGER NOT NULL
)
"""
LAYOUT_POINTS_TABLE = """
CREATE TABLE IF NOT EXISTS layout_points (
    model_key TEXT NOT NULL,
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    digest INTEGER NOT NULL,
    x REAL NOT NULL,
    y REAL NOT NULL,
    cluster INTEGER NOT NULL,
    PRIMARY KEY (model_key, file_id)
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class LayoutFrame:
    """How a layout was made and how its units map to the map's [-1, 1]: the frame of its
    last full computation, kept while photos are placed into it (old points keep their
    places on screen too)."""

    method: str
    full_count: int  # photos the last full computation laid out
    placed_since: int  # photos placed into it since then
    centre: tuple[float, float]
    scale: float  # layout units per map unit
    #: when its last full computation was saved: what photos placed into it are added to
    #: (a layout computed again meanwhile by another run is not added to)
    made_ns: int = 0


@dataclass
class LayoutPoints:
    """Points of one layout, as parallel arrays."""

    file_ids: np.ndarray  # (N,) int64
    digests: np.ndarray  # (N,) int64: :func:`vector_digest` of the vector laid out
    xy: np.ndarray  # (N, 2) float64, layout units
    clusters: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.file_ids)


def vector_digests(matrix: np.ndarray) -> np.ndarray:
    """A 63-bit digest of each row's stored bytes (float16, as the index keeps them)."""
    rows = np.ascontiguousarray(matrix, dtype="<f2")
    out = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little") >> 1  # fits SQLite's signed INTEGER
    return out


def load_layout(store: IndexStore, model_key: str) -> tuple[LayoutFrame, LayoutPoints] | None:
    """The cached layout of ``model_key``, if there is one."""
    conn = store.connection()
    if not _tables_exist(conn):
        return None
    row = conn.execute(
        "SELECT method, full_count, placed_since, centre_x, centre_y, scale, made_ns "
        "FROM layouts "
        "WHERE model_key = ?",
        (model_key,),
    ).fetchone()
    if row is None:
        return None
    method, full_count, placed_since, cx, cy, scale, made_ns = row
    frame = LayoutFrame(
        str(method), int(full_count), int(placed_since), (cx, cy), float(scale), int(made_ns)
    )
    rows = conn.execute(
        "SELECT file_id, digest, x, y, cluster FROM layout_points WHERE model_key = ? "
        "ORDER BY file_id",
        (model_key,),
    ).fetchall()
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 5)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    digests = np.array([r[1] for r in rows], dtype=np.int64)  # exact: not via float64
    return frame, LayoutPoints(ids, digests, table[:, 2:4].copy(), table[:, 4].astype(np.int64))


def save_layout(
    store: IndexStore,
    model_key: str,
    frame: LayoutFrame,
    points: LayoutPoints,
    *,
    replace: bool,
    dropped: np.ndarray | None = None,
) -> LayoutFrame | None:
    """Write a layout in one transaction; the frame as saved. ``replace``: ``points`` are
    the whole layout (a full computation); else they are added to it and ``dropped`` file
    ids removed, unless the layout was computed again since ``frame`` was read (None)."""
    with store.transaction() as tx:
        conn = tx.conn
        conn.execute(LAYOUTS_TABLE)
        conn.execute(LAYOUT_POINTS_TABLE)
        if replace:
            frame = replace_field(frame, made_ns=time.time_ns())
        else:
            row = conn.execute(
                "SELECT made_ns FROM layouts WHERE model_key = ?", (model_key,)
            ).fetchone()
            if row is None or int(row[0]) != frame.made_ns:
                return None
        conn.execute(
            "INSERT OR REPLACE INTO layouts (model_key, method, full_count, placed_since, "
            "centre_x, centre_y, scale, made_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                model_key,
                frame.method,
                frame.full_count,
                frame.placed_since,
                float(frame.centre[0]),
                float(frame.centre[1]),
                frame.scale,
                frame.made_ns,
            ),
        )
        if replace:
            conn.execute("DELETE FROM layout_points WHERE model_key = ?", (model_key,))
        elif dropped is not None and len(dropped):
            conn.executemany(
                "DELETE FROM layout_points WHERE model_key = ? AND file_id = ?",
                [(model_key, int(i)) for i in dropped],
            )
        conn.executemany(
            "INSERT OR REPLACE INTO layout_points (model_key, file_id, digest, x, y, cluster) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (model_key, int(i), int(d), float(x), float(y), int(c))
                for i, d, (x, y), c in zip(
                    points.file_ids, points.digests, points.xy, points.clusters, strict=True
                )
            ],
        )
    return frame


def _tables_exist(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
        "AND name IN ('layouts', 'layout_points')"
    ).fetchone()
    return int(found[0]) == 2
