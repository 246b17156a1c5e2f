"""Display units, preferences (persisted with QSettings in a temporary file) and the Settings
screen, including the analysis settings reaching a stored result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from station.analysis import AnalysisSettings
from station.app.settings import preferences
from station.app.shell.settings import AppSettings
from station.present import preferences as present_preferences
from station.present.preferences import Preferences
from station.present.units import format_force, format_value, from_newtons, to_newtons
from tests.app.conftest import wait_for
from tests.app.stored_athletes import populate, write_recording


def test_one_conversion_for_every_unit() -> None:
    assert format_force(312.4, "N") == "312 N"
    assert format_force(312.4, "kgf") == "31.9 kgf"
    assert format_force(312.4, "lbf") == "70.2 lbf"
    assert format_force(None, "kgf") == "– kgf"
    assert format_force(float("nan"), "N") == "– N"
    assert format_force(-12.0, "N", signed=True) == "\u221212 N"  # a true minus sign
    assert format_force(12.0, "N", signed=True) == "+12 N"
    assert format_value(100.0, "kgf") == "10.2"
    assert to_newtons(from_newtons(250.0, "lbf"), "lbf") == pytest.approx(250.0)
    # An unknown unit never shows a wrong number: it falls back to newtons.
    assert format_force(100.0, "stone") == "100 N"


def test_preferences_round_trip_through_a_settings_file(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.ini")
    assert preferences.load(settings) == Preferences()
    chosen = Preferences(
        display_unit="kgf",
        mdc_n=70.5,
        cutoff_hz=8.0,
        references="soccer",
        certificate_valid_days=90,
        show_tester_tools=True,
        asymmetry_formula="signed_pct",
    )
    preferences.save(settings, chosen)
    again = preferences.load(AppSettings(tmp_path / "settings.ini"))
    assert again == chosen
    # new tests are analysed in the chosen formula (issue 15 §4)
    assert again.analysis_settings() == AnalysisSettings(
        cutoff_hz=8.0, asymmetry_formula="signed_pct"
    )


def test_unreadable_values_fall_back_to_defaults(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.ini")
    settings.set("preferences/mdc_n", "sixty")
    settings.set("preferences/display_unit", "furlongs")
    loaded = preferences.load(settings)
    assert loaded.mdc_n == present_preferences.DEFAULT_MDC_N
    assert loaded.display_unit == "N"


def test_inconsistent_analysis_settings_are_refused_in_one_line(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.ini")
    with pytest.raises(ValueError, match="rep_edge_n must be below rep_threshold_n"):
        preferences.save(settings, Preferences(rep_threshold_n=5.0))
    with pytest.raises(ValueError, match="lever arm"):
        preferences.save(settings, Preferences(lever_arm_m=3.0))
    assert preferences.load(settings) == Preferences()  # nothing half-saved


def test_reference_lines_follow_the_athletes_sport() -> None:
    prefs = Preferences()
    assert [line.id for line in prefs.reference_lines("soccer")] == ["timmins2016"]
    assert [line.id for line in prefs.reference_lines("Football")] == ["timmins2016"]
    assert {line.id for line in prefs.reference_lines("rugby union")} == {
        "bourne2015_15",
        "bourne2015_20",
    }
    # A sport without published lines shows none (never another sport's), and so does a
    # group of the other sex than the line's cohort.
    assert prefs.reference_lines("rowing") == []
    assert prefs.reference_lines("soccer", "female") == []
    assert [line.id for line in prefs.reference_lines("soccer", "male")] == ["timmins2016"]
    assert len(Preferences(references="all").reference_lines("rowing")) == 5
    assert Preferences(references="none").reference_lines("soccer") == []
    assert len(Preferences(references="Australian football").reference_lines("soccer")) == 2


def test_tester_tools_show_with_the_debug_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(present_preferences.DEBUG_ENV, raising=False)
    assert not Preferences().tester_tools_visible()
    assert Preferences(show_tester_tools=True).tester_tools_visible()
    monkeypatch.setenv(present_preferences.DEBUG_ENV, "1")
    assert Preferences().tester_tools_visible()


@pytest.mark.gui
def test_settings_screen_saves_and_shows_explanations(window: Any, settings_path: Path) -> None:
    screen = window.screens["settings"]
    window.show_screen("settings")
    text = "\n".join(label.text() for label in screen.findChildren(QLabel))
    for preference in present_preferences.PREFERENCES:
        assert preference.explanation in text
    screen.unit.setCurrentIndex(screen.unit.findData("lbf"))
    screen.mdc.setValue(72.0)
    screen.cutoff.setValue(6.0)
    screen.asymmetry.setCurrentIndex(screen.asymmetry.findData("symmetry_index"))
    assert screen.asymmetry.currentText() == "symmetry index (symmetry_index)"
    assert screen.save()
    saved = preferences.load(AppSettings(settings_path))
    assert (saved.display_unit, saved.mdc_n, saved.cutoff_hz) == ("lbf", 72.0, 6.0)
    assert saved.asymmetry_formula == "symmetry_index"
    # A bad combination is refused on screen, with the reason, and nothing changes.
    screen.rep_threshold.setValue(11.0)
    screen.impulse.setValue(20.0)
    screen.lever_arm.setValue(0.1)
    screen.references.setCurrentIndex(screen.references.findData("none"))
    screen.data_folder.setText("relative/folder")
    assert not screen.save()
    assert "absolute path" in screen.banner.text()
    assert preferences.load(AppSettings(settings_path)).references == "sport"
    screen.load()
    assert screen.data_folder.text() == ""


@pytest.mark.gui
def test_analysis_settings_are_stored_with_a_saved_replay(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    context = window.context
    preferences.save(context.settings, Preferences(cutoff_hz=7.0, impulse_threshold_n=25.0))
    athlete = context.store.athletes.add("Sam Settings")
    context.athletes_changed.emit()
    replay = window.screens["replay"]
    window.show_screen("replay")
    assert replay.open_file(write_recording(tmp_path / "one.nsrec"))
    replay.athlete_box.setCurrentIndex(replay.athlete_box.findData(athlete.id))
    replay.save_to_athlete()
    wait_for(qtbot, lambda: replay.saved_test_id is not None)
    stored = context.store.tests.get(replay.saved_test_id).result.settings
    assert stored["cutoff_hz"] == 7.0 and stored["impulse_threshold_n"] == 25.0


def test_populate_helper_builds_the_squad(tmp_path: Path) -> None:
    from station.store import open_store

    with open_store(tmp_path / "data", actor="tester") as store:
        made = populate(store, tmp_path / "caps")
        assert len(made.tests[made.ada.id]) == 6
        assert len(store.athletes.find(team="First XV")) == 5


def test_a_chosen_data_folder_is_offered_to_the_start_up(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "settings.ini")
    assert preferences.preferred_data_dir(settings) is None
    preferences.save(settings, Preferences(data_folder=str(tmp_path / "clinic")))
    assert preferences.preferred_data_dir(settings) == tmp_path / "clinic"


def _wheel_down(widget: Any) -> None:
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_settings_page_past_fields_without_changing_them(
    window: Any, qtbot: Any
) -> None:
    window.resize(1366, 768)
    window.show()
    window.show_screen("settings")
    screen = window.screens["settings"]
    field = screen.rep_threshold
    qtbot.waitUntil(field.isVisible)
    bar = field.parentWidget()
    while bar is not None and not hasattr(bar, "verticalScrollBar"):
        bar = bar.parentWidget()
    assert bar is not None
    scroll = bar.verticalScrollBar()
    before, top = field.value(), scroll.value()
    assert scroll.maximum() > 0  # the form is longer than the window: there is a page to scroll
    for _ in range(3):
        _wheel_down(field)
        _wheel_down(screen.asymmetry)
    assert field.value() == before
    assert screen.asymmetry.currentIndex() == 0
    assert scroll.value() > top
    # A field being edited (clicked or tabbed into) still takes the wheel.
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    _wheel_down(field)
    assert field.value() == before - 1
