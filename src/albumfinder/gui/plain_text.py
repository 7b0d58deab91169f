"""Text the user owns (file and folder names, web addresses, error texts) shown letter for
letter, never as markup (issue 10.8: a file named ``<font size=7>ALL PHOTOS DELETED`` must
not style the window).

Labels that show such text are set to :data:`PLAIN`. A tooltip has no text format: Qt renders
one that looks like rich text as HTML, so :func:`tooltip` escapes it.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace

PLAIN = Qt.TextFormat.PlainText


def tooltip(text: str) -> str:
    """``text`` as a tooltip that shows it as written: unchanged when Qt would show it as
    plain text anyway, else escaped HTML that keeps its line breaks."""
    if not QtGuiNamespace.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre'>{html.escape(text, quote=False)}</p>"
