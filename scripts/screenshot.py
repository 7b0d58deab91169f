"""Screenshots of the real app: docs/screenshot.png (light) and docs/screenshot-dark.png.

Starts the app offscreen with a private ALBUMFINDER_HOME, adds sample photos
(../shared/data/caltech101-subset if present, else generated ones), indexes them with the
built-in model, drops a photo on the drop zone the way a file manager does, waits for the
results and their thumbnails, and saves the window at devicePixelRatio 2.

    python scripts/screenshot.py            # both palettes (one process each)
    python scripts/screenshot.py --dark     # just one
    python scripts/screenshot.py --page duplicates   # docs/screenshot-duplicates/-compare
    python scripts/screenshot.py --page map # the Map page: docs/screenshot-map(-dark).png
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the sample photos: ../shared beside the checkout (a worktree's is one level further up)
SAMPLES = next(
    (
        base / "shared" / "data" / "caltech101-subset" / "images"
        for base in (ROOT.parent, ROOT.parent.parent)
        if (base / "shared" / "data" / "caltech101-subset" / "images").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "caltech101-subset" / "images",
)
ALBUM = {
    "Holidays": ["butterfly", "flamingo", "dolphin", "starfish"],
    "Garden": ["sunflower", "lotus", "bonsai"],
}
QUERY = ("butterfly", "image_0022.jpg")  # not among the 18 copied: a new photo


def make_album(base: Path) -> tuple[list[Path], Path]:
    folders = []
    if SAMPLES.is_dir():
        for album, categories in ALBUM.items():
            for category in categories:
                src = SAMPLES / category
                dst = base / album / category
                dst.mkdir(parents=True, exist_ok=True)
                for photo in sorted(src.glob("*.jpg"))[:18]:
                    shutil.copy2(photo, dst / photo.name)
            folders.append(base / album)
        query = base / "query.jpg"
        shutil.copy2(SAMPLES / QUERY[0] / QUERY[1], query)
        return folders, query
    sys.path.insert(0, str(ROOT / "tests"))
    from photo_factory import make_album as generate
    from photo_factory import make_photo

    folders = [base / "Holidays", base / "Garden"]
    generate(folders[0], 30, 100)
    generate(folders[1], 30, 200)
    query = base / "query.jpg"
    make_photo(105).save(query, quality=90)
    return folders, query


#: The Map page's album: every sample category, in four album folders.
MAP_ALBUM = {
    "Animals": ["Leopards", "butterfly", "dalmatian", "dolphin", "elephant", "flamingo",
                "hawksbill", "kangaroo", "llama", "starfish"],
    "Travel": ["Motorbikes", "airplanes", "car_side", "helicopter", "ketch", "umbrella"],
    "Home": ["chandelier", "electric_guitar", "grand_piano", "laptop", "pizza", "watch"],
    "Garden": ["bonsai", "lotus", "sunflower"],
}  # fmt: skip
MAP_HOVER = ("Motorbikes", "image_0001.jpg")  # the group the pointer rests on
MAP_ODD_FOLDER = "Garden"  # the folder whose odd ones out are listed


def make_map_album(base: Path) -> list[Path]:
    if not SAMPLES.is_dir():
        sys.path.insert(0, str(ROOT / "tests"))
        from photo_factory import make_album as generate

        folders = [base / name for name in MAP_ALBUM]
        for k, folder in enumerate(folders):
            generate(folder, 40, 100 * (k + 1))
        return folders
    folders = []
    for album, categories in MAP_ALBUM.items():
        for category in categories:
            dst = base / album / category
            dst.mkdir(parents=True, exist_ok=True)
            for photo in sorted((SAMPLES / category).glob("*.jpg")):
                shutil.copy2(photo, dst / photo.name)
        folders.append(base / album)
    return folders


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#17181a",
        role.AlternateBase: "#26272b",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Text: "#e8eaed",
        role.Button: "#2b2c30",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ffffff",
        role.Highlight: "#3b82f6",
        role.HighlightedText: "#ffffff",
        role.Link: "#8ab4f8",
        role.Mid: "#3c4043",
        role.Dark: "#151618",
        role.Light: "#3c4043",
        role.Shadow: "#000000",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#80868b"))
    return p


def offscreen_env(albumfinder_home: Path) -> None:
    """Offscreen Qt at 2x, a private index under ``albumfinder_home``, no downloads."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("QT_SCALE_FACTOR", "2")
    os.environ["ALBUMFINDER_HOME"] = str(albumfinder_home)
    os.environ.setdefault("ALBUMFINDER_OFFLINE", "1")


