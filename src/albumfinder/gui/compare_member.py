"""One member of a duplicate group in the compare view: its photo, why line, facts and path."""

from __future__ import annotations

import os

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimeZone
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from albumfinder.gui.compare_canvas import PhotoCanvas, ViewState
from albumfinder.gui.duplicate_list import KEEP_COLOR, format_size
from albumfinder.gui.elided_label import ElidedLabel
from albumfinder.report import GroupMember


def taken_text(taken_ns: int) -> str:
    """When a photo was taken: ``taken_ns`` is a clock reading as it was shown where the
    photo was taken (no time zone: see albumfinder.photo_facts), so it is read, and
    shown, as UTC."""
    when = QDateTime.fromMSecsSinceEpoch(taken_ns // 1_000_000, QTimeZone.utc())
    return QLocale().toString(when, "d MMM yyyy HH:mm:ss")


def member_facts(member: GroupMember) -> str:
    """ "3.2 MB · 4000 × 3000 (12 MP) · 1 May 2023 14:03 · JPEG" """
    parts = [format_size(member.size)]
    if member.width and member.height:
        mp = member.width * member.height / 1e6
        parts.append(
            f"{member.width} × {member.height} ({mp:.1f} MP)"
            if mp >= 0.1
            else f"{member.width} × {member.height}"
        )
    if member.taken_ns is not None:
        parts.append(taken_text(member.taken_ns))
    extension = os.path.splitext(member.path)[1].lstrip(".").upper()
    if extension:
        parts.append(extension)
    return " · ".join(parts)


class MemberPanel(QWidget):
    """One side: the photo, then its why line, its facts and its path."""

    def __init__(self, state: ViewState, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{side}Member")
        self.canvas = PhotoCanvas(state)
        self.canvas.setObjectName(f"{side}Canvas")
        self.badge = QLabel()
        self.badge.setObjectName("keepBadge")
        self.why = ElidedLabel()
        self.why.setObjectName("memberWhy")
        why_font = QFont(self.why.font())
        why_font.setWeight(QFont.Weight.DemiBold)
        self.why.setFont(why_font)
        self.facts = ElidedLabel()
        self.facts.setObjectName("memberFacts")
        self.path = ElidedLabel()
        self.path.setObjectName("memberPath")
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        faint = self.path.palette()
        color = QColor(faint.color(QPalette.ColorRole.WindowText))
        color.setAlpha(160)
        faint.setColor(QPalette.ColorRole.WindowText, color)
        self.path.setPalette(faint)
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(self.badge, 0)
        head.addWidget(self.why, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.canvas, 1)
        layout.addSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.facts)
        layout.addWidget(self.path)
        self.member: GroupMember | None = None

    def show_member(self, member: GroupMember) -> None:
        self.member = member
        keep = member.keep
        color = KEEP_COLOR if keep else "#dc2626"
        self.badge.setText("KEEP" if keep else "TRASH")
        self.badge.setStyleSheet(
            f"QLabel#keepBadge {{ background: {color}; color: white; border-radius: 9px; "
            "padding: 1px 8px; font-weight: bold; }"
        )
        self.why.setText(member.why)
        self.facts.setText(member_facts(member))
        self.path.setText(member.path)
