"""calibration.live reads a Link through the event pump: chunks, notes and fatal errors."""

from __future__ import annotations

import logging
import queue
from typing import Any

import numpy as np
import pytest

from calibration import live
from firmware_bridge.errors import PortError
from firmware_bridge.link import Blocks, ErrorReported, LinkState, StateChanged
from firmware_bridge.messages import Info, SampleBlock


class QuietLink:
    """A link stand-in: events are put on its queue by the test."""

    def __init__(self, port: str, expected_serial: str | None = None, info: Any = None) -> None:
        self.port = port
        self.events: queue.Queue[Any] = queue.Queue()
        self.info = info
        self.serial_number = None
        self.connected = True

    def open(self) -> Any:
        return self.info

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.connected = False


def blocks(first: int, n: int, segment: int = 0) -> Blocks:
    return Blocks(0.0, (SampleBlock(first, np.zeros((n, 2), np.int32), segment=segment),), 0)


def test_a_reading_that_cannot_be_timed_is_a_one_line_port_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    readings = live.LiveReadings("fake", link_factory=QuietLink)  # no INFO: no sample rate
    readings.open()
    readings.link.events.put(blocks(0, 4))
    with caplog.at_level(logging.ERROR), pytest.raises(PortError, match="did not say its sample"):
        readings.read(0.01)
    assert "listener _Readings failed on Blocks" in caplog.text  # the pump logged it
    readings.close()


def test_notes_say_when_the_rig_went_and_came_back_and_time_runs_on() -> None:
    readings = live.LiveReadings(
        "fake", link_factory=lambda port, **kw: QuietLink(port, info=Info(100_000, "NR-1"))
    )
    readings.open()
    events = readings.link.events
    events.put(blocks(0, 10))
    events.put(StateChanged(0.0, LinkState.RECONNECTING, LinkState.DISCONNECTED, "trying"))
    events.put(StateChanged(0.0, LinkState.IDLE, LinkState.RECONNECTING, "back"))
    events.put(StateChanged(0.0, LinkState.STREAMING, LinkState.IDLE, "streaming again"))
    events.put(ErrorReported(0.0, "a corrupt frame", "port"))
    events.put(blocks(0, 5, segment=1))
    chunks, notes = readings.read(0.01)
    assert notes == ["trying", "streaming again", "a corrupt frame"]
    times = np.concatenate([t for t, _ in chunks])
    assert times[-1] == pytest.approx(14 / 100) and np.all(np.diff(times) > 0)
    assert readings.read(0.01) == ([], [])  # handed out once
    readings.close()
