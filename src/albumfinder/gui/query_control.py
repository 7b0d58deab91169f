"""Richer questions on the search page (a part of the window's controller): several photos
together, "less like this", a region of the shown photo, filters, and "Why is this a
match?". Each changes the :class:`QueryState` and asks again; the core does the rest."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from albumfinder.gui import advice
from albumfinder.gui.banner import BannerLevel
from albumfinder.gui.drop_zone import QueryKind, QuerySource
from albumfinder.gui.query_state import QueryState
from albumfinder.gui.thumbnails import load_thumbnail
from albumfinder.gui.why_view import WhyDialog, crop_image
from albumfinder.report import Crop, Explanation, SearchFilter

if TYPE_CHECKING:
    from PySide6.QtWidgets import QToolButton

    from albumfinder.gui.banner import Banner
    from albumfinder.gui.drop_zone import DropZone
    from albumfinder.gui.engine import Engine
    from albumfinder.gui.filter_bar import FilterBar
    from albumfinder.gui.query_parts import QueryPartsBar

WHY_IMAGE_SIZE = 1024


def path_source(path: str) -> QuerySource:
    return QuerySource(QueryKind.PATH, path, os.path.basename(path))


class QueryControl:
    """Mixed into :class:`~albumfinder.gui.main_window.MainWindow` (it has the widgets)."""

    engine: Engine
    banner: Banner
    drop_zone: DropZone
    filter_bar: FilterBar
    filters_button: QToolButton
    query_parts: QueryPartsBar
    _query: QuerySource | None
    _state: QueryState | None
    _waiting_query: QuerySource | None
    _waiting_state: QueryState | None = None  # several photos given before the index opened
    why_dialog: WhyDialog | None = None

    def _run_query(self, source: QuerySource, keep_preview: bool = False) -> None:
        raise NotImplementedError

    def _ask(self, state: QueryState, keep_preview: bool) -> None:
        self._state = state
        self._query = state.shown
        if keep_preview and self.drop_zone.region != state.crop:
            self.drop_zone.show_region(state.crop)  # what is drawn is what is asked
        self._run_query(state.shown, keep_preview=keep_preview)

    # -- several photos ----------------------------------------------------------------
    def find_together(self, sources: list[QuerySource]) -> None:
        """Several photos dropped at once (or chosen among the results): one query of them
        all together; the first is shown large."""
        files = [s for s in sources if s.kind != QueryKind.PATH or os.path.isfile(str(s.value))]
        if not files:
            return
        self.banner.clear_transient()
        self.engine.cancel_fetch()  # the photos given last are the ones searched
        state = QueryState(tuple(files), filters=self.filter_bar.search_filter())
        if not self.engine.is_open:  # asked when the index is open
            self._waiting_state = state
            self._waiting_query = state.shown
            return
        keep = self._query is not None and files[0] == self._query
        self._ask(state, keep_preview=keep)

    def drop_unreadable_part(self, path: str, reason: str) -> bool:
        """A part or a "less like" photo of a query of several could not be read: ask again
        without it (saying so), keeping the rest. False when it is no such part."""
        state = self._state
        if state is None or not state.is_combined:
            return False
        source = next(
            (
                s
                for s in (*state.parts, *state.negatives)
                if s.kind == QueryKind.PATH and s.value == path
            ),
            None,
        )
        rest = state.without(source) if source is not None else None
        if source is None or rest is None:
            return False
        self.banner.show_message(
            BannerLevel.WARNING,
            f"“{source.name}” could not be read ({reason}), so the query goes on without it.",
        )
        self._ask(rest, keep_preview=rest.shown == state.shown)
        return True

    def _together_requested(self, paths: list[str]) -> None:
        self.find_together([path_source(p) for p in paths])

    def _less_like_requested(self, path: str) -> None:
        if self._state is None:
            return
        self._ask(self._state.less_like(path_source(path)), keep_preview=True)

    def _part_removed(self, source: QuerySource) -> None:
        if self._state is None:
            return
        state = self._state.without(source)
        if state is None:
            return
        self._ask(state, keep_preview=state.shown == self._state.shown)

    # -- a region of the shown photo -----------------------------------------------------
    def _region_chosen(self, crop: Crop) -> None:
        if self._state is not None:
            self._ask(replace(self._state, crop=crop), keep_preview=True)

    def _region_cleared(self) -> None:
        if self._state is not None and self._state.crop is not None:
            self._ask(replace(self._state, crop=None), keep_preview=True)

    # -- filters -----------------------------------------------------------------------
    def _filters_changed(self, filters: SearchFilter) -> None:
        active = self.filter_bar.active_count()
        self.filters_button.setText(f"Filters ({active})" if active else "Filters")
        if self._state is not None:
            self._ask(replace(self._state, filters=filters), keep_preview=True)

    # -- why ---------------------------------------------------------------------------
    def _why_closed(self, dialog: object) -> None:
        if self.why_dialog is dialog:
            self.why_dialog = None

    def _why_requested(self, path: str) -> None:
        """Show how each part of ``path`` matches the query's shown photo (its region)."""
        state = self._state
        if state is None:
            return
        if self.why_dialog is not None:
            self.why_dialog.close()  # deleted on close
        dialog = WhyDialog(state.shown.name, path, self)  # type: ignore[arg-type]
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: self._why_closed(dialog))
        self.why_dialog = dialog
        query = state.explain_query()
        photo: Any = query.photo

        def query_image(_p: Any, _s: Any) -> Any:
            return crop_image(load_thumbnail(photo, WHY_IMAGE_SIZE), query.crop)

        def live() -> bool:  # closed dialogs are deleted: what arrives late is dropped
            return self.why_dialog is dialog and dialog.isVisible()

        def query_shown(image: Any) -> None:
            if live():
                dialog.query_pane.set_image(image)

        def result_shown(image: Any) -> None:
            if live():
                dialog.result_pane.set_image(image)

        pools = self.engine.pools
        pools.interactive_task(query_image, on_result=query_shown, on_error=lambda _e: None)
        pools.interactive_task(
            lambda _p, _s: load_thumbnail(path, WHY_IMAGE_SIZE),
            on_result=result_shown,
            on_error=lambda _e: None,
        )

        def shown(explanation: Explanation) -> None:
            if live():
                dialog.show_explanation(explanation)

        def failed(exc: BaseException) -> None:
            if live():
                dialog.show_error(advice.in_words(exc))

        self.engine.explain(query, path, on_result=shown, on_error=failed)
        dialog.show()
