"""The add/edit athlete form.

It collects the store's athlete fields and returns them as a plain dict; the
store validates them (one rule, one place), and a validation error is shown in
the form so the user can correct it without retyping everything.  A new
athlete's lever arm starts at the clinic's default (Settings), which the
user may change or clear.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from station.app.shell.widgets import Banner
from station.present.numbers import format_number

SEX_CHOICES = (("", "—"), ("female", "Female"), ("male", "Male"), ("other", "Other"))
LEG_CHOICES = (("", "—"), ("left", "Left"), ("right", "Right"))


def _combo(choices: tuple[tuple[str, str], ...]) -> QComboBox:
    box = QComboBox()
    for value, label in choices:
        box.addItem(label, value)
    return box


def _select(box: QComboBox, value: str | None) -> None:
    index = box.findData(value or "")
    box.setCurrentIndex(max(0, index))


class AthleteDialog(QDialog):
    """Add or edit one athlete; :meth:`values` are the store's field names."""

    def __init__(
        self,
        athlete: Any = None,
        parent: QWidget | None = None,
        default_lever_arm_m: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit athlete" if athlete is not None else "Add athlete")
        self.setMinimumWidth(480)
        self.banner = Banner()
        self.name = QLineEdit()
        self.name.setPlaceholderText("required")
        self.external_id = QLineEdit()
        self.external_id.setPlaceholderText("club or registry id (optional, unique)")
        self.dob_known = QCheckBox("known")
        self.date_of_birth = QDateEdit()
        self.date_of_birth.setDisplayFormat("yyyy-MM-dd")
        self.date_of_birth.setCalendarPopup(True)
        self.date_of_birth.setMaximumDate(QDate.currentDate())
        self.date_of_birth.setDate(QDate(2000, 1, 1))
        self.date_of_birth.setEnabled(False)
        self.dob_known.toggled.connect(self.date_of_birth.setEnabled)
        self.sex = _combo(SEX_CHOICES)
        self.sport = QLineEdit()
        self.team = QLineEdit()
        self.dominant_leg = _combo(LEG_CHOICES)
        self.body_mass = QDoubleSpinBox()
        self.body_mass.setRange(0.0, 300.0)
        self.body_mass.setDecimals(1)
        self.body_mass.setSuffix(" kg")
        self.body_mass.setSpecialValueText("not known")
        self.lever_arm = QDoubleSpinBox()
        self.lever_arm.setRange(0.0, 1.0)
        self.lever_arm.setDecimals(3)
        self.lever_arm.setSingleStep(0.01)
        self.lever_arm.setSuffix(" m")
        self.lever_arm.setSpecialValueText("not known")
        self.lever_arm.setToolTip("Knee joint centre to the centre of the ankle hook, in metres")
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(80)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("External id", self.external_id)
        dob_row = QWidget()
        dob_layout = QFormLayout(dob_row)
        dob_layout.setContentsMargins(0, 0, 0, 0)
        dob_layout.addRow(self.dob_known, self.date_of_birth)
        form.addRow("Date of birth", dob_row)
        form.addRow("Sex", self.sex)
        form.addRow("Sport", self.sport)
        form.addRow("Team", self.team)
        form.addRow("Dominant leg", self.dominant_leg)
        form.addRow("Body mass", self.body_mass)
        form.addRow("Lever arm", self.lever_arm)
        form.addRow("Notes", self.notes)
        hint = QLabel("Body mass gives N/kg; the lever arm gives torque (N·m).")
        hint.setObjectName("caption")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept_if_named)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        if athlete is not None:
            self._fill(athlete)
        elif default_lever_arm_m:
            self.lever_arm.setValue(default_lever_arm_m)
            hint.setText(
                hint.text() + f" The lever arm starts at the clinic's default "
                f"({format_number(default_lever_arm_m, 2)} m, Settings)."
            )
            hint.setWordWrap(True)

    def _fill(self, athlete: Any) -> None:
        self.name.setText(athlete.name or "")
        self.external_id.setText(athlete.external_id or "")
        if athlete.date_of_birth is not None:
            dob: date = athlete.date_of_birth
            self.dob_known.setChecked(True)
            self.date_of_birth.setDate(QDate(dob.year, dob.month, dob.day))
        _select(self.sex, athlete.sex)
        self.sport.setText(athlete.sport or "")
        self.team.setText(athlete.team or "")
        _select(self.dominant_leg, athlete.dominant_leg)
        self.body_mass.setValue(athlete.body_mass_kg or 0.0)
        self.lever_arm.setValue(athlete.lever_arm_m or 0.0)
        self.notes.setPlainText(athlete.notes or "")
        self._original_mass = athlete.body_mass_kg

    def _accept_if_named(self) -> None:
        if not self.name.text().strip():
            self.show_error("Enter the athlete's name.")
            self.name.setFocus()
            return
        self.accept()

    def show_error(self, message: str) -> None:
        self.banner.show_message(message, "error")

    def values(self) -> dict[str, Any]:
        """The athlete's fields (empty text as None; 0 kg / 0 m as not known)."""

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        dob = self.date_of_birth.date()
        return {
            "name": self.name.text().strip(),
            "external_id": text(self.external_id),
            "date_of_birth": date(dob.year(), dob.month(), dob.day())
            if self.dob_known.isChecked()
            else None,
            "sex": self.sex.currentData() or None,
            "sport": text(self.sport),
            "team": text(self.team),
            "dominant_leg": self.dominant_leg.currentData() or None,
            "lever_arm_m": self.lever_arm.value() or None,
            "notes": self.notes.toPlainText().strip(),
        }

    def body_mass_kg(self) -> float | None:
        return self.body_mass.value() or None

    def body_mass_changed(self) -> bool:
        return self.body_mass_kg() != getattr(self, "_original_mass", None)
