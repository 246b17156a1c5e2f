"""Helpers for link tests: a small scripted rig (protocol.md's device side, with
switches for the faults a link must survive: no answer, refusals, silence,
unplug), a socket to plug it into, and a log of a link's events.

Sample ``i`` of a streaming session has counts ``(i, -i)``, so a test can
check that every sample arrived, in order.
"""

from __future__ import annotations

import contextlib
import errno
import queue
import threading
import time
from collections.abc import Callable

import numpy as np
from serial.serialutil import SerialException

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.device import DeviceSerial
from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    Link,
    LinkEvent,
    LinkState,
    StateChanged,
)
from firmware_bridge.messages import (
    Ack,
    AckStatus,
    Event,
    EventCode,
    GetInfo,
    Heartbeat,
    Info,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    encode,
)


class ScriptedRig:
    """A ByteDevice: INFO on open, ACKs, samples at ``rate_hz`` in frames of ``per_frame``."""

    def __init__(
        self,
        serial: str = "NR-0001",
        rate_hz: float = 1000.0,
        per_frame: int = 10,
        answer_info: bool = True,
        ack: bool = True,
        info_on_open: bool = True,
    ) -> None:
        self.serial = serial
        self.rate_mhz = int(rate_hz * 1000)
        self.per_frame = per_frame
        self.answer_info = answer_info
        self.ack = ack
        self.info_on_open = info_on_open
        self.refuse: dict[int, int] = {}  # command type -> ACK status
        self.connected = True
        self.silent = False  # sends nothing while True (a hung rig)
        self.streaming = False
        self.reboot_pending: bool | None = None  # reboot at the next poll; True: with INFO
        self.boots = 1
        self.commands: list[object] = []
        self.sent = bytearray()  # every byte the rig produced, in order
        self._out = bytearray()
        self._decoder = StreamDecoder(accept="host")
        self._start = 0.0
        self._index = 0
        self._next_heartbeat = 0.0
        self._lock = threading.Lock()

    @property
    def info(self) -> Info:
        return Info(self.rate_mhz, self.serial, "test-1.0")

    @property
    def rate_hz(self) -> float:
        return self.rate_mhz / 1000.0

    def _send(self, data: bytes) -> None:
        self._out += data

    def on_open(self, now: float) -> None:
        self._next_heartbeat = now + 1.0
        if self.info_on_open:
            self._send(b"\x00" + encode(self.info))

    def receive(self, data: bytes, now: float) -> None:
        for message in self._decoder.feed(data):
            self.commands.append(message)
            kind = message.body()[0]
            status = self.refuse.get(kind, AckStatus.OK)
            if isinstance(message, SetRate) and self.streaming:
                status = AckStatus.BUSY
            if self.ack:
                self._send(encode(Ack(kind, status)))
            if status != AckStatus.OK:
                continue
            if isinstance(message, GetInfo) and self.answer_info:
                self._send(encode(self.info))
            elif isinstance(message, Start):
                self.streaming, self._start, self._index = True, now, 0
                self._send(encode(Event(EventCode.STARTED, 0)))
            elif isinstance(message, Stop) and self.streaming:
                self.streaming = False
                self._send(encode(Event(EventCode.STOPPED, self._index)))
            elif isinstance(message, SetRate):
                self.rate_mhz = message.sample_rate_mhz
                self._send(encode(self.info))

    def _due_frames(self, now: float) -> None:
        due = int((now - self._start) * self.rate_hz)
        while self._index + self.per_frame <= due:
            i = np.arange(self._index, self._index + self.per_frame)
            self._send(encode(SampleBlock(self._index, np.stack([i, -i], axis=1))))
            self._index += self.per_frame

    def reboot(self, announce: bool = True) -> None:
        """Reboot with the port open (at the next poll, on the device's thread): not
        streaming, heartbeats; with ``announce`` the boot INFO as well."""
        self.reboot_pending = announce

    def _reboot(self, now: float, announce: bool) -> None:
        self.reboot_pending = None
        self.boots += 1
        self.streaming, self._index = False, 0
        self._out.clear()
        self._next_heartbeat = now + (1.0 if announce else 0.0)
        if announce:
            self._send(b"\x00" + encode(self.info))

    def poll(self, now: float) -> bytes:
        if self.reboot_pending is not None:
            self._reboot(now, self.reboot_pending)
        if self.silent:
            if self.streaming:  # a hung rig: its samples are lost
                self._index = max(self._index, int((now - self._start) * self.rate_hz))
            self._next_heartbeat = now + 1.0
            return b""
        if self.streaming:
            self._due_frames(now)
        elif now >= self._next_heartbeat:
            self._send(encode(Heartbeat(int(now * 1000))))
            self._next_heartbeat = now + 1.0
        out = bytes(self._out)
        self._out.clear()
        self.sent += out
        return out

    def next_due(self, now: float) -> float:
        if self._out or self.reboot_pending is not None:
            return now
        if self.streaming:
            return self._start + (self._index + self.per_frame) / self.rate_hz
        return self._next_heartbeat


