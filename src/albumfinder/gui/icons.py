"""Icons: the desktop theme's where it has them, else crisp line icons drawn from SVG in
the palette's text colour (so they suit light and dark mode alike)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

_STROKE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{c}" '
    'stroke-width="{w}" stroke-linecap="round" stroke-linejoin="round">{body}</svg>'
)

# name: (freedesktop theme name, SVG body on a 24 x 24 grid)
_ICONS: dict[str, tuple[str, str]] = {
    "folder-add": (
        "folder-new",
        '<path d="M3 7.5A1.5 1.5 0 0 1 4.5 6H9l2 2h8.5A1.5 1.5 0 0 1 21 9.5v8A1.5 1.5 0 0 1 '
        '19.5 19h-15A1.5 1.5 0 0 1 3 17.5z"/><path d="M12 11v5M9.5 13.5h5"/>',
    ),
    "folder": (
        "folder",
        '<path d="M3 7.5A1.5 1.5 0 0 1 4.5 6H9l2 2h8.5A1.5 1.5 0 0 1 21 9.5v8A1.5 1.5 0 0 1 '
        '19.5 19h-15A1.5 1.5 0 0 1 3 17.5z"/>',
    ),
    "remove": ("list-remove", '<path d="M6 12h12"/>'),
    "rescan": (
        "view-refresh",
        '<path d="M20 11a8 8 0 0 0-14.3-4.5L4 8.5"/><path d="M4 4v4.5h4.5"/>'
        '<path d="M4 13a8 8 0 0 0 14.3 4.5L20 15.5"/><path d="M20 20v-4.5h-4.5"/>',
    ),
    "open": (
        "document-open",
        '<rect x="3.5" y="4.5" width="17" height="15" rx="2"/><circle cx="9" cy="9.5" r="1.6"/>'
        '<path d="M20.5 15l-4.5-4.5L6 19.5"/>',
    ),
    "paste": (
        "edit-paste",
        '<rect x="5" y="4.5" width="14" height="16" rx="2"/><path d="M9 4.5V3.8A.8.8 0 0 1 9.8 '
        '3h4.4a.8.8 0 0 1 .8.8v.7"/><path d="M9 11h6M9 15h4"/>',
    ),
    "skipped": (
        "dialog-warning",
        '<path d="M12 3.5l9 16H3z"/><path d="M12 10v4"/><circle cx="12" cy="17" r=".6"/>',
    ),
    "info": ("dialog-information", '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.1"/>'),
    "error": ("dialog-error", '<circle cx="12" cy="12" r="9"/><path d="M9 9l6 6M15 9l-6 6"/>'),
    "close": ("window-close", '<path d="M7 7l10 10M17 7L7 17"/>'),
    "cancel": (
        "process-stop",
        '<circle cx="12" cy="12" r="8.5"/><path d="M9.5 9.5l5 5M14.5 9.5l-5 5"/>',
    ),
    "reveal": (
        "folder-open",
        '<path d="M3 17.5v-10A1.5 1.5 0 0 1 4.5 6H9l2 2h7.5A1.5 1.5 0 0 1 20 9.5V11"/>'
        '<path d="M3 17.5L5.6 12a1.5 1.5 0 0 1 1.4-1h13.3a1 1 0 0 1 .9 1.4l-2.4 5.7a1.5 1.5 0 0 '
        '1-1.4.9H4.5A1.5 1.5 0 0 1 3 17.5z"/>',
    ),
    "copy": (
        "edit-copy",
        '<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V5.5A1.5 1.5 0 0 0 14.5 '
        '4h-9A1.5 1.5 0 0 0 4 5.5v9A1.5 1.5 0 0 0 5.5 16H8"/>',
    ),
    "search": (
        "edit-find",
        '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l5 5"/>',
    ),
    "model": (
        "preferences-system",
        '<rect x="6" y="6" width="12" height="12" rx="2"/><rect x="9.5" y="9.5" width="5" '
        'height="5" rx="1"/><path d="M9 3v3M15 3v3M9 18v3M15 18v3M3 9h3M3 15h3M18 9h3M18 15h3"/>',
    ),
    "photo": (
        "image-x-generic",
        '<rect x="3" y="4.5" width="18" height="15" rx="2.5"/><circle cx="8.5" cy="9.5" r="1.8"/>'
        '<path d="M21 15.5l-5-5-9.5 9"/>',
    ),
}


def text_color() -> QColor:
    app = QGuiApplication.instance()
    palette = QGuiApplication.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorRole.WindowText)


def svg_pixmap(svg: str | bytes, size: int, dpr: float = 2.0) -> QPixmap:
    data = svg.encode() if isinstance(svg, str) else svg
    renderer = QSvgRenderer(QByteArray(data))
    side = max(1, round(size * dpr))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def line_svg(name: str, color: QColor | str | None = None, width: float = 1.6) -> str:
    c = QColor(color) if color is not None else text_color()
    return _STROKE.format(c=c.name(), w=width, body=_ICONS[name][1])


def icon(name: str, color: QColor | str | None = None, theme: bool = True) -> QIcon:
    """The named icon: the desktop theme's, or ours drawn in ``color`` (default: text)."""
    theme_name, _body = _ICONS[name]
    if theme and QIcon.hasThemeIcon(theme_name):
        return QIcon.fromTheme(theme_name)
    svg = line_svg(name, color)
    result = QIcon()
    for size in (16, 20, 24, 32, 48, 64):
        result.addPixmap(svg_pixmap(svg, size, 1.0))
        result.addPixmap(svg_pixmap(svg, size, 2.0))
    return result


def pixmap(name: str, size: int, color: QColor | str | None = None, dpr: float = 2.0) -> QPixmap:
    return svg_pixmap(line_svg(name, color, width=1.3 if size >= 48 else 1.6), size, dpr)


def app_icon() -> QIcon:
    """Album Finder's own icon (SVG plus PNG sizes shipped in albumfinder/resources)."""
    result = QIcon()
    folder = resources.files("albumfinder") / "resources"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = folder / f"albumfinder-{size}.png"
        if png.is_file():
            result.addFile(str(png))
    svg = folder / "albumfinder.svg"
    if result.isNull() and svg.is_file():
        result.addFile(str(svg))
    return result
