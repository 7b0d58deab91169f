"""Safe actions: photos go to the system trash (Send2Trash; never a permanent delete), each
call is one undo step in the index's trash log, and the index follows at once (a trashed
photo is in no result from then on).

"Put back" moves a photo from the trash to where it was and restores its index rows, so it
is found again without being embedded again. Where it went is found in the trash itself:

- Linux and other freedesktop systems: the entry whose ``.trashinfo`` has the photo's
  ``Path=`` (and a ``DeletionDate`` near the action's time) in ``$XDG_DATA_HOME/Trash`` or
  the volume's ``.Trash/$UID`` or ``.Trash-$UID``;
- macOS: a new entry of the same size in ``~/.Trash`` (best effort);
- elsewhere (Windows) it cannot be known: the photo is restored from the Recycle Bin by hand.

Nothing is ever overwritten: a photo whose place is taken again stays in the trash, and
files that cannot be moved (permission, a read-only disk, gone, a folder, outside the
album) are reported with their reason and left exactly as they are.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import unquote_to_bytes

from albumfinder.errors import (
    IndexStoreError,
    IndexUnavailableError,
    NothingToPutBackError,
    UnknownTrashActionError,
)
from albumfinder.index import trash_log
from albumfinder.index.store import IndexStore
from albumfinder.index.trash_log import LoggedAction, TrashedFile
from albumfinder.report import PutBack, Skipped, TrashAction
from albumfinder.scan import Under, normalize_path, under

# -- the reasons, in the words both faces show ----------------------------------------------
NOT_IN_ALBUM = "not in the album's folders: only the album's photos are moved to the trash"
GONE = "no longer exists"
A_FOLDER = "a folder: only photos are moved to the trash"
A_LINK = "a symbolic link: only the link would go to the trash, so it was left alone"
NOT_A_FILE = "not a regular file"
READ_ONLY_DISK = "its disk is read-only"
FILE_READ_ONLY = "permission denied: the file is read-only"
NO_TRASH_HERE = "no trash folder can be used on its disk (permission denied)"
RECYCLE_BIN = (
    "Album Finder cannot put it back automatically on this system: restore it from the Recycle Bin"
)
NOT_IN_TRASH = "it is not in the trash any more (the trash was emptied, or it was put back by hand)"


def folder_locked(folder: str) -> str:
    return f"permission denied: the folder {folder} cannot be changed"


def place_taken(path: str) -> str:
    return (
        f"something else is at {path} now: it was left as it is, and the photo stays in the trash"
    )


def folder_gone(folder: str) -> str:
    return f"its folder {folder} is not there now (an unplugged drive?): it stays in the trash"


def could_not(exc: OSError, what: str) -> str:
    return f"could not be {what} ({exc.strerror or exc})"


#: How far a ``DeletionDate`` (local time, to the second) may be from the action's own time
#: and still be its entry: a day and more, for a clock or time zone changed since.
DATE_SLACK_S = 26 * 3600
#: Photos logged per transaction of one action: a crash loses the record of these at most
#: (they are in the system trash, to restore by hand; a rescan drops their index rows).
BATCH = 64
INFO_SUFFIX = ".trashinfo"
_EFFECTIVE_IDS = os.access in os.supports_effective_ids  # what the move itself is allowed


# -- moving to the trash -------------------------------------------------------------------
def move_to_trash(store: IndexStore, paths: Iterable[str | os.PathLike[str]]) -> TrashAction:
    """Send ``paths`` (album photos) to the system trash as one action, log it and take
    them out of the index (each batch of :data:`BATCH` in one transaction). A photo that
    cannot go is left as it is and listed in ``refused`` with its reason; when none goes,
    nothing is logged (id "")."""
    when_ns = time.time_ns()
    if isinstance(paths, (str, os.PathLike)):  # one photo, not its letters
        paths = [paths]
    wanted = list(dict.fromkeys(normalize_path(p) for p in paths))
    album = under(store.folders())
    refused: dict[str, str] = {}
    ready = []
    for path in wanted:
        why = why_not_trashable(path, album)
        if why is None:
            ready.append(path)
        else:
            refused[path] = why
    action_id = _new_action_id(when_ns)
    trashed: list[str] = []
    for start in range(0, len(ready), BATCH):
        sent = _send_batch(store, ready[start : start + BATCH], refused)
        if not sent:
            continue
        try:
            trash_log.record_trashed(store, action_id, when_ns, sent)
        except IndexStoreError as exc:
            raise _unlogged(exc, sent, action_id, len(trashed)) from exc
        trashed += [f.path for f in sent]
    skipped = [Skipped(p, refused[p]) for p in wanted if p in refused]
    return TrashAction(action_id if trashed else "", when_ns, trashed, skipped)


def _send_batch(
    store: IndexStore, paths: Sequence[str], refused: dict[str, str]
) -> list[TrashedFile]:
    """Send ``paths`` to the trash; those that went, with where to (``refused`` gets the
    others' reasons)."""
    from send2trash import send2trash  # when used: a face starts without it

    watch = _TrashWatch(paths)
    sent: list[TrashedFile] = []
    for path in paths:
        try:
            info = os.stat(path)
            rows = trash_log.index_rows(store, path, info.st_size, info.st_mtime_ns)
            send2trash(path)
        except OSError as exc:
            refused[path] = _send_failed(exc)
            continue
        sent.append(
            TrashedFile(path, info.st_size, info.st_mtime_ns, time.time_ns(), None, None, rows)
        )
    return watch.locate(sent, failed=[p for p in paths if p in refused])


def why_not_trashable(path: str, album: Under) -> str | None:
    """Why ``path`` cannot go to the trash (None: it can): the one list of refusals."""
    if path not in album:
        return NOT_IN_ALBUM
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return GONE
    except OSError as exc:
        return could_not(exc, "read")
    if stat.S_ISLNK(info.st_mode):
        return A_LINK
    if stat.S_ISDIR(info.st_mode):
        return A_FOLDER
    if not stat.S_ISREG(info.st_mode):
        return NOT_A_FILE
    folder = os.path.dirname(path)
    if _read_only_disk(folder):
        return READ_ONLY_DISK
    if not _may(folder, os.W_OK | os.X_OK):
        return folder_locked(folder)
    if not _may(path, os.W_OK):  # Send2Trash refuses these itself
        return FILE_READ_ONLY
    return None


def _may(path: str, mode: int) -> bool:
    return os.access(path, mode, effective_ids=_EFFECTIVE_IDS)


def _read_only_disk(folder: str) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # (no statvfs on Windows)
        return False


def _send_failed(exc: OSError) -> str:
    from send2trash import TrashPermissionError

    if isinstance(exc, TrashPermissionError):
        return NO_TRASH_HERE
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return GONE
    if isinstance(exc, PermissionError):
        return "permission denied"
    return could_not(exc, "moved to the trash")


def _new_action_id(when_ns: int) -> str:
    """Short enough to type on the command line, and unique."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when_ns / 1e9))
    return f"{stamp}-{secrets.token_hex(3)}"


def _unlogged(
    exc: IndexStoreError, sent: Sequence[TrashedFile], action_id: str, logged: int
) -> IndexStoreError:
    """The index could not log a batch: its photos are put back at once, so that they are
    as they were; the error says what is in the trash now (the batches logged before)."""
    stuck = [f.path for f in sent if _put_back_file(f) is not None]
    if not stuck and not logged:
        return exc  # "… Nothing was changed."
    why = getattr(exc, "why", None) or str(exc)
    said = f"Cannot write the index: {why}."
    if logged:
        photos = "photo was" if logged == 1 else "photos were"
        said += f" {logged} {photos} moved to the trash before that (put back {action_id} to undo)."
    if stuck:
        said += f" In the trash without a record, to restore by hand: {', '.join(stuck)}."
    return IndexUnavailableError(said, why=why)


# -- putting back --------------------------------------------------------------------------
def put_back(store: IndexStore, action_id: str | None = None) -> PutBack:
    """Put the photos of an action back where they were, with their index rows (no
    embedding). ``None``: the newest action never put back; an id: that action's photos
    not put back yet (again, after a refusal)."""
    action = _action_to_put_back(store, action_id)
    restored: list[TrashedFile] = []
    refused: list[Skipped] = []
    for member in action.waiting():
        why = _put_back_file(member)
        if why is not None:
            refused.append(Skipped(member.path, why))
        else:
            restored.append(member if _as_it_was(member) else trash_log.without_rows(member))
    try:
        trash_log.record_put_back(store, action.id, restored, store.folders(), time.time_ns())
    except IndexStoreError as exc:
        why = getattr(exc, "why", None) or str(exc)
        raise IndexUnavailableError(
            f"The photos are back in their folders, but the index could not be written "
            f"({why}): they will be indexed again.",
            why=why,
        ) from exc
    return PutBack(action.id, [m.path for m in restored], refused)


def history(store: IndexStore, limit: int = 20) -> list[TrashAction]:
    """The latest actions, newest first."""
    return [_as_report(a) for a in trash_log.logged_actions(store, limit)]


def _as_report(action: LoggedAction) -> TrashAction:
    return TrashAction(
        action.id, action.when_ns, [m.path for m in action.members], [], action.put_back_ns
    )


def _action_to_put_back(store: IndexStore, action_id: str | None) -> LoggedAction:
    if action_id is None:
        action = trash_log.last_not_put_back(store)
        if action is None:
            raise NothingToPutBackError(_nothing_waiting(store))
        return action
    action = trash_log.logged_action(store, action_id)
    if action is None:
        recent = ", ".join(a.id for a in trash_log.logged_actions(store, 5))
        known = f" The latest are: {recent}." if recent else " Nothing was moved to the trash yet."
        raise UnknownTrashActionError(f"No move to the trash has the id {action_id}.{known}")
    if not action.waiting():
        raise NothingToPutBackError(f"The move to the trash {action_id} was put back already.")
    return action


def _nothing_waiting(store: IndexStore) -> str:
    said = "Nothing to put back: no move to the trash is waiting"
    left = trash_log.last_with_waiting(store)
    if left is None:
        return f"{said}."
    n = len(left.waiting())
    photos = "photo" if n == 1 else "photos"
    return (
        f"{said}, but {n} {photos} of the move {left.id} stayed in the trash when it was put "
        "back: put back that id to try again."
    )


def _as_it_was(member: TrashedFile) -> bool:
    """Whether the photo put back is the file it was (its index rows hold for it)."""
    try:
        info = os.stat(member.path)
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) == (member.size, member.mtime_ns)


def _put_back_file(member: TrashedFile) -> str | None:
    """Move ``member`` from the trash to its place; why not (None: done)."""
    folder = os.path.dirname(member.path)
    if not os.path.isdir(folder):  # (a trash on that disk is not there either)
        return folder_gone(folder)
    found = _find_in_trash(member)
    if isinstance(found, str):
        return found
    entry, info_file = found
    why = _move_back(entry, member.path)
    if why is None and info_file is not None:
        with contextlib.suppress(OSError):  # the trash's note about it, not a photo
            os.remove(info_file)
    return why


def _move_back(entry: str, original: str) -> str | None:
    """Move ``entry`` to ``original`` without ever replacing anything there."""
    folder = os.path.dirname(original)
    if not os.path.isdir(folder):
        return folder_gone(folder)
    if os.path.lexists(original):
        return place_taken(original)
    try:
        os.link(entry, original, follow_symlinks=False)  # fails when the place is taken
    except FileExistsError:
        return place_taken(original)
    except OSError:  # no hard links there (FAT, some network disks), or another disk
        return _move_without_link(entry, original)
    with contextlib.suppress(OSError):  # the photo is in place: the trash's name for it goes
        os.unlink(entry)
    return None


def _move_without_link(entry: str, original: str) -> str | None:
    if os.path.lexists(original):
        return place_taken(original)
    try:
        shutil.move(entry, original)
    except OSError as exc:
        return could_not(exc, "put back")
    return None


# -- where the trash is, and what it holds -------------------------------------------------
def _platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform == "win32":
        return "windows"
    return "freedesktop"


@dataclass(frozen=True)
class TrashDir:
    """A freedesktop trash folder (``files/`` and ``info/``); ``topdir``: where the relative
    ``Path=`` lines of its ``.trashinfo`` files start."""

    path: str
    topdir: str

    @property
    def info(self) -> str:
        return os.path.join(self.path, "info")

    @property
    def files(self) -> str:
        return os.path.join(self.path, "files")


def home_trash() -> TrashDir:
    data = os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "~/.local/share")
    return TrashDir(os.path.join(data, "Trash"), data)


def volume_trashes(path: str) -> list[TrashDir]:
    """The trash folders of the disk ``path`` is on (other than the home's)."""
    if not hasattr(os, "getuid"):
        return []
    top, uid = _mount_point(path), os.getuid()
    return [
        TrashDir(os.path.join(top, ".Trash", str(uid)), top),
        TrashDir(os.path.join(top, f".Trash-{uid}"), top),
    ]


def _mount_point(path: str) -> str:
    here = os.path.realpath(path)
    while not os.path.ismount(here):
        here = os.path.dirname(here)
    return here


def _trash_dirs(paths: Iterable[str]) -> list[TrashDir]:
    found = [home_trash()]
    for folder in {os.path.dirname(p) for p in paths}:
        found += volume_trashes(folder)
    return list(dict.fromkeys(found))


def read_trashinfo(info_file: str, topdir: str) -> tuple[str, float | None] | None:
    """(original path, deletion time as a timestamp or None) of a ``.trashinfo`` file."""
    try:
        with open(info_file, "rb") as handle:
            data = handle.read(64 * 1024)
    except OSError:
        return None
    path, date = None, None
    for line in data.splitlines():
        if line.startswith(b"Path="):
            path = os.fsdecode(unquote_to_bytes(line[5:].strip()))
        elif line.startswith(b"DeletionDate="):
            date = line[13:].strip().decode("ascii", "replace")
    if not path:
        return None
    original = os.path.normpath(os.path.join(topdir, path))  # (an absolute one stays)
    try:
        when = datetime.strptime(date or "", "%Y-%m-%dT%H:%M:%S").timestamp()
    except ValueError:
        when = None
    return original, when


def _same_place(a: str, b: str) -> bool:
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def _regular_of_size(entry: str, size: int) -> bool:
    try:
        info = os.lstat(entry)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


def _listing(folder: str) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


class _TrashWatch:
    """The trash folders a batch may go to, listed before it: what it added is where its
    photos went (two listings per batch, however full the trash is)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.kind = _platform()
        if self.kind == "freedesktop":
            self.dirs = _trash_dirs(paths) if paths else []
            self.before = {d: _listing(d.info) for d in self.dirs}
        elif self.kind == "macos":
            self.mac_trash = os.path.expanduser("~/.Trash")
            self.mac_before = _listing(self.mac_trash)

    def locate(self, sent: list[TrashedFile], failed: Sequence[str]) -> list[TrashedFile]:
        """``sent`` with where each went, when that can be known."""
        if self.kind == "freedesktop":
            return self._freedesktop(sent, failed)
        if self.kind == "macos":
            return self._macos(sent)
        return sent

    def _freedesktop(self, sent: list[TrashedFile], failed: Sequence[str]) -> list[TrashedFile]:
        added: dict[str, list[tuple[str, str]]] = {}
        for d in self.dirs:
            for name in sorted(_listing(d.info) - self.before[d]):
                if not name.endswith(INFO_SUFFIX):
                    continue
                info_file = os.path.join(d.info, name)
                read = read_trashinfo(info_file, d.topdir)
                if read is not None:
                    entry = os.path.join(d.files, name[: -len(INFO_SUFFIX)])
                    added.setdefault(os.path.realpath(read[0]), []).append((entry, info_file))
        for path in failed:  # a move that failed half-way left its note behind
            for entry, info_file in added.get(os.path.realpath(path), []):
                if not os.path.lexists(entry):
                    with contextlib.suppress(OSError):
                        os.remove(info_file)
        located = []
        for f in sent:
            where = [
                found
                for found in added.get(os.path.realpath(f.path), [])
                if _regular_of_size(found[0], f.size)
            ]
            if where:
                f = replace(f, trashed_to=where[-1][0], info_file=where[-1][1])
            located.append(f)
        return located

    def _macos(self, sent: list[TrashedFile]) -> list[TrashedFile]:
        new = sorted(_listing(self.mac_trash) - self.mac_before)
        located = []
        for f in sent:
            stem = os.path.splitext(os.path.basename(f.path))[0]
            entry = next(
                (
                    os.path.join(self.mac_trash, n)
                    for n in new
                    if n.startswith(stem)
                    and _regular_of_size(os.path.join(self.mac_trash, n), f.size)
                ),
                None,
            )
            if entry is not None:
                new.remove(os.path.basename(entry))
            located.append(replace(f, trashed_to=entry))
        return located


def _find_in_trash(member: TrashedFile) -> tuple[str, str | None] | str:
    """(the trash entry, its .trashinfo or None) of ``member``, or why it cannot be found."""
    kind = _platform()
    if kind == "windows":
        return RECYCLE_BIN
    if member.trashed_to is not None and _still_in_trash(member):
        return member.trashed_to, member.info_file
    if kind == "macos":
        return NOT_IN_TRASH
    best: tuple[float, str, str] | None = None
    trashed_s = member.trashed_ns / 1e9
    for d in _trash_dirs([member.path]):
        for name in _listing(d.info):
            if not name.endswith(INFO_SUFFIX):
                continue
            info_file = os.path.join(d.info, name)
            read = read_trashinfo(info_file, d.topdir)
            if read is None or not _same_place(read[0], member.path):
                continue
            entry = os.path.join(d.files, name[: -len(INFO_SUFFIX)])
            gap = abs(read[1] - trashed_s) if read[1] is not None else math.inf
            closer = best is None or gap < best[0]
            if closer and gap <= DATE_SLACK_S and _regular_of_size(entry, member.size):
                best = (gap, entry, info_file)
    return (best[1], best[2]) if best is not None else NOT_IN_TRASH


def _still_in_trash(member: TrashedFile) -> bool:
    """Whether the entry logged for ``member`` still is it (the trash may have been emptied
    and the name given to another file since)."""
    assert member.trashed_to is not None
    if not _regular_of_size(member.trashed_to, member.size):
        return False
    if member.info_file is None:
        return _platform() == "macos"
    trash = os.path.dirname(os.path.dirname(member.info_file))
    read = read_trashinfo(member.info_file, _topdir_of(trash))
    return read is not None and _same_place(read[0], member.path)


def _topdir_of(trash: str) -> str:
    """Where relative ``Path=`` lines of the trash folder ``trash`` start: the folder that
    holds it, or the volume for a ``.Trash/$UID`` one."""
    holder = os.path.dirname(trash)
    return os.path.dirname(holder) if os.path.basename(holder) == ".Trash" else holder
