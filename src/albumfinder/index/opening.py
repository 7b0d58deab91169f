"""Opening the index file: read-write (WAL) or read-only, checked, moved aside when damaged.

Unlucky cases handled here: an index that cannot be written (a full disk) is opened
read-only, so reading still works (:func:`connect_read_only`); a corrupt one is moved aside
(:func:`move_aside`) and its folder list salvaged (:func:`salvage_folders`); a file
deleted or replaced while open is noticed by its identity (:func:`file_identity`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from albumfinder.errors import IndexReplacedError, IndexStoreError, IndexUnavailableError
from albumfinder.index.schema import (
    SCHEMA_VERSION,
    check_not_newer,
    declared_version,
    migrate_one,
    user_version,
)

BUSY_TIMEOUT_MS = 30_000


class _Owned:
    """One thread's connection. When the thread's local data goes (the thread ended, or a
    Qt pool thread finished a task: PySide drops its Python thread state after each), this
    goes with it and its connection is closed, on that thread, instead of staying open
    until the store is closed (a connection and three file descriptors per task)."""

    __slots__ = ("conn", "identity", "read_only_why", "__weakref__")

    def __init__(
        self, conn: sqlite3.Connection, identity: tuple[int, int] | None, why: str | None
    ) -> None:
        self.conn = conn
        self.identity = identity
        self.read_only_why = why


def _close_owned(
    registry: dict[int, sqlite3.Connection], lock: threading.Lock, conn: sqlite3.Connection
) -> None:
    with lock:
        registry.pop(id(conn), None)
    with contextlib.suppress(sqlite3.Error):
        conn.close()


class IndexFile:
    """The index file and its connections: one per thread, every one of them closed by
    :meth:`close` (from any thread: they are made with ``check_same_thread=False``) and
    each closed by itself when its thread's local data goes (see :class:`_Owned`).

    Opening checks the schema version (a newer one is left untouched) and the integrity,
    moves a corrupt file aside (keeping the folder list it still holds) and migrates."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self.recovered_from: Path | None = None  # where a corrupt database was moved
        self._local = threading.local()
        self._open: dict[int, sqlite3.Connection] = {}  # every connection not closed yet
        self._lock = threading.Lock()
        self._reopen_lock = threading.RLock()
        self._identity: tuple[int, int] | None = None
        self._open_checked()
        self._identity = file_identity(self.path)  # to notice a deleted or replaced file

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
            if not looks_corrupt(exc):
                raise IndexUnavailableError(f"Cannot open the index {self.path}: {exc}") from exc
            self.close()
            self.recovered_from = move_aside(self.path)
            self._prepare()
            self._keep_folders(salvage_folders(self.recovered_from))

    def _prepare(self) -> None:
        if self.path.exists():  # look before changing anything (even the journal mode)
            check_not_newer(self.path, declared_version(self.path))
        conn = self.connection()
        version = user_version(conn)
        check_not_newer(self.path, version)
        if version > 0:
            check_sound(conn)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._writing() as writer:
                migrate_one(writer, self.path, target)

    def _keep_folders(self, folders: list[tuple[str, int]]) -> None:
        if folders:
            with self._writing() as conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO folders (path, added_ns) VALUES (?, ?)", folders
                )

    # -- connections -------------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's connection: read-write, or read-only when the index cannot be
        written now (a full disk: SQLite cannot create its -wal and -shm files), so that
        search and status still work; a write then says why it cannot be done."""
        owned: _Owned | None = getattr(self._local, "owned", None)
        if owned is not None and file_identity(self.path) != owned.identity:
            self._reopen_changed_file(owned.conn)
            owned = None
        if owned is None:
            owned = self._connect()
            self._local.owned = owned
        return owned.conn

    def _connect(self) -> _Owned:
        why = None
        try:
            conn = connect_read_write(self.path)
        except sqlite3.OperationalError as exc:
            read_only = None if is_busy(exc) else connect_read_only(self.path)
            if read_only is None:  # busy: someone writes
                raise unavailable(self.path, exc) from exc
            conn, why = read_only, unavailable(self.path, exc).why
        owned = _Owned(conn, file_identity(self.path), why)
        with self._lock:
            self._open[id(conn)] = conn
        weakref.finalize(owned, _close_owned, self._open, self._lock, conn)
        return owned

    def _drop_own_connection(self) -> None:
        owned: _Owned | None = self._local.__dict__.pop("owned", None)
        if owned is not None:
            _close_owned(self._open, self._lock, owned.conn)

    def _writable_connection(self) -> sqlite3.Connection:
        """This thread's connection for a write: a read-only one is given up and the
        read-write opening tried again (the disk may have room now)."""
        conn = self.connection()
        if self._local.owned.read_only_why is None:
            return conn
        self._drop_own_connection()
        conn = self.connection()
        why = self._local.owned.read_only_why
        if why is not None:
            raise IndexUnavailableError(
                f"Cannot write the index {self.path}: {why}. Nothing was changed.",
                path=self.path,
                why=why,
            )
        return conn

    def open_connections(self) -> int:
        """How many connections to the index are open now (all threads)."""
        with self._lock:
            return len(self._open)

    def close(self) -> None:
        """Close every thread's connection. The store may be used again: each thread
        then opens a new one."""
        with self._lock:
            conns = list(self._open.values())
            self._open.clear()
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """All or nothing. A write that fails (disk full, read-only, locked past the busy
        timeout) is rolled back and raised as :class:`IndexUnavailableError`."""
        conn = self._writable_connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise unavailable(self.path, exc) from exc
            raise

    def _reopen_changed_file(self, stale: sqlite3.Connection) -> None:
        """The index file was deleted or replaced under us (checked before each use of a
        connection): writing on would go to a file nobody sees. Open the file that is
        there now, or a new one keeping the album's folders, and say so once; other
        threads then reconnect silently."""
        with self._reopen_lock:
            current = file_identity(self.path)
            if current is not None and current == self._identity:
                self._drop_own_connection()
                return  # another thread noticed it first and said so
            folders: list[tuple[str, int]] = []
            with contextlib.suppress(sqlite3.Error):
                folders = stale.execute("SELECT path, added_ns FROM folders").fetchall()
            self.close()  # all threads' connections: the last one takes the old -wal along
            self._open_checked()
            self._identity = file_identity(self.path)
            if current is not None:
                raise IndexReplacedError(
                    f"The index {self.path} was replaced by another file while Album "
                    "Finder was running; that file is used from now on. Try again."
                )
            self._keep_folders(folders)
            kept = f" with the album's {len(folders)} folder(s)" if folders else ""
            raise IndexReplacedError(
                f"The index {self.path} was deleted while Album Finder was running. A new "
                f"one was started{kept}: index again to find the photos."
            )


def connect_read_write(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode, waiting up to the busy timeout for others."""
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,  # the store may close it from another thread
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


