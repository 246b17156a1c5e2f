"""The bridge from a :class:`~firmware_bridge.link.Link` to Qt.

The Link's reader thread owns the port; this object never touches the port
itself.  A precise QTimer (every ~16 ms) drains the Link's event queue on the
GUI thread and turns the events into signals: sample blocks, state changes,
the rig's INFO, counters and errors.  Anything that may block (opening a
port, the INFO handshake, START/STOP waiting for an ACK) runs on a
:class:`~station.app.tasks.TaskRunner` worker, so the GUI never waits on I/O.

Sources:

- a serial port or the virtual rig: opened at connect; streaming starts at
  once so the operator sees live force (the preview) and can tare;
  a test is STOP, attach the recorder, START, so the recording begins with
  the rig's own STARTED at sample 0;
- a recording to replay: checked at connect (a bad file is refused there),
  played from its start when the test starts, with the recorder attached
  before the first byte, so the test holds the whole stream.
"""

from __future__ import annotations

import contextlib
import queue
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from firmware_bridge.device import open_port
from firmware_bridge.errors import InputError
from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    Link,
    LinkState,
    Received,
    StateChanged,
)
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock
from firmware_bridge.recording import RecordingWriter
from station.app import calibration_choice
from station.app.calibration_choice import CalibrationChoice
from station.app.ports import kind_of
from station.app.tasks import TaskRunner

POLL_INTERVAL_MS = 16
MAX_EVENTS_PER_TICK = 5000  # bounded work per tick; the rest waits for the next one

# App-level connection states shown to the user (status_bar.STATE_STYLE).
DISCONNECTED = "disconnected"
CONNECTING = "connecting"
CONNECTED = "connected"
STREAMING = "streaming"
SILENT = "silent"
RECONNECTING = "reconnecting"
LOST = "lost"
READY = "ready"  # a replay that has been checked and waits for a test to play it
FINISHED = "finished"  # a replay that has played to its end


@dataclass(frozen=True)
class BlockBatch:
    """Sample blocks drained in one tick; ``arrived`` is the Link's time of the last read."""

    blocks: tuple[SampleBlock, ...]
    arrived: float

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.blocks)


def _link_state(state: LinkState, reconnect: bool) -> str:
    return {
        LinkState.CONNECTING: CONNECTING,
        LinkState.IDLE: CONNECTED,
        LinkState.STREAMING: STREAMING,
        LinkState.SILENT: SILENT,
        LinkState.DISCONNECTED: RECONNECTING if reconnect else LOST,
        LinkState.RECONNECTING: RECONNECTING,
        LinkState.CLOSED: DISCONNECTED,
    }[state]


