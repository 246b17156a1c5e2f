"""Replaying a recording through the app gives the numbers `nordic-station analyze` gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.app.live import test_run as tr
from station.app.results.results_table import dig, display_value
from station.app.rig import acquisition as acq
from station.cli import main as cli_main
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui


def make_recording(path: Path, rate: float = 200.0) -> Path:
    """A station recording of a virtual session: three reps, with its certificate."""
    athlete = Athlete(
        left_peak_n=260, right_peak_n=300, rest_s=1.5, rise_s=0.9, fall_s=0.3, quiet_start_s=1.5
    )
    rig = VirtualRig(
        NordicModel(athlete, seed=7, rate_hz=rate), rate_hz=rate, serial_number="NR-REPLAY-1"
    )
    data = rig.capture_bytes(athlete.quiet_start_s + 3 * athlete.slot_s + 1.0)
    with RecordingWriter(
        path, port="virtual", info=rig.info, calibration=rig.calibration_certificate()
    ) as writer:
        for start in range(0, len(data), 4096):
            writer.write(data[start : start + 4096], t=start / 40000)
    return path


def test_replay_gives_the_numbers_of_analyze(
    qtbot: Any, window: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], messages: Any
) -> None:
    source = make_recording(tmp_path / "session.nsrec")
    capsys.readouterr()
    assert cli_main(["analyze", str(source), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert len(expected["reps"]) == 3

    context = window.context
    context.set_athlete(context.store.athletes.add("Cy Replayed"))
    window.screens["connect"].replay(str(source), "max")
    wait_for(qtbot, lambda: context.acquisition.state == acq.READY)
    assert window.current_screen().key == "test"
    assert context.acquisition.calibration.source == "recording"
    assert context.acquisition.serial_number == "NR-REPLAY-1"
    test_screen = window.screens["test"]
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    # The replay plays to its end, the test stops by itself and is saved.
    wait_for(qtbot, lambda: context.current_test_id is not None, 20)
    wait_for(qtbot, lambda: test_screen.run.state == tr.IDLE)
    assert test_screen.session.rep_count == 3
    assert context.acquisition.state == acq.READY  # it can be played again

    results = window.screens["results"]
    stored = context.store.tests.get(context.current_test_id).result.metrics
    assert stored["reps"] == expected["reps"]
    assert stored["summary"] == expected["summary"]
    for row, rep in enumerate(expected["reps"]):
        for col, column in enumerate(results.model.columns()):
            if column.path != ("flags",):
                shown = results.model.index(row, col).data()
                assert shown == display_value(dig(rep, column.path), column.decimals)
    assert messages.shown == []
