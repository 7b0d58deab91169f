"""Moving photos to the trash from any page of the window, and putting them back.

One controller per window (:meth:`TrashActions.for_window`), shared by the pages that trash
photos (duplicates, odd ones out): it runs :meth:`Library.trash` and :meth:`Library.put_back`
on the engine's serial album queue (they change the album), says what happened in the
window's banner ("3 photos moved to the trash." with a Put back button, refusals named),
and owns the window's Undo shortcut (Ctrl+Z), which puts this window's last action back.
The pages hear :attr:`~TrashActions.trashed` and :attr:`~TrashActions.putBack` to update.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence

from albumfinder.errors import IndexUnavailableError, NothingToPutBackError
from albumfinder.gui import advice
from albumfinder.gui.banner import BannerLevel
from albumfinder.library import Library
from albumfinder.report import PutBack, Skipped, TrashAction

OBJECT_NAME = "trashActions"
PUT_BACK = "Put back"
#: how many refusals the banner names (the others are counted)
NAMED_REFUSALS = 3


def counted(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def refusals_text(refused: Sequence[Skipped]) -> str:
    """The photos by name with their reasons (the first few; the others counted)."""
    shown = [f"{os.path.basename(s.path)} ({s.reason})" for s in refused[:NAMED_REFUSALS]]
    more = len(refused) - NAMED_REFUSALS
    return "; ".join(shown) + (f"; and {more:,} more" if more > 0 else "")


def outcome_text(
    done: Sequence[str], refused: Sequence[Skipped], did: str, short: str, one: str, many: str
) -> str:
    """ "3 photos moved to the trash.", then those not moved; or "Nothing was moved…"."""
    if not done:
        return f"Nothing was {did}: {refusals_text(refused)}." if refused else f"Nothing was {did}."
    said = f"{counted(len(done), one, many)} {did}."
    return f"{said} Not {short}: {refusals_text(refused)}." if refused else said


class TrashActions(QObject):
    """Trash and Put back for one window (its ``banner`` and ``engine``)."""

    trashed = Signal(object)  # TrashAction: its photos left the index
    putBack = Signal(object)  # PutBack: its restored photos are back in the index

    def __init__(self, window: Any, engine: Any | None = None) -> None:
        super().__init__(window)
        self.setObjectName(OBJECT_NAME)
        self.window = window
        self.engine = engine if engine is not None else window.engine
        self._undo: list[str] = []  # this window's actions not put back, the newest last
        self.undo_action = QAction(PUT_BACK, window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setToolTip("Put back the photos moved to the trash last")
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self.put_back_last)
        window.addAction(self.undo_action)

    @classmethod
    def for_window(cls, window: Any) -> TrashActions:
        """The window's one controller (two would fight over Ctrl+Z)."""
        found = window.findChild(cls, OBJECT_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
        return found if isinstance(found, cls) else cls(window)

    # -- what the pages ask ------------------------------------------------------------
    def trash(self, paths: Iterable[str], what: str = "photos", one: str = "photo") -> None:
        """Move ``paths`` to the trash (``what``/``one``: their name in the banner, many
        and one: "duplicates", "duplicate")."""
        chosen = list(paths)
        if chosen:
            self._run(
                lambda library: library.trash(chosen),
                lambda action: self._trashed(action, what, one),
                lambda exc: self._failed(exc, "Nothing was moved to the trash"),
            )

    def put_back(self, action_id: str | None = None) -> None:
        """Put an action's photos back (None: the album's last action not put back)."""

        def failed(exc: BaseException) -> None:
            if action_id in self._undo:  # whatever went wrong, the same again would too
                self._undo.remove(action_id)
                self._sync_undo()
            self._failed(exc, "Nothing was put back")

        self._run(lambda library: library.put_back(action_id), self._put_back, failed)

    def put_back_last(self) -> None:
        """Undo: this window's last move to the trash."""
        if self._undo:
            self.put_back(self._undo[-1])

    # -- running on the album queue ----------------------------------------------------
    def _run(
        self,
        call: Callable[[Library], object],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        engine = self.engine

        def work(_progress: Any, _stop: Any) -> object:
            library = engine.library
            if library is None:
                raise IndexUnavailableError("The photo index is not open yet: try again soon.")
            return call(library)

        engine.pools.album_task(work, on_result=on_result, on_error=on_error)

    def _trashed(self, action: TrashAction, what: str, one: str) -> None:
        if action.id:
            self._undo.append(action.id)
        self._sync_undo()
        strip = getattr(self.window, "strip", None)
        if strip is not None:  # the search's results: a trashed photo is no result
            strip.remove_paths(action.trashed)
        text = outcome_text(
            action.trashed, action.refused, "moved to the trash", "moved", one, what
        )
        actions = [(PUT_BACK, lambda: self.put_back(action.id))] if action.id else []
        self.window.banner.show_message(
            self._level(action.trashed, action.refused), text, actions, sticky=bool(actions)
        )
        self.engine.refresh_folders()
        self.trashed.emit(action)

    def _put_back(self, done: PutBack) -> None:
        if done.action_id in self._undo:
            self._undo.remove(done.action_id)
        self._sync_undo()
        text = outcome_text(done.restored, done.refused, "put back", "put back", "photo", "photos")
        self.window.banner.show_message(self._level(done.restored, done.refused), text)
        self.engine.refresh_folders()
        self.putBack.emit(done)

    def _failed(self, exc: BaseException, what: str) -> None:
        if isinstance(exc, NothingToPutBackError):  # put back meanwhile (the command line)
            self.window.banner.show_message(BannerLevel.INFO, advice.in_words(exc))
            return
        self.window.banner.show_message(BannerLevel.ERROR, f"{what}: {advice.in_words(exc)}")

    @staticmethod
    def _level(done: Sequence[str], refused: Sequence[Skipped]) -> BannerLevel:
        if not refused:
            return BannerLevel.INFO
        return BannerLevel.WARNING if done else BannerLevel.ERROR

    def _sync_undo(self) -> None:
        self.undo_action.setEnabled(bool(self._undo))
