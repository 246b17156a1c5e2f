"""A rig unplugged mid-test and plugged back: shown at once, the test goes on, and
nothing is lost beyond the unplugged period."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import Qt

from firmware_bridge.capture import decode_stream
from firmware_bridge.recording import parse_recording
from firmware_bridge.virtual_rig import get_device
from station.app.live import test_run as tr
from station.app.rig import acquisition as acq
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui

RATE = 500
UNPLUGGED_S = 1.0
# Taken by the rig but not yet read when the cable went: at most a frame (50 ms) and a read.
LOST_AT_UNPLUG_S = 0.1


def test_unplug_and_replug_mid_test_keeps_the_test(
    qtbot: Any, window: Any, rig_name: str, messages: Any
) -> None:
    context = window.context
    athlete = context.store.athletes.add("Bo Unplugged")
    context.set_athlete(athlete)
    states: list[str] = []
    context.acquisition.state_changed.connect(states.append)
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate={RATE}&reps=1&quiet=1")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    test_screen = window.screens["test"]
    shown: list[int] = []  # samples shown live when the test stopped (the preview resumes after)
    test_screen.run.state_changed.connect(
        lambda state: shown.append(test_screen.session.samples) if state == tr.SAVING else None
    )
    rig = get_device(rig_name)
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: test_screen.run.state == tr.RUNNING)
    started = rig.rig_time(time.monotonic())
    wait_for(qtbot, lambda: test_screen.session.samples >= RATE)  # a second of the test

    rig.unplug(for_s=UNPLUGGED_S)
    wait_for(qtbot, lambda: window.status.state == acq.RECONNECTING, 2)
    assert "Rig unplugged" in window.status.state_label.text()
    assert test_screen.banner.isVisible() and "recording is kept" in test_screen.banner.text()
    assert test_screen.run.state == tr.RUNNING
    samples_before = test_screen.session.samples

    wait_for(qtbot, lambda: window.status.state == acq.STREAMING, 5)
    wait_for(qtbot, lambda: test_screen.session.samples > samples_before + RATE // 2, 5)
    assert test_screen.session.restarts == 1
    assert test_screen.run.state == tr.RUNNING
    # Down from the unplug to the START after the replug, however long the reconnect took.
    assert rig.unplugged_at is not None
    down_s = rig.session_started_at - rig.unplugged_at
    wait_for(qtbot, lambda: test_screen.session.samples > samples_before + RATE)
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    elapsed = rig.rig_time(time.monotonic()) - started
    wait_for(qtbot, lambda: context.current_test_id is not None, 20)

    # The test's STOP leaves the rig connected; the live preview then starts it again
    # (on a loaded machine that can come after the save).
    wait_for(qtbot, lambda: states[-1] == acq.STREAMING, 5)
    assert acq.RECONNECTING in states
    test = context.store.tests.get(context.current_test_id)
    stream = decode_stream(parse_recording(context.store.tests.recording(test.id)).data)
    # Every sample shown live is in the stored recording, in two segments, with no gap inside.
    assert shown and stream.samples >= shown[0] > RATE
    assert stream.counters.dropped_samples == 0
    assert len(set(stream.segment.tolist())) == 2
    # Beyond the unplugged period (and the reconnect, as long as it took), nothing is missing.
    assert down_s >= UNPLUGGED_S
    assert stream.samples >= RATE * (elapsed - down_s - LOST_AT_UNPLUG_S)
    assert test.result is not None and "device_restart" in test.result.metrics["flags"]
    # No error dialog; only the keep-or-discard question if the one rep did not finish in time.
    assert [m for m in messages.shown if m[1] != "Keep this test?"] == []
