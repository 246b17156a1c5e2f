"""Training mode on the virtual rig: zone entry, band, colour, counters, sound, saving, lists."""

from __future__ import annotations

import builtins
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from station.app.live import test_run as tr
from station.app.rig import acquisition as acq
from station.app.training import sessions, sound
from station.app.training.training_layout import MODE_NEWTONS, MODE_PERCENT
from tests.app.conftest import FAST_ATHLETE, wait_for

pytestmark = pytest.mark.gui


class FakeEffect:
    """Stands in for QSoundEffect: records what was played."""

    played: list[str] = []

    def __init__(self) -> None:
        self.source = None

    def setSource(self, url: Any) -> None:  # noqa: N802 - Qt API
        self.source = url.toLocalFile()

    def setVolume(self, volume: float) -> None:  # noqa: N802
        self.volume = volume

    def play(self) -> None:
        FakeEffect.played.append(self.source)


def open_training(qtbot: Any, window: Any, url: str) -> Any:
    """Connect the virtual rig, go to Training from the test screen's button."""
    context = window.context
    window.screens["connect"].connect_to(url)
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING, 10)
    assert window.current_screen().key == "test"
    window.screens["test"].training_button.click()
    assert window.current_screen().key == "training"
    screen = window.screens["training"]
    wait_for(qtbot, lambda: screen.session is not None and screen.session.samples > 100)
    return screen


def set_zone(screen: Any, low: float, high: float, mode: str = MODE_NEWTONS) -> bool:
    screen.mode.setCurrentIndex(screen.mode.findData(mode))
    screen.low.setValue(low)
    screen.high.setValue(high)
    return screen.set_zone()


def choose_athlete(window: Any, name: str = "Ada Example") -> Any:
    athlete = window.context.store.athletes.add(name, team="Firsts", body_mass_kg=80.0)
    athletes = window.screens["athletes"]
    athletes.refresh()
    assert athletes.select(athlete.id)
    return athlete


def test_train_in_a_zone_save_and_list(
    qtbot: Any, window: Any, rig_name: str, messages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeEffect.played = []
    monkeypatch.setattr(sound, "load_sound_effect", lambda: FakeEffect)
    athlete = choose_athlete(window)
    screen = open_training(qtbot, window, f"virtual://{rig_name}?rate=500&{FAST_ATHLETE}")
    assert screen.sound is not None and screen.sound.available
    screen.sound_box.setChecked(True)

    # Entry checks: low >= high refused, % without a previous max refused; a message each.
    assert not set_zone(screen, 250, 150)
    assert "must be below its high edge" in messages.texts()
    assert screen.zone is None and screen.plot.bands == []
    assert "No Nordic test yet" in screen.last_max_label.text()
    assert not set_zone(screen, 60, 80, MODE_PERCENT)
    assert "no previous max force" in messages.texts()
    assert screen.zone is None

    # A good zone: the band is drawn on the live plot.
    assert set_zone(screen, 100, 400)
    assert len(screen.plot.bands) == 1
    assert tuple(round(v) for v in screen.plot.bands[0].getRegion()) == (100, 400)
    assert screen.plot.viewRange()[1][1] >= 400  # the whole band is in view

    states: list[tuple[str, bool | None]] = []
    for name, panel in (("left", screen.left_panel), ("right", screen.right_panel)):
        original = panel.set_state
        monkeypatch.setattr(
            panel,
            "set_state",
            lambda on, name=name, original=original: (states.append((name, on)), original(on)),
        )
    assert screen.plot.highlight is screen.zone_buffer
    qtbot.keyClick(screen, Qt.Key.Key_T)
    assert screen.session.tared
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING, 5)
    # The virtual athlete's reps (320 N left, 280 N right) pass through the zone.
    wait_for(
        qtbot,
        lambda: min(f.reps_in_zone for f in screen.tracker.figures) >= 2,
        20,
    )
    # Each leg entered and left the zone (the badge follows), and only in-zone samples are
    # in the plot's green halo: they lie within the zone's edges (and its hysteresis).
    for leg in ("left", "right"):
        assert (leg, True) in states and (leg, False) in states
    _, halo = screen.zone_buffer.view()
    for leg in range(2):
        shown = halo[leg][np.isfinite(halo[leg])]
        assert len(shown) > 50
        assert shown.min() >= 100 - 3.01 and shown.max() <= 400 + 3.01
    assert screen.plot.highlight_curves[0].getData()[0] is not None
    assert "enter" in " ".join(FakeEffect.played) and "leave" in " ".join(FakeEffect.played)
    qtbot.wait(2 * 120)  # the counters refresh on their timer
    left = screen.tracker.figures[0]
    assert left.time_in_zone_s > 0.3 and left.impulse_in_zone_ns > 50
    assert screen.left_panel.reps.text() == f"{left.reps_in_zone} of {left.reps}"
    assert screen.left_panel.time.text().endswith(" s")

    screen.start_pressed_at = -1e9  # not a double press
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.IDLE and screen.listed, 20)
    store = window.context.store
    tests = store.tests.of_athlete(athlete.id)
    assert [t.protocol for t in tests] == ["training"]
    saved = sessions.training_figures(store, tests[0].id)
    # What is saved is what the session had at Stop (the live tracker counts on after it),
    # and the panels keep showing it until the next Start.
    assert saved == screen.session_figures
    qtbot.wait(2 * 120)
    left_saved = saved["left"]
    assert screen.left_panel.reps.text() == f"{left_saved['reps_in_zone']} of {left_saved['reps']}"
    assert saved["zone"]["low_n"] == [100.0, 100.0]
    assert saved["left"]["reps_in_zone"] >= 2 and saved["right"]["time_in_zone_s"] > 0
    assert screen.sessions_table.rowCount() == 1
    assert "100–400 N" in screen.sessions_table.item(0, 1).text()
    assert f"{saved['left']['reps_in_zone']}/" in screen.sessions_table.item(0, 2).text()
    assert window.current_screen().key == "training"  # not sent to Results

    # Not in history (nor its trend) unless asked for.
    history = window.screens["history"]
    window.show_screen("history")
    history.refresh(force=True)
    assert history.model.rowCount() == 0 and history.points == []
    history.show_training.setChecked(True)
    assert history.model.rowCount() == 1
    assert history.points == []  # listed, never in the trend
    assert "training session" in history.model.change_text(history.model.point(0))[0]
    # Nor in the team view, nor the summary export.
    assert store.tests.latest() == {}
    assert list(store.exports.summary_rows()) == []


