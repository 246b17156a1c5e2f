"""One time axis across rig restarts: segments laid end to end.

A rig counts its sample index from 0 again at every START and after every
reboot, so the decoder tags each :class:`~firmware_bridge.messages.SampleBlock`
with a *segment* number and an index that counts from that segment's start.
Whatever shows or judges samples over time (the live plot, the calibration
settle detector, an analysed capture) needs one axis that never runs
backwards: this clock places each segment right after the one before it, in
samples of the rig's own clock (never the host's, so a busy host cannot
fool a settle window).

Use (one clock per stream)::

    clock = SegmentClock()                 # gap=1 leaves a break in a plotted trace
    first = clock.place(block.segment, block.first_index, len(block))
    # sample k of the block sits at axis index first + k
    t_s, counts = clock.chunk(block, rate_hz)   # the same, in seconds, with counts as float

For the decoder (``DecodedStream`` / ``_place_segments``): a segment's axis
origin is its START's sample index, not its first sample seen, so call
``clock.place(segment, first_index, count, base=bases.get(segment, first_index))``
once per run of one segment, with ``count = last_index - first_index + 1``,
and set ``out[lo:hi] = index[lo:hi] - first_index + returned_first``.
With the default ``gap=0`` that is exactly the decoder's present layout.
"""

from __future__ import annotations

import logging

import numpy as np

from firmware_bridge.messages import SampleBlock

log = logging.getLogger(__name__)


class SegmentClock:
    """Turns (segment, device index) into one continuous axis index in samples.

    ``gap`` is how many axis samples are left empty between two segments (0:
    the next segment starts right after the last sample; 1: one missing
    sample, so a plotted trace breaks where the rig restarted).
    """

    def __init__(self, *, gap: int = 0) -> None:
        if gap < 0:
            raise ValueError(f"gap must be 0 or more samples, not {gap}")
        self.gap = int(gap)
        self.segment: int | None = None  # the segment being placed now
        self.offset = 0  # axis index = device index + offset, within the current segment
        self.next_index = 0  # the axis index after the last sample placed
        self.segments = 0  # segments seen so far
        self.restarts = 0  # segments after the first

    def place(self, segment: int, first_index: int, count: int, *, base: int | None = None) -> int:
        """Axis index of sample ``first_index`` of ``segment``; ``count`` samples follow it.

        A segment not seen before starts at the end of the last one (plus
        ``gap``; at 0 for the first), with its device index ``base`` (default:
        ``first_index``, the first sample seen of it) at that point.  Within a
        segment the axis keeps the device's spacing, so dropped samples stay
        holes.
        """
        if segment != self.segment:
            start = self.next_index
            if self.segment is not None:
                start += self.gap
                self.restarts += 1
                log.debug("segment %d starts at axis index %d", segment, start)
            self.segment = segment
            self.segments += 1
            self.offset = start - (first_index if base is None else int(base))
        first = int(first_index) + self.offset
        self.next_index = first + int(count)
        return first

    def indices(self, block: SampleBlock) -> np.ndarray:
        """Axis indices (int64) of each sample of ``block``."""
        first = self.place(block.segment, block.first_index, len(block))
        return first + np.arange(len(block), dtype=np.int64)

    def chunk(self, block: SampleBlock, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
        """``(t_s, counts)``: the block's times in seconds on the axis and its counts as float."""
        return self.indices(block) / float(rate_hz), np.asarray(block.counts, dtype=float)


__all__ = ["SegmentClock"]
