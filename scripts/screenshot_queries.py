"""Screenshots of the richer questions (issue 13): several photos together, a region of a
photo, and the Why overlay, light and dark (docs/screenshot-together*.png,
screenshot-region*.png, screenshot-why*.png). Same set-up as scripts/screenshot.py.

    python scripts/screenshot_queries.py            # both palettes (one process each)
    python scripts/screenshot_queries.py --dark     # just one
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot import ROOT, search_window, settle, wait_for  # noqa: E402


def shoot(dark: bool, home: Path) -> None:
    app, library, window, folders, query = search_window(dark, home)
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from albumfinder.gui.query_control import path_source
    from albumfinder.gui.result_strip import IMAGE_ROLE

    suffix = "-dark" if dark else ""
    docs = ROOT / "docs"

    def wait(condition, timeout: float, what: str) -> None:
        wait_for(app, condition, timeout, what)

    finished: list = []
    window.engine.indexFinished.connect(finished.append)
    for folder in folders:
        window.add_folder(str(folder))
    wait(lambda: finished and not window.engine.is_indexing, 600, "indexing")
    results: list = []
    window.searchFinished.connect(results.append)
    strip = window.strip

    def wait_results() -> None:
        wait(lambda: results, 120, "results")
        wait(
            lambda: all(strip.item(i).data(IMAGE_ROLE) is not None for i in range(strip.count())),
            60,
            "thumbnails",
        )
        settle(app)

    # several photos together: two butterflies from the album, one less-like
    butterflies = sorted((folders[0] / "butterfly").glob("*.jpg"))
    flamingo = sorted((folders[0] / "flamingo").glob("*.jpg"))
    if butterflies and flamingo:
        results.clear()
        window.find_together([path_source(str(p)) for p in butterflies[:3]])
        wait_results()
        results.clear()
        window._less_like_requested(str(flamingo[0]))
        wait_results()
        wait(lambda: all(c.image is not None for c in window.query_parts.chips), 30, "chips")
        settle(app)
        window.grab().save(str(docs / f"screenshot-together{suffix}.png"))

    # a region of one photo: the query photo, its middle drawn with the mouse
    results.clear()
    window.find(path_source(str(query)))
    wait_results()
    zone = window.drop_zone
    wait(lambda: not zone.photo_rect().isEmpty(), 30, "preview")
    shown = zone.photo_rect()
    start = QPoint(
        round(shown.left() + shown.width() * 0.22), round(shown.top() + shown.height() * 0.2)
    )
    end = QPoint(
        round(shown.left() + shown.width() * 0.78), round(shown.top() + shown.height() * 0.85)
    )
    results.clear()
    QTest.mousePress(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(zone, end)
    QTest.mouseRelease(zone, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    wait_results()
    window.grab().save(str(docs / f"screenshot-region{suffix}.png"))

    # why: the best result of the region query
    window._why_requested(strip.item(0).data(Qt.ItemDataRole.UserRole))
    dialog = window.why_dialog
    assert dialog is not None
    wait(lambda: dialog.result_pane.heat is not None, 60, "the explanation")
    wait(
        lambda: dialog.result_pane.image is not None and dialog.query_pane.image is not None,
        30,
        "photos",
    )
    settle(app)
    dialog.grab().save(str(docs / f"screenshot-why{suffix}.png"))
    print(f"saved the query screenshots{suffix}")
    dialog.close()
    window.close()
    library.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--light", action="store_true")
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.dark or args.light:
        shoot(args.dark, args.home or Path(tempfile.mkdtemp(prefix="albumfinder-shot-")))
        return 0
    with tempfile.TemporaryDirectory(prefix="albumfinder-shot-") as tmp:
        for flag in ("--light", "--dark"):
            subprocess.run(
                [sys.executable, __file__, flag, "--home", tmp], check=True, cwd=str(ROOT)
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
