"""Render src/albumfinder/resources/albumfinder.svg to the PNG sizes the desktop wants."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
RESOURCES = Path(__file__).resolve().parents[1] / "src" / "albumfinder" / "resources"


def main() -> int:
    _app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(RESOURCES / "albumfinder.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        image.save(str(RESOURCES / f"albumfinder-{size}.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
