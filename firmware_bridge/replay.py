"""Replay a recording or capture as if the rig were sending it now.

A :class:`ReplayDevice` is a :class:`~firmware_bridge.device.ByteDevice`, so a
replay reaches the station through the same pyserial path as a live rig
(``replay://PATH`` in-process, or a pty via ``PtyServer`` for other programs),
and a replayed test gives the same numbers as the live one.  The bytes sent
are exactly the bytes recorded; only their timing is chosen:

- a station recording plays at its recorded arrival times, ``speed`` times
  faster (``float('inf')``: as fast as the reader takes them);
- a raw capture has no times, so they are rebuilt from the sample rate (see
  :func:`schedule`).

Replay ignores commands from the host (it counts their bytes): a replay is a
passive source, and :class:`~firmware_bridge.link.Link` treats ``replay://``
ports as such.

:class:`ControlledReplay` adds a transport (pause, speed, seek) for a player
such as the app's replay screen: the same bytes, through the same Link, only
polled on a clock that can stand still or jump.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import serial

from firmware_bridge.capture import Capture, load_capture
from firmware_bridge.device import DeviceSerial
from firmware_bridge.errors import InputError
from firmware_bridge.messages import BODY_LENGTH, MAX_SAMPLES_PER_FRAME, MsgType

# Encoded length (without the delimiter) of a frame: body + CRC (2) + one COBS byte.
_SAMPLES_FRAME = 7 + 3  # plus 8 per sample
_HEARTBEAT_FRAME = BODY_LENGTH[MsgType.HEARTBEAT] + 3
MAX_BURST = 1 << 16  # bytes per poll: bounded memory and latency at any speed
IDLE_WAKE_S = 3600.0
PAUSED_POLL_S = 0.05  # how often a paused ControlledReplay is polled

log = logging.getLogger(__name__)


class ReplayError(InputError):
    """A replay that cannot be set up (bad speed, unpaceable capture, bad URL)."""


def parse_speed(text: str | float) -> float:
    """``2``, ``0.5``, ``max`` or ``inf`` -> a positive speed factor."""
    if isinstance(text, str) and text.strip().lower() in ("max", "inf", "infinity"):
        return math.inf
    try:
        speed = float(text)
    except (TypeError, ValueError):
        raise ReplayError(f"speed must be a positive number or 'max', not {text!r}") from None
    if math.isnan(speed) or speed <= 0:
        raise ReplayError(f"speed must be a positive number or 'max', not {text!r}")
    return speed


def schedule(capture: Capture, rate_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """When each piece of the byte stream was (or would have been) sent.

    Returns ``(ends, times)``: piece ``i`` ends at byte ``ends[i]`` and is due
    ``times[i]`` seconds after the start (non-decreasing).  A recording has its
    arrival times.  A raw capture has none, so they are rebuilt from the
    sample rate: a SAMPLES frame of n samples is 10 + 8n bytes on the wire
    (COBS adds one byte to a body + CRC of at most 254), so each frame is due
    when its last sample would have been taken; a HEARTBEAT stands for one
    second of a quiet rig; a text line that is not a comment is one sample.
    """
    recording = capture.recording
    if recording is not None and len(recording.chunk_ends):
        return recording.chunk_ends, np.maximum.accumulate(recording.chunk_times)
    data = capture.data
    if not data:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    buf = np.frombuffer(data, dtype=np.uint8)
    if capture.stream.mode == "text":
        ends = np.flatnonzero(buf == 0x0A) + 1
        starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        first = buf[np.minimum(starts, len(buf) - 1)]
        samples = ((first != ord("#")) & (ends - starts > 1)).astype(np.float64)
        seconds = np.zeros(len(ends))
    else:
        ends = np.flatnonzero(buf == 0) + 1
        starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        lengths = ends - starts - 1
        kind = np.zeros(len(ends), dtype=np.uint8)
        has_type = lengths >= 2
        kind[has_type] = buf[starts[has_type] + 1]
        count = (lengths - _SAMPLES_FRAME) // 8
        is_samples = (
            (kind == MsgType.SAMPLES)
            & ((lengths - _SAMPLES_FRAME) % 8 == 0)
            & (count >= 1)
            & (count <= MAX_SAMPLES_PER_FRAME)
        )
        samples = np.where(is_samples, count, 0).astype(np.float64)
        seconds = np.where((kind == MsgType.HEARTBEAT) & (lengths == _HEARTBEAT_FRAME), 1.0, 0.0)
    if len(ends) == 0 or ends[-1] != len(data):
        ends = np.append(ends, len(data))
        samples = np.append(samples, 0.0)
        seconds = np.append(seconds, 0.0)
    rate = capture.stream.sample_rate_hz or rate_hz
    if not rate:
        if samples.any():
            raise ReplayError(
                f"{capture.path}: the capture carries no sample rate to pace it by",
                hint="Enter the rig's sample rate, or play it at maximum speed.",
                cli_hint="pass --rate HZ (or --speed max)",
            )
        rate = 1.0
    times = np.cumsum(samples / rate + seconds)
    return ends.astype(np.int64), times


class ReplayDevice:
    """Plays a capture's bytes out as a device would, byte for byte.

    Playback starts when the port is opened (``on_open``).  For a
    :class:`~firmware_bridge.device.PtyServer`, ``wait_for_reader`` makes
    that the moment a program opens the pty (bytes written earlier would be
    flushed by its open), and ``backpressure`` makes it poll only once the
    reader has taken what it was given, so even ``speed=inf`` never
    overflows a pty buffer and drops bytes.
    """

    backpressure = True
    wait_for_reader = True

    def __init__(
        self,
        source: str | os.PathLike[str] | Capture,
        speed: float = 1.0,
        rate_hz: float | None = None,
    ) -> None:
        speed = parse_speed(speed)
        if isinstance(source, Capture):
            capture = source
        else:
            capture = load_capture(source, rate_hz, require_rate=False)
        self.capture = capture
        self.speed = speed
        self.data = capture.data
        if math.isinf(speed):
            self.ends = np.array([len(self.data)], dtype=np.int64)
            self.times = np.zeros(1)
        else:
            self.ends, self.times = schedule(capture, rate_hz)
        self.connected = True
        self.bytes_from_host = 0
        self._t0: float | None = None
        self._pos = 0

    @property
    def position(self) -> int:
        """Bytes sent so far."""
        return self._pos

    @property
    def finished(self) -> bool:
        return self._pos >= len(self.data)

    @property
    def duration_s(self) -> float:
        """Playing time at this speed (0 for ``speed=inf``)."""
        if math.isinf(self.speed) or not len(self.times):
            return 0.0
        return float(self.times[-1]) / self.speed

    def on_open(self, now: float) -> None:
        if self._t0 is None:
            self._t0 = now

    def on_close(self, now: float) -> None:
        """The reader went away: the next one gets the replay from its start."""
        self._t0 = None
        self._pos = 0

    def receive(self, data: bytes, now: float) -> None:
        self.bytes_from_host += len(data)

    def _due_end(self, now: float) -> int:
        if self._t0 is None:
            return 0
        if math.isinf(self.speed):
            return len(self.data)
        k = int(np.searchsorted(self.times, (now - self._t0) * self.speed, side="right"))
        return int(self.ends[k - 1]) if k else 0

    def poll(self, now: float) -> bytes:
        end = min(self._due_end(now), self._pos + MAX_BURST)
        if end <= self._pos:
            return b""
        out = self.data[self._pos : end]
        self._pos = end
        return out

    def next_due(self, now: float) -> float:
        if self._t0 is None or self.finished:
            return now + IDLE_WAKE_S
        if self._due_end(now) > self._pos:
            return now
        k = int(np.searchsorted(self.ends, self._pos, side="right"))
        return self._t0 + float(self.times[k]) / self.speed


def parse_replay_url(url: str) -> tuple[str, float, float | None]:
    """``replay://PATH?speed=2&rate=80`` -> (path, speed, rate_hz)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "replay":
        raise ReplayError(f"not a replay URL: {url!r}")
    path = os.path.expanduser(urllib.parse.unquote(parts.netloc + parts.path))
    if not path:
        raise ReplayError(f"{url!r} names no file: use replay://PATH[?speed=X|max]")
    speed = 1.0
    rate: float | None = None
    for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
        value = values[-1]
        if key == "speed":
            speed = parse_speed(value)
        elif key == "rate":
            try:
                rate = float(value)
            except ValueError:
                raise ReplayError(f"rate must be a number of Hz, not {value!r}") from None
            if not (math.isfinite(rate) and rate > 0):
                raise ReplayError(f"rate must be a positive number of Hz, not {value!r}")
        else:
            raise ReplayError(f"unknown replay option {key!r} (known: speed, rate)")
    return str(Path(path)), speed, rate


