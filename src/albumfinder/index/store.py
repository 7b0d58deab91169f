"""The index's content: the album's folders, files, their vectors per model, failures.

Each write is one transaction (:meth:`IndexStore.transaction`); a vector blob of the wrong
length is treated as missing (:meth:`IndexStore._vector_length` is the one decision of
what a sound vector is); two indexing runs at once claim their photos
(:meth:`IndexStore.claim`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from albumfinder.index.claims import Claims
from albumfinder.index.opening import IndexFile
from albumfinder.photo_facts import FACTS_VERSION, PhotoFacts
from albumfinder.scan import storable_ns, under


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    error: str | None
    has_vector: bool
    has_facts: bool = False  # sound photo facts of its current content

    @property
    def skipped(self) -> bool:
        """The one meaning of "skipped": its last try failed and it has no sound vector of
        the model asked about (a photo that failed for another model while unchanged is
        still found with this one). Both the status counts and the skipped list use it."""
        return self.error is not None and not self.has_vector


@dataclass(frozen=True)
class NewVector:
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    vector: np.ndarray
    facts: PhotoFacts | None = None


@dataclass(frozen=True)
class NewFacts:
    """Facts of an indexed photo that has its vector already (an index from before facts)."""

    path: str
    size: int
    mtime_ns: int
    facts: PhotoFacts


@dataclass(frozen=True)
class NewFailure:
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    reason: str


class IndexStore(IndexFile):
    """Thread-aware access to the index database (one connection per thread)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._claims = Claims()
        super().__init__(path)

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """All or nothing. A write that fails (disk full, read-only, locked past the busy
        timeout) is rolled back and raised as :class:`IndexUnavailableError`."""
        with self._writing() as conn:
            yield _Tx(conn)

    # -- folders -----------------------------------------------------------------------
    def folders(self) -> list[str]:
        rows = self.connection().execute("SELECT path FROM folders ORDER BY path").fetchall()
        return [r[0] for r in rows]

    def add_folder(self, path: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute(
                "INSERT OR IGNORE INTO folders (path, added_ns) VALUES (?, ?)",
                (path, time.time_ns()),
            )

    def remove_folder(self, path: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM folders WHERE path = ?", (path,))

    # -- files -------------------------------------------------------------------------
    def files_under(self, folders: Iterable[str], model_key: str) -> dict[str, FileRow]:
        """Every file row under ``folders``, with whether it has a vector for the model."""
        return {row.path: row for row in self._rows_under(folders, model_key)}

    def failures_under(
        self, folders: Iterable[str], model_key: str | None = None
    ) -> list[tuple[str, str]]:
        """(path, reason) of the skipped files (see :attr:`FileRow.skipped`) by path;
        without ``model_key``, of every file whose last try failed."""
        rows = self._rows_under(folders, model_key or "", errors_only=True)
        return sorted((row.path, row.error) for row in rows if row.skipped and row.error)

    def _rows_under(
        self, folders: Iterable[str], model_key: str, errors_only: bool = False
    ) -> Iterator[FileRow]:
        where, params = under(folders).sql("f.path")
        if errors_only:
            where += " AND f.error IS NOT NULL"
        length = self._vector_length(model_key)  # a vector of another length is damage
        cursor = self.connection().execute(
            "SELECT f.id, f.path, f.size, f.mtime_ns, f.quick_hash, f.error, "
            "v.file_id IS NOT NULL AND length(v.vector) = ?, p.file_id IS NOT NULL FROM files f "
            "LEFT JOIN vectors v ON v.file_id = f.id AND v.model_key = ? "
            f"LEFT JOIN photo_facts p ON {_SOUND_FACTS} "
            f"WHERE {where}",
            (length, model_key, FACTS_VERSION, *params),
        )
        for r in cursor:
            yield FileRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]))

    def facts_under(self, folders: Iterable[str]) -> dict[str, PhotoFacts]:
        """The sound facts (:mod:`albumfinder.photo_facts`) of the photos under ``folders``."""
        where, params = under(folders).sql("f.path")
        cursor = self.connection().execute(
            f"SELECT f.path, {_FACTS_COLUMNS} FROM files f JOIN photo_facts p ON {_SOUND_FACTS} "
            f"WHERE {where}",
            (FACTS_VERSION, *params),
        )
        return {r[0]: _facts_from_row(r[1:]) for r in cursor}

    def record_batch(
        self,
        model_key: str,
        vectors: list[NewVector],
        failures: list[NewFailure],
        facts: Sequence[NewFacts] = (),
    ) -> None:
        """Store one batch of results in one transaction (a kill loses at most this batch)."""
        with self.transaction() as tx:
            for item in vectors:
                file_id = tx.upsert_file(item.path, item.size, item.mtime_ns, item.quick_hash, None)
                blob = np.asarray(item.vector, dtype="<f2").tobytes()
                tx.conn.execute(
                    "INSERT OR REPLACE INTO vectors (file_id, model_key, vector) VALUES (?, ?, ?)",
                    (file_id, model_key, blob),
                )
                if item.facts is not None:
                    tx.put_facts(file_id, item.size, item.mtime_ns, item.facts)
            for known in facts:
                row = tx.conn.execute(
                    "SELECT id FROM files WHERE path = ? AND size = ? AND mtime_ns = ?",
                    (known.path, known.size, storable_ns(known.mtime_ns)),
                ).fetchone()
                if row is not None:  # else it changed meanwhile: the next run reads it
                    tx.put_facts(int(row[0]), known.size, known.mtime_ns, known.facts)
            for failure in failures:
                tx.upsert_file(
                    failure.path, failure.size, failure.mtime_ns, failure.quick_hash, failure.reason
                )
            tx.bump_generation()
            self._claims.renew(tx.conn)

    # -- claims: two indexing runs at once share the work ------------------------------
    def claim(
        self, model_key: str, files: Iterable[tuple[str, int, int]]
    ) -> tuple[list[str], list[str]]:
        """Claim (path, size, mtime_ns) files for embedding by this store's run.

        Returns (claimed, elsewhere): ``elsewhere`` are the paths another live run has
        claimed, or has embedded since this run looked (left to it, or done).
        """
        files = list(files)
        with self.transaction() as tx:
            return self._claims.take(tx.conn, model_key, files, self._vector_length(model_key))

    def release_claims(self) -> None:
        """Give up this run's claims (at its end, however it ends)."""
        if self._claims.end():
            with self.transaction() as tx:
                self._claims.release(tx.conn)

    def move_file(self, file_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        mtime_ns = storable_ns(mtime_ns)
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM files WHERE path = ? AND id != ?", (new_path, file_id))
            tx.conn.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ? WHERE id = ?",
                (new_path, size, mtime_ns, file_id),
            )
            # the same content (size and partial hash matched): what was read of it holds
            tx.conn.execute(
                "UPDATE photo_facts SET size = ?, mtime_ns = ? WHERE file_id = ?",
                (size, mtime_ns, file_id),
            )
            tx.bump_generation()

    def remove_files(self, file_ids: Iterable[int]) -> None:
        ids = list(file_ids)
        if not ids:
            return
        with self.transaction() as tx:
            tx.conn.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in ids])
            tx.bump_generation()

    def set_quick_hash(self, file_id: int, quick_hash: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute("UPDATE files SET quick_hash = ? WHERE id = ?", (quick_hash, file_id))

    # -- vectors -----------------------------------------------------------------------
    def generation(self) -> int:
        row = (
            self.connection().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        )
        return int(row[0]) if row else 0

    def load_vectors(self, model_key: str) -> tuple[list[str], np.ndarray]:
        """All paths and their vectors for a model, as a float16 matrix (rows L2-normalised).

        A file's error does not hide its vectors: vectors are deleted when the content
        changes (:meth:`_Tx.upsert_file`), so one that is left was made from the file as it
        is, even if reading it failed later, for another model or for a moment.
        """
        cursor = self.connection().execute(
            "SELECT f.path, CAST(v.vector AS BLOB) FROM vectors v JOIN files f "
            "ON f.id = v.file_id WHERE v.model_key = ? ORDER BY f.id",
            (model_key,),
        )
        rows = cursor.fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float16)
        # A blob of another length is damage that quick_check does not see: it is left out
        # here, and files_under reports it as missing, so the next run embeds it again.
        length = self._vector_length(model_key)
        if not length or length % 2:  # changed meanwhile, or nothing sound to load
            return [], np.zeros((0, 0), dtype=np.float16)
        paths = [path for path, blob in rows if len(blob) == length]
        blobs = [blob for _path, blob in rows if len(blob) == length]
        dim = length // 2
        # bytearray: one copy, and writable, which torch.from_numpy wants in search.
        matrix = np.frombuffer(bytearray().join(blobs), dtype="<f2").reshape(len(blobs), dim)
        return paths, matrix

    def stored_blob(self, path: str, size: int, mtime_ns: int, model_key: str) -> bytes | None:
        """The stored vector blob of an unchanged indexed file, or None."""
        row = (
            self.connection()
            .execute(
                "SELECT CAST(v.vector AS BLOB) FROM files f JOIN vectors v ON v.file_id = f.id "
                "WHERE f.path = ? AND f.size = ? AND f.mtime_ns = ? AND v.model_key = ?",
                (path, size, storable_ns(mtime_ns), model_key),
            )
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    def _vector_length(self, model_key: str) -> int | None:
        """The byte length of the model's vectors (None: it has none): the most common one
        in a sample, as damage is rare (one in many is enough to crash a reshape). The one
        decision of what a sound vector is, for loading, rescanning and claiming."""
        row = (
            self.connection()
            .execute(
                "SELECT n FROM (SELECT length(CAST(vector AS BLOB)) AS n FROM vectors "
                "WHERE model_key = ? LIMIT 256) GROUP BY n ORDER BY COUNT(*) DESC, n DESC "
                "LIMIT 1",
                (model_key,),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    def model_keys(self) -> dict[str, int]:
        rows = (
            self.connection()
            .execute("SELECT model_key, COUNT(*) FROM vectors GROUP BY model_key")
            .fetchall()
        )
        return {str(key): int(count) for key, count in rows}


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def upsert_file(
        self, path: str, size: int, mtime_ns: int, quick_hash: str | None, error: str | None
    ) -> int:
        mtime_ns = storable_ns(mtime_ns)
        row = self.conn.execute(
            "SELECT id, size, mtime_ns, quick_hash FROM files WHERE path = ?", (path,)
        ).fetchone()
        if row is None:
            cursor = self.conn.execute(
                "INSERT INTO files (path, size, mtime_ns, quick_hash, error) "
                "VALUES (?, ?, ?, ?, ?)",
                (path, size, mtime_ns, quick_hash, error),
            )
            return int(cursor.lastrowid or 0)
        file_id, old_size, old_mtime_ns, old_hash = row
        same_stat = (old_size, old_mtime_ns) == (size, mtime_ns)
        rewritten = same_stat and None not in (quick_hash, old_hash) and quick_hash != old_hash
        if not same_stat or rewritten:  # content changed: old vectors and facts are stale
            self.conn.execute("DELETE FROM vectors WHERE file_id = ?", (file_id,))
            self.conn.execute("DELETE FROM photo_facts WHERE file_id = ?", (file_id,))
        elif quick_hash is None:
            quick_hash = old_hash  # unreadable just now: the hash of unchanged content holds
        self.conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, quick_hash = ?, error = ? WHERE id = ?",
            (size, mtime_ns, quick_hash, error, file_id),
        )
        return int(file_id)

    def put_facts(self, file_id: int, size: int, mtime_ns: int, facts: PhotoFacts) -> None:
        hashes = b"".join(h.to_bytes(8, "big") for h in facts.orientation_hashes)
        self.conn.execute(
            "INSERT OR REPLACE INTO photo_facts (file_id, size, mtime_ns, version, "
            f"{_FACTS_COLUMNS.replace('p.', '')}) VALUES ({', '.join('?' * 14)})",
            (
                file_id,
                size,
                storable_ns(mtime_ns),
                FACTS_VERSION,
                facts.width,
                facts.height,
                facts.taken_ns,
                facts.taken_from,
                facts.camera,
                int(facts.has_gps),
                facts.format,
                facts.jpeg_quality,
                facts.content_hash,
                hashes,
            ),
        )

    def bump_generation(self) -> None:
        self.conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )


#: The join that keeps only facts read from the file's current content, by this version.
_SOUND_FACTS = "p.file_id = f.id AND p.size = f.size AND p.mtime_ns = f.mtime_ns AND p.version = ?"
_FACTS_COLUMNS = (
    "p.width, p.height, p.taken_ns, p.taken_from, p.camera, p.has_gps, p.format, "
    "p.jpeg_quality, p.content_hash, p.orientation_hashes"
)


def _facts_from_row(r: Sequence[Any]) -> PhotoFacts:
    blob = bytes(r[9] or b"")
    hashes = tuple(int.from_bytes(blob[i : i + 8], "big") for i in range(0, len(blob) - 7, 8))
    return PhotoFacts(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], hashes)


def stored_vector(
    store: IndexStore, path: str, size: int, mtime_ns: int, model_key: str
) -> np.ndarray | None:
    """The stored vector of an unchanged indexed file, or None."""
    blob = store.stored_blob(path, size, mtime_ns, model_key)
    return None if blob is None else np.frombuffer(blob, dtype="<f2").astype(np.float32)
