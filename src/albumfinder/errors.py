"""What can go wrong that a user can act on: one base class, with structured fields.

Every error the core raises for a user to read is an :class:`AlbumFinderError`: its message
is plain words about what happened; the fields say what it concerns (``model``, ``path``)
and what would help (``hint``), so that each face words its own advice ("Choose a File…"
in the window, ``-p PATH`` on the command line) and needs one ``except``.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path


class Hint(str, Enum):
    """What would help, for a face to turn into its own words."""

    GET_WEIGHTS = "get-weights"  # download the model's weights, or choose a weights file
    CHECK_CONNECTION = "check-connection"  # the network, a proxy, or a mirror
    FREE_DISK = "free-disk"
    ADD_FOLDERS_AGAIN = "add-folders-again"
    REMOVE_FOLDER = "remove-folder"  # remove the folder from the album


class Hinted(str):
    """Words for the user that are no error (why a default was not used), with what would
    help (``hint``, about ``model``): each face adds its own advice, as for an error."""

    hint: Hint | None
    model: str | None

    def __new__(cls, text: str, *, hint: Hint | None = None, model: str | None = None) -> Hinted:
        said = super().__new__(cls, text)
        said.hint = hint
        said.model = model
        return said


class AlbumFinderError(Exception):
    """A problem with a message meant for the user."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        path: str | os.PathLike[str] | None = None,
        hint: Hint | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.path = str(path) if path is not None else None
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self)


class SettingError(AlbumFinderError, ValueError):
    """A setting that cannot be used here (a device, a precision); a ValueError too."""


class FolderError(AlbumFinderError, ValueError):
    """An album folder that cannot be added or forgotten; ``path`` names it."""


class FolderNotFoundError(FolderError, FileNotFoundError):
    """The folder is not there (a typo, an unplugged drive)."""


class ImageLoadError(AlbumFinderError):
    """A photo could not be opened; ``reason`` says why in words a user understands."""

    def __init__(self, path: str | os.PathLike[str] | None, reason: str) -> None:
        self.reason = reason
        shown = reason if path is None else f"{path}: {reason}"
        super().__init__(shown, path=path)


#: a :class:`WeightsError`'s ``reason`` when no weights file is there
WEIGHTS_NOT_FOUND = "The weights file was not found."
#: its ``reason`` for a file that is there (the default: the raiser says when it is not)
WEIGHTS_UNUSABLE = "This weights file cannot be used: it is damaged or holds another model."


class WeightsError(AlbumFinderError):
    """Weights missing, unreachable, corrupt or for another model; the message says which.

    ``reason`` is the same in words for people (the app shows it, with the message behind
    "Details"); ``str()`` is the technical account the CLI prints.
    """

    def __init__(
        self,
        message: str,
        reason: str = WEIGHTS_UNUSABLE,
        *,
        model: str | None = None,
        hint: Hint | None = None,
    ) -> None:
        super().__init__(message, model=model, hint=hint)
        self.reason = reason


class DownloadCancelled(WeightsError):
    """``should_stop`` asked the download to stop; nothing was left behind."""


class IndexStoreError(AlbumFinderError):
    """Base class of index problems, with a message meant for the user."""


class IndexTooNewError(IndexStoreError):
    """The index was written by a newer version; it is left untouched."""


class IndexReplacedError(IndexStoreError):
    """The index file was deleted or replaced while it was open; a new one is used now."""


class IndexUnavailableError(IndexStoreError):
    """The index cannot be opened or written (read-only folder, disk full, locked)."""

    def __init__(self, message: str, *, path: Path | None = None, why: str | None = None):
        super().__init__(message, path=path)
        self.why = why  # the reason alone ("the disk is full"), when known

    def after_storing(self, kept: int) -> IndexUnavailableError:
        """The same failure, told after ``kept`` photos were stored by the run: they are
        kept (each batch is committed whole), so "nothing was changed" would be wrong."""
        if kept <= 0 or self.why is None:
            return self
        photos = "photo" if kept == 1 else "photos"
        return IndexUnavailableError(
            f"Cannot write the index {self.path}: {self.why}; the {kept} {photos} indexed "
            "before that are kept, and the next run goes on from there.",
            path=Path(self.path) if self.path else None,
            why=self.why,
        )


class UnknownModelError(AlbumFinderError, ValueError, KeyError):
    """An unknown model name; a ValueError (and a KeyError, for ``except KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FetchError(AlbumFinderError, OSError):
    """A fetch that did not work. ``reason`` is for people (the same words in the app and
    the CLI); ``detail`` is the technical account (the host, the socket error…)."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None) -> None:
        self.reason = reason
        self.detail = detail or reason
        self.status = status
        super().__init__(self.detail, hint=Hint.CHECK_CONNECTION)


class FetchCancelled(FetchError):
    """``should_stop`` asked the fetch to stop."""


# -- safe actions (the system trash) --------------------------------------------------------
class TrashError(AlbumFinderError):
    """A move to the trash or a put back that cannot be done at all (not one photo of it)."""


class NothingToPutBackError(TrashError):
    """No move to the trash is left to put back (or the one named was put back already)."""


class UnknownTrashActionError(TrashError, KeyError):
    """No move to the trash has that id (a typo, or an action from another index)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
