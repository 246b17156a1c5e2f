"""The bridge from a :class:`~firmware_bridge.link.Link` to Qt.

The Link's reader thread owns the port; this object never touches the port
itself.  The one :class:`~firmware_bridge.pump.EventPump` drains the Link's
event queue on its thread into an inbox and wakes the GUI thread with a
queued Qt signal (once per batch), so a block reaches the screen as soon as
the GUI is free (no polling period to wait out, and no wake-ups while
nothing arrives).  On the GUI thread the
inbox is turned into signals: sample blocks (one batch per wake-up), state
changes, the rig's INFO, counters and errors.  Anything that may block (opening a
port, the INFO handshake, START/STOP waiting for an ACK) runs on a
:class:`~station.app.shell.tasks.TaskRunner` worker, so the GUI never waits on I/O.

Sources:

- a serial port or the virtual rig: opened at connect; streaming starts at
  once so the operator sees live force (the preview) and can tare;
  a test is STOP, attach the recorder, START, so the recording begins with
  the rig's own STARTED at sample 0;
- a recording to replay: checked at connect (a bad file is refused there),
  played from its start when the test starts, with the recorder attached
  before the first byte, so the test holds the whole stream;
- a replay with a transport (the replay screen's
  :class:`~station.app.replay.playback.PlaybackAcquisition`): its Link is
  opened on the worker like a rig's and its events come through the same
  pump; ``source_finished`` follows its last byte.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import serial
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from calibration import choice as calibration_choice
from calibration.choice import CalibrationChoice
from firmware_bridge.device import open_port
from firmware_bridge.errors import InputError
from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    Link,
    LinkEvent,
    LinkState,
    Received,
    StateChanged,
)
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock
from firmware_bridge.pump import EventPump, Listener
from firmware_bridge.recording import RecordingWriter
from station.app.rig.link_events import (
    CONNECTED,
    CONNECTING,
    DISCONNECTED,
    FINISHED,
    LOST,
    READY,
    RECONNECTING,
    SILENT,
    STREAMING,
    BlockBatch,
    ConnectionState,
    GuiInbox,
    app_state,
)
from station.app.rig.ports import kind_of
from station.app.shell.dialogs import user_message
from station.app.shell.tasks import TaskRunner
from station.store import Store

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 100  # housekeeping only (a replay's end); data arrives by wake-up
MAX_EVENTS_PER_TICK = 5000  # bounded work per wake-up; the rest is handled on the next one


class Acquisition(QObject):
    """One rig connection at a time, seen from the GUI thread."""

    state_changed = Signal(str)
    state_detail = Signal(str)  # the link's words for a change ("the rig restarted ...")
    info_changed = Signal(object)  # firmware_bridge.messages.Info
    counters_changed = Signal(dict)
    calibration_changed = Signal(object)  # CalibrationChoice
    samples_arrived = Signal(object)  # BlockBatch
    rig_event = Signal(object)  # firmware_bridge.messages.Event (BUTTON, OVERRUN, FAULT...)
    error = Signal(str, str, bool)  # kind, one-line message, fatal (the link gave up)
    connected = Signal()  # a connect_to() succeeded
    connect_failed = Signal(str)
    source_finished = Signal()  # a replay played to its end
    # A test's stream begins: emitted before its first sample block is handed over.
    stream_restarted = Signal()
    _wake = Signal()  # from the pump's thread: events are waiting in the inbox

    def __init__(
        self, store: Store | None = None, poll_interval_ms: int = POLL_INTERVAL_MS
    ) -> None:
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
        self._pump: EventPump | None = None
        self._inbox: GuiInbox | None = None
        self._listeners: list[Listener] = []  # also fed by every link's pump (e.g. LSL)
        self._port: serial.SerialBase | None = None
        self._recording = False
        self._playing = False  # a replay with a transport is running (PlaybackAcquisition)
        self._failures: deque[str] = deque()  # listener failures, reported on the GUI thread
        self._awaiting_started = False
        self._finished_ticks = 0
        self._attempt = 0  # which connect_to() a late answer belongs to
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(poll_interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()
        self._wake.connect(self.drain, Qt.ConnectionType.QueuedConnection)

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

    def _use_link(self, link: Link | None) -> None:
        """Make ``link`` the current one, with the event pump on its queue.

        What the old link still has queued is dropped (see :meth:`_hand_over_rest`
        for a link whose last events matter).  The GUI does not wait for the old
        pump's thread: it stops by itself within its wait (0.1 s).
        """
        pump = self._pump
        if pump is not None:
            pump.stop(flush=False, timeout=0.0)
        self._pump = self._inbox = None
        self._link = link
        if link is not None:
            self._inbox = GuiInbox(self._wake.emit)
            self._pump = EventPump(
                link,
                [self._inbox, *self._listeners],
                on_error=self._listener_failed,
                name=f"station-pump {link.port}",
            ).start()

    def attach_listener(self, listener: Listener) -> None:
        """Hand the rig's events also to ``listener``, on the pump's thread (never the
        GUI's), for the current link and every later one until :meth:`detach_listener`."""
        if listener not in self._listeners:
            self._listeners.append(listener)
            if self._pump is not None:
                self._pump.add_listener(listener)

    def detach_listener(self, listener: Listener) -> None:
        """Stop handing events to ``listener`` (one in its hands may still finish)."""
        if listener in self._listeners:
            self._listeners.remove(listener)
        pump = self._pump
        if pump is not None and listener in pump.listeners:
            pump.remove_listener(listener)

    def _hand_over_rest(self, link: Link) -> None:
        """(worker thread) after ``link.close()``: its last events into the inbox."""
        pump = self._pump
        if pump is not None and pump.source is link:
            pump.stop(flush=True)

    def _listener_failed(self, listener: Listener, event: LinkEvent | None, exc: Exception) -> None:
        """(pump thread) the inbox could not take an event: the GUI says so on its thread."""
        log.warning("a listener failed on %r", event, exc_info=exc)
        self._failures.append(f"an event from the rig was lost: {user_message(exc)}")
        self._wake.emit()

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
        self._attempt += 1
        attempt = self._attempt
        if self.kind == "replay":
            self.tasks.submit(
                lambda: self._check_replay(url),
                lambda header: self._replay_checked(header, attempt),
                lambda exc: self._failed(exc, attempt),
            )
            return
        link = Link(url, opener=self._open)
        self._use_link(link)
        self.tasks.submit(
            link.open,
            lambda info: self._opened(link, info, attempt),
            lambda exc: self._failed(exc, attempt),
        )

    def _check_replay(self, url: str) -> dict[str, Any]:
        """Load the recording once (a bad file fails here, at connect, not mid-test)."""
        from firmware_bridge.replay import load_replay, parse_replay_url

        path = parse_replay_url(url)[0]
        capture = load_replay(url)
        info = capture.info
        header = dict(capture.header or {})
        header["_info"] = info
        header["_calibration"] = calibration_choice.carried_calibration(capture)
        header["_path"] = path
        return header

    def _replay_checked(self, header: dict[str, Any], attempt: int) -> None:
        if attempt != self._attempt:
            return  # the user has chosen another source meanwhile
        self.replay_header = header
        info: Info | None = header.get("_info")
        self._set_info(info)
        self._choose_calibration(recorded=header.get("_calibration"))
        self._set_state(READY)
        self.connected.emit()

    def _opened(self, link: Link, info: Info | None, attempt: int) -> None:
        if link is not self._link or attempt != self._attempt:
            return  # closed or replaced meanwhile
        self._set_info(info)
        self._choose_calibration()
        self.connected.emit()
        self.start_preview()

    def _failed(self, exc: BaseException, attempt: int) -> None:
        if attempt != self._attempt:
            return  # a source the user has already left
        message = user_message(exc)
        if not isinstance(exc, InputError | OSError):
            log.warning("connecting failed", exc_info=exc)
        link = self._link
        self._use_link(None)
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
                None if self.store is None else self.store.certificates,
                self.serial_number,
                virtual_certificate=virtual,
                recorded=recorded,
            )
        except InputError as exc:  # a stored certificate that cannot be read
            self.error.emit("calibration", user_message(exc), False)
            choice = calibration_choice.choose(
                None, self.serial_number, virtual_certificate=virtual, recorded=recorded
            )
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
        self.error.emit("command", user_message(exc), False)

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
            self._use_link(link)
            self._recording = True
            self._finished_ticks = 0
            self.stream_restarted.emit()  # nothing of the new link has been drained yet

            def opened(info: Info | None) -> None:
                on_started()

            def failed(exc: BaseException) -> None:
                self._recording = False
                if self._link is link:
                    self._use_link(None)
                on_error(exc)

            self.tasks.submit(link.open, opened, failed)
            return
        rig_link = self._link
        if rig_link is None:
            on_error(InputError("no rig is connected: connect one first"))
            return

        def restart() -> None:
            if rig_link.state == LinkState.STREAMING:
                rig_link.stop()
            rig_link.attach_recorder(writer)
            rig_link.start()

        def failed_rig(exc: BaseException) -> None:
            rig_link.detach_recorder()
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
                self._hand_over_rest(link)
            return writer

        def done(writer: RecordingWriter | None) -> None:
            self._recording = False
            if link.passive:
                self.drain()
                if self._link is link:
                    self._use_link(None)
                self._set_state(READY)
            elif resume_preview:
                self.start_preview()
            on_stopped(writer)

        self.tasks.submit(stop, done, lambda exc: done(link.detach_recorder()))

    # -- the event pump ----------------------------------------------------------------
    def drain(self) -> None:
        """Hand everything the reader thread produced to the GUI (on each wake-up)."""
        while self._failures:
            self.error.emit("internal", self._failures.popleft(), False)
        link, events = self._link, self._inbox
        if link is None or events is None:
            return
        events.woken()
        inbox = events.events
        blocks: list[SampleBlock] = []
        arrived = 0.0
        for _ in range(MAX_EVENTS_PER_TICK):
            try:
                event = inbox.popleft()
            except IndexError:
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
            if self._link is not link:
                return  # a handler closed or replaced the link
        if blocks:
            self.samples_arrived.emit(BlockBatch(tuple(blocks), arrived))
        if inbox:
            self._wake.emit()  # more than one batch's worth: continue after a repaint
        if self.kind == "replay" and (self._recording or self._playing):
            self._check_replay_end(link)

    def _handle(self, link: Link, event: object) -> None:
        if isinstance(event, StateChanged):
            if event.state == LinkState.CLOSED and self._link is not link:
                return
            state = app_state(event.state, link.reconnect)
            if self.kind == "replay" and event.state == LinkState.CLOSED:
                state = READY if self.replay_header is not None else DISCONNECTED
            back = event.previous in (LinkState.DISCONNECTED, LinkState.RECONNECTING)
            self._set_state(state)
            if event.detail:
                self.state_detail.emit(event.detail)
            if back and event.state == LinkState.IDLE and not self._recording:
                # Back after an unplug without a test running: live force again for the
                # operator (the link itself only resumes a stream that a test asked for).
                self.start_preview()
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
            self.error.emit(event.kind, event.message, event.fatal)

    def _check_replay_end(self, link: Link) -> None:
        device = self.device()
        pump, events = self._pump, self._inbox
        done = (
            bool(getattr(device, "finished", False))
            and (pump is None or pump.idle)
            and (events is None or not events.events)
        )
        if done and self._port is not None:
            with contextlib.suppress(Exception):
                done = self._port.in_waiting == 0
        self._finished_ticks = self._finished_ticks + 1 if done else 0
        if self._finished_ticks == 3:  # three checks in a row with nothing left anywhere
            self.source_finished.emit()

    # -- state ---------------------------------------------------------------------
    def _set_state(self, state: ConnectionState) -> None:
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
        self._attempt += 1  # answers to an open still in progress are ignored
        link = self._link
        self._use_link(None)
        self._recording = False
        self._playing = False
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


# The screens read the app-level states here (``acq.STREAMING``).
__all__ = [
    "CONNECTED",
    "CONNECTING",
    "DISCONNECTED",
    "FINISHED",
    "LOST",
    "READY",
    "RECONNECTING",
    "SILENT",
    "STREAMING",
    "Acquisition",
    "BlockBatch",
]
