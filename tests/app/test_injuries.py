"""Injury history as structured data in the athlete form, on the trend and in the report
(issue 11 §2): a note that mentions an injury is not an injury record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from station.app.athletes.injury_dialog import InjuryDialog
from station.app.reports.report_pdf import history_report_document
from station.present.preferences import Preferences
from tests.app.stored_athletes import import_session

pytestmark = pytest.mark.gui


def test_add_a_structured_injury(
    window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = window.context.store
    ada = store.athletes.add("Ada Injured", sport="soccer")
    import_session(store, ada, tmp_path, "2026-03-01T09:00:00Z", 300.0, 280.0)
    import_session(store, ada, tmp_path, "2026-05-10T09:00:00Z", 310.0, 290.0)
    athletes = window.screens["athletes"]
    window.show_screen("athletes")
    athletes.refresh()
    athletes.select(ada.id)
    errors: list[str] = []
    answers = [
        {"occurred_on": "30.3.2026", "return_to_play": "2026-03-01"},  # before the injury
        {"occurred_on": "30.3.2026", "return_to_play": "2026-05-04"},
    ]

    def fill(dialog: InjuryDialog) -> int:
        if dialog.banner.isVisibleTo(dialog):
            errors.append(dialog.banner.text())
        if not answers:
            return int(QDialog.DialogCode.Rejected)
        values = answers.pop(0)
        dialog.side.setCurrentIndex(dialog.side.findData("left"))
        dialog.occurred_on.setText(values["occurred_on"])
        dialog.region.setCurrentText("biceps femoris (long head)")
        dialog.grade.setText("2b")
        dialog.return_to_play.setText(values["return_to_play"])
        dialog.note.setText("sprinting")
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(InjuryDialog, "exec", fill)
    athletes.add_injury()
    assert errors and "before the injury" in errors[0]
    (injury,) = store.athletes.injuries(ada)
    assert (injury.region, injury.grade, str(injury.return_to_play)) == (
        "biceps femoris (long head)",
        "2b",
        "2026-05-04",
    )
    shown = athletes.injuries_label.text()
    assert "left biceps femoris (long head), grade 2b, 2026-03-30" in shown
    assert "back to play 2026-05-04" in shown and "sprinting" in shown

    history = window.screens["history"]
    window.show_screen("history")
    history.show_athlete(ada.id)
    labels = "\n".join(history.trend.labels)
    assert "Injury, left biceps femoris (long head), grade 2b (2026-03-30)" in labels

    text = history_report_document(store, ada.id, Preferences()).toPlainText()
    assert "2026-03-30: left biceps femoris (long head), grade 2b, back to play 2026-05-04" in text
