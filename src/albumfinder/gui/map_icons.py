"""The Map page's line icons (zoom, fit, lasso, map, odd ones out): the desktop theme's
where it has one, else drawn on the 24 x 24 grid of gui/icons.py in the palette's text colour.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon

from albumfinder.gui import icons

# line icons on the 24 x 24 grid of gui/icons.py, drawn in the palette's text colour
_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{c}" '
    'stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">{body}</svg>'
)
_ICON_BODIES = {
    "zoom-in": '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l5 5M8 10.5h5M10.5 8v5"/>',
    "zoom-out": '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l5 5M8 10.5h5"/>',
    "zoom-fit": '<path d="M4 9V5.5A1.5 1.5 0 0 1 5.5 4H9M15 4h3.5A1.5 1.5 0 0 1 20 5.5V9'
    'M20 15v3.5a1.5 1.5 0 0 1-1.5 1.5H15M9 20H5.5A1.5 1.5 0 0 1 4 18.5V15"/>',
    "lasso": '<path d="M12 4.5c4.4 0 8 2.5 8 5.6s-3.6 5.6-8 5.6c-1.3 0-2.6-.2-3.7-.6"/>'
    '<path d="M5.4 13.6C4.5 12.6 4 11.4 4 10.1 4 7 7.6 4.5 12 4.5"/>'
    '<circle cx="6.5" cy="16" r="1.8"/><path d="M6.5 17.8c0 1.2-.6 2.2-1.6 2.7"/>',
    "map": '<circle cx="7" cy="8" r="2"/><circle cx="16.5" cy="7" r="1.6"/>'
    '<circle cx="12" cy="15.5" r="2.4"/><circle cx="18" cy="16" r="1.4"/>'
    '<circle cx="6" cy="17" r="1.2"/>',
    "odd": '<circle cx="7" cy="8" r="1.6"/><circle cx="11" cy="6.5" r="1.6"/>'
    '<circle cx="9.5" cy="11" r="1.6"/><circle cx="6" cy="13" r="1.6"/>'
    '<circle cx="17.5" cy="16.5" r="2.6"/>',
}


def map_svg(name: str, color: str) -> str:
    """The SVG text of icon ``name`` drawn in ``color``."""
    return _SVG.format(c=color, body=_ICON_BODIES[name])


def map_icon(name: str) -> QIcon:
    theme = {"zoom-in": "zoom-in", "zoom-out": "zoom-out", "zoom-fit": "zoom-fit-best"}.get(name)
    if theme and QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    svg = map_svg(name, icons.text_color().name())
    result = QIcon()
    for size in (16, 20, 24, 32):
        result.addPixmap(icons.svg_pixmap(svg, size, 1.0))
        result.addPixmap(icons.svg_pixmap(svg, size, 2.0))
    return result
