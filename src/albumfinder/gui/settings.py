"""What the app remembers between runs (an ini file under :func:`paths.config_dir`).

The album's folders live in the index itself (see :class:`Library`); here: the model, the
number of results and the window geometry.

Every value is read through :meth:`Settings.value`: one that cannot be read (PySide refuses
a pickled Python object, and a damaged file can hold anything) is removed and its default
used, and :attr:`Settings.reset_keys` lists it so the window can say so; a bad value never
stops the app from starting.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from albumfinder import paths

log = logging.getLogger("albumfinder.gui")

DEFAULT_N = 10
MAX_N = 100


class Settings:
    def __init__(self) -> None:
        self.qsettings = QSettings(
            str(paths.config_dir() / "albumfinder.ini"), QSettings.Format.IniFormat
        )
        self.reset_keys: list[str] = []  # values that could not be read, reset this run

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    def value(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key``, or ``default`` (the value removed) when it cannot be
        read."""
        try:
            return self.qsettings.value(key, default)
        except Exception:  # noqa: BLE001 - whatever a bad value raises, the app starts
            log.warning("setting %s could not be read; reset", key, exc_info=True)
            self.qsettings.remove(key)
            if key not in self.reset_keys:
                self.reset_keys.append(key)
            return default

    @property
    def model(self) -> str:
        """The chosen model; before any choice, DINOv2 small if its weights are already here
        (our cache, the torch-hub cache a dinov2_retrieval user has), else the built-in one.
        Nothing is downloaded unasked: the model menu offers that."""
        from albumfinder.library import Library
        from albumfinder.models.registry import MODELS

        value = str(self.value("model", "") or "")
        if value in MODELS:
            return value
        return Library.default_model(allow_download=False)[0]

    @model.setter
    def model(self, name: str) -> None:
        self.qsettings.setValue("model", name)

    def model_path(self, name: str) -> str | None:
        value = self.value(f"weights/{name}", "")
        return str(value) if value else None

    def set_model_path(self, name: str, path: str | None) -> None:
        self.qsettings.setValue(f"weights/{name}", path or "")

    @property
    def n(self) -> int:
        try:
            value = int(self.value("results", DEFAULT_N))
        except (TypeError, ValueError):
            value = DEFAULT_N
        return max(1, min(MAX_N, value))

    @n.setter
    def n(self, value: int) -> None:
        self.qsettings.setValue("results", int(value))

    @property
    def geometry(self) -> QByteArray | None:
        value = self.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    @property
    def splitter(self) -> QByteArray | None:
        value = self.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @splitter.setter
    def splitter(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/splitter", value)

    def dialog_folder(self) -> str:
        """Where a file dialog starts: the folder last chosen from, else the user's
        Pictures folder, else home (never the working directory the app was started in)."""
        last = str(self.value("dialogs/folder", "") or "")
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
