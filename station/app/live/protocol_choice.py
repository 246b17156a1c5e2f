"""The protocol of the next test: Nordic (default) or isometric at a knee angle.

Chosen on the test screen before Start; stored with the test (``store.begin_test``)
and used by the live rep counter and the analysis, so an isometric test is counted
per leg.  The angle is one of the usual ones (0°, 30°, 60°, 90/90) or a custom
number, checked to be 0–180° before the test can start.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from station.analysis import AnalysisSettings
from station.store.errors import ValidationError
from station.store.protocols import TestProtocol, knee_angle_deg, position

CUSTOM = "custom"
# (label, angle, position it implies) in the order offered.
ANGLES: tuple[tuple[str, float | None, str | None], ...] = (
    ("0°", 0.0, None),
    ("30°", 30.0, None),
    ("60°", 60.0, None),
    ("90/90", 90.0, "90/90"),
    ("Custom…", None, None),
)
POSITIONS = ("prone", "supine", "seated", "standing", "90/90")


class ProtocolChoice(QWidget):
    """Protocol, knee angle and position of the next test."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.protocol_box = QComboBox()
        self.protocol_box.addItem("Nordic", "nordic_eccentric")
        self.protocol_box.addItem("Isometric", "isometric")
        self.protocol_box.setToolTip(
            "Nordic: bilateral eccentric reps. Isometric: each leg's contractions on their own "
            "(a rep may be left only, right only or both), at the knee angle chosen."
        )
        self.angle_box = QComboBox()
        for label, angle, _ in ANGLES:
            self.angle_box.addItem(label, CUSTOM if angle is None else angle)
        self.angle_box.setCurrentIndex(1)  # 30°
        self.angle_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.angle_box.setToolTip("Knee angle: 0° = knee straight; 90/90 = hip and knee at 90°")
        self.custom_angle = QLineEdit()
        self.custom_angle.setPlaceholderText("0–180")
        self.custom_angle.setMaximumWidth(70)
        self.custom_angle.setToolTip("Knee angle in degrees, 0 (straight) to 180")
        self.degrees = QLabel("°")
        self.position_box = QComboBox()
        self.position_box.setEditable(True)
        self.position_box.addItems(POSITIONS)
        self.position_box.setToolTip("The athlete's position (free text, at most 60 characters)")
        self.angle_caption = QLabel("Knee angle")
        self.position_caption = QLabel("Position")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Protocol"))
        row.addWidget(self.protocol_box)
        row.addSpacing(8)
        row.addWidget(self.angle_caption)
        row.addWidget(self.angle_box)
        row.addWidget(self.custom_angle)
        row.addWidget(self.degrees)
        row.addSpacing(8)
        row.addWidget(self.position_caption)
        row.addWidget(self.position_box)
        row.addStretch(1)

        self.protocol_box.currentIndexChanged.connect(self._refresh)
        self.angle_box.currentIndexChanged.connect(self._angle_chosen)
        self.custom_angle.textChanged.connect(lambda _t: self.changed.emit())
        self.position_box.currentTextChanged.connect(lambda _t: self.changed.emit())
        self._refresh()

    @property
    def is_isometric(self) -> bool:
        return self.protocol_box.currentData() == "isometric"

    def set_isometric(self, angle: float | str | None = 30.0, where: str = "prone") -> None:
        """Choose isometric at ``angle`` (a usual one is picked from the list, any other
        is typed as a custom angle)."""
        self.protocol_box.setCurrentIndex(1)
        usual = [a for _, a, _ in ANGLES]
        if isinstance(angle, int | float) and float(angle) in usual and where != "custom":
            self.angle_box.setCurrentIndex(usual.index(float(angle)))
        else:
            self.angle_box.setCurrentIndex(len(ANGLES) - 1)
            self.custom_angle.setText("" if angle is None else str(angle))
        self.position_box.setCurrentText(where)

    def set_nordic(self) -> None:
        self.protocol_box.setCurrentIndex(0)

    def selection(self) -> TestProtocol:
        """The checked choice; a custom angle that is not 0–180 raises ValidationError."""
        if not self.is_isometric:
            return TestProtocol()
        data = self.angle_box.currentData()
        if data == CUSTOM:
            text = self.custom_angle.text().strip()
            if not text:
                raise ValidationError("type the knee angle in degrees (0 to 180)")
            angle = knee_angle_deg(text.replace(",", ".").rstrip("°"))
        else:
            angle = float(data)
        return TestProtocol("isometric", angle, position(self.position_box.currentText()))

    def settings(self, base: AnalysisSettings | None) -> AnalysisSettings | None:
        """``base`` under the chosen protocol (None stays None for a valid Nordic choice);
        an invalid custom angle counts as no angle yet (the live view still works)."""
        try:
            chosen = self.selection()
        except ValidationError:
            chosen = TestProtocol("isometric")
        if not chosen.is_isometric and (base is None or not base.is_isometric):
            return base
        return chosen.settings(base)

    def _angle_chosen(self) -> None:
        implied = ANGLES[self.angle_box.currentIndex()][2]
        if implied:
            self.position_box.setCurrentText(implied)
        elif self.position_box.currentText() == "90/90":
            self.position_box.setCurrentText("prone")
        self._refresh()

    def _refresh(self) -> None:
        isometric = self.is_isometric
        for widget in (self.angle_caption, self.angle_box, self.position_caption):
            widget.setVisible(isometric)
        self.position_box.setVisible(isometric)
        custom = isometric and self.angle_box.currentData() == CUSTOM
        self.custom_angle.setVisible(custom)
        self.degrees.setVisible(custom)
        self.changed.emit()