class Acquisition(QObject):
    """One rig connection at a time, seen from the GUI thread."""

    state_changed = Signal(str)
    info_changed = Signal(object)  # firmware_bridge.messages.Info
    counters_changed = Signal(dict)
    calibration_changed = Signal(object)  # CalibrationChoice
    samples_arrived = Signal(object)  # BlockBatch
    rig_event = Signal(object)  # firmware_bridge.messages.Event (BUTTON, OVERRUN, FAULT...)
    error = Signal(str, str)  # kind, one-line message
    connected = Signal()  # a connect_to() succeeded
    connect_failed = Signal(str)
    source_finished = Signal()  # a replay played to its end
    # A test's stream begins: emitted before its first sample block is handed over.
    stream_restarted = Signal()

    def __init__(self, store: Any = None, poll_interval_ms: int = POLL_INTERVAL_MS) -> None:
        super().__init__()
        self.store = store
        self.tasks = TaskRunner("station-link", self)
        self.url: str | None = None
        self.kind: str | None = None
        self.state = DISCONNECTED
        self.info: Info | None = None
        self.calibration: CalibrationChoice | None = None
        self.counters: dict[str, Any] = {}
        self.replay_header: dict[str, Any] | None = None
        self.events_seen = 0
        self._link: Link | None = None
        self._port: serial.SerialBase | None = None
        self._recording = False
        self._awaiting_started = False
        self._finished_ticks = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(poll_interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    # -- what is connected ---------------------------------------------------------
    @property
    def link(self) -> Link | None:
        return self._link

    @property
    def is_connected(self) -> bool:
        return self.state not in (DISCONNECTED, CONNECTING, LOST)

    @property
    def is_replay(self) -> bool:
        return self.kind == "replay"

    @property
    def recording(self) -> bool:
        return self._recording

    def device(self) -> Any:
        """The in-process device behind a virtual:// or replay:// port (None for hardware)."""
        return getattr(self._port, "device", None)

    def sample_rate_hz(self) -> float | None:
        return self.info.sample_rate_hz if self.info is not None else None

    @property
    def serial_number(self) -> str | None:
        if self.info is not None:
            return self.info.serial_number
        return None

    # -- connecting ----------------------------------------------------------------
    def _open(self, url: str, timeout: float) -> serial.SerialBase:
        """The Link's opener: keep the port object so an in-process device is reachable."""
        port = open_port(url, timeout=timeout, exclusive=True)
        self._port = port
        return port

    def connect_to(self, url: str) -> None:
        """Connect to a port, ``virtual://`` rig or ``replay://`` recording (asynchronously).

        ``connected`` or ``connect_failed`` follows on the GUI thread.
        """
        self.close()
        self.url = url
        self.kind = kind_of(url)
        self._set_state(CONNECTING)
        if self.kind == "replay":
            self.tasks.submit(lambda: self._check_replay(url), self._replay_checked, self._failed)
            return
        link = Link(url, opener=self._open)
        self._link = link
        self.tasks.submit(link.open, lambda info: self._opened(link, info), self._failed)

    def _check_replay(self, url: str) -> dict[str, Any]:
        """Load the recording once (a bad file fails here, at connect, not mid-test)."""
        from firmware_bridge.capture import load_capture
        from firmware_bridge.replay import parse_replay_url

        path, _, rate = parse_replay_url(url)
        capture = load_capture(path, rate)
        info = capture.info
        header = dict(capture.header or {})
        header["_info"] = info
        header["_calibration"] = capture.calibration
        header["_path"] = path
        return header

    def _replay_checked(self, header: dict[str, Any]) -> None:
        self.replay_header = header
        info: Info | None = header.get("_info")
        self._set_info(info)
        self._choose_calibration(recorded=header.get("_calibration"))
        self._set_state(READY)
        self.connected.emit()

    def _opened(self, link: Link, info: Info | None) -> None:
        if link is not self._link:
            return  # closed or replaced meanwhile
        self._set_info(info)
        self._choose_calibration()
        self.connected.emit()
        self.start_preview()

    def _failed(self, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        if not isinstance(exc, InputError | OSError):
            message = f"{type(exc).__name__}: {message}"
        link, self._link = self._link, None
        if link is not None:
            with contextlib.suppress(Exception):
                link.close()
        self._set_state(DISCONNECTED)
        self.connect_failed.emit(message)

    def _choose_calibration(self, recorded: dict[str, Any] | None = None) -> None:
        virtual = None
        device = self.device()
        if self.kind == "virtual" and device is not None:
            virtual = device.calibration_certificate()
        try:
            choice = calibration_choice.choose(
                self.store, self.serial_number, virtual_certificate=virtual, recorded=recorded
            )
        except InputError as exc:
            self.error.emit("calibration", str(exc))
            choice = calibration_choice.choose(None, self.serial_number)
        self.calibration = choice
        self.calibration_changed.emit(choice)

    def set_calibration(self, choice: CalibrationChoice) -> None:
        """Use another certificate (e.g. one the operator imported)."""
        self.calibration = choice
        self.calibration_changed.emit(choice)

    # -- streaming and recording ----------------------------------------------------
    def start_preview(self) -> None:
        """Ask the rig to stream (not recorded) so live force shows before a test."""
        link = self._link
        if link is None or link.passive:
            return
        self.tasks.submit(link.start, None, lambda exc: self._command_failed("START", exc))

    def _command_failed(self, name: str, exc: BaseException) -> None:
        self.error.emit("command", str(exc) or f"{name} failed")

    def begin_recording(
        self,
        writer: RecordingWriter,
        on_started: Callable[[], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Record from a fresh START (rig) or from the first byte (replay)."""
        if self.kind == "replay":
            assert self.url is not None
            link = Link(self.url, recorder=writer, opener=self._open)
            self._link = link
            self._recording = True
            self._finished_ticks = 0
            self.stream_restarted.emit()  # nothing of the new link has been drained yet

            def opened(info: Info | None) -> None:
                on_started()

            def failed(exc: BaseException) -> None:
                self._recording = False
                self._link = None
                on_error(exc)

            self.tasks.submit(link.open, opened, failed)
            return
        link = self._link
        if link is None:
            on_error(InputError("no rig is connected: connect one first"))
            return

        def restart() -> None:
            if link.state == LinkState.STREAMING:
                link.stop()
            link.attach_recorder(writer)
            link.start()

        def failed_rig(exc: BaseException) -> None:
            link.detach_recorder()
            self._recording = False
            self._awaiting_started = False
            on_error(exc)

        self._recording = True
        self._awaiting_started = True
        self.tasks.submit(restart, lambda _: on_started(), failed_rig)

    def end_recording(
        self,
        on_stopped: Callable[[RecordingWriter | None], None],
        resume_preview: bool = True,
    ) -> None:
        """Stop the test's stream and hand back the (still open) writer.

        A STOP the rig does not acknowledge (e.g. it is unplugged) does not
        lose anything: the writer is detached all the same.
        """
        link = self._link
        if link is None:
            self._recording = False
            on_stopped(None)
            return

        def stop() -> RecordingWriter | None:
            if not link.passive and link.connected:
                with contextlib.suppress(InputError):
                    link.stop()
            writer = link.detach_recorder()
            if link.passive:
                link.close()
            return writer

        def done(writer: RecordingWriter | None) -> None:
            self._recording = False
            if link.passive:
                self.drain()
                if self._link is link:
                    self._link = None
                self._set_state(READY)
            elif resume_preview:
                self.start_preview()
            on_stopped(writer)

        self.tasks.submit(stop, done, lambda exc: done(link.detach_recorder()))

    # -- the event pump ----------------------------------------------------------------
    def drain(self) -> None:
        """Hand everything the reader thread produced to the GUI (called by the timer)."""
        link = self._link
        if link is None:
            return
        blocks: list[SampleBlock] = []
        arrived = 0.0
        events = link.events
        for _ in range(MAX_EVENTS_PER_TICK):
            try:
                event = events.get_nowait()
            except queue.Empty:
                break
            self.events_seen += 1
            if isinstance(event, Blocks):
                blocks.extend(event.blocks)
                arrived = event.t
                continue
            if blocks:
                self.samples_arrived.emit(BlockBatch(tuple(blocks), arrived))
                blocks = []
            self._handle(link, event)
        if blocks:
            self.samples_arrived.emit(BlockBatch(tuple(blocks), arrived))
        if self.kind == "replay" and self._recording:
            self._check_replay_end(link)

    def _handle(self, link: Link, event: object) -> None:
        if isinstance(event, StateChanged):
            if event.state == LinkState.CLOSED and self._link is not link:
                return
            state = _link_state(event.state, link.reconnect)
            if self.kind == "replay" and event.state == LinkState.CLOSED:
                state = READY if self.replay_header is not None else DISCONNECTED
            self._set_state(state)
        elif isinstance(event, Received):
            message = event.message
            if isinstance(message, Info):
                changed = self.info is None or message.serial_number != self.info.serial_number
                self._set_info(message)
                if changed and self.kind == "serial":
                    self._choose_calibration()
            elif isinstance(message, Event):
                if message.code == EventCode.STARTED and self._awaiting_started:
                    self._awaiting_started = False
                    self.stream_restarted.emit()
                self.rig_event.emit(message)
        elif isinstance(event, CountersSnapshot):
            self.counters = dict(event.counters)
            self.counters_changed.emit(self.counters)
        elif isinstance(event, ErrorReported):
            self.error.emit(event.kind, event.message)

    def _check_replay_end(self, link: Link) -> None:
        device = self.device()
        done = bool(getattr(device, "finished", False)) and link.events.empty()
        if done and self._port is not None:
            with contextlib.suppress(Exception):
                done = self._port.in_waiting == 0
        self._finished_ticks = self._finished_ticks + 1 if done else 0
        if self._finished_ticks == 3:  # ~50 ms with nothing left anywhere
            self.source_finished.emit()

    # -- state ---------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _set_info(self, info: Info | None) -> None:
        self.info = info
        self.info_changed.emit(info)

    def disconnect_rig(self) -> None:
        """Close the connection (a test in progress must be ended first)."""
        self.close()

    def close(self) -> None:
        """Close the link without waiting on the GUI (the reader thread stops within ~20 ms)."""
        link, self._link = self._link, None
        self._recording = False
        if link is not None:
            writer = link.detach_recorder()
            if writer is not None and not writer.closed:
                with contextlib.suppress(Exception):
                    writer.close()
            link.close()
        self._port = None
        self.replay_header = None
        self.info = None
        self.counters = {}
        self._set_state(DISCONNECTED)

    def shutdown(self) -> None:
        """Stop the pump and the link for good (the window is closing); safe to repeat."""
        self._timer.stop()
        self.close()
        self.tasks.shutdown(wait=True)


def replay_path(url: str) -> Path:
    """The file a ``replay://`` URL plays."""
    parts = urllib.parse.urlsplit(url)
    return Path(urllib.parse.unquote(parts.netloc + parts.path))


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Busy-wait helper for scripts without an event loop (never used by the GUI)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()
