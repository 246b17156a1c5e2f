"""The link to a rig: one port, one reader thread, every byte accounted for.

Why it is built this way:

- One reader thread owns the port and does nothing but read in chunks
  (``read(in_waiting or 1)`` with a short time-out, never ``readline``),
  record, decode and hand over.  Blocks reach the caller within a few
  milliseconds of their bytes, and the thread's CPU use stays small.
- The caller receives everything through one thread-safe queue of typed
  :class:`LinkEvent` objects: sample blocks, other messages, state changes,
  errors and counter snapshots.  Nothing is reported by raising in the
  reader thread, and nothing is dropped: the queue is unbounded.
- The reader thread never dies silently: whatever goes wrong becomes an
  :class:`ErrorReported` event and a state change, and the link tries to
  reopen the same port.  A rig that comes back is accepted only with the
  serial number it had (checked on its INFO before any of its bytes are
  used); another rig's data is never mixed in.
- One :class:`~firmware_bridge.decoder.StreamDecoder` sees the whole byte
  stream across reconnects, exactly as the recording stores it, so live
  counters equal what ``analyze`` later finds in the recording.
- Commands (START, STOP, SET_RATE, GET_INFO) are written from the caller's
  thread and wait for the rig's ACK with a time-out; a refusal or a
  time-out is a one-line :class:`LinkError`.
- A rig that reboots with the port still open (a brown-out, a watchdog)
  says so with an INFO nobody asked for, or with heartbeats where samples
  were due.  If the caller had asked for START, the link sends START once
  for that reboot and says so in a :class:`StateChanged` detail (``idle``:
  "the rig restarted ...", then ``streaming``: "streaming again after the rig
  restarted"); the samples go on as a new segment.  Without that, a test in
  progress would stop without anyone noticing.
- A passive source (``replay://``, or a text-dialect DIY rig) is not asked
  for INFO and its ACKs are not awaited: its INFO, if any, comes from the
  stream itself.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import serial
from serial.serialutil import SerialException

from firmware_bridge.ack_tracking import Commands, Waiter
from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.errors import PortError
from firmware_bridge.link_connect import Connecting
from firmware_bridge.link_events import (
    CONNECTED_STATES,
    Blocks,
    CountersSnapshot,
    ErrorKind,
    ErrorReported,
    LinkCounters,
    LinkEvent,
    LinkState,
    Received,
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
    Message,
    MsgType,
    SampleBlock,
    encode,
)
from firmware_bridge.port_errors import LinkError, Opener, default_opener, describe_open_error
from firmware_bridge.recording import RecordingWriter
from firmware_bridge.recording_tee import RecordingTee

# What callers import from here (the parts live in their own modules).
__all__ = [
    "CONNECTED_STATES",
    "Blocks",
    "CountersSnapshot",
    "ErrorKind",
    "ErrorReported",
    "Link",
    "LinkCounters",
    "LinkError",
    "LinkEvent",
    "LinkState",
    "Opener",
    "Received",
    "StateChanged",
    "describe_open_error",
]

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.02
SILENCE_S = 2.0
RETRY_INTERVAL_S = 0.5
FOREIGN_RETRY_INTERVAL_S = 2.0
INFO_TIMEOUT_S = 0.5
INFO_RETRIES = 2
COMMAND_TIMEOUT_S = 1.0
COUNTERS_INTERVAL_S = 0.5
MAX_INTERNAL_ERRORS = 5  # within INTERNAL_ERROR_WINDOW_S: the reader gives up
INTERNAL_ERROR_WINDOW_S = 10.0


class Link(Commands, Connecting):
    """A connection to one rig (or replay) with reconnects, commands and recording.

    Typical use::

        link = Link("/dev/ttyACM0", recorder=writer)
        info = link.open()          # PortError if the port or the rig is not there
        link.start()                # LinkError if the rig refuses or does not answer
        while ...:
            event = link.events.get(timeout=0.1)
        link.stop(); link.close()

    ``passive`` (default: True for ``replay://``) skips the INFO handshake and
    does not wait for ACKs.  ``reconnect`` (default: False for ``replay://``,
    whose reopening would play it again) keeps reopening a lost port.
    ``opener(port, timeout)`` returns an open pyserial port (tests inject
    their own devices); ``clock`` is the monotonic clock every time-out,
    retry and event time is read from (``time.monotonic``; tests may inject
    their own).  The recorder is written to but never closed here.
    """

    def __init__(
        self,
        port: str,
        *,
        recorder: RecordingWriter | None = None,
        passive: bool | None = None,
        reconnect: bool | None = None,
        expected_serial: str | None = None,
        info_timeout: float = INFO_TIMEOUT_S,
        info_retries: int = INFO_RETRIES,
        command_timeout: float = COMMAND_TIMEOUT_S,
        silence_s: float = SILENCE_S,
        retry_interval: float = RETRY_INTERVAL_S,
        read_timeout: float = READ_TIMEOUT_S,
        foreign_retry_interval: float = FOREIGN_RETRY_INTERVAL_S,
        opener: Opener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        is_replay = port.startswith("replay://")
        self.port = port
        self.passive = is_replay if passive is None else passive
        self.reconnect = (not is_replay) if reconnect is None else reconnect
        self.expected_serial = expected_serial
        self.info_timeout = info_timeout
        self.info_retries = info_retries
        self.command_timeout = command_timeout
        self.silence_s = silence_s
        self.retry_interval = retry_interval
        self.read_timeout = read_timeout
        self.foreign_retry_interval = foreign_retry_interval
        self._clock = clock
        self.events: queue.Queue[LinkEvent] = queue.Queue()
        self._opener = opener or default_opener
        self._tee = RecordingTee(recorder, self._recording_failed)
        self._decoder = StreamDecoder()
        self._stats = LinkCounters()
        self._stats_lock = threading.Lock()  # decoder + stats, for consistent snapshots
        self._lock = threading.RLock()  # state and waiters
        self._write_lock = threading.Lock()
        self._command_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._ser: serial.SerialBase | None = None
        self._state = LinkState.CLOSED
        self._detail = "not opened"
        self._info: Info | None = None
        self._serial: str | None = None
        self._streaming = False  # what the rig should be doing (restored after a reconnect)
        self._start_wanted = False  # the caller asked for START and not for STOP since
        self._infos_expected = 0  # INFOs announced by an ACK (GET_INFO, SET_RATE)
        self._last_rx = 0.0
        self._next_probe = 0.0
        self._next_attempt = 0.0
        self._next_counters = 0.0
        self._foreign_serial: str | None = None
        self._waiters: list[Waiter] = []
        self._info_waiters: list[Waiter] = []
        self._internal_errors: list[float] = []
        self._opened = False

    # -- public state ------------------------------------------------------------
    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def info(self) -> Info | None:
        return self._info

    @property
    def serial_number(self) -> str | None:
        return self._serial

    @property
    def connected(self) -> bool:
        return self._state in CONNECTED_STATES

    @property
    def reader_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def counters(self) -> dict[str, Any]:
        """The decoder's counters and the link's, as one consistent snapshot."""
        with self._stats_lock:
            return {**self._decoder.counters.to_dict(), **self._stats.to_dict()}

    # -- life cycle --------------------------------------------------------------
    def open(self) -> Info | None:
        """Open the port, do the INFO handshake and start the reader thread.

        Raises :class:`PortError` (one line) when the port is missing or busy
        or no rig answers; returns the rig's INFO (None for a passive source).
        """
        if self._opened:
            raise LinkError(f"the link to {self.port} was already opened")
        self._opened = True
        self._set_state(LinkState.CONNECTING, f"opening {self.port}")
        try:
            ser, info, pending = self._connect()
            wanted = self.expected_serial
            if info is not None and wanted and info.serial_number != wanted:
                with contextlib.suppress(Exception):
                    ser.close()
                raise LinkError(f"the rig on {self.port} is {info.serial_number}, not {wanted}")
        except PortError as exc:
            self._set_state(LinkState.CLOSED, str(exc))
            raise
        if info is not None:
            self._serial = info.serial_number
        self._install(ser, info, pending)
        self._thread = threading.Thread(target=self._run, name=f"link {self.port}", daemon=True)
        self._thread.start()
        return info

    def close(self) -> None:
        """Stop the reader, close the port, account for the stream's tail.

        Does not send STOP and does not close the recorder (its owner does).
        """
        if self._state == LinkState.CLOSED and self._thread is None:
            return
        self._closing.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self._drop_port()
        now = self._clock()
        with self._stats_lock:
            tail = self._decoder.finish()
        self._dispatch(tail, now)
        self._fail_waiters()
        self._emit(CountersSnapshot(now, self.counters()))
        self._set_state(LinkState.CLOSED, "closed")
        self._thread = None

    def __enter__(self) -> Link:
        if not self._opened:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording ---------------------------------------------------------------
    def attach_recorder(self, recorder: RecordingWriter) -> None:
        """Record every byte from now on (the header gets the rig's INFO if it lacks it)."""
        self._tee.attach(recorder, self._info)

    def detach_recorder(self) -> RecordingWriter | None:
        """Stop recording; returns the writer (still open) after its last write."""
        return self._tee.detach()

    def _drop_port(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()

    def _lost(self, reason: str) -> None:
        """The port failed: close it, tell the caller, start reconnecting."""
        self._drop_port()
        with self._stats_lock:
            self._stats.disconnects += 1
        self._fail_waiters()
        self._next_attempt = self._clock() + min(self.retry_interval, 0.1)
        self._set_state(LinkState.DISCONNECTED, reason)

    # -- the reader thread -------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._closing.is_set():
                try:
                    if self._ser is None:
                        self._reconnect_step()
                    else:
                        self._read_step()
                    self._housekeeping(self._clock())
                except (SerialException, OSError) as exc:
                    if self._closing.is_set():
                        break
                    self._lost(f"lost {self.port}: {_short(exc)}")
                except LinkError as exc:  # a write from this thread failed: the port is gone
                    if self._closing.is_set():
                        break
                    self._lost(str(exc))
                except Exception as exc:  # a bug must not kill the link silently
                    if self._closing.is_set():
                        break
                    if self._internal_error(exc):
                        return
        except BaseException as exc:  # the last resort: still reported
            self._error(
                ErrorKind.INTERNAL, f"link reader stopped: {type(exc).__name__}: {exc}", True
            )
            self._drop_port()
            self._set_state(LinkState.CLOSED, f"reader stopped: {exc}")
            raise

    def _internal_error(self, exc: Exception) -> bool:
        """Report a bug in the reader and reconnect; True when it keeps recurring."""
        now = self._clock()
        with self._stats_lock:
            self._stats.reader_errors += 1
        self._internal_errors = [
            t for t in self._internal_errors if now - t < INTERNAL_ERROR_WINDOW_S
        ] + [now]
        fatal = len(self._internal_errors) >= MAX_INTERNAL_ERRORS
        self._error(ErrorKind.INTERNAL, f"link reader error: {type(exc).__name__}: {exc}", fatal)
        if fatal:
            self._drop_port()
            self._fail_waiters()
            self._set_state(LinkState.CLOSED, "the link reader stopped after repeated errors")
            return True
        if self._ser is not None:
            self._lost(f"reset after an internal error: {type(exc).__name__}: {exc}")
        return False

    def _read_step(self) -> None:
        ser = self._ser
        assert ser is not None
        data = ser.read(ser.in_waiting or 1)
        if not data:
            return
        more = ser.in_waiting
        if more:
            data += ser.read(more)
        self._accept(data, self._clock())

    def _accept(self, data: bytes, now: float) -> None:
        """Bytes from the verified rig: record them first, then decode and hand over."""
        self._tee.received(data, now)
        with self._stats_lock:
            self._stats.bytes_received += len(data)
            self._stats.reads += 1
            messages = self._decoder.feed(data)
            offset = self._stats.bytes_received
        self._dispatch(messages, now, offset)

    def _dispatch(self, messages: list[Message], now: float, offset: int | None = None) -> None:
        if not messages:
            return
        if offset is None:
            offset = self._stats.bytes_received
        self._last_rx = now
        blocks: list[SampleBlock] = []
        for message in messages:
            if isinstance(message, SampleBlock):
                blocks.append(message)
                continue
            if blocks:
                self._emit(Blocks(now, tuple(blocks), offset))
                blocks = []
            self._emit(Received(now, message, offset))  # type: ignore[arg-type]
            self._note(message, now)
        if blocks:
            self._emit(Blocks(now, tuple(blocks), offset))
            if self._state in (LinkState.IDLE, LinkState.SILENT):
                self._streaming = True
                self._set_state(LinkState.STREAMING, "samples arriving")
        if self._state == LinkState.SILENT:
            state = LinkState.STREAMING if self._streaming else LinkState.IDLE
            self._set_state(state, "the rig is sending again")

    def _note(self, message: Message, now: float) -> None:
        if isinstance(message, Ack):
            if message.status == AckStatus.OK and message.command_type in (
                MsgType.GET_INFO,
                MsgType.SET_RATE,
            ):
                self._infos_expected += 1  # the INFO that follows was asked for
            with self._lock:
                waiter = next((w for w in self._waiters if w.kind == message.command_type), None)
                if waiter is not None:
                    self._waiters.remove(waiter)
            if waiter is not None:
                waiter.resolve(message)
        elif isinstance(message, Info):
            asked = self._infos_expected > 0
            self._infos_expected = max(0, self._infos_expected - 1)
            self._on_info(message)
            if not asked and message.serial_number == self._serial:
                self._rig_restarted("it sent INFO as at power-on")
        elif isinstance(message, Event):
            if message.code == EventCode.STARTED and self._state in CONNECTED_STATES:
                self._streaming = True
                self._set_state(LinkState.STREAMING, "the rig started streaming")
            elif message.code == EventCode.STOPPED and self._state in CONNECTED_STATES:
                self._streaming = False
                self._start_wanted = False  # stopped at the rig: not ours to restart
                self._set_state(LinkState.IDLE, "the rig stopped streaming")
        elif isinstance(message, Heartbeat):
            if self._rig_restarted("it sent a heartbeat instead of samples"):
                return
            if self._state == LinkState.STREAMING:
                self._set_state(LinkState.IDLE, "the rig is not streaming (it sent a heartbeat)")

    def _on_info(self, info: Info) -> None:
        if self._serial is None:
            self._serial = info.serial_number
        elif info.serial_number != self._serial:
            self._error(
                ErrorKind.FOREIGN_RIG,
                f"the stream on {self.port} now comes from rig {info.serial_number}, "
                f"not {self._serial}: its data is from another rig",
            )
        self._info = info
        self._tee.info(info)
        with self._lock:
            ready = [w for w in self._info_waiters if w.predicate is None or w.predicate(info)]
            for waiter in ready:
                self._info_waiters.remove(waiter)
        for waiter in ready:
            waiter.resolve(info)

    def _recording_failed(self, exc: Exception) -> None:
        """The tee stopped recording (it says why): count it and report it; the link goes on."""
        with self._stats_lock:
            self._stats.recording_errors += 1
        self._error(ErrorKind.RECORDING, f"recording stopped: {exc}")

    def _housekeeping(self, now: float) -> None:
        state = self._state
        if state in (LinkState.IDLE, LinkState.STREAMING) and now - self._last_rx > self.silence_s:
            self._set_state(LinkState.SILENT, f"no data from the rig for {self.silence_s:g} s")
            self._next_probe = now
        if self._state == LinkState.SILENT and not self.passive and now >= self._next_probe:
            self._next_probe = now + self.silence_s
            ser = self._ser
            if ser is not None:
                self._write(ser, encode(GetInfo()), "GET_INFO")
        self._expire_waiters(now)
        if now >= self._next_counters:
            self._next_counters = now + COUNTERS_INTERVAL_S
            with self._stats_lock:
                self._stats.reader_cpu_s = time.thread_time()
            self._emit(CountersSnapshot(now, self.counters()))

    # -- events ------------------------------------------------------------------
    def _emit(self, event: LinkEvent) -> None:
        self.events.put(event)

    def _error(self, kind: ErrorKind, message: str, fatal: bool = False) -> None:
        log.log(logging.ERROR if fatal else logging.WARNING, "link %s: %s", self.port, message)
        self._emit(ErrorReported(self._clock(), message, kind, fatal))
        self._tee.note("error", kind=str(kind), message=message)

    def _set_state(self, state: LinkState, detail: str) -> None:
        with self._lock:
            previous = self._state
            if state == previous or (self._closing.is_set() and state != LinkState.CLOSED):
                return
            self._detail = detail
            self._state = state
        now = self._clock()
        log.info("link %s: %s -> %s (%s)", self.port, previous, state, detail)
        self._emit(StateChanged(now, state, previous, detail))
        if state != LinkState.CLOSED:
            self._tee.note("state", state=str(state), detail=detail)

    def _safely(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a callback's failure is reported, not raised here
            self._error(ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}")


def _short(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
