"""Record an injury as data: side, date, muscle or region, grade, return to play, a note.

The store checks every value (:mod:`station.store.injury_records`); a refusal
is shown in the form, which stays open with what was typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from station.app.athletes.athlete_dialog import parse_day
from station.app.shell.widgets import Banner
from station.store.injury_records import REGIONS

SIDES = (("left", "Left"), ("right", "Right"), ("both", "Both"))


class InjuryDialog(QDialog):
    """The fields of one injury; :meth:`values` are the store's ``add_injury`` arguments."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add injury")
        self.setMinimumWidth(440)
        self.banner = Banner()
        self.side = QComboBox()
        for value, label in SIDES:
            self.side.addItem(label, value)
        self.occurred_on = QLineEdit()
        self.occurred_on.setPlaceholderText("YYYY-MM-DD or DD.MM.YYYY")
        self.region = QComboBox()
        self.region.setEditable(True)
        self.region.addItem("")
        self.region.addItems(REGIONS)
        self.grade = QLineEdit()
        self.grade.setPlaceholderText("e.g. 1, 2b (optional)")
        self.return_to_play = QLineEdit()
        self.return_to_play.setPlaceholderText("the day of full return (optional)")
        self.note = QLineEdit()
        form = QFormLayout()
        form.addRow("Leg", self.side)
        form.addRow("Date", self.occurred_on)
        form.addRow("Muscle or region", self.region)
        form.addRow("Grade", self.grade)
        form.addRow("Return to play", self.return_to_play)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def show_error(self, message: str) -> None:
        self.banner.show_message(message[:1].upper() + message[1:], "error")

    def values(self) -> dict[str, Any]:
        def day(edit: QLineEdit) -> str | None:
            return parse_day(edit.text()) or None

        return {
            "side": self.side.currentData(),
            "on": day(self.occurred_on),
            "note": self.note.text().strip() or None,
            "region": self.region.currentText().strip() or None,
            "grade": self.grade.text().strip() or None,
            "return_to_play": day(self.return_to_play),
        }
