"""Where the sample stream is broken: dropped samples and segment changes.

Dropped samples stay missing on the time axis (the decoder's ``index`` jumps
over them) and a new segment (a new START or a device restart) starts a new
time base.  Anything that looks at neighbouring samples, the filter above
all, must work on each contiguous run on its own, or it would smear one side
of a break into the other.  Breaks are few, so everything after finding them
works on the short per-run arrays, not on the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Runs:
    """Contiguous runs of samples: ``starts[k]:stops[k]`` are consecutive indices of one segment.

    ``missing_before[k]`` is how many samples were dropped just before run
    ``k`` (0 for the first run and after a segment change);
    ``new_segment[k]`` says run ``k`` starts a new segment.
    """

    starts: np.ndarray  # int64 positions into the sample arrays
    stops: np.ndarray  # int64, exclusive
    missing_before: np.ndarray  # int64
    new_segment: np.ndarray  # bool

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def lengths(self) -> np.ndarray:
        return self.stops - self.starts

    @property
    def dropped_samples(self) -> int:
        return int(self.missing_before.sum())

    def run_of(self, position: np.ndarray | int) -> np.ndarray:
        """Which run a sample position belongs to."""
        return np.searchsorted(self.starts, position, side="right") - 1

    def hard_starts(self, max_missing: float) -> np.ndarray:
        """First sample of each run that follows a break a rep may not span: a segment
        change, or a gap longer than ``max_missing`` samples (as the time between
        the neighbouring samples, ``missing + 1``)."""
        hard = self.new_segment | (self.missing_before + 1 > max_missing)
        hard[:1] = False
        return self.starts[hard]

    def within(self, start: int, stop: int) -> Runs:
        """The runs of samples ``start:stop`` (``start < stop``), as positions from
        ``start``: for filtering a stretch of the samples as if it were the whole."""
        first, last = (int(v) for v in self.run_of(np.array([start, stop - 1])))
        starts = self.starts[first : last + 1] - start
        stops = self.stops[first : last + 1] - start
        starts[0], stops[-1] = 0, stop - start
        missing = self.missing_before[first : last + 1].copy()
        new_segment = self.new_segment[first : last + 1].copy()
        missing[0], new_segment[0] = 0, False
        return Runs(starts, stops, missing, new_segment)


def find_runs(
    index: np.ndarray, segment: np.ndarray | None = None, step: np.ndarray | None = None
) -> Runs:
    """Split the samples wherever the index does not advance by one or the segment changes
    (``step`` is ``np.diff(index)`` if the caller has it already)."""
    n = len(index)
    if n == 0:
        empty = np.empty(0, np.int64)
        return Runs(empty, empty, empty, np.empty(0, bool))
    index = np.asarray(index, np.int64)
    step = np.diff(index) if step is None else step
    one_segment = segment is None or len(segment) != n or segment.min() == segment.max()
    if n == 1 or (one_segment and step.min() == 1 and step.max() == 1):
        # The usual capture: one unbroken run, found with reductions alone.
        return Runs(np.zeros(1, np.int64), np.full(1, n, np.int64), np.zeros(1, np.int64),
                    np.zeros(1, bool))  # fmt: skip
    breaks = step != 1
    seg_change = np.zeros(n - 1, bool)
    if segment is not None and len(segment) == n:
        seg_change = np.diff(segment) != 0
        breaks |= seg_change
    cuts = np.flatnonzero(breaks) + 1
    starts = np.concatenate(([0], cuts)).astype(np.int64)
    stops = np.concatenate((cuts, [n])).astype(np.int64)
    new_segment = np.concatenate(([False], seg_change[cuts - 1]))
    missing = np.concatenate(([0], np.maximum(step[cuts - 1] - 1, 0))).astype(np.int64)
    missing[new_segment] = 0
    return Runs(starts, stops, missing, new_segment)