def setup_app(dark: bool):
    """The app as the screenshots show it: Fusion, DejaVu Sans 10, the light or dark palette."""
    from PySide6.QtGui import QFont, QPalette

    from albumfinder.gui.app import create_application

    app = create_application([sys.argv[0]])
    app.setStyle("Fusion")
    app.setFont(QFont("DejaVu Sans", 10))
    if dark:
        app.setPalette(dark_palette())
    else:
        palette = app.style().standardPalette()
        palette.setColor(QPalette.ColorRole.Highlight, "#2f6fdf")
        app.setPalette(palette)
    return app


def wait_for(app, condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def shoot_map(dark: bool, home: Path, out: Path, size: tuple[int, int] = (1280, 800)) -> None:
    """The Map page of the sample album: the whole map, the pointer on a photo (its
    preview), and the odd ones out of one folder beside it."""
    offscreen_env(home / "albumfinder-home-map")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication, QWidget

    from albumfinder.gui.app import open_library
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.gui.map_style import PREVIEW

    app = setup_app(dark)
    folders = make_map_album(home / "Pictures-map")
    library = open_library()
    window = MainWindow(library)
    window.resize(*size)  # "min": the window's minimum size
    window.show()
    if size == (0, 0):
        window.resize(window.minimumSizeHint())
    wait_for(app, lambda: window.engine.is_open, 60, "the index to open")
    finished: list = []
    window.engine.indexFinished.connect(finished.append)
    for folder in folders:
        window.add_folder(str(folder))
    wait_for(app, lambda: finished and not window.engine.is_indexing, 900, "indexing")
    wait_for(app, lambda: window.library_panel.list.count() == len(folders), 30, "folders")
    page = window.findChild(QWidget, "mapPage")
    controller, canvas = page.controller, page.canvas
    maps: list = []
    controller.mapReady.connect(maps.append)
    window.show_page("map")
    wait_for(app, lambda: maps and page.showing_map, 600, "the map")
    odd: list = []
    controller.outliersReady.connect(odd.append)
    odd_folder = next((f for f in folders if f.name == MAP_ODD_FOLDER), folders[-1])
    controller.show_outliers(str(odd_folder))
    wait_for(app, lambda: odd, 120, "the odd ones out")
    settle(app)
    canvas.fit()
    # the pointer on the pile (zoomed out) or the photo of the MAP_HOVER category
    piles = [(rect, canvas.paths[top[-1]]) for _id, rect, top in canvas.piles()]
    wanted = [p for p in piles if f"/{MAP_HOVER[0]}/" in p[1]] or piles
    if wanted:
        rect, hover = wanted[0]
        at = rect.center()
    else:
        hover = next((p.path for p in maps[-1].points if p.path.endswith("/".join(MAP_HOVER))),
                     maps[-1].points[0].path)  # fmt: skip
        at = canvas.position_of(hover)
    move = QMouseEvent(QMouseEvent.Type.MouseMove, at, canvas.mapToGlobal(at),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(canvas, move)
    wait_for(app, lambda: bool(canvas.hovered_path), 10, "the hover")
    hover = canvas.hovered_path  # (another pile may lie on top of the one aimed at)
    wait_for(app, lambda: window.thumbnails.cached(hover, PREVIEW) is not None, 30, "preview")
    lv = page.list_view
    wait_for(app, lambda: all(window.thumbnails.cached(p, 72) is not None for p in lv.paths()),
             60, "the list's thumbnails")  # fmt: skip
    settle(app, 0.6)
    out.parent.mkdir(parents=True, exist_ok=True)
    shot = window.grab()
    shot.save(str(out))
    print(f"{out} ({shot.devicePixelRatio():.0f}x)")
    window.close()
    library.close()


def search_window(dark: bool, home: Path):
    """The real window over a fresh home, its index open, and the sample album made (not
    added yet): (app, library, window, album folders, the query photo)."""
    offscreen_env(home / "albumfinder-home")
    from albumfinder.gui.app import open_library
    from albumfinder.gui.main_window import MainWindow

    app = setup_app(dark)
    folders, query = make_album(home / "Pictures")
    library = open_library()
    window = MainWindow(library)
    window.resize(1200, 760)
    window.show()
    wait_for(app, lambda: window.engine.is_open, 60, "the index to open")
    return app, library, window, folders, query


def shoot(dark: bool, home: Path, out: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from albumfinder.gui.result_strip import IMAGE_ROLE

    app, library, window, folders, query = search_window(dark, home)

    def wait(condition, timeout: float, what: str) -> None:
        wait_for(app, condition, timeout, what)

    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)
    if not dark:  # the empty state, then the busy state
        window.grab().save(str(out.with_name("screenshot-empty.png")))
    finished, busy = [], []
    window.engine.indexFinished.connect(finished.append)

    def on_progress(event) -> None:
        if not dark and not busy and event.phase == "embedding" and event.done >= 40:
            busy.append(window.grab())

    window.engine.indexProgress.connect(on_progress)
    for folder in folders:
        window.add_folder(str(folder))
    wait(lambda: finished and not window.engine.is_indexing, 600, "indexing")
    if busy:
        busy[0].save(str(out.with_name("screenshot-indexing.png")))
    time.sleep(0.3)
    app.processEvents()
    wait(lambda: window.library_panel.list.count() == len(folders), 30, "folder list")

    results = []
    window.searchFinished.connect(results.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(query))])
    zone = window.drop_zone
    center = QPointF(zone.width() / 2, zone.height() / 2)
    with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            center.toPoint(),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier(0),
        )
    QApplication.sendEvent(zone, enter)
    event = QDropEvent(
        center, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier(0)
    )
    QApplication.sendEvent(zone, event)
    wait(lambda: results, 120, "results")
    wait(lambda: zone.has_photo, 30, "preview")
    strip = window.strip
    wait(
        lambda: all(strip.item(i).data(IMAGE_ROLE) is not None for i in range(strip.count())),
        60,
        "thumbnails",
    )
    window.library_panel.list.setCurrentRow(0)
    strip.setFocus()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"{out} ({window.grab().devicePixelRatio():.0f}x)")
    window.close()
    library.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--light", action="store_true")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--page", choices=["search", "duplicates", "map"], default="search")
    parser.add_argument("--out", type=Path, help="where to save it (default: docs/)")
    parser.add_argument("--size", help="the Map page's window size: WxH, or min")
    args = parser.parse_args()
    docs = ROOT / "docs"
    if args.page == "duplicates":  # its own script; the same flags
        flags = [f for f in ("--dark", "--light") if getattr(args, f[2:])]
        script = ROOT / "scripts" / "screenshot_duplicates.py"
        return subprocess.run([sys.executable, str(script), *flags], cwd=str(ROOT)).returncode
    if args.dark or args.light:
        home = args.home or Path(tempfile.mkdtemp(prefix="albumfinder-shot-"))
        stem = "screenshot-map" if args.page == "map" else "screenshot"
        name = f"{stem}-dark.png" if args.dark else f"{stem}.png"
        if args.page == "map":
            size = (0, 0) if args.size == "min" else (1280, 800)
            if args.size and args.size != "min":
                width, height = args.size.lower().split("x")
                size = (int(width), int(height))
            shoot_map(args.dark, home, (args.out or docs) / name, size)
        else:
            shoot(args.dark, home, (args.out or docs) / name)
        return 0
    with tempfile.TemporaryDirectory(prefix="albumfinder-shot-") as tmp:
        for flag in ("--light", "--dark"):  # one process each: a palette is set at start
            command = [sys.executable, __file__, flag, "--home", tmp, "--page", args.page]
            if args.out:
                command += ["--out", str(args.out)]
            subprocess.run(command, check=True, cwd=str(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
