"""The index: one SQLite database (WAL) holding files, their vectors per model, and failures.

Files are keyed by path and carry size, mtime_ns and a partial content hash, so a changed
photo is noticed and a moved one keeps its vector. Vectors are stored as float16 per model
key (model name + preprocessing version). The schema is versioned with ``PRAGMA
user_version``; a database from a newer version is left untouched, a corrupt one is moved
aside and rebuilt. Each connection belongs to one thread.

Unlucky cases handled here: file times outside SQLite's 64-bit range are folded into it
(:func:`storable_ns`); an index that cannot be written (a full disk) is opened read-only,
so reading still works; an index file deleted or replaced while open is noticed before
each use and reopened; a vector blob of the wrong length is treated as missing; two
indexing runs at once claim their photos so that neither embeds what the other is
embedding (:meth:`IndexStore.claim`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from albumfinder.errors import (  # noqa: F401 - re-exported for the index's users
    IndexReplacedError,
    IndexStoreError,
    IndexTooNewError,
    IndexUnavailableError,
)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
_INT64_MAX = 2**63 - 1


def storable_ns(ns: int) -> int:
    """A file time in nanoseconds as SQLite can store it (a signed 64-bit integer).

    Times from 1677-09-21 to 2262-04-11 are kept as they are; one outside (a wrong camera
    clock, a bad restore) is folded into the range, so that it still fits and a later
    change of it is still seen (two such times collide only if they are a multiple of
    ~292 years apart). Both sides of every comparison go through this.
    """
    if -_INT64_MAX - 1 <= ns <= _INT64_MAX:
        return ns
    folded = abs(ns) % (_INT64_MAX + 1)
    return folded if ns > 0 else -folded


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

#: Photos an indexing run is embedding now, so that another run at the same time skips
#: them. Made when first needed (older versions ignore it: no schema change). A claim of a
#: run that is gone (its process ended, or it stopped renewing) is ignored and removed.
_CLAIMS = """
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
#: How long claims last without the run renewing them (it does with every batch).
CLAIM_TTL_NS = 10 * 60 * 10**9

#: Migrations from version N-1 to N, applied in order inside one transaction each.
MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    error: str | None
    has_vector: bool


@dataclass(frozen=True)
class NewVector:
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    vector: np.ndarray


@dataclass(frozen=True)
class NewFailure:
    path: str
    size: int
    mtime_ns: int
    quick_hash: str | None
    reason: str