def test_training_works_silently_without_qtmultimedia(
    qtbot: Any, window: Any, rig_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_multimedia(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("PySide6.QtMultimedia"):
            raise ImportError("libpulse.so.0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_multimedia)
    choose_athlete(window)
    screen = open_training(qtbot, window, f"virtual://{rig_name}?rate=200&{FAST_ATHLETE}")
    assert screen.sound is not None and not screen.sound.available
    assert not screen.sound_box.isEnabled() and "silent" in screen.sound_box.text()
    assert "libpulse" in screen.sound_box.toolTip()
    assert set_zone(screen, 100, 400)
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING, 5)
    wait_for(qtbot, lambda: screen.tracker.figures[0].reps_in_zone >= 1, 20)
    assert screen.sound.played == []


def test_zone_needs_the_previous_max_for_percent_and_is_per_leg(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_athlete(window)
    screen = window.screens["training"]
    window.show_screen("training")
    last = sessions.LastMax(300.0, 250.0, 1, sessions.parse_instant("2026-11-30T10:00:00Z"))
    screen.last_max = last
    screen._show_last_max()
    assert "L 300 N · R 250 N" in screen.last_max_label.text()
    assert set_zone(screen, 60, 80, MODE_PERCENT)
    assert screen.zone.low_n == (180.0, 150.0)
    assert len(screen.plot.bands) == 2  # one band per leg, in the legs' colours
    assert "60–80 %" in screen.zone_text.text()
    assert set_zone(screen, 150, 200)  # back to one band for both legs
    assert len(screen.plot.bands) == 1 and screen.zone.low_n == (150.0, 150.0)
    assert screen.zone_text.text() == "Zone: 150–200 N"


def test_last_max_reads_the_latest_nordic_test_only() -> None:
    def summary(protocol: str, left: float | None, right: float | None, test_id: int) -> Any:
        return SimpleNamespace(
            id=test_id,
            protocol=protocol,
            recorded_at=f"2026-11-{test_id:02d}T10:00:00Z",
            summary={"left": {"max_force_n": left}, "right": {"max_force_n": right}},
        )

    store = SimpleNamespace(
        tests=SimpleNamespace(
            of_athlete=lambda _a: [
                summary("training", 400, 400, 9),
                summary("nordic_eccentric", None, None, 8),  # no reps
                summary("isometric", 500, 500, 7),
                summary("nordic_eccentric", 310, 290, 6),
                summary("nordic_eccentric", 200, 200, 5),
            ]
        )
    )
    last = sessions.last_max(store, 1)
    assert last is not None and (last.legs, last.test_id) == ((310.0, 290.0), 6)
    empty = SimpleNamespace(tests=SimpleNamespace(of_athlete=lambda _a: []))
    assert sessions.last_max(empty, 1) is None
