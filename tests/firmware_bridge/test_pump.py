"""The event pump: one loop over a Link's events, handed to listeners in order."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    LinkEvent,
    LinkState,
    Received,
    StateChanged,
)
from firmware_bridge.messages import Heartbeat, SampleBlock
from firmware_bridge.pump import EventPump, Listener
from firmware_bridge.virtual_rig import VirtualRig


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the pump"
        time.sleep(0.005)


@dataclass
class Source:
    events: queue.Queue[LinkEvent] = field(default_factory=queue.Queue)
    port: str = "test://"


class Recorder(Listener):
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.batches = 0
        self.stopped = False

    def on_blocks(self, event: Blocks) -> None:
        self.seen.append(f"blocks {event.samples}")

    def on_received(self, event: Received) -> None:
        self.seen.append(f"received {type(event.message).__name__}")

    def on_state(self, event: StateChanged) -> None:
        self.seen.append(f"state {event.state}")

    def on_link_error(self, event: ErrorReported) -> None:
        self.seen.append(f"error {event.message}")

    def on_counters(self, event: CountersSnapshot) -> None:
        self.seen.append(f"counters {event.counters['samples']}")

    def on_batch_end(self) -> None:
        self.batches += 1

    def stop(self) -> None:
        self.stopped = True


class Failing(Listener):
    def on_event(self, event: LinkEvent) -> None:
        raise RuntimeError("listener bug")


def blocks(n: int) -> Blocks:
    return Blocks(0.0, (SampleBlock(0, np.zeros((n, 2))),), 0)


def put_all(source: Source) -> None:
    source.events.put(StateChanged(0.0, LinkState.STREAMING, LinkState.IDLE, "go"))
    source.events.put(blocks(3))
    source.events.put(Received(0.0, Heartbeat(1), 0))
    source.events.put(ErrorReported(0.0, "oops", "port"))
    source.events.put(CountersSnapshot(0.0, {"samples": 3}))


EXPECTED = ["state streaming", "blocks 3", "received Heartbeat", "error oops", "counters 3"]


def test_pump_once_hands_every_event_in_order_then_ends_the_batch() -> None:
    source, listener = Source(), Recorder()
    put_all(source)
    pump = EventPump(source, [listener])
    assert pump.pump_once(0.0) == 5
    assert listener.seen == EXPECTED and listener.batches == 1
    assert pump.idle and pump.events_handled == 5


def test_pump_once_waits_up_to_its_timeout_and_returns_nothing() -> None:
    listener = Recorder()
    pump = EventPump(Source(), [listener])
    assert pump.pump_once(0.01) == 0
    assert listener.batches == 0


def test_a_failing_listener_is_logged_and_reported_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source, good, bad = Source(), Recorder(), Failing()
    reported: list[tuple[Listener, LinkEvent | None, Exception]] = []
    pump = EventPump(source, [bad, good], on_error=lambda *args: reported.append(args))
    put_all(source)
    with caplog.at_level(logging.ERROR, logger="firmware_bridge.pump"):
        assert pump.pump_once(0.0) == 5
    assert good.seen == EXPECTED
    assert len(reported) == 5 and all(r[0] is bad for r in reported)
    assert isinstance(reported[0][1], StateChanged)
    assert str(reported[0][2]) == "listener bug"
    assert pump.listener_errors == 5
    assert "listener Failing failed on StateChanged" in caplog.text


def test_an_error_listener_that_fails_too_does_not_stop_the_pump() -> None:
    source, good = Source(), Recorder()

    def broken(*_: object) -> None:
        raise ValueError("error listener bug")

    pump = EventPump(source, [Failing(), good], on_error=broken)
    put_all(source)
    assert pump.pump_once(0.0) == 5 and good.seen == EXPECTED


def test_the_pump_thread_delivers_and_stop_flushes_what_is_left() -> None:
    source, listener = Source(), Recorder()
    pump = EventPump(source, [listener]).start()
    assert pump.running
    source.events.put(blocks(2))
    wait_for(lambda: listener.seen == ["blocks 2"])
    pump.stop(flush=False)
    assert not pump.running
    put_all(source)  # arrives after the thread stopped: handed over by a flushing stop
    pump.stop()
    assert listener.seen == ["blocks 2", *EXPECTED] and listener.stopped


def test_the_pump_thread_survives_a_failing_listener() -> None:
    source, listener = Source(), Recorder()
    errors: list[Exception] = []
    with EventPump(source, [Failing(), listener], on_error=lambda _l, _e, x: errors.append(x)):
        source.events.put(blocks(1))
        wait_for(lambda: listener.seen == ["blocks 1"])
        source.events.put(blocks(2))
        wait_for(lambda: listener.seen == ["blocks 1", "blocks 2"])
    assert len(errors) == 2


def test_a_pump_starts_once() -> None:
    pump = EventPump(Source()).start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            pump.start()
    finally:
        pump.stop()


def test_listeners_are_added_and_removed() -> None:
    source, listener = Source(), Recorder()
    pump = EventPump(source)
    pump.add_listener(listener)
    source.events.put(blocks(1))
    pump.pump_once()
    pump.remove_listener(listener)
    source.events.put(blocks(2))
    pump.pump_once()
    assert listener.seen == ["blocks 1"]


def test_a_link_to_the_virtual_rig_through_the_pump() -> None:
    from firmware_bridge.link import Link
    from firmware_bridge.virtual_rig import forget_device, register_device

    register_device("pump-test", VirtualRig(serial_number="NR-PUMP"))
    link = Link("virtual://pump-test")
    listener = Recorder()
    got = threading.Event()

    class Samples(Listener):
        def on_blocks(self, event: Blocks) -> None:
            got.set()

    pump = EventPump(link, [listener, Samples()]).start()
    try:
        link.open()
        link.start()
        assert got.wait(5.0)
    finally:
        link.close()
        pump.stop()
        forget_device("pump-test")
    assert "state streaming" in listener.seen
    assert listener.seen[-1] == "state closed"  # the close's events were flushed


def test_stop_without_waiting_returns_at_once_and_the_thread_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pump = EventPump(Source()).start()
    thread = pump._thread
    assert thread is not None
    with caplog.at_level(logging.WARNING, logger="firmware_bridge.pump"):
        pump.stop(flush=False, timeout=0.0)
    assert not pump.running and caplog.text == ""
    thread.join(2.0)
    assert not thread.is_alive()
