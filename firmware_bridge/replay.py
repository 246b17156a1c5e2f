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
"""

from __future__ import annotations

import math
import os
import urllib.parse
from pathlib import Path

import numpy as np

from firmware_bridge.capture import Capture, load_capture
from firmware_bridge.errors import InputError
from firmware_bridge.messages import BODY_LENGTH, MAX_SAMPLES_PER_FRAME, MsgType

# Encoded length (without the delimiter) of a frame: body + CRC (2) + one COBS byte.
_SAMPLES_FRAME = 7 + 3  # plus 8 per sample
_HEARTBEAT_FRAME = BODY_LENGTH[MsgType.HEARTBEAT] + 3
MAX_BURST = 1 << 16  # bytes per poll: bounded memory and latency at any speed
IDLE_WAKE_S = 3600.0


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
