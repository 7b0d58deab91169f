"""Find the photos under a set of folders: fast (one stat per file), no decoding.

Hidden folders and system clutter are skipped, extensions are matched case-insensitively,
symbolic links are followed without ever looping, and anything that cannot be read is
reported with a reason instead of stopping the walk.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from albumfinder.images import NOT_REGULAR_FILE, is_photo_name, is_raw_name
from albumfinder.report import QueryPhotos, Skipped

_INT64_MAX = 2**63 - 1

#: Folders that hold thumbnails, trash or OS metadata rather than photos.
SKIPPED_FOLDER_NAMES = frozenset(
    {"@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__MACOSX", "lost+found"}
)

#: A file the command line leaves in the folder of its result pictures: a folder holding it
#: is never scanned (unless named as a root), so result pictures written inside the album
#: (``-o output`` run from the photo folder) never become photos, queries or results.
OUTPUT_MARKER = ".albumfinder-results"


@dataclass(frozen=True)
class FoundFile:
    path: str
    size: int
    mtime_ns: int  # as the index stores it (see storable_ns)


@dataclass
class ScanResult:
    files: dict[str, FoundFile] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # path -> reason
    missing_roots: list[str] = field(default_factory=list)  # folders that do not exist (now)


#: Why a photo or folder whose name is not valid UTF-8 (possible on Linux) is skipped.
NOT_UTF8 = "the name is not valid UTF-8 (rename it to index it)"


def is_storable_name(name: str) -> bool:
    """False for a name with bytes that are not UTF-8 (Python holds them as surrogates):
    the index stores paths as UTF-8 text."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalize_path(path: str | os.PathLike[str]) -> str:
    """Absolute, normalised, user-expanded; symlinks kept as the user named them."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def storable_ns(ns: int) -> int:
    """A file time in nanoseconds as SQLite can store it (a signed 64-bit integer).

    Times from 1677-09-21 to 2262-04-11 are kept as they are; one outside (a wrong camera
    clock, a bad restore) is folded into the range, so that it still fits and a later
    change of it is still seen (two such times collide only if they are a multiple of
    ~292 years apart). Both sides of every comparison go through this: the scan and the
    index.
    """
    if -_INT64_MAX - 1 <= ns <= _INT64_MAX:
        return ns
    folded = abs(ns) % (_INT64_MAX + 1)
    return folded if ns > 0 else -folded


class Under:
    """The paths in (or equal to) any of some folders: the one decision of "under this
    folder", asked in Python (``path in under``, :meth:`select`) and in SQL (:meth:`sql`).
    No folders: nothing is under them."""

    def __init__(self, folders: Iterable[str]) -> None:
        self.folders = tuple(folders)
        self._exact = frozenset(self.folders)
        self._prefixes = tuple(f.rstrip(os.sep) + os.sep for f in self.folders)

    def __bool__(self) -> bool:
        return bool(self.folders)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (path in self._exact or path.startswith(self._prefixes))

    def select(self, paths: Sequence[str]) -> list[int]:
        """The positions of those of ``paths`` that are under the folders."""
        exact, prefixes = self._exact, self._prefixes
        return [i for i, p in enumerate(paths) if p in exact or p.startswith(prefixes)]

    def sql(self, column: str) -> tuple[str, list[str]]:
        """A WHERE condition on the text ``column`` and its parameters: a range per folder
        (the prefix up to the next character after the separator), so SQLite uses the
        column's index. Text compares by code point both in Python and SQLite (UTF-8)."""
        if not self.folders:
            return "0", []
        terms, params = [], []
        for folder, prefix in zip(self.folders, self._prefixes, strict=True):
            terms.append(f"({column} = ? OR ({column} >= ? AND {column} < ?))")
            params += [folder, prefix, prefix[:-1] + chr(ord(os.sep) + 1)]
        return "(" + " OR ".join(terms) + ")", params


def under(folders: Iterable[str]) -> Under:
    """The paths under ``folders`` (see :class:`Under`)."""
    return Under(folders)


def is_under(path: str, folder: str) -> bool:
    return path in Under((folder,))


def scan(
    roots: Iterable[str],
    should_stop: Callable[[], bool] | None = None,
    on_found: Callable[[int], None] | None = None,
) -> ScanResult:
    """Walk ``roots`` (folders or single photo files) and stat every photo found."""
    result = ScanResult()
    visited: set[tuple[int, int]] = set()
    for root in roots:
        root = normalize_path(root)
        if not is_storable_name(root):
            result.problems[root] = NOT_UTF8
            continue
        try:
            info = os.stat(root)
        except FileNotFoundError:
            result.missing_roots.append(root)
            continue
        except OSError as exc:
            result.problems[root] = _reason(exc)
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(root, result, visited, should_stop, on_found)
        elif stat.S_ISREG(info.st_mode):
            result.files[root] = FoundFile(root, info.st_size, storable_ns(info.st_mtime_ns))
        else:
            result.problems[root] = NOT_REGULAR_FILE
    return result


