"""The Map page: the album laid out by what its photos look like (:class:`MapCanvas`), with
its toolbar (Refresh, the folder filter, Odd Ones Out, the lasso, zoom), the progress of the
layout with Cancel, a bar for the lassoed photos and a side list (:class:`PhotoListView`) for
the odd ones out or the lassoed photos.

:class:`MapPage` (map_page_view.py) is the view (widgets, layout, no decision);
:class:`MapController` (map_controller.py) talks to the core through ``Library.album_map``
and ``Library.outliers`` on the window's interactive pool (never the GUI thread), and to the
window for queries, opening and revealing. :func:`attach_map_page` wires both into a main
window (one call there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from albumfinder.gui.map_controller import MapController
from albumfinder.gui.map_page_view import MapPage

if TYPE_CHECKING:
    from albumfinder.gui.main_window import MainWindow


def attach_map_page(window: MainWindow) -> MapPage:
    """The Map page for ``window``, wired to its engine, its search and its folder list."""
    page = MapPage(window.thumbnails)
    page.controller = MapController(window, page)
    window.library_panel.oddOnesOutRequested.connect(page.controller.show_outliers)
    return page
