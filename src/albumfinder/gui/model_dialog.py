"""Getting a DINOv2 model's weights: download them (with progress and cancel) or pick a
file the user already has. Offline it says so and the app keeps its current model."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui.engine import Engine
from albumfinder.paths import downloads_off


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.0f} MB"


class WeightsDialog(QDialog):
    """``exec()`` returns Accepted with :attr:`model_path` set (None: downloaded)."""

    def __init__(self, engine: Engine, model: str, parent: QWidget | None = None) -> None:
        from albumfinder.models.registry import get_spec

        super().__init__(parent)
        self.engine = engine
        self.spec = get_spec(model)
        self.model_path: str | None = None
        self._task = None
        self.setWindowTitle(f"Get {self.spec.title}")
        self.setMinimumWidth(480)

        intro = QLabel(
            f"<b>{self.spec.title}</b> needs its weights file "
            f"(<code>{self.spec.weights_filename}</code>, about {_mb(self.spec.weights_bytes)}). "
            "Download it once, or choose the file if you already have it."
        )
        intro.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)

        self.download_button = QPushButton(f"Download ({_mb(self.spec.weights_bytes)})")
        self.choose_button = QPushButton("Choose a File…")
        self.cancel_button = QPushButton("Cancel")
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.download)
        self.choose_button.clicked.connect(self.choose)
        self.cancel_button.clicked.connect(self.cancel)
        if downloads_off():
            self.download_button.setEnabled(False)
            self.status.setText(
                "Downloads are turned off (offline). Choose a weights file you have, or keep "
                "using the current model: it keeps working as before."
            )

        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.download_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(row)

    # -- actions -----------------------------------------------------------------------
    def download(self) -> None:
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("Connecting…")
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
        self.status.setText("Downloading…")

    def _downloaded(self, _path) -> None:
        self._task = None
        self.model_path = None
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from albumfinder.models.weights import DownloadCancelled

        self._task = None
        self.progress.setVisible(False)
        self.choose_button.setEnabled(True)
        self.download_button.setEnabled(not downloads_off())
        if isinstance(exc, DownloadCancelled):
            self.status.setText("Download cancelled.")
        else:
            self.status.setText(
                f"The download did not work: {exc}. You are probably offline; the current "
                "model keeps working. Try again later or choose a file."
            )

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Weights for {self.spec.title}",
            "",
            f"PyTorch weights ({self.spec.weights_filename} *.pth *.pt);;All files (*)",
        )
        if path:
            self.accept_file(path)

    def accept_file(self, path: str) -> None:
        from albumfinder.models.weights import find_weights

        if find_weights(self.spec, path) is None:
            self.status.setText(f"No weights file at {path}.")
            return
        self.model_path = path
        self.accept()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.status.setText("Cancelling…")
            return
        self.reject()

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task.done.wait(5)
        super().reject()
