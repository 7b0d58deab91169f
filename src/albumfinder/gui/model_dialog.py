"""Getting a DINOv2 model's weights: download them (with progress and cancel) or pick a
file the user already has. Offline it says so and the app keeps its current model."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.errors import DownloadCancelled
from albumfinder.gui.engine import Engine
from albumfinder.gui.plain_text import PLAIN
from albumfinder.gui.settings import Settings
from albumfinder.gui.workers import Task
from albumfinder.library import Library
from albumfinder.paths import downloads_off

OFFLINE_TEXT = (
    "Downloads are turned off (offline). Choose a weights file you have, or keep using the "
    "current model: it keeps working as before."
)
DETAIL_LINES = 5  # the Details box's height; longer texts scroll


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.0f} MB"


def _reason(exc: BaseException) -> str:
    """The words for people the core put on the error (its ``reason``), as a sentence."""
    text = str(getattr(exc, "reason", "") or "Something went wrong.").strip()
    return text if text.endswith((".", "!", "?")) else text + "."


class WeightsDialog(QDialog):
    """``exec()`` returns Accepted with :attr:`model_path` set (None: downloaded)."""

    def __init__(
        self,
        engine: Engine,
        model: str,
        parent: QWidget | None = None,
        error: BaseException | None = None,
    ) -> None:
        from albumfinder.models.registry import get_spec

        super().__init__(parent)
        self.engine = engine
        self.spec = get_spec(model)
        self.model_path: str | None = None
        self._task: Task[object] | None = None
        self.setWindowTitle(f"Get {self.spec.title}")
        self.setMinimumWidth(520)

        intro = QLabel(
            f"<b>{self.spec.title}</b> needs its weights file "
            f"(<code>{self.spec.weights_filename}</code>, about {self.spec.download_size}). "
            "Download it once, or choose the file if you already have it. On its first use "
            "Album Finder measures, in a few seconds, which mode runs it fastest on this "
            "computer (the model's tip in the list shows the figures)."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)  # our own words and the spec's names
        self.status = QLabel("")
        self.status.setTextFormat(PLAIN)  # error texts name files and servers
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setVisible(False)
        self.details_button.toggled.connect(self._show_details)
        self.details = QPlainTextEdit()
        self.details.setObjectName("weightsErrorDetails")
        self.details.setReadOnly(True)
        self.details.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.details.setFixedHeight(
            self.details.fontMetrics().lineSpacing() * DETAIL_LINES
            + 2 * int(self.details.document().documentMargin())
            + 2 * self.details.frameWidth()
        )
        self.details.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)

        self.download_button = QPushButton(f"Download ({self.spec.download_size})")
        self.choose_button = QPushButton("Choose a File…")
        self.cancel_button = QPushButton("Cancel")
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.download)
        self.choose_button.clicked.connect(self.choose)
        self.cancel_button.clicked.connect(self.cancel)
        if downloads_off():
            self.download_button.setEnabled(False)
            self.status.setText(OFFLINE_TEXT)
        self.status.setVisible(bool(self.status.text()))

        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.download_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        layout.addLayout(row)
        if error is not None:  # the weights in use failed: say so, ask again
            self._say(
                f"The weights for {self.spec.title} did not work. {_reason(error)} Download "
                "them again or choose another file; the current model keeps working."
                + (" Downloads are off (offline)." if downloads_off() else ""),
                str(error),
            )
        self._fit()

    # -- messages ----------------------------------------------------------------------
    def _say(self, text: str, detail: str = "") -> None:
        """``text`` for people; ``detail`` (the technical account) behind "Details"."""
        self.status.setText(text)
        self.status.setVisible(bool(text))  # no empty line's worth of space when silent
        self.details.setPlainText(detail)
        self.details_button.setVisible(bool(detail))
        if not detail:
            self.details_button.setChecked(False)
        self.details.setVisible(bool(detail) and self.details_button.isChecked())
        self._fit()

    def _show_details(self, shown: bool) -> None:
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        self.details.setVisible(shown and bool(self.details.toPlainText()))
        self._fit()

    def _fit(self) -> None:
        """Grow (or shrink) to the height the wrapped messages need at this width, so no
        text is clipped or drawn over another."""
        layout = self.layout()
        assert layout is not None  # set in __init__
        layout.activate()
        width = self.width() if self.isVisible() else self.minimumWidth()
        needed = layout.totalHeightForWidth(width)
        if needed < 0:
            needed = layout.totalSizeHint().height()
        self.setMinimumHeight(needed)
        self.resize(width, needed)

    # -- actions -----------------------------------------------------------------------
    def download(self) -> None:
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._say("Connecting…")
        self._task = self.engine.download(
            self.spec.name,
            on_progress=self._progress,
            on_result=self._downloaded,
            on_error=self._failed,
        )

    def _progress(self, value) -> None:
        done, total = value
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:,.0f} MB")
        if self.status.text() != "Downloading…":
            self._say("Downloading…")

    def _downloaded(self, _path) -> None:
        self._task = None
        self.model_path = None
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.progress.setVisible(False)
        self.choose_button.setEnabled(True)
        self.download_button.setEnabled(not downloads_off())
        if isinstance(exc, DownloadCancelled):
            self._say("Download cancelled.")
        else:
            self._say(
                f"{_reason(exc)} The current model keeps working. Try again later, or "
                "choose the file if you have it.",
                str(exc),
            )

    def choose(self) -> None:
        settings = Settings()
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Weights for {self.spec.title}",
            settings.dialog_folder(),
            f"PyTorch weights ({self.spec.weights_filename} *.pth *.pt);;All files (*)",
        )
        if path:
            settings.remember_dialog_folder(path)
            self.accept_file(path)

    def accept_file(self, path: str) -> None:
        if not Library.weights_present(self.spec.name, path):
            self._say(f"No weights file at {path}.")
            return
        self.model_path = path
        self.accept()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._say("Cancelling…")
            return
        self.reject()

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task.done.wait(5)
        super().reject()
