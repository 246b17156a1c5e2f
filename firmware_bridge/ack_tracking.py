"""Commands to the rig and their ACKs: who waits for what, until when.

A command is written from the caller's thread and waits for the rig's ACK
with a time-out (or, from the reader thread, is checked when the ACK
arrives); an INFO can be waited for the same way.  A refusal or a time-out
is a one-line :class:`~firmware_bridge.port_errors.LinkError`.
:class:`Commands` is a part of :class:`~firmware_bridge.link.Link`, which
owns the state.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import serial
from serial.serialutil import SerialException

from firmware_bridge.link_events import ErrorKind, LinkCounters, LinkState
from firmware_bridge.messages import (
    RATE_RANGE,
    Ack,
    AckStatus,
    GetInfo,
    Info,
    MsgType,
    SetRate,
    Start,
    Stop,
    encode,
    rate_ok,
    show_rate,
)
from firmware_bridge.port_errors import LinkError

if TYPE_CHECKING:
    from firmware_bridge.recording_tee import RecordingTee

Command = GetInfo | Start | Stop | SetRate  # what the host sends


class Waiter:
    """A command waiting for its ACK (or a caller waiting for an INFO)."""

    __slots__ = ("kind", "deadline", "event", "result", "callback", "predicate")

    def __init__(
        self,
        kind: int,
        deadline: float,
        callback: Callable[[Any], None] | None = None,
        predicate: Callable[[Info], bool] | None = None,
    ) -> None:
        self.kind = kind
        self.deadline = deadline
        self.event = threading.Event()
        self.result: Any = None
        self.callback = callback
        self.predicate = predicate

    def resolve(self, result: Any) -> None:
        self.result = result
        if self.callback is not None:
            self.callback(result)
        self.event.set()


class Commands:
    """START, STOP, SET_RATE and GET_INFO, and the ACK tracking behind them."""

    port: str
    passive: bool
    command_timeout: float
    _clock: Callable[[], float]
    _ser: serial.SerialBase | None
    _state: LinkState
    _streaming: bool
    _start_wanted: bool
    _lock: threading.RLock
    _write_lock: threading.Lock
    _command_lock: threading.Lock
    _stats_lock: threading.Lock
    _stats: LinkCounters
    _tee: RecordingTee
    _waiters: list[Waiter]
    _info_waiters: list[Waiter]

    if TYPE_CHECKING:

        @property
        def connected(self) -> bool: ...

        def _set_state(self, state: LinkState, detail: str) -> None: ...

        def _error(self, kind: ErrorKind, message: str, fatal: bool = False) -> None: ...

        def _safely(self, fn: Callable[..., None], *args: Any) -> None: ...

    def start(self, timeout: float | None = None) -> None:
        """START streaming; the next samples form a new segment."""
        self._command(Start(), "START", timeout)
        self._streaming = True
        self._start_wanted = True
        if self.connected:
            self._set_state(
                LinkState.STREAMING, "START sent" if self.passive else "START acknowledged"
            )

    def stop(self, timeout: float | None = None) -> None:
        self._start_wanted = False  # even if STOP fails: never START again on our own
        self._command(Stop(), "STOP", timeout)
        self._streaming = False
        if self.connected:
            self._set_state(LinkState.IDLE, "STOP sent" if self.passive else "STOP acknowledged")

    def set_rate(self, rate_hz: float, timeout: float | None = None) -> Info | None:
        """SET_RATE, then wait for the INFO the rig sends with its new rate."""
        if not rate_ok(rate_hz):
            raise LinkError(f"the sample rate must be from {RATE_RANGE}, not {show_rate(rate_hz)}")
        mhz = round(rate_hz * 1000)
        timeout = self.command_timeout if timeout is None else timeout
        deadline = self._clock() + timeout
        waiter = self._expect_info(lambda info: info.sample_rate_mhz == mhz, deadline)
        try:
            self._command(SetRate(mhz), f"SET_RATE {rate_hz:g} Hz", timeout)
            if self.passive:
                return None
            return self._await_info(waiter, deadline, f"the new rate ({rate_hz:g} Hz)")
        finally:
            self._forget(self._info_waiters, waiter)

    def get_info(self, timeout: float | None = None) -> Info:
        """Ask the rig for INFO and return it."""
        timeout = self.command_timeout if timeout is None else timeout
        deadline = self._clock() + timeout
        waiter = self._expect_info(None, deadline)
        try:
            with self._command_lock:
                ser = self._require_connected("GET_INFO")
                self._write(ser, encode(GetInfo()), "GET_INFO")
            return self._await_info(waiter, deadline, "INFO")
        finally:
            self._forget(self._info_waiters, waiter)

    def _require_connected(self, name: str) -> serial.SerialBase:
        ser = self._ser
        if ser is None or not self.connected:
            raise LinkError(f"cannot send {name}: the rig is not connected ({self._state})")
        return ser

    def _command(self, message: Command, name: str, timeout: float | None) -> Ack | None:
        timeout = self.command_timeout if timeout is None else timeout
        kind = message.body()[0]
        with self._command_lock:
            ser = self._require_connected(name)
            if self.passive:
                self._write(ser, encode(message), name)
                return None
            waiter = Waiter(kind, self._clock() + timeout)
            with self._lock:
                self._waiters.append(waiter)
            try:
                self._write(ser, encode(message), name)
                answered = waiter.event.wait(timeout)
            finally:
                self._forget(self._waiters, waiter)
        if not answered:
            with self._stats_lock:
                self._stats.command_timeouts += 1
            raise LinkError(
                f"the rig on {self.port} did not acknowledge {name} within {timeout:g} s"
            )
        ack = waiter.result
        if ack is None:
            raise LinkError(f"the rig on {self.port} was lost before it acknowledged {name}")
        if ack.status != AckStatus.OK:
            with self._stats_lock:
                self._stats.commands_refused += 1
            raise LinkError(f"the rig on {self.port} refused {name}: {_status_text(ack.status)}")
        return ack

    def _write(self, ser: serial.SerialBase, data: bytes, name: str) -> None:
        try:
            with self._write_lock:
                ser.write(data)
        except (SerialException, OSError) as exc:
            raise LinkError(f"cannot send {name} to {self.port}: {exc}") from None
        now = self._clock()
        with self._stats_lock:
            self._stats.bytes_sent += len(data)
            self._stats.commands_sent += 1
        self._tee.sent(data, now)

    def _send_async(
        self,
        message: Command,
        name: str,
        then: Callable[[], None] | None,
        why: str = "after reconnecting",
        failed: Callable[[], None] | None = None,
    ) -> None:
        """A command from the reader thread itself: the ACK is checked as it arrives."""
        kind = message.body()[0]

        def answered(ack: Ack | None) -> None:
            if ack is None:
                with self._stats_lock:
                    self._stats.command_timeouts += 1
                self._error(ErrorKind.COMMAND, f"the rig did not acknowledge {name} {why}")
            elif ack.status != AckStatus.OK:
                with self._stats_lock:
                    self._stats.commands_refused += 1
                self._error(
                    ErrorKind.COMMAND, f"the rig refused {name} {why}: {_status_text(ack.status)}"
                )
            elif then is not None:
                then()
                return
            if failed is not None:
                failed()

        ser = self._ser
        if ser is None:
            return
        if self.passive:
            self._write(ser, encode(message), name)
            if then is not None:
                then()
            return
        waiter = Waiter(kind, self._clock() + self.command_timeout, callback=answered)
        with self._lock:
            self._waiters.append(waiter)
        self._write(ser, encode(message), name)

    def _expect_info(self, predicate: Callable[[Info], bool] | None, deadline: float) -> Waiter:
        waiter = Waiter(MsgType.INFO, deadline, predicate=predicate)
        with self._lock:
            self._info_waiters.append(waiter)
        return waiter

    def _await_info(self, waiter: Waiter, deadline: float, what: str) -> Info:
        if not waiter.event.wait(max(0.0, deadline - self._clock())):
            with self._stats_lock:
                self._stats.command_timeouts += 1
            raise LinkError(f"the rig on {self.port} did not send {what} in time")
        if waiter.result is None:
            raise LinkError(f"the rig on {self.port} was lost before it sent {what}")
        return waiter.result

    def _forget(self, waiters: list[Waiter], waiter: Waiter) -> None:
        with self._lock, contextlib.suppress(ValueError):
            waiters.remove(waiter)

    def _fail_waiters(self) -> None:
        with self._lock:
            waiters = self._waiters + self._info_waiters
            self._waiters = []
            self._info_waiters = []
        for waiter in waiters:
            self._safely(waiter.resolve, None)

    def _expire_waiters(self, now: float) -> None:
        with self._lock:
            if not self._waiters:
                return
            expired = [w for w in self._waiters if w.callback is not None and w.deadline < now]
            for waiter in expired:
                self._waiters.remove(waiter)
        for waiter in expired:
            waiter.resolve(None)


def _status_text(status: int) -> str:
    try:
        return {
            AckStatus.UNKNOWN_COMMAND: "unknown command",
            AckStatus.BAD_ARGUMENT: "bad argument",
            AckStatus.BUSY: "busy (stop streaming first)",
        }[AckStatus(status)]
    except (ValueError, KeyError):
        return f"status {status}"