class IndexStore:
    """Thread-aware access to the index database (one connection per thread)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self.recovered_from: Path | None = None  # where a corrupt database was moved
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._reopen_lock = threading.RLock()
        self._identity: tuple[int, int] | None = None
        self._claim_owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._claimed = False
        self._claims_renewed_ns = 0
        self._open_checked()
        self._identity = _file_identity(self.path)  # to notice a deleted or replaced file

    # -- opening -----------------------------------------------------------------------
    def _open_checked(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnavailableError(
                f"Cannot create the index folder {self.path.parent}: {exc.strerror or exc}"
            ) from exc
        try:
            self._prepare()
        except IndexStoreError:
            raise
        except sqlite3.DatabaseError as exc:
            if not _looks_corrupt(exc):
                raise IndexUnavailableError(f"Cannot open the index {self.path}: {exc}") from exc
            self.close()
            self.recovered_from = _move_aside(self.path)
            self._prepare()
            self._salvage_folders(self.recovered_from)

    def _salvage_folders(self, damaged: Path) -> None:
        """Keep the album's folder list when the damaged index still lets it be read: its
        photos are indexed again, but nobody has to add the folders again."""
        flags = "mode=ro" if Path(f"{damaged}-wal").exists() else "mode=ro&immutable=1"
        try:
            old = sqlite3.connect(f"{damaged.as_uri()}?{flags}", uri=True)
            try:
                old.execute("PRAGMA writable_schema = ON")  # read a truncated file too
                rows = old.execute("SELECT path, added_ns FROM folders").fetchall()
            finally:
                old.close()
        except sqlite3.Error:
            return  # nothing readable: the user adds the folders again
        rows = [(p, n) for p, n in rows if isinstance(p, str) and isinstance(n, int)]
        if rows:
            with self.transaction() as tx:
                tx.conn.executemany(
                    "INSERT OR IGNORE INTO folders (path, added_ns) VALUES (?, ?)", rows
                )

    def _prepare(self) -> None:
        if self.path.exists():  # look before changing anything (even the journal mode)
            _check_not_newer(self.path, _declared_version(self.path))
        conn = self.connection()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        _check_not_newer(self.path, version)
        if version > 0:
            row = conn.execute("PRAGMA quick_check(1)").fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed ({row})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as tx:
                # another process may have migrated since we looked: look again under the lock
                current = tx.conn.execute("PRAGMA user_version").fetchone()[0]
                _check_not_newer(self.path, current)
                if current >= target:
                    continue
                tx.executescript_in_tx(MIGRATIONS[target])
                tx.conn.execute(f"PRAGMA user_version = {target}")

    def connection(self) -> sqlite3.Connection:
        """This thread's connection: read-write, or read-only when the index cannot be
        written now (a full disk: SQLite cannot create its -wal and -shm files), so that
        search and status still work; a write then says why it cannot be done."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and _file_identity(self.path) != self._local.identity:
            self._reopen_changed_file(conn)
            conn = None
        if conn is None:
            try:
                conn = self._connect_read_write()
                self._local.read_only_why = None
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                conn = None if busy else self._connect_read_only()  # busy: someone writes
                if conn is None:
                    raise _unavailable(self.path, exc) from exc
                self._local.read_only_why = _unavailable(self.path, exc).why
            self._local.conn = conn
            self._local.identity = _file_identity(self.path)
            with self._lock:
                self._connections.append(conn)
        return conn

    def _reopen_changed_file(self, stale: sqlite3.Connection) -> None:
        """The index file was deleted or replaced under us (checked before each use of a
        connection): writing on would go to a file nobody sees. Open the file that is
        there now, or a new one keeping the album's folders, and say so once; other
        threads then reconnect silently."""
        with self._reopen_lock:
            current = _file_identity(self.path)
            if current is not None and current == self._identity:
                with self._lock, contextlib.suppress(ValueError):
                    self._connections.remove(stale)
                with contextlib.suppress(sqlite3.Error):
                    stale.close()
                self._local.conn = None
                return  # another thread noticed it first and said so
            folders: list[tuple[str, int]] = []
            with contextlib.suppress(sqlite3.Error):
                folders = stale.execute("SELECT path, added_ns FROM folders").fetchall()
            self.close()  # all threads' connections: the last one takes the old -wal along
            self._open_checked()
            self._identity = _file_identity(self.path)
            if current is not None:
                raise IndexReplacedError(
                    f"The index {self.path} was replaced by another file while Album "
                    "Finder was running; that file is used from now on. Try again."
                )
            if folders:
                with self.transaction() as tx:
                    tx.conn.executemany(
                        "INSERT OR IGNORE INTO folders (path, added_ns) VALUES (?, ?)", folders
                    )
            kept = f" with the album's {len(folders)} folder(s)" if folders else ""
            raise IndexReplacedError(
                f"The index {self.path} was deleted while Album Finder was running. A new "
                f"one was started{kept}: index again to find the photos."
            )

    def _connect_read_write(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used by its own thread only; close() closes all
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = _enable_wal(conn)
            if mode is None:
                raise sqlite3.DatabaseError("file is not a database")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect_read_only(self) -> sqlite3.Connection | None:
        """A read-only connection to an existing index, or None. Without a -wal file (or
        with the empty one the failed opening left) the database file is all there is:
        ``immutable`` reads it without the -shm file that could not be made (nobody can
        write it meanwhile: the write would fail too)."""
        if not self.path.is_file():
            return None
        wal = Path(f"{self.path}-wal")
        flags = "mode=ro" if wal.exists() and wal.stat().st_size else "mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(
                f"{self.path.as_uri()}?{flags}",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA user_version").fetchone()  # opens the file for real
        except sqlite3.Error:
            return None
        return conn

    def _writable_connection(self) -> sqlite3.Connection:
        """This thread's connection for a write: a read-only one is given up and the
        read-write opening tried again (the disk may have room now)."""
        conn = self.connection()
        why = getattr(self._local, "read_only_why", None)
        if why is None:
            return conn
        with self._lock, contextlib.suppress(ValueError):
            self._connections.remove(conn)
        conn.close()
        self._local.conn = None
        conn = self.connection()
        why = self._local.read_only_why
        if why is not None:
            raise IndexUnavailableError(
                f"Cannot write the index {self.path}: {why}. Nothing was changed.",
                path=self.path,
                why=why,
            )
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """All or nothing. A write that fails (disk full, read-only, locked past the busy
        timeout) is rolled back and raised as :class:`IndexUnavailableError`."""
        conn = self._writable_connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield _Tx(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise _unavailable(self.path, exc) from exc
            raise

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
        rows: dict[str, FileRow] = {}
        conn = self.connection()
        length = self._vector_length(model_key)  # a vector of another length is damage
        for folder in folders:
            prefix = folder.rstrip(os.sep) + os.sep
            cursor = conn.execute(
                "SELECT f.id, f.path, f.size, f.mtime_ns, f.quick_hash, f.error, "
                "v.file_id IS NOT NULL AND length(v.vector) = ? FROM files f "
                "LEFT JOIN vectors v ON v.file_id = f.id AND v.model_key = ? "
                "WHERE f.path = ? OR (f.path >= ? AND f.path < ?)",
                (length, model_key, folder, prefix, prefix[:-1] + chr(ord(os.sep) + 1)),
            )
            for r in cursor:
                rows[r[1]] = FileRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]))
        return rows

    def record_batch(
        self, model_key: str, vectors: list[NewVector], failures: list[NewFailure]
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
            for item in failures:
                tx.upsert_file(item.path, item.size, item.mtime_ns, item.quick_hash, item.reason)
            tx.bump_generation()
            now = time.time_ns()
            if self._claimed and now > self._claims_renewed_ns + CLAIM_TTL_NS // 4:
                tx.conn.execute(  # still at work: our claims stay ours
                    "UPDATE claims SET expires_ns = ? WHERE owner = ?",
                    (now + CLAIM_TTL_NS, self._claim_owner),
                )
                self._claims_renewed_ns = now

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
            conn = tx.conn
            conn.execute(_CLAIMS)
            now = time.time_ns()
            owners = conn.execute(
                "SELECT DISTINCT owner, host, pid, process_start, expires_ns FROM claims "
                "WHERE owner != ?",
                (self._claim_owner,),
            ).fetchall()
            gone = [
                (o,)
                for o, host, pid, start, expires in owners
                if expires < now or not _is_alive(o, host, pid, start)
            ]
            conn.executemany("DELETE FROM claims WHERE owner = ?", gone)
            taken = {
                path
                for (path,) in conn.execute(
                    "SELECT path FROM claims WHERE model_key = ? AND owner != ?",
                    (model_key, self._claim_owner),
                )
            }
            claimed, elsewhere = [], []
            length = self._vector_length(model_key)
            for path, size, mtime_ns in files:
                done = conn.execute(
                    "SELECT 1 FROM files f JOIN vectors v ON v.file_id = f.id "
                    "WHERE f.path = ? AND f.size = ? AND f.mtime_ns = ? AND v.model_key = ? "
                    "AND length(CAST(v.vector AS BLOB)) = ?",
                    (path, size, storable_ns(mtime_ns), model_key, length),
                ).fetchone()
                (elsewhere if path in taken or done else claimed).append(path)
            pid, host = os.getpid(), socket.gethostname()
            started = _process_start(pid)
            conn.executemany(
                "INSERT OR REPLACE INTO claims (path, model_key, owner, host, pid, "
                "process_start, expires_ns) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        path,
                        model_key,
                        self._claim_owner,
                        host,
                        pid,
                        started,
                        now + CLAIM_TTL_NS,
                    )
                    for path in claimed
                ],
            )
        self._claimed, self._claims_renewed_ns = True, now
        _OWNERS_AT_WORK.add(self._claim_owner)
        return claimed, elsewhere

    def release_claims(self) -> None:
        """Give up this run's claims (at its end, however it ends)."""
        if not self._claimed:
            return
        self._claimed = False
        _OWNERS_AT_WORK.discard(self._claim_owner)  # gone, even if the delete fails
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM claims WHERE owner = ?", (self._claim_owner,))

    def move_file(self, file_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        mtime_ns = storable_ns(mtime_ns)
        with self.transaction() as tx:
            tx.conn.execute("DELETE FROM files WHERE path = ? AND id != ?", (new_path, file_id))
            tx.conn.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ? WHERE id = ?",
                (new_path, size, mtime_ns, file_id),
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

    def failures_under(
        self, folders: Iterable[str], model_key: str | None = None
    ) -> list[tuple[str, str]]:
        """(path, reason) of the files whose last try failed; with ``model_key``, only those
        that have no vector for that model (a photo that failed for another model while
        unchanged is still found with this one)."""
        out = []
        conn = self.connection()
        for folder in folders:
            prefix = folder.rstrip(os.sep) + os.sep
            out += conn.execute(
                "SELECT path, error FROM files f WHERE error IS NOT NULL AND "
                "(path = ? OR (path >= ? AND path < ?)) AND NOT EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.file_id = f.id AND v.model_key = ?) "
                "ORDER BY path",
                (folder, prefix, prefix[:-1] + chr(ord(os.sep) + 1), model_key),
            ).fetchall()
        return out

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
        return dict(rows)


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def executescript_in_tx(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self.conn.execute(statement)

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
            return int(cursor.lastrowid)
        file_id, old_size, old_mtime_ns, old_hash = row
        same_stat = (old_size, old_mtime_ns) == (size, mtime_ns)
        rewritten = same_stat and None not in (quick_hash, old_hash) and quick_hash != old_hash
        if not same_stat or rewritten:  # content changed: old vectors are stale
            self.conn.execute("DELETE FROM vectors WHERE file_id = ?", (file_id,))
        elif quick_hash is None:
            quick_hash = old_hash  # unreadable just now: the hash of unchanged content holds
        self.conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, quick_hash = ?, error = ? WHERE id = ?",
            (size, mtime_ns, quick_hash, error, file_id),
        )
        return file_id

    def bump_generation(self) -> None:
        self.conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux: clock ticks since boot), to tell it from a later
    process given the same pid; None where this cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19].decode() if len(fields) > 19 else None


