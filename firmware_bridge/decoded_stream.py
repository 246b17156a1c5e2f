"""A whole decoded capture as arrays, and the collector that builds it.

What analysis and the CLI work on: every sample with its place on one time
axis (segments laid end to end by the one
:class:`~firmware_bridge.segment_clock.SegmentClock`), the counters, and
what the stream said about itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge.counters import Counters
from firmware_bridge.messages import Event, Info, Message, SampleBlock
from firmware_bridge.segment_clock import SegmentClock

if TYPE_CHECKING:
    from firmware_bridge.decoder import StreamDecoder

DEFAULT_ADC_BITS = 24


@dataclass
class DecodedStream:
    """A whole capture as arrays: what analysis and the CLI work on.

    ``index`` is each sample's position on the device's time axis in samples:
    unwrapped, with each later segment (a new START or a device restart)
    placed after the one before.  Missing indices are dropped samples.
    """

    mode: str | None
    index: np.ndarray
    counts: np.ndarray
    flags: np.ndarray
    segment: np.ndarray
    counters: Counters
    info: Info | None = None
    sample_rate_hz: float | None = None
    serial_number: str | None = None
    events: list[Event] = field(default_factory=list)
    messages: int = 0

    @property
    def samples(self) -> int:
        return len(self.counts)

    @property
    def segments(self) -> int:
        """Stretches of samples on their own clock (each START or restart begins one)."""
        return int(len(np.unique(self.segment)))

    @property
    def adc_bits(self) -> int:
        if self.info is not None and 2 <= self.info.adc_bits <= 32:
            return self.info.adc_bits
        return DEFAULT_ADC_BITS

    def time_s(self) -> np.ndarray:
        if not self.sample_rate_hz:
            raise ValueError("the capture carries no sample rate")
        return self.index / self.sample_rate_hz

    def duration_s(self) -> float | None:
        if not self.sample_rate_hz or len(self.index) == 0:
            return None
        return float(self.index[-1] - self.index[0] + 1) / self.sample_rate_hz


class StreamCollector:
    """Accumulates decoder output into a :class:`DecodedStream`."""

    def __init__(self) -> None:
        self.blocks: list[SampleBlock] = []
        self.events: list[Event] = []
        self.messages = 0

    def add(self, messages: list[Message]) -> None:
        for message in messages:
            self.messages += 1
            if isinstance(message, SampleBlock):
                self.blocks.append(message)
            elif isinstance(message, Event):
                self.events.append(message)

    def result(self, decoder: StreamDecoder) -> DecodedStream:
        if self.blocks:
            blocks = self.blocks
            counts = np.concatenate([b.counts for b in blocks])
            flags = np.concatenate([b.flags for b in blocks])
            lengths = [len(b) for b in blocks]
            segment = np.repeat(np.array([b.segment for b in blocks], np.int32), lengths)
            index = np.empty(len(counts), np.int64)
            ends = np.cumsum(lengths).tolist()
            for block, lo, hi in zip(blocks, [0, *ends[:-1]], ends, strict=True):
                index[lo:hi] = np.arange(block.first_index, block.end_index, dtype=np.int64)
            _place_segments(index, segment, decoder._index.bases)
        else:
            counts = np.empty((0, 2), np.int32)
            flags = np.empty(0, np.uint8)
            segment = np.empty(0, np.int32)
            index = np.empty(0, np.int64)
        return DecodedStream(
            mode=decoder.mode,
            index=index,
            counts=counts,
            flags=flags,
            segment=segment,
            counters=decoder.counters.copy(),
            info=decoder.info,
            sample_rate_hz=decoder.sample_rate_hz,
            serial_number=decoder.serial_number,
            events=list(self.events),
            messages=self.messages,
        )


def _place_segments(index: np.ndarray, segment: np.ndarray, bases: dict[int, int]) -> None:
    """Lay segments one after another on a single axis, each from its own base (in place).

    The one :class:`~firmware_bridge.segment_clock.SegmentClock` the live
    screens use too: within a segment, time counts from its START (or from
    the first sample of a capture that began mid-test); a later segment
    starts where the one before it ended, so the axis never runs backwards.
    """
    if len(index) == 0:
        return
    clock = SegmentClock()
    boundaries = np.flatnonzero(segment[1:] != segment[:-1]) + 1
    edges = np.concatenate(([0], boundaries, [len(index)]))
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        seg, first = int(segment[lo]), int(index[lo])
        count = int(index[hi - 1]) - first + 1
        start = clock.place(seg, first, count, base=bases.get(seg, first))
        index[lo:hi] += start - first
