"""The whole live workflow against the in-process virtual rig, checked against
``nordic-station analyze`` on the very recording the app wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.app.live import test_run as tr
from station.app.results.results_table import dig, display_value
from station.app.rig import acquisition as acq
from station.cli import main as cli_main
from tests.app.conftest import FAST_ATHLETE, spin, wait_for

pytestmark = pytest.mark.gui


def analyze_json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert cli_main(["analyze", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def table_rows(screen: Any) -> list[dict[str, str]]:
    model = screen.model
    headers = [c.header for c in model.columns()]
    return [
        {headers[c]: model.index(r, c).data() for c in range(model.columnCount())}
        for r in range(model.rowCount())
    ]


def run_test(qtbot: Any, window: Any, url: str, reps: int = 3) -> Any:
    """Connect, tare, Space to start, wait for the reps, Space to stop; the saved test."""
    context = window.context
    window.screens["connect"].connect_to(url)
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING, 10)
    assert window.current_screen().key == "test"
    test_screen = window.screens["test"]
    wait_for(qtbot, lambda: test_screen.session is not None and test_screen.session.samples > 100)
    qtbot.keyClick(test_screen, Qt.Key.Key_T)
    assert test_screen.session.tared
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: test_screen.run.state == tr.RUNNING, 5)
    wait_for(qtbot, lambda: test_screen.session.rep_count >= reps, 20)
    assert test_screen.reps_table.rowCount() == len(test_screen.test_reps)
    assert test_screen.frames_drawn > 0
    spin(qtbot, 0.5)
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: test_screen.run.state == tr.IDLE and context.current_test_id, 20)
    wait_for(qtbot, lambda: window.current_screen().key == "results", 5)
    return context.store.tests.get(context.current_test_id)


def test_test_an_athlete_live_and_exclude_a_rep(
    qtbot: Any,
    window: Any,
    rig_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    messages: Any,
) -> None:
    store = window.context.store
    athlete = store.athletes.add("Ada Example", team="Firsts", body_mass_kg=82.0, lever_arm_m=0.42)
    athletes = window.screens["athletes"]
    athletes.refresh()
    assert athletes.select(athlete.id)
    assert window.context.athlete.id == athlete.id

    test = run_test(qtbot, window, f"virtual://{rig_name}?rate=500&{FAST_ATHLETE}")
    assert test.athlete_id == athlete.id and test.source == "live"
    assert test.rig_serial == window.context.acquisition.serial_number

    # The results table shows exactly what `nordic-station analyze` prints for the recording.
    recording = tmp_path / "test.nsrec"
    recording.write_bytes(store.tests.recording(test.id))
    expected = analyze_json(recording, capsys, "--body-mass", "82", "--lever-arm", "0.42")
    results = window.screens["results"]
    assert len(expected["reps"]) == 3
    assert results.model.rowCount() == 3
    for row, rep in enumerate(expected["reps"]):
        for col, column in enumerate(results.model.columns()):
            if column.path == ("flags",):
                continue
            shown = results.model.index(row, col).data()
            assert shown == display_value(dig(rep, column.path), column.decimals), column.header
    summary = expected["summary"]
    assert results.left_card.max_text == f"max {summary['left']['max_force_n']:.0f} N"
    assert results.right_card.avg_value.text() == f"avg {summary['right']['avg_force_n']:.0f} N"
    assert f"{summary['imbalance_max_pct']:.1f} %" in results.imbalance_max.plain_text
    assert any(c.header.startswith("Left torque") for c in results.model.columns())
    assert any(c.header.startswith("Left\n(N/kg)") for c in results.model.columns())

    # Exclude rep 2 with a reason: everything is recomputed without it.
    results.select_rep(2)
    assert results.exclude_button.isEnabled()
    import station.app.shell.dialogs as dialogs

    original = dialogs.ask_reason
    dialogs.ask_reason = lambda *a, **k: "athlete slipped"
    try:
        results.exclude_selected()
    finally:
        dialogs.ask_reason = original
    rows = table_rows(results)
    assert rows[1]["Notes"].startswith("EXCLUDED: athlete slipped")
    included = [r for r in expected["reps"] if r["number"] != 2]
    left_avg = sum(r["left"]["peak_force_n"] for r in included) / 2
    assert results.left_card.avg_value.text() == f"avg {left_avg:.0f} N"
    assert results.include_button.isEnabled()

    results.notes.setPlainText("Felt tightness in the left hamstring after rep 2.")
    results.save_notes()
    assert store.tests.get(test.id).notes == "Felt tightness in the left hamstring after rep 2."

    # The test is in the store, with the exclusion, who and why.
    tests = store.tests.of_athlete(athlete.id)
    assert [t.id for t in tests] == [test.id]
    assert tests[0].excluded_reps == 1
    rep2 = next(r for r in store.tests.reps(test.id) if r.number == 2)
    assert rep2.excluded and rep2.exclusion_reason == "athlete slipped"
    assert rep2.excluded_by == window.context.operator
    assert messages.shown == []