def root_problem(path: str) -> str | None:
    """Why ``path`` cannot be a folder to search or a photo (None when it can)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "not found"
    except OSError as exc:
        return _reason(exc)
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return NOT_REGULAR_FILE


def _walk(
    root: str,
    result: ScanResult,
    visited: set[tuple[int, int]],
    should_stop: Callable[[], bool] | None,
    on_found: Callable[[int], None] | None,
) -> None:
    stack = [root]
    while stack:
        if should_stop is not None and should_stop():
            return
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError as exc:
            result.problems[folder] = _reason(exc)
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in visited:  # a symlink loop, or the same folder reached twice
            continue
        visited.add(identity)
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            result.problems[folder] = _reason(exc)
            continue
        if folder != root and any(entry.name == OUTPUT_MARKER for entry in entries):
            continue  # our own result pictures
        subfolders = []
        names = {entry.name.lower() for entry in entries}
        for entry in entries:
            name = entry.name
            if name.startswith("."):  # hidden files, .thumbnails, .Trashes, AppleDouble ._*
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                if name in SKIPPED_FOLDER_NAMES:
                    continue
                if is_storable_name(name):
                    subfolders.append(entry.path)
                else:
                    result.problems[entry.path] = NOT_UTF8
                continue
            if not is_photo_name(name):
                continue
            if not is_storable_name(name):
                result.problems[entry.path] = NOT_UTF8
                continue
            try:
                st = entry.stat()  # follows symlinks
            except OSError as exc:
                result.problems[entry.path] = _reason(exc, entry.is_symlink())
                continue
            if not stat.S_ISREG(st.st_mode):
                result.problems[entry.path] = NOT_REGULAR_FILE
                continue
            if is_raw_name(name) and _has_jpeg_sibling(name, names):
                continue  # the camera's JPEG of the same shot stands for it (as rclip does)
            result.files[entry.path] = FoundFile(
                entry.path, st.st_size, storable_ns(st.st_mtime_ns)
            )
        if on_found is not None:
            on_found(len(result.files))
        stack.extend(sorted(subfolders, reverse=True))


#: A RAW file is left out when one of these of the same name sits beside it.
JPEG_SIBLING_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")


def _has_jpeg_sibling(name: str, names_in_folder: set[str]) -> bool:
    stem = os.path.splitext(name)[0].lower()
    return any(stem + ext in names_in_folder for ext in JPEG_SIBLING_EXTENSIONS)


def _reason(exc: OSError, is_symlink: bool = False) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, FileNotFoundError):
        return "broken symbolic link" if is_symlink else "no longer exists"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"could not read ({exc.strerror or exc})"


def same_folder_in(path: str, album: Sequence[str]) -> str | None:
    """How the album already spells ``path`` when it holds the same folder (same device
    and inode) under another name, itself or inside an album folder; else None.
    Both spellings would index every photo twice, and rescans would swap them."""
    if any(is_under(path, folder) for folder in album):
        return None  # spelled as the album spells it: its photos are the same rows
    identities: dict[tuple[int, int], str] = {}
    for folder in album:
        try:
            info = os.stat(folder)
        except OSError:
            continue  # unplugged: nothing to compare with
        identities[(info.st_dev, info.st_ino)] = folder
    inner: list[str] = []
    candidate = os.path.realpath(path)
    while True:
        try:
            info = os.stat(candidate)
        except OSError:
            return None
        known = identities.get((info.st_dev, info.st_ino))
        if known is not None:
            return os.path.join(known, *reversed(inner))
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return None
        inner.append(os.path.basename(candidate))
        candidate = parent


def expand_queries(items: Sequence[str], what: str = "query") -> QueryPhotos:
    """The photos ``items`` stand for: files as given, folders' photos found recursively.

    Each item that stands for no photo (missing, a broken link, a folder without photos)
    gets its own reason; the others still count. Nothing slow happens here (no model, no
    index), so a typo costs nothing.
    """
    found = QueryPhotos()
    for item in items:
        path = normalize_path(item)
        if os.path.isdir(path):
            scanned = scan([path])
            problems = [Skipped(p, r) for p, r in sorted(scanned.problems.items())]
            found.skipped += problems
            if not scanned.files:
                more = f" ({len(problems)} could not be read, see below)" if problems else ""
                found.failed.append(Skipped(path, f"no photos in the folder {path}{more}"))
            for photo in sorted(scanned.files):
                found.photos.append(photo)
                found.found_in[photo] = path
        elif os.path.exists(path):
            found.photos.append(path)
        elif os.path.islink(path):
            found.failed.append(Skipped(path, f"{what} is a broken symbolic link: {path}"))
        else:
            found.failed.append(Skipped(path, f"{what} not found: {path}"))
    return found


def album_roots(album: Sequence[str], folders: Sequence[str] | None) -> list[str]:
    """The folders an album search looks in: the album's folders, narrowed to ``folders``
    when given (a folder outside the album adds nothing)."""
    if not folders:
        return list(album)
    roots = []
    for folder in folders:
        if any(is_under(folder, a) for a in album):
            roots.append(folder)
        else:
            roots += [a for a in album if is_under(a, folder)]
    return roots


def folder_holding(path: str, album: Sequence[str]) -> str | None:
    """The album folder ``path`` lies in (or is), if any."""
    return next((f for f in album if is_under(path, f)), None)


def leaves_with(folder: str, album: Sequence[str]) -> Callable[[str], bool]:
    """The one rule: a photo leaves the album with ``folder`` when no other album folder
    holds it."""
    inside, others = under([folder]), under([f for f in album if f != folder])
    return lambda photo: photo in inside and photo not in others
