"""Helpers shared by the reliability tests (tests/test_reliability_*.py).

The main one lets a test see what an ordinary user sees when a file or folder has no
permission for them, also when the tests run as root: root ignores permission bits only
through the capabilities CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so the calling thread
drops them from its effective set for the duration (they stay permitted, and come back at
the end). Threads started inside inherit the reduced set, so the indexer's decode threads
are covered too.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
_CAPS_V3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _capabilities(libc):
    header = _CapHeader(_CAPS_V3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    return header, data


def _set_effective(libc, effective: int) -> int:
    """Set this thread's effective capabilities (the low 32); return the previous set."""
    header, data = _capabilities(libc)
    previous = data[0].effective
    data[0].effective = effective
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    return previous


@contextlib.contextmanager
def permissions_enforced() -> Iterator[None]:
    """Inside, file permission bits apply to this process as they do to a normal user."""
    if os.geteuid() != 0:
        yield
        return
    if not sys.platform.startswith("linux"):
        pytest.skip("running as root, and dropping CAP_DAC_OVERRIDE needs Linux")
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    bits = (1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH)
    try:
        _, data = _capabilities(libc)
        previous = _set_effective(libc, data[0].effective & ~bits)
    except OSError as exc:
        pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE ({exc})")
    try:
        yield
    finally:
        _set_effective(libc, previous)


def mount_small_tmpfs(where: Path, size_kib: int) -> bool:
    """A real small disk at ``where`` (a tmpfs; root on Linux only): False where it cannot be."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


def check_index(path: Path) -> dict[str, int]:
    """Open an index the way a fresh process would and check it is whole and consistent:
    ``PRAGMA integrity_check`` is ok and no vector lacks its file row. Returns counts."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = conn.execute(
            "SELECT COUNT(*) FROM vectors WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()[0]
        assert orphans == 0, f"{orphans} vectors without a file row"
        counts = {
            "files": conn.execute("SELECT COUNT(*) FROM files").fetchone()[0],
            "vectors": conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0],
            "failures": conn.execute(
                "SELECT COUNT(*) FROM files WHERE error IS NOT NULL"
            ).fetchone()[0],
        }
        duplicates = conn.execute(
            "SELECT COUNT(*) FROM (SELECT file_id, model_key FROM vectors "
            "GROUP BY file_id, model_key HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        assert duplicates == 0
        return counts
    finally:
        conn.close()


def committed_paths(path: Path) -> set[str]:
    """Paths the index holds a result for (a vector, or a recorded failure)."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        rows = conn.execute(
            "SELECT f.path FROM files f WHERE f.error IS NOT NULL "
            "OR EXISTS (SELECT 1 FROM vectors v WHERE v.file_id = f.id)"
        ).fetchall()
        return {r[0] for r in rows}
    finally:
        conn.close()


# -- indexing in other processes -----------------------------------------------------------
# `python reliability_support.py zygote` imports torch and Album Finder once (seconds), then
# forks one child per "run" command: a fresh process that loads the model, opens the index
# and indexes, as `albumfinder-cli index` does, and that the test may SIGKILL at any moment.
# The zygote itself never runs the model, so no thread pool is inherited across fork().


class Zygote:
    """The test's handle on a zygote process."""

    def __init__(self, env: dict[str, str]) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, __file__, "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._line() == "zygote ready"

    def _line(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self.process.wait()})")
        return line.strip()

    def start(self, **job) -> int:
        """Fork a child that indexes ``job["folders"]``; return its pid once its model is
        loaded (``job``: home, folders, report, log, go_file)."""
        import json

        self.process.stdin.write("run " + json.dumps(job) + "\n")
        self.process.stdin.flush()
        word, pid = self._line().split()
        assert word == "ready", word
        return int(pid)

    def wait(self, pid: int) -> int:
        """The exit status of child ``pid`` (negative: killed by that signal)."""
        self.process.stdin.write(f"wait {pid}\n")
        self.process.stdin.flush()
        word, child, status = self._line().split()
        assert (word, int(child)) == ("exit", pid)
        return int(status)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def _child(job: dict, ready_fd: int) -> None:
    import json

    os.environ["ALBUMFINDER_HOME"] = job["home"]
    import importlib

    from albumfinder.library import Library

    load_embedder = importlib.import_module("albumfinder.embedding.loading").load_embedder
    embedder = load_embedder("builtin", allow_download=False)
    os.write(ready_fd, b"r")
    os.close(ready_fd)
    go_file = job.get("go_file")
    while go_file and not os.path.exists(go_file):
        import time

        time.sleep(0.002)
    library = Library()
    if job.get("log"):  # note what this run embedded, before it tries to store it
        store, record = library.store, library.store.record_batch
        log_fd = os.open(job["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

        def logged_record(model_key, vectors, failures, facts=()):
            lines = "".join(item.path + "\n" for item in [*vectors, *failures])
            os.write(log_fd, lines.encode())
            record(model_key, vectors, failures, facts)

        store.record_batch = logged_record
    report = library.index(embedder, job["folders"])
    library.close()
    with open(job["report"], "w", encoding="utf-8") as handle:
        json.dump(report.to_json(), handle)


def _zygote() -> None:
    import importlib
    import json
    import traceback

    for module in ("torch", "albumfinder.embedding.embedder", "albumfinder.library"):
        importlib.import_module(module)  # the slow part, done once

    print("zygote ready", flush=True)
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command == "run":
            job = json.loads(rest)
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child
                os.close(read_fd)
                code = 0
                try:
                    _child(job, write_fd)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            os.close(write_fd)
            os.read(read_fd, 1)  # "r" once its model is loaded, or EOF if it died first
            os.close(read_fd)
            print(f"ready {pid}", flush=True)
        elif command == "wait":
            pid = int(rest)
            _, status = os.waitpid(pid, 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            print(f"exit {pid} {code}", flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["zygote"]:
    _zygote()
