"""The link against the virtual rig, the intended test device: in-process and over a pty."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.capture import load_capture
from firmware_bridge.device import PtyServer
from firmware_bridge.link import Link, LinkError, LinkState, StateChanged
from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import VirtualRig, get_device
from tests.firmware_bridge.scripted_rig import EventLog


def test_virtual_url_handshake_commands_and_refusals(tmp_path: Path) -> None:
    link = Link("virtual://link-test-1?rate=200")
    log = EventLog(link)
    info = link.open()
    try:
        assert info is not None and info.serial_number == get_device("link-test-1").serial_number
        with pytest.raises(LinkError, match="refused SET_RATE 5000 Hz: bad argument"):
            link.set_rate(5000)
        assert link.set_rate(500).sample_rate_hz == 500
        link.start()
        log.wait_samples(100)
        with pytest.raises(LinkError, match="busy"):
            link.set_rate(100)
        link.stop()
        assert link.state == LinkState.IDLE
    finally:
        link.close()


def test_a_virtual_rig_power_cycled_under_a_test_streams_again_as_a_new_segment() -> None:
    link = Link("virtual://link-reboot-1?rate=200")
    log = EventLog(link)
    link.open()
    try:
        link.start()
        log.wait_samples(100)
        get_device("link-reboot-1").power_cycle()  # the port stays open
        restarted = log.wait(lambda e: isinstance(e, StateChanged) and "restarted" in e.detail)
        assert "INFO" in restarted.detail  # type: ignore[attr-defined]
        log.wait_state(LinkState.STREAMING)
        before = log.samples()
        log.wait_samples(before + 100)
        assert link.state == LinkState.STREAMING
    finally:
        link.close()
        log.pump()
    assert len({b.segment for b in log.blocks()}) == 2
    assert link.counters()["rig_restarts"] == 1
    # The stream itself says so too, so a recording of it counts the same restart.
    assert link.counters()["device_restarts"] == 1


@pytest.mark.pty
def test_unplug_and_replug_over_a_pty_keeps_the_recording_going(tmp_path: Path) -> None:
    rig = VirtualRig(rate_hz=500, seed=2)
    port = str(tmp_path / "ttyRIG")
    path = tmp_path / "pty.nsrec"
    with PtyServer(rig, link_path=port), RecordingWriter(path, port=port) as writer:
        link = Link(port, recorder=writer, retry_interval=0.1)
        log = EventLog(link)
        link.open()
        link.start()
        log.wait_samples(200)
        rig.unplug(for_s=0.6, now=time.monotonic())
        log.wait_state(LinkState.DISCONNECTED)
        log.wait_state(LinkState.STREAMING, timeout=5.0)
        before = log.samples()
        log.wait_samples(before + 200)
        link.stop()
        link.close()
        log.pump()  # the blocks of the last read before the STOP, still queued
    counters = link.counters()
    assert counters["disconnects"] == 1 and counters["reconnects"] == 1
    assert counters["frames_corrupt"] <= 1  # a frame cut by the unplug, at most
    capture = load_capture(path)
    live = np.concatenate([b.counts for b in log.blocks()])
    assert np.array_equal(capture.stream.counts, live)
    assert len(np.unique(capture.stream.segment)) == 2
    assert capture.header["info"]["serial_number"] == rig.serial_number
