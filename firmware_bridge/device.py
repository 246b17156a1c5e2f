"""Byte devices behind pyserial: one interface for the virtual rig and replay.

A :class:`ByteDevice` produces bytes as time passes and reacts to bytes from
the host.  :class:`DeviceSerial` presents one in-process as a pyserial port
(for ``serial_for_url`` handlers); :class:`PtyServer` presents one to other
programs through a pseudo-terminal.  Either way the host-side code is the same
code that reads a real rig.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import select
import struct
import termios
import threading
import time
import tty
from collections.abc import Callable
from typing import Protocol

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

log = logging.getLogger(__name__)

# serial_for_url("replay://...") and ("virtual://...") find their handlers here.
if "firmware_bridge.urlhandler" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("firmware_bridge.urlhandler")

MAX_PENDING = 1 << 20  # bytes held for a pty nobody reads, like a full USB buffer
READER_GRACE_S = 0.05  # wait_for_reader: let the reader's open finish before writing


class ByteDevice(Protocol):
    """What a device must do to be served as a serial port."""

    connected: bool  # False while "unplugged": reads fail, as with a pulled cable

    def on_open(self, now: float) -> None:
        """The host opened the port (a device answers with 0x00 and INFO)."""

    def receive(self, data: bytes, now: float) -> None:
        """Bytes from the host."""

    def poll(self, now: float) -> bytes:
        """Bytes the device has sent up to monotonic time ``now``."""

    def next_due(self, now: float) -> float:
        """Monotonic time at which ``poll`` will next have something new."""


class DeviceSerial(SerialBase):
    """A pyserial port backed by a :class:`ByteDevice`, driven by the reader's calls.

    Subclasses implement ``make_device`` from ``self.portstr`` (the URL).
    ``clock`` is the monotonic clock the device's time is read from; set it on
    the instance before ``open`` to run a device on another clock.
    """

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def make_device(self, url: str) -> ByteDevice:  # pragma: no cover - abstract
        raise NotImplementedError

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        self._rx = bytearray()
        self._lock = threading.Lock()
        try:
            self.device = self.make_device(self.portstr)
        except ValueError as exc:
            raise SerialException(str(exc)) from exc
        if not self.device.connected:
            raise SerialException(f"could not open port {self.portstr}: device not connected")
        self.is_open = True
        self.device.on_open(self.clock())

    def close(self) -> None:
        self.is_open = False

    def _reconfigure_port(self) -> None:
        pass

    def from_url(self, url: str) -> None:
        """Keep the URL as given: subclasses parse it in make_device."""

    def _pump(self) -> None:
        if not self.device.connected:
            raise SerialException("device disconnected")
        data = self.device.poll(self.clock())
        if data:
            self._rx += data

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        with self._lock:
            self._pump()
            return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else self.clock() + self._timeout
        while True:
            with self._lock:
                self._pump()
                if len(self._rx) >= size or (
                    self._rx and deadline is not None and self._timeout == 0
                ):
                    break
                now = self.clock()
                if deadline is not None and now >= deadline:
                    break
                wake = self.device.next_due(now)
            limit = 0.05 if deadline is None else deadline - now
            time.sleep(max(0.0, min(wake - now, limit, 0.05)))
        with self._lock:
            out = bytes(self._rx[:size])
            del self._rx[:size]
        return out

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        if not self.device.connected:
            raise SerialException("device disconnected")
        data = bytes(data)
        with self._lock:
            self.device.receive(data, self.clock())
        return len(data)

    def reset_input_buffer(self) -> None:
        with self._lock:
            self._rx.clear()

    def reset_output_buffer(self) -> None:
        pass

    def flush(self) -> None:
        pass

    @property
    def out_waiting(self) -> int:
        return 0

    def cancel_read(self) -> None:
        pass


class PtyServer:
    """Serve a :class:`ByteDevice` on a pseudo-terminal for other programs.

    ``path`` is a stable symlink to the current pty's slave, so an unplug
    (the pty goes away) and replug (a new pty) look to the host like the same
    port vanishing and returning.
    """

    def __init__(
        self,
        device: ByteDevice,
        link_path: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.link_path = link_path
        self.clock = clock
        self.dropped_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = -1
        self._slave = -1
        self._slave_name = ""
        self._out = bytearray()
        self._reader_since: float | None = None
        self._reader_opened = False
        self.reader_finished = False  # a reader took everything and left
        self.rewinds = 0  # readers that left before the end (the device was rewound)

    @property
    def path(self) -> str:
        return self.link_path or self._slave_name

    def start(self) -> str:
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name="pty-device", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_pty()
        if self.link_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link_path)

    def __enter__(self) -> PtyServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._slave_name = os.ttyname(slave)
        self._out.clear()
        if self.link_path:
            tmp = f"{self.link_path}.tmp{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self._slave_name, tmp)
            os.replace(tmp, self.link_path)
        self._reader_since = None
        if getattr(self.device, "wait_for_reader", False):
            # Hold no slave fd, so the master reports POLLHUP until a program opens
            # the pty (termios settings persist).  Bytes written before that would
            # be flushed by the reader's open, so the device waits (see _reader_present).
            os.close(slave)
            self._slave = -1
        else:
            self.device.on_open(self.clock())

    @property
    def reader_connected(self) -> bool:
        """A program holds the pty open and the device is playing to it (``wait_for_reader``)."""
        return self._reader_opened

    def drained(self) -> bool:
        """Everything the device produced has been read by the program on the pty."""
        return not self._out and self._queued() == 0

    def _queued(self) -> int:
        """Bytes in the pty that no program has read yet (they stay when a reader leaves)."""
        if self._master < 0 or not self._slave_name:
            return 0
        try:
            fd = os.open(self._slave_name, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return 0  # the pty is gone: nothing is left in it
        try:
            return int(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])
        except OSError:
            return 0
        finally:
            os.close(fd)

    def _reader_present(self, now: float) -> bool:
        """For ``wait_for_reader`` devices: has a program held the pty open a moment?

        The grace period lets the reader's open (which flushes the input queue)
        finish before the first byte is written.  The device's ``on_open`` is
        called then, once per reader: when a reader goes away (a program that
        failed, or closed the port early), the device's ``on_close`` rewinds it,
        so the next reader gets everything from the start.
        """
        poller = select.poll()
        poller.register(self._master, select.POLLHUP)
        if any(events & select.POLLHUP for _, events in poller.poll(0)):
            self._reader_since = None
            if self._reader_opened:
                self._reader_left(now)
            return False
        if self._reader_since is None:
            self._reader_since = now
        if now - self._reader_since < READER_GRACE_S:
            return False
        if not self._reader_opened:
            self._reader_opened = True
            self.device.on_open(now)
            log.info("a program opened %s", self.path)
        return True

    def _reader_left(self, now: float) -> None:
        """The program reading the pty closed it: ready the pty and the device for the next.

        A device whose every byte was read is done (``reader_finished``);
        otherwise its ``on_close`` rewinds it and what the reader left unread
        in the pty is discarded.  The pty goes back to raw mode
        with blocking reads, as the last program may have left it non-blocking
        (pyserial sets VMIN 0), which would make ``cat`` see an immediate end.
        """
        self._reader_opened = False
        finished = bool(getattr(self.device, "finished", False))
        delivered = finished and self.drained()
        self._out.clear()
        if not delivered:
            on_close = getattr(self.device, "on_close", None)
            if on_close is not None:
                on_close(now)
        with contextlib.suppress(OSError):
            fd = os.open(self._slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                tty.setraw(fd)
                if not delivered:  # what the last reader left unread is not for the next
                    termios.tcflush(fd, termios.TCIFLUSH)
            finally:
                os.close(fd)
        # Said only now, with the pty ready for the next reader.
        if delivered:
            self.reader_finished = True
        else:
            self.rewinds += 1
        log.info(
            "the program reading %s closed it (%s)",
            self.path,
            "after the end" if delivered else "before the end: rewound",
        )

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            if not self.device.connected:
                if self._master >= 0:
                    self._close_pty()
                    if self.link_path:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(self.link_path)
                time.sleep(0.02)
                self.device.poll(now)
                continue
            if self._master < 0:
                self._open_pty()
            if self._slave < 0 and not self._reader_present(now):
                time.sleep(0.01)
                continue
            # A device with ``backpressure`` (replay) is polled only once the reader
            # has taken what it was given, so it is never dropped for a full pty.
            held = bool(self._out) and getattr(self.device, "backpressure", False)
            timeout = 0.05 if held else max(0.0, min(self.device.next_due(now) - now, 0.05))
            wlist = [self._master] if self._out else []
            try:
                readable, writable, _ = select.select([self._master], wlist, [], timeout)
            except (OSError, ValueError):
                continue
            now = self.clock()
            if readable:
                try:
                    data = os.read(self._master, 4096)
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data:
                    self.device.receive(data, now)
            if not held:
                self._out += self.device.poll(now)
            if self._out:
                try:
                    written = os.write(self._master, self._out)
                    del self._out[:written]
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                if len(self._out) > MAX_PENDING:
                    excess = len(self._out) - MAX_PENDING
                    del self._out[:excess]
                    self.dropped_bytes += excess


def open_port(url: str, timeout: float = 0.05, **kwargs: object) -> serial.SerialBase:
    """Open a device path or any pyserial URL (replay://, virtual://, loop://, ...)."""
    return serial.serial_for_url(url, timeout=timeout, **kwargs)
