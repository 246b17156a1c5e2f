"""The isometric protocol in the app (issue 15): the protocol choice on the test screen
(angle validated, stored, used live), Results with a missing leg ("—", never 0), RFD and
impulse windows with the reason a window is missing, and History kept to one protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from firmware_bridge.virtual_rig import VirtualRig
from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
from station.app.live import test_run as tr
from station.app.live.protocol_choice import ProtocolChoice
from station.app.results.results_table import ABSENT
from station.app.results.rfd_table import NOT_RESOLVED
from station.app.rig import acquisition as acq
from station.present.times import day_text
from station.store import ValidationError
from tests.app.conftest import wait_for
from tests.app.stored_athletes import RIG_SERIAL, certificate, import_session

pytestmark = pytest.mark.gui

# Left only, both legs, left only: the right leg is missing from reps 1 and 3.
CONTRACTIONS = (
    RampContraction("left", 4.0, 1200.0, 420.0),
    RampContraction("left", 11.0, 1500.0, 500.0),
    RampContraction("right", 11.05, 1000.0, 380.0),
    RampContraction("left", 18.0, 900.0, 300.0),
)


def isometric_capture(path: Path, rate: float) -> Path:
    model = RampModel(CONTRACTIONS, seed=4, rate_hz=rate)
    rig = VirtualRig(model, rate_hz=rate, seed=4, serial_number=RIG_SERIAL)
    path.write_bytes(rig.capture_bytes(model.session_duration_s()))
    return path


def test_protocol_choice_validates_the_angle(qtbot: Any) -> None:
    choice = ProtocolChoice()
    qtbot.addWidget(choice)
    assert choice.selection().protocol == "nordic_eccentric"
    assert choice.angle_box.isHidden()  # no angle for a Nordic test
    choice.set_isometric(30.0)
    picked = choice.selection()
    assert (picked.protocol, picked.knee_angle_deg, picked.position) == ("isometric", 30.0, "prone")
    choice.angle_box.setCurrentIndex(3)  # 90/90 sets its position
    assert (choice.selection().knee_angle_deg, choice.selection().position) == (90.0, "90/90")
    choice.set_isometric(45.5)  # not a usual angle: typed as a custom one
    assert not choice.custom_angle.isHidden() and choice.selection().knee_angle_deg == 45.5
    for bad in ("181", "-5", "steep", ""):
        choice.custom_angle.setText(bad)
        with pytest.raises(ValidationError):
            choice.selection()
    choice.custom_angle.setText("0")
    assert choice.selection().knee_angle_deg == 0.0
    settings = choice.settings(None)
    assert settings is not None and settings.is_isometric and settings.knee_angle_deg == 0.0
    choice.set_nordic()
    assert choice.settings(None) is None


def _connect(qtbot: Any, window: Any, url: str) -> Any:
    window.screens["connect"].connect_to(url)
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING, 10)
    screen = window.screens["test"]
    wait_for(qtbot, lambda: screen.session is not None and screen.session.samples > 100)
    qtbot.keyClick(screen, Qt.Key.Key_T)
    return screen


def test_a_bad_custom_angle_stops_the_start(qtbot: Any, window: Any, rig_name: str, messages):
    store = window.context.store
    athlete = store.athletes.add("Ada Example")
    window.screens["athletes"].refresh()
    window.screens["athletes"].select(athlete.id)
    screen = _connect(qtbot, window, f"virtual://{rig_name}?rate=200")
    screen.protocol_choice.set_isometric("200")
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    assert screen.run.state == tr.IDLE and store.recovery.pending() == []
    assert any("0 to 180" in text for _, _, text in messages.shown)


def test_a_live_isometric_test_with_a_weak_leg(
    qtbot: Any, window: Any, rig_name: str, messages
) -> None:
    """The right leg never reaches the rep threshold: reps are left only, counted live,
    stored with the angle, shown with "—" for the right leg, and on History's own group."""
    store = window.context.store
    athlete = store.athletes.add("Ada Example", body_mass_kg=70.0)
    window.screens["athletes"].refresh()
    window.screens["athletes"].select(athlete.id)
    url = (
        f"virtual://{rig_name}?rate=200&rest=1.2&rise=0.7&fall=0.3&quiet=3.2&reps=3"
        "&left_peak=320&right_peak=12&speed=4"
    )
    screen = _connect(qtbot, window, url)
    screen.protocol_choice.set_isometric(60.0)
    # The live counter takes the choice at once (before Start: its reps are per leg).
    assert screen.analysis is not None and screen.analysis.is_isometric
    assert screen.analysis.knee_angle_deg == 60.0 and screen.session.settings == screen.analysis
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING, 5)
    assert not screen.protocol_choice.isEnabled()  # fixed while the test runs
    wait_for(qtbot, lambda: len(screen.test_reps) >= 2, 20)
    assert all(r.right_peak_n is None and r.left_peak_n > 250 for r in screen.test_reps)
    assert screen.reps_table.item(0, 2).text() != "0"
    screen.clock = lambda: 1e9  # past the double-press guard
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.IDLE and window.context.current_test_id, 20)
    test = store.tests.get(window.context.current_test_id)
    assert (test.protocol, test.knee_angle_deg, test.position) == ("isometric", 60.0, "prone")
    assert test.result is not None and test.result.settings["protocol"] == "isometric"
    assert all(r["legs"] == ["left"] for r in test.result.metrics["reps"])

    wait_for(qtbot, lambda: window.current_screen().key == "results", 5)
    results = window.screens["results"]
    assert "<b>Isometric 60° (prone)</b>" in results.subheading.text()
    columns = [c.header for c in results.model.columns()]
    right = columns.index("Right peak\n(N)")
    for row in range(results.model.rowCount()):
        assert results.model.index(row, right).data() == ABSENT
        assert "right leg did not pull" in results.model.index(row, right).data(
            Qt.ItemDataRole.ToolTipRole
        )
    assert results.right_card.max_text == "max – N"  # no right rep: no figure, never 0
    assert results.right_card.title.text() == "Right leg · 0 reps"
    assert results.left_card.title.text() == f"Left leg · {len(test.result.metrics['reps'])} reps"
    assert "%" not in results.imbalance_max.plain_text  # no imbalance without a right max
    assert messages.kinds() == []

    history = window.screens["history"]
    window.context.navigate.emit("history")
    history.refresh(force=True)
    assert history.protocol_box.currentText() == "Isometric 60°"
    assert [p.test_id for p in history.points] == [test.id]


