"""The main window's model chooser: which model compares photos, getting its weights, and
the switch once the album is indexed for it (a part of the window's controller)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt

from albumfinder.library import Library
from albumfinder.models.registry import LISTED_MODELS, get_spec
from albumfinder.paths import downloads_off

if TYPE_CHECKING:
    from PySide6.QtWidgets import QComboBox, QLabel, QWidget

    from albumfinder.gui.engine import Engine
    from albumfinder.gui.model_dialog import WeightsDialog
    from albumfinder.gui.settings import Settings

MODEL_CHOICES = LISTED_MODELS  # the registry says which models are offered


class ModelControl:
    """Mixed into :class:`~albumfinder.gui.main_window.MainWindow` (it has the widgets)."""

    engine: Engine
    settings: Settings
    model_combo: QComboBox
    status_label: QLabel
    weights_dialog: WeightsDialog

    if TYPE_CHECKING:

        def _select_model_row(self, name: str) -> None: ...

    # -- models ------------------------------------------------------------------------
    def refresh_model_titles(self) -> None:
        """Each model's name in the chooser, with the size of its download while its
        weights are not here yet; its tip says what "auto" measured for it on this CPU."""
        measured = {row.name: row.calibration for row in Library.models()}
        for row in range(self.model_combo.count()):
            name = self.model_combo.itemData(row)
            spec = get_spec(name)
            ready = Library.weights_present(name, self.settings.model_path(name))
            if spec.traits.packaged:  # its weights ship with the app: a short title says so
                title = "Built-in (offline)"
            else:
                title = spec.title if ready else f"{spec.title} · download {spec.download_size}"
            tip = "Ready to use" if ready else f"Needs a one-time download of {spec.download_size}"
            if (calibration := measured.get(name)) is not None:
                tip += f"\nRuns on this CPU in {calibration.summary()}"
            self.model_combo.setItemText(row, title)
            self.model_combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)

    def _model_chosen(self) -> None:
        self.refresh_model_titles()  # weights may have come or gone since
        name = self.model_combo.currentData()
        path = self.settings.model_path(name)
        if not Library.weights_present(name, path):
            self.ask_for_weights(name)
            return
        self.select_model(name, path)

    def ask_for_weights(self, name: str, error: BaseException | None = None) -> None:
        """The weights dialog for ``name`` (with ``error``, what went wrong last time);
        the model is chosen once it has its weights."""
        from albumfinder.gui.model_dialog import WeightsDialog

        self.weights_dialog = dialog = WeightsDialog(
            self.engine,
            name,
            cast("QWidget", self),  # the window this is mixed into
            error=error,
        )

        def done(accepted: int) -> None:
            if not accepted:
                self._select_model_row(self.engine.model)
                if downloads_off():
                    self.status_label.setText(
                        "Offline: keeping the current model, which works as before."
                    )
                return
            self.settings.set_model_path(name, dialog.model_path)
            self.refresh_model_titles()
            self.select_model(name, dialog.model_path)

        dialog.finished.connect(done)
        dialog.open()

    def _on_weights_failed(self, name: str, path: str | None, exc: BaseException) -> None:
        """The weights of ``name`` did not work: a file the user chose is forgotten (or
        every later choice would fail the same way) and the weights dialog comes back."""
        if self.settings.model_path(name) == path:
            self.settings.set_model_path(name, None)
        shown = getattr(self, "weights_dialog", None)
        if shown is not None and shown.isVisible() and shown.spec.name == name:
            return  # asked already (two searches failed on the same weights)
        self.ask_for_weights(name, error=exc)

    def select_model(self, name: str, path: str | None = None) -> None:
        self.settings.qsettings.setValue("pending_model", name)
        self._select_model_row(name)
        if name == self.engine.model and path == self.engine.model_path:
            if self.engine.is_indexing:  # back to the current model: stop indexing the other
                self.engine.change_model(name, path)
            self.settings.model = name  # chosen, not just the first-launch default
            self.settings.qsettings.setValue("pending_model", "")
            return
        self.engine.change_model(name, path)
        self.status_label.setText(
            f"Indexing for {self.model_combo.currentText()}; the current model answers until "
            "it is ready."
        )

    def _on_model_changed(self, name: str) -> None:
        self.settings.model = name
        self.settings.qsettings.setValue("pending_model", "")
        self.refresh_model_titles()
        self._select_model_row(name)
        self.engine.refresh_folders()
