"""Forms say what is wrong instead of silently changing it (issue 11 §4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.app.athletes.athlete_dialog import AthleteDialog
from station.app.shell.dialogs import ReasonDialog
from station.store.errors import ValidationError

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot: Any) -> AthleteDialog:
    made = AthleteDialog()
    qtbot.addWidget(made)
    made.name.setText("Ada Form")
    return made


def test_900_kg_is_refused_with_a_message(dialog: AthleteDialog) -> None:
    dialog.body_mass.setText("900")
    dialog._accept_if_named()
    assert dialog.result() != AthleteDialog.DialogCode.Accepted
    assert dialog.banner.isVisibleTo(dialog)
    assert "Body mass 900" in dialog.banner.text() and "at most 400" in dialog.banner.text()
    with pytest.raises(ValidationError):
        dialog.body_mass_kg()
    dialog.body_mass.setText("seventy")
    with pytest.raises(ValidationError, match="not a number"):
        dialog.body_mass_kg()
    dialog.body_mass.setText("72,5")  # a decimal comma is a number too
    assert dialog.body_mass_kg() == 72.5


def test_a_future_birth_date_is_refused_and_typing_works(dialog: AthleteDialog) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    dialog.date_of_birth.setText(tomorrow.isoformat())
    dialog._accept_if_named()
    assert "in the future" in dialog.banner.text()
    assert dialog.result() != AthleteDialog.DialogCode.Accepted
    for typed in ("2001-05-04", "4.5.2001", "04/05/2001"):
        dialog.date_of_birth.setText(typed)
        assert dialog.values()["date_of_birth"] == dt.date(2001, 5, 4), typed
    dialog.date_of_birth.setText("")
    assert dialog.values()["date_of_birth"] is None
    dialog.date_of_birth.setText("2001-05-04")
    dialog._accept_if_named()
    assert dialog.result() == AthleteDialog.DialogCode.Accepted


def test_the_exclude_dialog_says_a_reason_is_needed(qtbot: Any) -> None:
    asked = ReasonDialog("Exclude rep 2", "Why is rep 2 excluded?")
    qtbot.addWidget(asked)
    asked.show()
    assert not asked.ok_button.isEnabled()
    assert asked.needed.isVisible() and "reason is needed" in asked.needed.text()
    qtbot.keyClicks(asked.text, "athlete slipped")
    assert asked.ok_button.isEnabled() and not asked.needed.isVisible()
    asked.text.clear()
    assert not asked.ok_button.isEnabled() and asked.needed.isVisible()
    qtbot.mouseClick(asked.ok_button, Qt.MouseButton.LeftButton)
    assert asked.result() != ReasonDialog.DialogCode.Accepted
