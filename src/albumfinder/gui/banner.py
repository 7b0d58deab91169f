"""An inline message at the top of the window: information, a warning or an error."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from albumfinder.gui import icons

_COLORS = {"info": "#2f7de1", "warning": "#d99a00", "error": "#d9453b"}
_ICONS = {"info": "info", "warning": "skipped", "error": "error"}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.level = "info"
        self.icon = QLabel()
        self.icon.setFixedSize(QSize(20, 20))
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setObjectName("bannerText")
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(icons.icon("close", theme=False))
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 6, 8)
        layout.setSpacing(10)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, level: str, text: str) -> None:
        self.level = level if level in _COLORS else "info"
        accent = QColor(_COLORS[self.level])
        base = self.palette().color(QPalette.ColorRole.Window)
        mix = 0.22 if base.lightness() < 128 else 0.13
        back = QColor(
            round(base.red() + (accent.red() - base.red()) * mix),
            round(base.green() + (accent.green() - base.green()) * mix),
            round(base.blue() + (accent.blue() - base.blue()) * mix),
        )
        self.setStyleSheet(
            f"#banner {{ background: {back.name()}; border: 1px solid {accent.name()}; "
            "border-radius: 8px; }"
        )
        self.icon.setPixmap(icons.pixmap(_ICONS[self.level], 20, accent))
        self.text.setText(text)
        self.show()

    def message(self) -> str:
        return self.text.text() if self.isVisible() else ""
