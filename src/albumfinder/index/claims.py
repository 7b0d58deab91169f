"""Two indexing runs at once claim their photos, so that neither embeds what the other is
embedding. A claim carries its run's host, pid, process start time and an expiry that the
run renews with every batch; a claim of a run that is gone is ignored and removed."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid

from albumfinder.index.schema import CLAIMS_TABLE
from albumfinder.scan import storable_ns

#: How long claims last without the run renewing them (it does with every batch).
CLAIM_TTL_NS = 10 * 60 * 10**9

#: The claim owners of this process's runs at work now (their stores have not released).
_OWNERS_AT_WORK: set[str] = set()


class Claims:
    """The claims of one store's run (one owner name per store)."""

    def __init__(self) -> None:
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.active = False
        self._renewed_ns = 0

    def take(
        self,
        conn: sqlite3.Connection,
        model_key: str,
        files: list[tuple[str, int, int]],
        sound_length: int | None,
    ) -> tuple[list[str], list[str]]:
        """Claim (path, size, mtime_ns) files inside the caller's transaction; returns
        (claimed, elsewhere): those another live run has claimed or embedded since."""
        conn.execute(CLAIMS_TABLE)
        now = time.time_ns()
        owners = conn.execute(
            "SELECT DISTINCT owner, host, pid, process_start, expires_ns FROM claims "
            "WHERE owner != ?",
            (self.owner,),
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
                (model_key, self.owner),
            )
        }
        claimed: list[str] = []
        elsewhere: list[str] = []
        for path, size, mtime_ns in files:
            done = conn.execute(
                "SELECT 1 FROM files f JOIN vectors v ON v.file_id = f.id "
                "WHERE f.path = ? AND f.size = ? AND f.mtime_ns = ? AND v.model_key = ? "
                "AND length(CAST(v.vector AS BLOB)) = ?",
                (path, size, storable_ns(mtime_ns), model_key, sound_length),
            ).fetchone()
            (elsewhere if path in taken or done else claimed).append(path)
        pid, host = os.getpid(), socket.gethostname()
        started = _process_start(pid)
        expires = now + CLAIM_TTL_NS
        conn.executemany(
            "INSERT OR REPLACE INTO claims (path, model_key, owner, host, pid, "
            "process_start, expires_ns) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(path, model_key, self.owner, host, pid, started, expires) for path in claimed],
        )
        self.active, self._renewed_ns = True, now
        _OWNERS_AT_WORK.add(self.owner)
        return claimed, elsewhere

    def renew(self, conn: sqlite3.Connection) -> None:
        """Still at work: our claims stay ours (written at most every quarter TTL)."""
        now = time.time_ns()
        if self.active and now > self._renewed_ns + CLAIM_TTL_NS // 4:
            conn.execute(
                "UPDATE claims SET expires_ns = ? WHERE owner = ?", (now + CLAIM_TTL_NS, self.owner)
            )
            self._renewed_ns = now

    def end(self) -> bool:
        """Mark the run's claims given up; True when there were any to delete."""
        if not self.active:
            return False
        self.active = False
        _OWNERS_AT_WORK.discard(self.owner)  # gone, even if the delete fails
        return True

    def release(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux: clock ticks since boot), to tell it from a later
    process given the same pid; None where this cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19].decode() if len(fields) > 19 else None


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
