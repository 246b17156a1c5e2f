"""Builders of protocol streams for tests: frames and the messages they hold."""

from __future__ import annotations

import numpy as np

from firmware_bridge.messages import Event, EventCode, Info, Message, SampleBlock, encode

INFO = Info(sample_rate_mhz=1_000_000, serial_number="NR-0001", firmware_version="1.2.3")


def sample_frames(
    first: int, n_frames: int, per_frame: int = 10, seed: int = 0
) -> list[SampleBlock]:
    """Consecutive one-frame sample blocks starting at device index ``first``."""
    rng = np.random.default_rng(seed)
    return [
        SampleBlock(first + k * per_frame, rng.integers(-50_000, 500_000, (per_frame, 2)))
        for k in range(n_frames)
    ]


def session(
    n_frames: int = 20, per_frame: int = 10, first: int = 0, seed: int = 0
) -> list[Message]:
    """INFO, STARTED, sample frames, STOPPED: what a rig sends for one short test."""
    blocks = sample_frames(first, n_frames, per_frame, seed)
    return [
        INFO,
        Event(EventCode.STARTED, first),
        *blocks,
        Event(EventCode.STOPPED, first + n_frames * per_frame),
    ]


def frames_of(messages: list[Message]) -> list[bytes]:
    """One wire frame per message (sample blocks here always fit one frame)."""
    return [encode(m) for m in messages]


def wire(messages: list[Message], lead: bytes = b"\x00") -> bytes:
    return lead + b"".join(frames_of(messages))
