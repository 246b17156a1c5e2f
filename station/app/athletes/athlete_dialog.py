"""The add/edit athlete form.

It collects the store's athlete fields and returns them as a plain dict; the
store validates them (one rule, one place), and a validation error is shown in
the form so the user can correct it without retyping everything.  A new
athlete's lever arm starts at the clinic's default (Settings), which the
user may change or clear.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from station.app.shell.dialogs import user_message
from station.app.shell.widgets import Banner
from station.present.numbers import format_number
from station.store import validate
from station.store.errors import ValidationError

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


DAY_FIRST = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s*$")


class NumberField(QLineEdit):
    """A number typed as text: nothing is clamped silently, a wrong value is refused with a
    message when the form is saved."""

    def __init__(self, unit: str, placeholder: str = "not known") -> None:
        super().__init__()
        self.unit = unit
        self.setPlaceholderText(f"{placeholder} ({unit})")

    def setValue(self, value: float | None) -> None:  # noqa: N802 (the spin box's name)
        self.setText("" if not value else f"{value:g}")

    def value(self) -> float | None:
        """The number typed (None when empty); ValueError when it is not a number."""
        text = self.text().strip().replace(",", ".").removesuffix(self.unit).strip()
        return float(text) if text else None


def parse_day(text: str) -> str:
    """ "2001-05-04" from "2001-05-04", "4.5.2001" or "04/05/2001" (day first)."""
    match = DAY_FIRST.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return text.strip()


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
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD or DD.MM.YYYY (optional)")
        self.sex = _combo(SEX_CHOICES)
        self.sport = QLineEdit()
        self.team = QLineEdit()
        self.dominant_leg = _combo(LEG_CHOICES)
        self.body_mass = NumberField("kg")
        self.lever_arm = NumberField("m")
        self.lever_arm.setToolTip("Knee joint centre to the centre of the ankle hook, in metres")
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(80)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("External id", self.external_id)
        form.addRow("Date of birth", self.date_of_birth)
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
            self.date_of_birth.setText(dob.isoformat())
        _select(self.sex, athlete.sex)
        self.sport.setText(athlete.sport or "")
        self.team.setText(athlete.team or "")
        _select(self.dominant_leg, athlete.dominant_leg)
        self.body_mass.setValue(athlete.body_mass_kg)
        self.lever_arm.setValue(athlete.lever_arm_m)
        self.notes.setPlainText(athlete.notes or "")
        self._original_mass = athlete.body_mass_kg

    def _accept_if_named(self) -> None:
        if not self.name.text().strip():
            self.show_error("Enter the athlete's name.")
            self.name.setFocus()
            return
        try:
            self.values()
            self.body_mass_kg()
        except ValidationError as exc:
            self.show_error(user_message(exc))
            return
        self.accept()

    def show_error(self, message: str) -> None:
        self.banner.show_message(message[:1].upper() + message[1:], "error")

    def _number(self, field: NumberField, what: str, check: Any) -> float | None:
        try:
            value = field.value()
        except ValueError:
            field.setFocus()
            raise ValidationError(
                f"{what} {field.text().strip()!r} is not a number: type it in {field.unit}, "
                "e.g. 72.5"
            ) from None
        if value is None:
            return None
        try:
            return float(check(value))
        except ValidationError:
            field.setFocus()
            raise

    def values(self) -> dict[str, Any]:
        """The athlete's fields (empty text as None); ValidationError naming what is wrong
        (the store's own rules: a 900 kg body mass or a birth date in the future is refused,
        never silently changed)."""

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        born = self.date_of_birth.text().strip()
        try:
            date_of_birth: date | None = validate.date_of_birth(parse_day(born))
        except ValidationError:
            self.date_of_birth.setFocus()
            raise
        return {
            "name": self.name.text().strip(),
            "external_id": text(self.external_id),
            "date_of_birth": date_of_birth,
            "sex": self.sex.currentData() or None,
            "sport": text(self.sport),
            "team": text(self.team),
            "dominant_leg": self.dominant_leg.currentData() or None,
            "lever_arm_m": self._number(self.lever_arm, "lever arm", validate.lever_arm_m),
            "notes": self.notes.toPlainText().strip(),
        }

    def body_mass_kg(self) -> float | None:
        return self._number(self.body_mass, "body mass", validate.body_mass_kg)

    def body_mass_changed(self) -> bool:
        return self.body_mass_kg() != getattr(self, "_original_mass", None)