def test_results_show_missing_legs_and_why_a_window_is_missing(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    """At 30 Hz the 0–50 ms window cannot be resolved: "not resolved", with the rate in
    the tooltip; one-leg reps show "—" in the other leg's cells and in the imbalance."""
    store = window.context.store
    athlete = store.athletes.add("Ben", body_mass_kg=80.0)
    test = store.new_tests.import_file(
        athlete,
        isometric_capture(tmp_path / "iso30.bin", 30.0),
        certificate=certificate(),
        protocol="isometric",
        knee_angle_deg=30,
        position="prone",
    )
    results = window.screens["results"]
    results.show_test(test.id)
    assert "<b>Isometric 30° (prone)</b>" in results.subheading.text()
    reps = test.result.metrics["reps"]
    assert [r["legs"] for r in reps] == [["left"], ["left", "right"], ["left"]]
    headers = [c.header for c in results.model.columns()]
    right, imbalance = headers.index("Right peak\n(N)"), headers.index("Imbalance\n(%)")
    assert results.model.index(0, right).data() == ABSENT
    assert results.model.index(0, imbalance).data() == ABSENT
    assert results.model.index(1, right).data() not in (ABSENT, "0", "–")
    summary = test.result.metrics["summary"]
    assert results.left_card.max_text == f"max {summary['left']['max_force_n']:.0f} N"
    assert results.right_card.max_text == f"max {summary['right']['max_force_n']:.0f} N"
    assert f"{summary['imbalance_max_pct']:.1f} %" in results.imbalance_max.plain_text

    rfd = results.rfd_model
    assert rfd.rowCount() == 4  # left, left + right, left
    assert [rfd.cell(r, 1)[0] for r in range(4)] == ["Left", "Left", "Right", "Left"]
    text, why = rfd.cell(0, 3)  # RFD 0-50 ms
    assert text == NOT_RESOLVED and why is not None and "30 Hz" in why and "50 ms" in why
    value, none = rfd.cell(0, 7)  # RFD 0-250 ms: resolved at 30 Hz
    assert none is None and float(value.replace(",", "")) > 500
    assert "Percentile within this clinic: none" in results.standing_label.text()

    # The athlete's view names the protocol of each recent test and where the newest stands.
    athletes = window.screens["athletes"]
    athletes._show_details(store.athletes.get(athlete.id))
    texts = [
        label.text()
        for i in range(athletes.recent_box.count())
        if (widget := athletes.recent_box.itemAt(i).widget()) is not None
        for label in [widget, *widget.findChildren(QLabel)]
        if isinstance(label, QLabel)
    ]
    assert any("Isometric 30° (prone)" in t for t in texts)
    assert athletes.standing_label.text().startswith(
        "Newest test: Percentile within this clinic: none"
    )


def test_history_keeps_protocols_apart(qtbot: Any, window: Any, tmp_path: Path) -> None:
    store = window.context.store
    athlete = store.athletes.add("Cai", sport="soccer")
    nordic = [
        import_session(store, athlete, tmp_path, "2026-01-10T10:00:00Z", 250.0, 240.0).id,
        import_session(store, athlete, tmp_path, "2026-03-10T10:00:00Z", 330.0, 320.0, 2).id,
    ]
    iso = store.new_tests.import_file(
        athlete,
        isometric_capture(tmp_path / "iso.bin", 200.0),
        certificate=certificate(),
        recorded_at="2026-02-10T10:00:00Z",
        protocol="isometric",
        knee_angle_deg=30,
    )
    history = window.screens["history"]
    window.context.navigate.emit("history")
    history.show_athlete(athlete.id)
    history.refresh(force=True)
    boxes = [history.protocol_box.itemText(i) for i in range(history.protocol_box.count())]
    assert boxes == ["Nordic", "Isometric 30°"]
    assert sorted(p.test_id for p in history.points) == sorted(nordic)
    history.protocol_box.setCurrentIndex(1)
    assert [p.test_id for p in history.points] == [iso.id]
    assert history.change_label.text().startswith("One test so far")
    # Results of the later Nordic test judge its change against the earlier Nordic one,
    # not against the isometric test between them.
    results = window.screens["results"]
    results.show_test(nordic[1])
    assert results.change_title.text() == (
        f"Change since the previous valid test ({day_text(store.tests.get(nordic[0]).recorded_at)})"
    )
