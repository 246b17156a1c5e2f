"""Play a recording through the live path with a transport: speed, pause and seek.

The bytes still go through :class:`firmware_bridge.replay.ReplayDevice` and a
:class:`~firmware_bridge.link.Link` on the ``replay://`` URL, exactly as a
live test reads a rig; only the clock the device is polled with is ours.
The device is polled in *recording time* (seconds into the recording), which
runs at 1×, 4× or as fast as the reader takes the bytes, stands still while
paused, and jumps forward on a seek.  A seek backwards is a new playback
from the start, fast-forwarded to the target, so the decoder and the live
analysis always see the stream from its first byte.  No Qt here.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import serial

from firmware_bridge.capture import Capture, load_capture
from firmware_bridge.device import DeviceSerial
from firmware_bridge.replay import ReplayDevice, parse_replay_url

PAUSED_POLL_S = 0.05


class ControlledReplay:
    """A ByteDevice: a ReplayDevice polled on a clock that can pause, change speed and jump."""

    def __init__(
        self, capture: Capture, *, speed: float = 1.0, start_s: float = 0.0, paused: bool = False
    ) -> None:
        self.inner = ReplayDevice(capture, speed=1.0)
        self.connected = True
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._paused = paused
        self._anchor_real: float | None = None
        self._anchor_media = max(0.0, float(start_s))

    # -- the clock ------------------------------------------------------------------------
    def _media(self, now: float) -> float:
        if self._anchor_real is None or self._paused:
            return self._anchor_media
        if math.isinf(self._speed):
            return math.inf
        return self._anchor_media + (now - self._anchor_real) * self._speed

    def _current(self, now: float) -> float:
        """Where playback stands (s into the recording), never past what was sent at max speed."""
        media = self._media(now)
        return self.position_s if math.isinf(media) else min(media, self.duration_s)

    def _reanchor(self, now: float) -> None:
        self._anchor_media = self._current(now)
        self._anchor_real = now

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float, now: float) -> None:
        with self._lock:
            self._reanchor(now)
            self._speed = float(speed)

    def pause(self, now: float) -> None:
        with self._lock:
            self._reanchor(now)
            self._paused = True

    def resume(self, now: float) -> None:
        with self._lock:
            if self._anchor_real is not None:
                self._anchor_real = now
            self._paused = False

    def seek_forward(self, media_s: float, now: float) -> None:
        """Jump ahead: everything recorded before ``media_s`` is sent at once."""
        with self._lock:
            self._reanchor(now)
            self._anchor_media = max(self._anchor_media, min(media_s, self.duration_s))

    # -- where it stands ---------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """Length of the recording at 1× (its last byte's time)."""
        times = self.inner.times
        return float(times[-1]) if len(times) else 0.0

    @property
    def position_s(self) -> float:
        """Recording time of the last byte sent."""
        sent = self.inner.position
        if sent <= 0:
            return 0.0
        ends, times = self.inner.ends, self.inner.times
        k = min(int(ends.searchsorted(sent, side="left")), len(times) - 1)
        return float(times[k])

    @property
    def finished(self) -> bool:
        return self.inner.finished

    def now_s(self, now: float) -> float:
        with self._lock:
            return self._current(now)

    # -- ByteDevice ----------------------------------------------------------------------------
    def on_open(self, now: float) -> None:
        self.inner.on_open(0.0)
        with self._lock:
            self._anchor_real = now

    def receive(self, data: bytes, now: float) -> None:
        self.inner.receive(data, now)

    def poll(self, now: float) -> bytes:
        with self._lock:
            media = self._media(now)
        return self.inner.poll(media)

    def next_due(self, now: float) -> float:
        with self._lock:
            if self._paused or self._anchor_real is None:
                return now + PAUSED_POLL_S
            media = self._media(now)
            speed = self._speed
        due = self.inner.next_due(media)
        if due <= media or math.isinf(speed):
            return now
        return now + (due - media) / speed


class PlaybackSerial(DeviceSerial):
    """A pyserial port over a ControlledReplay made beforehand (see :func:`opener`)."""

    playback: ControlledReplay | None = None

    def make_device(self, url: str) -> ControlledReplay:
        if self.playback is None:
            raise ValueError(f"no playback prepared for {url}")
        return self.playback


def load(url: str) -> Capture:
    """The capture a ``replay://`` URL names (CaptureError/ReplayError, one line, if unusable)."""
    path, _, rate = parse_replay_url(url)
    return load_capture(path, rate)


def opener(playback: ControlledReplay) -> Any:
    """A Link opener serving ``playback`` (the Link still reads it as ``replay://``)."""

    def open_port(url: str, timeout: float) -> serial.SerialBase:
        port = PlaybackSerial(None, timeout=timeout)
        port.playback = playback
        port.port = url
        port.open()
        return port

    return open_port
