"""`albumfinder` (and `python -m albumfinder`): start the desktop app.

Only Qt and the light parts of the core are imported here, so the window shows at once;
torch is imported on a pool thread when the first model is loaded.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from albumfinder import runtime

APP_ID = "albumfinder"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The app's own options; anything else is an error (exit 2), never handed to Qt."""
    from albumfinder import __version__

    parser = argparse.ArgumentParser(
        prog="albumfinder", description="Album Finder: find look-alike photos in your album."
    )
    parser.add_argument("--version", action="version", version=f"albumfinder {__version__}")
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Album Finder to the desktop's application menu (Linux) and exit",
    )
    parser.add_argument("photo", nargs="?", help="a photo to find look-alikes of")
    return parser.parse_args(argv)


def create_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from albumfinder.gui import icons

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Album Finder")
    app.setOrganizationName("AlbumFinder")
    app.setApplicationDisplayName("Album Finder")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(icons.app_icon())
    return app


def open_library():
    """The album's :class:`Library` (opened on the calling thread; the app opens it on the
    album queue instead, see :func:`start_window`), or None after telling the user why it
    can't open."""
    from albumfinder.errors import AlbumFinderError
    from albumfinder.library import Library

    try:
        return Library()
    except (AlbumFinderError, OSError) as exc:
        _say_not_opened(exc)
        return None


def _say_not_opened(exc: BaseException) -> None:
    from PySide6.QtWidgets import QMessageBox

    from albumfinder.gui.plain_text import PLAIN

    box = QMessageBox(QMessageBox.Icon.Critical, "Album Finder", "")
    box.setTextFormat(PLAIN)  # the error names files: shown as written, never as markup
    box.setText(f"The photo index could not be opened.\n\n{exc}\n\nNothing was changed.")
    box.exec()


def start_window(photo: str | None = None):
    """The main window, shown at once; the index opens (and is checked) on the album queue,
    and the window's album actions are enabled when it is open. A failure to open it is
    told in a dialog, and the app then quits with status 1."""
    from PySide6.QtWidgets import QApplication

    from albumfinder.gui.drop_zone import QueryKind, QuerySource
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.library import Library

    window = MainWindow(Library)

    def not_opened(exc: BaseException) -> None:
        _say_not_opened(exc)
        QApplication.exit(1)

    window.engine.openFailed.connect(not_opened)
    window.show()
    if photo:
        import os

        window.find(QuerySource(QueryKind.PATH, os.path.abspath(photo), os.path.basename(photo)))
    return window


def main(argv: Sequence[str] | None = None) -> int:
    runtime.tune_process()  # before torch is imported
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop_entry:
        from albumfinder.gui.desktop_entry import install

        for line in install():
            print(line)
        return 0
    from albumfinder.gui.preflight import problem

    why = problem()
    if why is not None:
        print(why, file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_application([sys.argv[0]])
    from albumfinder.gui.crash import CrashHandler

    crash = CrashHandler()
    crash.install()
    window = start_window(args.photo)
    try:
        return app.exec()
    finally:
        crash.uninstall()
        if window.engine.library is not None:
            window.engine.library.close()


if __name__ == "__main__":
    raise SystemExit(main())