#: The claim owners of this process's runs at work now (their stores have not released).
_OWNERS_AT_WORK: set[str] = set()


def _is_alive(owner: str, host: str, pid: int, process_start: str | None) -> bool:
    """Whether the run that made a claim may still be at work (another machine's run is
    trusted until its claims expire)."""
    if host != socket.gethostname() or os.name == "nt":  # (signal 0 is Ctrl+C there)
        return True
    if pid == os.getpid():
        return owner in _OWNERS_AT_WORK  # a run here that ended without releasing: gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    except OSError:
        return True
    return process_start is None or _process_start(pid) in (None, process_start)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _check_not_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise IndexTooNewError(
            f"The index at {path} was written by a newer Album Finder (schema "
            f"{version}, this version knows {SCHEMA_VERSION}). It was left untouched; "
            "update Album Finder, or set ALBUMFINDER_HOME to use another index."
        )


def _declared_version(path: Path) -> int:
    """The schema version an existing index declares, read without opening it for writing,
    so that a newer version's index is left exactly as it is (no -wal or -shm created).
    0 when it cannot tell; the normal open then decides (and detects damage)."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:  # the newest header may be in the WAL
        try:
            probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                return int(probe.execute("PRAGMA user_version").fetchone()[0])
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


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    )


def _unavailable(path: Path, exc: sqlite3.OperationalError) -> IndexUnavailableError:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        why = "the index or its folder is read-only"
    elif "full" in text:
        why = "the disk is full"
    elif "disk i/o error" in text and _disk_is_full(path):
        why = "the disk is full"  # SQLite says I/O error when its -shm file cannot grow
    elif "disk i/o error" in text:
        why = "the disk could not be written (is it full, or over a file-size limit?)"
    elif "locked" in text or "busy" in text:
        why = "another Album Finder is busy with the index; try again in a moment"
    elif "unable to open" in text:
        why = "the index file cannot be opened (check the folder's permissions)"
    else:
        why = str(exc)
    return IndexUnavailableError(
        f"Cannot write the index {path}: {why}. Nothing was changed.", path=path, why=why
    )


def _disk_is_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def _enable_wal(conn: sqlite3.Connection) -> tuple | None:
    """Switch to WAL, waiting like the busy timeout does: SQLite answers "locked" at once,
    without calling the busy handler, while another process is switching the same file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _move_aside(path: Path) -> Path:
    """Move a corrupt database (and its WAL files) aside with a timestamp; return the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        counter += 1
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            os.replace(side, Path(str(target) + suffix))
    return target


def stored_vector(
    store: IndexStore, path: str, size: int, mtime_ns: int, model_key: str
) -> np.ndarray | None:
    """The stored vector of an unchanged indexed file, or None."""
    row = (
        store.connection()
        .execute(
            "SELECT CAST(v.vector AS BLOB) FROM files f JOIN vectors v ON v.file_id = f.id "
            "WHERE f.path = ? AND f.size = ? AND f.mtime_ns = ? AND v.model_key = ?",
            (path, size, storable_ns(mtime_ns), model_key),
        )
        .fetchone()
    )
    return None if row is None else np.frombuffer(row[0], dtype="<f2").astype(np.float32)
