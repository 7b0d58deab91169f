"""What the app remembers between runs (an ini file under :func:`paths.config_dir`).

The album's folders live in the index itself (see :class:`Library`); here: the model, the
number of results and the window geometry.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from albumfinder import paths

DEFAULT_N = 10
MAX_N = 100


class Settings:
    def __init__(self) -> None:
        self.qsettings = QSettings(
            str(paths.config_dir() / "albumfinder.ini"), QSettings.Format.IniFormat
        )

    @property
    def model(self) -> str:
        """The chosen model; before any choice, DINOv2 small if its weights are already here
        (our cache, the torch-hub cache a dinov2_retrieval user has), else the built-in one.
        Nothing is downloaded unasked: the model menu offers that."""
        from albumfinder.models.registry import MODELS, get_spec
        from albumfinder.models.weights import find_weights

        value = str(self.qsettings.value("model", "") or "")
        if value in MODELS:
            return value
        return "dinov2-small" if find_weights(get_spec("dinov2-small")) else "builtin"

    @model.setter
    def model(self, name: str) -> None:
        self.qsettings.setValue("model", name)

    def model_path(self, name: str) -> str | None:
        value = self.qsettings.value(f"weights/{name}", "")
        return str(value) if value else None

    def set_model_path(self, name: str, path: str | None) -> None:
        self.qsettings.setValue(f"weights/{name}", path or "")

    @property
    def n(self) -> int:
        try:
            value = int(self.qsettings.value("results", DEFAULT_N))
        except (TypeError, ValueError):
            value = DEFAULT_N
        return max(1, min(MAX_N, value))

    @n.setter
    def n(self, value: int) -> None:
        self.qsettings.setValue("results", int(value))

    @property
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    @property
    def splitter(self) -> QByteArray | None:
        value = self.qsettings.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @splitter.setter
    def splitter(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/splitter", value)

    def dialog_folder(self) -> str:
        """Where a file dialog starts: the folder last chosen from, else the user's
        Pictures folder, else home (never the working directory the app was started in)."""
        last = str(self.qsettings.value("dialogs/folder", "") or "")
        if last and os.path.isdir(last):
            return last
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        if pictures and os.path.isdir(pictures):
            return pictures
        return os.path.expanduser("~")

    def remember_dialog_folder(self, chosen: str) -> None:
        """Remember the folder of ``chosen`` (a file, or a folder itself) for next time."""
        folder = chosen if os.path.isdir(chosen) else os.path.dirname(chosen)
        if folder:
            self.qsettings.setValue("dialogs/folder", folder)

    def sync(self) -> None:
        self.qsettings.sync()