def load_replay(url: str) -> Capture:
    """The capture a ``replay://`` URL names (CaptureError/ReplayError, one line, if unusable)."""
    path, _, rate = parse_replay_url(url)
    return load_capture(path, rate)


# -- a replay with a transport ---------------------------------------------------------------
class ControlledReplay:
    """A ByteDevice: a ReplayDevice polled on a clock that can pause, change speed and jump.

    The device is polled in *recording time* (seconds into the recording),
    which runs at ``speed`` times real time (``inf``: as fast as the reader
    takes the bytes), stands still while paused and jumps forward on a seek.
    A seek backwards is a new ControlledReplay from the start, fast-forwarded
    to the target (``start_s``), so a decoder always sees the stream from its
    first byte.  ``now`` arguments are ``time.monotonic()`` values.
    """

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
        log.debug("replay seeks forward to %.2f s", media_s)
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
    """A pyserial port over a ControlledReplay made beforehand (see :func:`playback_opener`)."""

    playback: ControlledReplay | None = None

    def make_device(self, url: str) -> ControlledReplay:
        if self.playback is None:
            raise ValueError(f"no playback prepared for {url}")
        return self.playback


def playback_opener(playback: ControlledReplay) -> Callable[[str, float], serial.SerialBase]:
    """A Link opener serving ``playback`` (the Link still reads it as ``replay://``)."""

    def open_port(url: str, timeout: float) -> serial.SerialBase:
        port = PlaybackSerial(None, timeout=timeout)
        port.playback = playback
        port.port = url
        port.open()
        return port

    return open_port
