"""Opening a rig's port, the INFO handshake, reopening a lost one, restarting a rebooted one.

A rig that comes back is accepted only with the serial number it had
(checked on its INFO before any of its bytes are used), so another rig's
data is never mixed in; after a reconnect the link restores the rate and
the streaming the caller had asked for.  :class:`Connecting` is a part of
:class:`~firmware_bridge.link.Link`, which owns the state.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import serial
from serial.serialutil import SerialException

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.errors import PortError
from firmware_bridge.link_events import ErrorKind, LinkCounters, LinkState
from firmware_bridge.messages import GetInfo, Info, SetRate, Start, encode
from firmware_bridge.port_errors import Opener, describe_open_error

if TYPE_CHECKING:
    from firmware_bridge.ack_tracking import Command
    from firmware_bridge.recording_tee import RecordingTee

log = logging.getLogger("firmware_bridge.link")


class Connecting:
    """The handshake on open, the reconnect loop of the reader thread, and START again
    for a rig that rebooted under a test."""

    port: str
    passive: bool
    reconnect: bool
    expected_serial: str | None
    info_timeout: float
    info_retries: int
    retry_interval: float
    read_timeout: float
    foreign_retry_interval: float
    _clock: Callable[[], float]
    _opener: Opener
    _ser: serial.SerialBase | None
    _state: LinkState
    _info: Info | None
    _serial: str | None
    _streaming: bool
    _start_wanted: bool
    _infos_expected: int
    _last_rx: float
    _next_counters: float
    _next_attempt: float
    _foreign_serial: str | None
    _closing: threading.Event
    _stats_lock: threading.Lock
    _stats: LinkCounters
    _tee: RecordingTee

    if TYPE_CHECKING:

        @property
        def connected(self) -> bool: ...

        def _set_state(self, state: LinkState, detail: str) -> None: ...

        def _error(self, kind: ErrorKind, message: str, fatal: bool = False) -> None: ...

        def _accept(self, data: bytes, now: float) -> None: ...

        def _send_async(
            self,
            message: Command,
            name: str,
            then: Callable[[], None] | None,
            why: str = "after reconnecting",
            failed: Callable[[], None] | None = None,
        ) -> None: ...

    def _connect(self) -> tuple[serial.SerialBase, Info | None, list[tuple[float, bytes]]]:
        """Open the port and (unless passive) read until the rig's INFO.

        Bytes read meanwhile are returned with their arrival times, not used:
        the caller decides whether this rig's data may join the stream.  An
        empty entry marks when a GET_INFO was sent.
        """
        try:
            ser = self._opener(self.port, self.read_timeout)
        except (SerialException, OSError, ValueError) as exc:
            raise PortError(describe_open_error(self.port, exc)) from None
        if self.passive:
            return ser, None, []
        pending: list[tuple[float, bytes]] = []
        decoder = StreamDecoder()
        try:
            request = encode(GetInfo())
            for _ in range(1 + self.info_retries):
                ser.write(request)
                pending.append((self._clock(), b""))  # a GET_INFO sent (see _install)
                with self._stats_lock:
                    self._stats.bytes_sent += len(request)
                    self._stats.commands_sent += 1
                deadline = self._clock() + self.info_timeout
                while self._clock() < deadline and not self._closing.is_set():
                    data = ser.read(getattr(ser, "in_waiting", 0) or 1)
                    if not data:
                        continue
                    pending.append((self._clock(), data))
                    for message in decoder.feed(data):
                        if isinstance(message, Info):
                            return ser, message, pending
                if self._closing.is_set():
                    break
        except (SerialException, OSError) as exc:
            with contextlib.suppress(Exception):
                ser.close()
            raise PortError(f"lost {self.port} during the handshake: {exc}") from None
        except BaseException:
            with contextlib.suppress(Exception):
                ser.close()
            raise
        with contextlib.suppress(Exception):
            ser.close()
        heard = sum(len(d) for _, d in pending)
        raise PortError(
            f"no INFO from {self.port} after {1 + self.info_retries} requests "
            f"({heard} bytes heard): is it a Nordic rig?",
            hint="Check that this is the rig's port. A home-built rig that prints text "
            "lines cannot be controlled: open it as a recording source instead.",
            cli_hint="check the port; a text-dialect rig needs passive mode (--passive)",
        )

    def _install(
        self, ser: serial.SerialBase, info: Info | None, pending: list[tuple[float, bytes]]
    ) -> None:
        """Make an opened, verified port the link's port and use its first bytes."""
        self._ser = ser
        self._infos_expected = 0
        now = self._clock()
        self._last_rx = now
        self._next_counters = now
        if info is not None:
            detail = (
                f"{info.serial_number} (firmware {info.firmware_version or '?'}, "
                f"{info.sample_rate_hz:g} Hz)"
            )
        else:
            detail = f"{self.port} (passive)"
        self._set_state(LinkState.IDLE, f"connected to {detail}")
        request = encode(GetInfo())
        for t, data in pending:
            if data:
                self._accept(data, t)
            else:
                self._tee.sent(request, t)

    def _reconnect_step(self) -> None:
        now = self._clock()
        if not self.reconnect:
            self._closing.wait(0.05)
            return
        if now < self._next_attempt:
            self._closing.wait(min(0.05, self._next_attempt - now))
            return
        self._next_attempt = now + self.retry_interval
        if self._state != LinkState.RECONNECTING:
            self._set_state(LinkState.RECONNECTING, f"trying to reopen {self.port}")
        try:
            ser, info, pending = self._connect()
        except PortError as exc:
            self._detail = str(exc)
            return
        if self._closing.is_set():
            with contextlib.suppress(Exception):
                ser.close()
            return
        wanted = self._serial or self.expected_serial
        if info is not None and wanted is not None and info.serial_number != wanted:
            with contextlib.suppress(Exception):
                ser.close()
            with self._stats_lock:
                self._stats.bytes_discarded += sum(len(d) for _, d in pending)
            self._next_attempt = self._clock() + self.foreign_retry_interval
            if self._foreign_serial != info.serial_number:
                self._foreign_serial = info.serial_number
                self._error(
                    ErrorKind.FOREIGN_RIG,
                    f"another rig ({info.serial_number}) is on {self.port}, not {wanted}: its "
                    f"data is not used; plug {wanted} back in, or start a new recording "
                    f"for {info.serial_number}",
                )
            return
        self._foreign_serial = None
        previous = self._info
        with self._stats_lock:
            self._stats.reconnects += 1
        log.info("link %s: reconnected to %s", self.port, info.serial_number if info else "it")
        if info is not None and self._serial is None:
            self._serial = info.serial_number
        self._install(ser, info, pending)
        self._resume(previous, info)

    def _resume(self, previous: Info | None, info: Info | None) -> None:
        """After a reconnect: same rate as before, and streaming again if it was."""
        if self.passive:
            return
        restart = self._start_again if self._streaming else None
        if (
            previous is not None
            and info is not None
            and (info.sample_rate_mhz != previous.sample_rate_mhz)
        ):
            rate = previous.sample_rate_hz
            self._send_async(SetRate(previous.sample_rate_mhz), f"SET_RATE {rate:g} Hz", restart)
        elif restart is not None:
            restart()

    def _start_again(self) -> None:
        def started() -> None:
            if self.connected:
                self._set_state(LinkState.STREAMING, "streaming again after reconnecting")

        self._send_async(Start(), "START", started)

    def _rig_restarted(self, sign: str) -> bool:
        """The rig rebooted under a running test: START it again, once, and say so.

        Only when the caller asked for START and we were receiving (``streaming``,
        or ``silent`` while streaming): after the first sign the link is ``idle``
        until the ACK, so later signs of the same reboot do nothing.
        """
        receiving = self._state == LinkState.STREAMING or (
            self._state == LinkState.SILENT and self._streaming
        )
        if self.passive or not self._start_wanted or not receiving:
            return False
        with self._stats_lock:
            self._stats.rig_restarts += 1
        log.warning("link %s: the rig restarted under a test (%s): START again", self.port, sign)
        self._set_state(LinkState.IDLE, f"the rig restarted ({sign}); sending START again")

        def started() -> None:
            if self.connected:
                self._streaming = True
                self._set_state(LinkState.STREAMING, "streaming again after the rig restarted")

        def gave_up() -> None:  # reported as an error; the link stays idle
            self._streaming = False
            self._start_wanted = False

        self._send_async(Start(), "START", started, "after the rig restarted", gave_up)
        return True
