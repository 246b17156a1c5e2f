"""A device's own clock, running ``speed`` times faster than the host's.

The virtual rig works in *rig time*: its athlete, its sample clock, its
faults.  The host (a pyserial port, a pty server) calls the ByteDevice
methods with ``time.monotonic()``.  :class:`RigClock` converts between the
two, so a GUI test can run a ten-second session in a few seconds of real
time; at ``speed`` 1 the two are the same and nothing is converted.
"""

from __future__ import annotations

import math
import threading

from firmware_bridge.errors import InputError


class RigClock:
    """ByteDevice methods in host time, passed on to the ``_*_at`` methods in rig time.

    Rig time equals host time at the first call, then runs ``speed`` times
    faster.  Subclasses implement ``_open_at``, ``_receive_at``, ``_poll_at``,
    ``_next_due_at`` and ``_tick`` and hold ``_lock``.
    """

    _lock: threading.RLock

    def __init__(self, speed: float = 1.0) -> None:
        if isinstance(speed, bool) or not (math.isfinite(speed) and speed > 0):
            raise InputError(f"speed must be a positive number (1 = real time), not {speed!r}")
        self.speed = float(speed)
        self._origin: float | None = None  # host time at which rig time was equal to it

    def rig_time(self, now: float) -> float:
        """The rig's time at host time ``now`` (``speed`` times faster than the host's)."""
        if self.speed == 1.0:
            return now
        if self._origin is None:
            self._origin = now
        return self._origin + (now - self._origin) * self.speed

    def host_time(self, rig_time: float) -> float:
        """The host time at which the rig's clock reads ``rig_time``."""
        if self.speed == 1.0 or self._origin is None:
            return rig_time
        return self._origin + (rig_time - self._origin) / self.speed

    # -- ByteDevice (host time) ---------------------------------------------------------
    def on_open(self, now: float) -> None:
        """The host opened the port: 0x00 and INFO (once, if a boot greeting is still unsent)."""
        with self._lock:
            self._open_at(self.rig_time(now))

    def receive(self, data: bytes, now: float) -> None:
        with self._lock:
            self._receive_at(data, self.rig_time(now))

    def poll(self, now: float) -> bytes:
        with self._lock:
            return self._poll_at(self.rig_time(now))

    def next_due(self, now: float) -> float:
        with self._lock:
            return self.host_time(self._next_due_at(self.rig_time(now)))

    def tick(self, now: float) -> None:
        """Let time pass to host time ``now``: power-on, scheduled unplugs and replugs."""
        with self._lock:
            self._tick(self.rig_time(now))

    # -- in rig time (the device's) -------------------------------------------------------
    def _open_at(self, now: float) -> None:
        raise NotImplementedError

    def _receive_at(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def _poll_at(self, now: float) -> bytes:
        raise NotImplementedError

    def _next_due_at(self, now: float) -> float:
        raise NotImplementedError

    def _tick(self, now: float) -> None:
        raise NotImplementedError


__all__ = ["RigClock"]