class Socket:
    """A USB socket: what is plugged in now (None: nothing), opened as pyserial ports."""

    def __init__(
        self, rig: ScriptedRig | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.rig = rig
        self.opens = 0
        self.attempts = 0  # every try to open, plugged in or not
        self.clock = clock  # the rig's clock (None: the real one)

    def unplug(self) -> None:
        if self.rig is not None:
            self.rig.connected = False
        self.rig = None

    def plug(self, rig: ScriptedRig) -> None:
        self.rig = rig

    def opener(self, port: str, timeout: float) -> DeviceSerial:
        self.attempts += 1
        rig = self.rig
        if rig is None or not rig.connected:
            raise SerialException(
                errno.ENOENT, f"could not open port {port}: [Errno 2] No such file or directory"
            )
        self.opens += 1
        ser = _RigSerial(None, timeout=timeout)
        ser.rig = rig
        if self.clock is not None:
            ser.clock = self.clock
        ser.port = port
        ser.open()
        return ser


class _RigSerial(DeviceSerial):
    rig: ScriptedRig

    def make_device(self, url: str) -> ScriptedRig:
        return self.rig


class EventLog:
    """Everything a link reported, kept for assertions."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.events: list[LinkEvent] = []

    def pump(self, seconds: float = 0.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.events.append(self.link.events.get(timeout=0.01))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    return

    def wait(self, predicate: Callable[[LinkEvent], bool], timeout: float = 3.0) -> LinkEvent:
        deadline = time.monotonic() + timeout
        start = len(self.events)
        while time.monotonic() < deadline:
            try:
                event = self.link.events.get(timeout=0.02)
            except queue.Empty:
                continue
            self.events.append(event)
            if predicate(event):
                return event
        raise AssertionError(f"not seen in {timeout} s; got {self.describe(self.events[start:])}")

    def wait_state(self, state: LinkState, timeout: float = 3.0) -> StateChanged:
        return self.wait(lambda e: isinstance(e, StateChanged) and e.state == state, timeout)  # type: ignore[return-value]

    def wait_samples(self, n: int, timeout: float = 3.0) -> None:
        self.wait(lambda e: self.samples() >= n, timeout)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        """Pump events until ``condition()`` holds (a condition, never a fixed sleep)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what}: not seen in {timeout} s")
            with contextlib.suppress(queue.Empty):
                self.events.append(self.link.events.get(timeout=0.01))

    def states(self) -> list[LinkState]:
        return [e.state for e in self.events if isinstance(e, StateChanged)]

    def errors(self) -> list[ErrorReported]:
        return [e for e in self.events if isinstance(e, ErrorReported)]

    def blocks(self) -> list[SampleBlock]:
        return [b for e in self.events if isinstance(e, Blocks) for b in e.blocks]

    def samples(self) -> int:
        return sum(len(b) for b in self.blocks())

    @staticmethod
    def describe(events: list[LinkEvent]) -> str:
        return ", ".join(
            f"{type(e).__name__}({getattr(e, 'state', getattr(e, 'message', ''))})"
            for e in events
            if not isinstance(e, Blocks | CountersSnapshot)
        )