def connect_read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to an existing index, or None. Without a -wal file (or
    with the empty one the failed opening left) the database file is all there is:
    ``immutable`` reads it without the -shm file that could not be made (nobody can
    write it meanwhile: the write would fail too)."""
    if not path.is_file():
        return None
    wal = Path(f"{path}-wal")
    flags = "mode=ro" if wal.exists() and wal.stat().st_size else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(
            f"{path.as_uri()}?{flags}",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        user_version(conn)  # opens the file for real
    except sqlite3.Error:
        return None
    return conn


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def check_sound(conn: sqlite3.Connection) -> None:
    """Raise :class:`sqlite3.DatabaseError` when a quick integrity check finds damage."""
    row = conn.execute("PRAGMA quick_check(1)").fetchone()
    if row is None or row[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed ({row})")


def salvage_folders(damaged: Path) -> list[tuple[str, int]]:
    """The (path, added_ns) folder rows a damaged index still lets be read (maybe none):
    its photos are indexed again, but nobody has to add the folders again."""
    flags = "mode=ro" if Path(f"{damaged}-wal").exists() else "mode=ro&immutable=1"
    try:
        old = sqlite3.connect(f"{damaged.as_uri()}?{flags}", uri=True)
        try:
            old.execute("PRAGMA writable_schema = ON")  # read a truncated file too
            rows = old.execute("SELECT path, added_ns FROM folders").fetchall()
        finally:
            old.close()
    except sqlite3.Error:
        return []  # nothing readable: the user adds the folders again
    return [(p, n) for p, n in rows if isinstance(p, str) and isinstance(n, int)]


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    )


def unavailable(path: Path, exc: sqlite3.OperationalError) -> IndexUnavailableError:
    """The error a failed write raises, saying why in the user's words."""
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


def _enable_wal(conn: sqlite3.Connection) -> tuple[object, ...] | None:
    """Switch to WAL, waiting like the busy timeout does: SQLite answers "locked" at once,
    without calling the busy handler, while another process is switching the same file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            row: tuple[object, ...] | None = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return row
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def move_aside(path: Path) -> Path:
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
