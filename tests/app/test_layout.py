"""The window fits a 1366×768 laptop and a long name never widens it (issue 11 §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget

from tests.app.conftest import wait_for
from tests.app.stored_athletes import import_session

pytestmark = pytest.mark.gui

LONG_NAME = "Maximiliana Alexandrina Konstantinopoulou-Vanderbildt de la Cruz Fitzgerald"
LONG_NAME = (LONG_NAME + " Smythe-Oduya")[:80]
LAPTOP = (1366, 768)


def inside(widget: QWidget, window: QWidget) -> bool:
    """Whether the whole widget lies within the window (nothing needed cut off)."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    return (
        widget.isVisible()
        and top_left.x() >= 0
        and top_left.y() >= 0
        and top_left.x() + widget.width() <= window.width()
        and top_left.y() + widget.height() <= window.height()
    )


def test_an_80_character_name_at_1366_by_768(make_window: Any, qtbot: Any, tmp_path: Path) -> None:
    assert len(LONG_NAME) == 80
    window = make_window(resize=False)
    store = window.context.store
    athlete = store.athletes.add(LONG_NAME, team="A team with a long name too", sport="soccer")
    window.resize(*LAPTOP)
    window.context.athletes_changed.emit()
    window.context.set_athlete(athlete)
    for key in window.screens:
        window.show_screen(key)
        qtbot.wait(1)  # let the layout settle (one event-loop turn)
        hint = window.minimumSizeHint()
        assert hint.width() <= LAPTOP[0] and hint.height() <= LAPTOP[1] - 60, key
        assert window.width() <= LAPTOP[0] and window.height() <= LAPTOP[1], key

    test_screen = window.screens["test"]
    window.show_screen("test")
    wait_for(qtbot, lambda: test_screen.athlete_label.full_text().startswith(LONG_NAME))
    label = test_screen.athlete_label
    assert label.text().endswith("…") and label.toolTip().startswith(LONG_NAME)
    for widget in (test_screen.start_button, test_screen.tare_button, test_screen.right_now):
        assert inside(widget, window), widget

    athletes = window.screens["athletes"]
    window.show_screen("athletes")
    athletes.refresh()
    assert athletes.select(athlete.id)
    assert athletes.name_label.toolTip() == LONG_NAME
    assert inside(athletes.test_button, window)

    # Three recent results beside the details still fit the laptop's height.
    for day in ("2026-05-01", "2026-05-08", "2026-05-15"):
        test = import_session(store, athlete, tmp_path, f"{day}T09:00:00Z", 300.0, 280.0)
    window.context.test_saved.emit(test.id)  # as after a test: the details show it
    qtbot.wait(1)
    assert athletes.recent_box.count() == 3
    assert window.minimumSizeHint().height() <= LAPTOP[1] - 60
    assert window.height() <= LAPTOP[1]

    # The team table keeps its figures in view: the name column does not grow with a name.
    from station.app.team.team_view import ATHLETE, ATHLETE_WIDTH

    team = window.screens["team"]
    window.show_screen("team")
    team.refresh(force=True)
    assert team.table.horizontalHeader().sectionSize(ATHLETE) == ATHLETE_WIDTH
    row = next(i for i, r in enumerate(team.model.rows) if r.athlete.id == athlete.id)
    assert team.model.index(row, ATHLETE).data(Qt.ItemDataRole.ToolTipRole).startswith(LONG_NAME)

    # Scales up: at 4K nothing is elided.
    window.resize(3840, 2160)
    window.show_screen("test")
    wait_for(qtbot, lambda: not test_screen.athlete_label.text().endswith("…"))
    assert test_screen.athlete_label.toolTip() == ""
