"""An inline message at the top of the window: information, a warning or an error.

The text is always plain (never rich text): file names, addresses and error texts go into
it as they are, so a file called ``<font color=red>…</font>.jpg`` shows its name, not markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from albumfinder.gui import icons


class BannerLevel(str, Enum):
    """How much a banner's message matters (equal to its plain-string value)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


_COLORS = {
    BannerLevel.INFO: "#2f7de1",
    BannerLevel.WARNING: "#d99a00",
    BannerLevel.ERROR: "#d9453b",
}
_ICONS = {BannerLevel.INFO: "info", BannerLevel.WARNING: "skipped", BannerLevel.ERROR: "error"}

BannerAction = tuple[str, Callable[[], None]]  # a button's text and what it does


def tint(base: QColor, accent: QColor) -> QColor:
    """The banner's background: ``accent`` mixed into the window colour ``base``."""
    mix = 0.22 if base.lightness() < 128 else 0.13
    return QColor(
        round(base.red() + (accent.red() - base.red()) * mix),
        round(base.green() + (accent.green() - base.green()) * mix),
        round(base.blue() + (accent.blue() - base.blue()) * mix),
    )


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.level = BannerLevel.INFO
        self.sticky = False
        self.icon = QLabel()
        self.icon.setFixedSize(QSize(20, 20))
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setObjectName("bannerText")
        self.text.setMinimumWidth(120)
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(icons.icon("close", theme=False))
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        self.action_buttons: list[QToolButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 6, 8)
        self._layout.setSpacing(10)
        self._layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(self.text, 1)
        self._layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """Ask for the height the wrapped text needs at the width the banner has now: the
        splitter and the main window do not pass word wrap's height-for-width up, so without
        this a long message at a narrow width overlaps what lies below it."""
        needed = self._layout.heightForWidth(self.width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    def window_color(self) -> QColor:
        """The window colour under the banner: from the parent (or the application), never
        from the banner's own palette, which its style sheet has already tinted."""
        source = self.parentWidget()
        palette = source.palette() if source is not None else QApplication.palette()
        return palette.color(QPalette.ColorRole.Window)

    def show_message(
        self,
        level: BannerLevel | str,
        text: str,
        actions: Sequence[BannerAction] = (),
        *,
        sticky: bool = False,
    ) -> None:
        """Show ``text`` (plain text) at ``level``, with a button for each of ``actions``;
        ``sticky``: kept by :meth:`clear_transient` (an undo), until dismissed or replaced."""
        self.sticky = sticky
        known = {str(member.value) for member in BannerLevel}
        self.level = BannerLevel(level) if str(level) in known else BannerLevel.INFO
        accent = QColor(_COLORS[self.level])
        back = tint(self.window_color(), accent)
        self.setStyleSheet(
            f"#banner {{ background: {back.name()}; border: 1px solid {accent.name()}; "
            "border-radius: 8px; }"
        )
        self.icon.setPixmap(icons.pixmap(_ICONS[self.level], 20, accent))
        self.text.setText(text)
        self._set_actions(actions)
        self.show()
        self._fit_height()

    def clear_transient(self) -> None:
        """Hide a message that a new step makes stale (a search's error, a folder's note,
        a "could not be shown"), but not a sticky one ("Put back"): an undo must not vanish
        because the user went on searching. It stays until dismissed or replaced."""
        if not self.sticky:
            self.hide()

    def _set_actions(self, actions: Sequence[BannerAction]) -> None:
        for button in self.action_buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self.action_buttons = []
        for label, callback in actions:
            button = QToolButton()
            button.setText(label)
            button.clicked.connect(callback)
            self._layout.insertWidget(self._layout.indexOf(self.close_button), button)
            self._layout.setAlignment(button, Qt.AlignmentFlag.AlignVCenter)
            self.action_buttons.append(button)

    def message(self) -> str:
        return self.text.text() if self.isVisible() else ""
