"""Bounded ring buffer of the most recent samples, for the live plot.

The plot only ever shows the last few seconds, so memory stays fixed however
long a test runs (the full data is in the recording).  Each sample is written
twice, at ``i`` and ``i + capacity``, so the newest ``n`` samples are always one
contiguous slice: the plot's ``setData`` gets a view, never a copy or a
per-sample Python loop.

Samples are placed by their device index: a gap in the indices (dropped
samples, an unplugged rig) is written as NaN, so the trace shows a break where
data is missing instead of joining across it.
"""

from __future__ import annotations

import numpy as np


class PlotBuffer:
    """The last ``capacity`` samples of two channels on the device's time axis."""

    def __init__(self, capacity: int, channels: int = 2) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least one sample")
        self.capacity = int(capacity)
        self.channels = channels
        self._x = np.full(2 * self.capacity, np.nan, dtype=np.float64)
        self._y = np.full((channels, 2 * self.capacity), np.nan, dtype=np.float32)
        self._sample_period = 1.0
        self.clear()

    def clear(self) -> None:
        """Forget everything (a new test or a new rate)."""
        self._x.fill(np.nan)
        self._y.fill(np.nan)
        self._head = 0  # position of the next write, 0 <= head < capacity
        self._filled = 0
        self.next_index: int | None = None  # device index expected next
        self.samples_written = 0
        self.gap_samples = 0

    def set_sample_rate(self, rate_hz: float) -> None:
        """Seconds per index step for the x axis; clears if the rate changes."""
        period = 1.0 / float(rate_hz)
        if period != self._sample_period:
            self._sample_period = period
            self.clear()

    @property
    def sample_rate_hz(self) -> float:
        return 1.0 / self._sample_period

    def __len__(self) -> int:
        return self._filled

    def append(self, first_index: int, values: np.ndarray) -> None:
        """Add ``values`` (n × channels) for device indices ``first_index`` onward.

        Indices behind the last one written (a restarted device) are moved to
        follow it, so the time axis keeps running forwards.
        """
        values = np.asarray(values)
        n = len(values)
        if n == 0:
            return
        if self.next_index is not None:
            gap = first_index - self.next_index
            if gap < 0:
                first_index = self.next_index
            elif gap > 0:
                self.gap_samples += gap
                self._write_gap(self.next_index, gap)
        self._write(first_index, values)
        self.next_index = first_index + n
        self.samples_written += n

    def _write_gap(self, first_index: int, gap: int) -> None:
        fill = min(gap, self.capacity)
        start = first_index + gap - fill
        x = (start + np.arange(fill, dtype=np.float64)) * self._sample_period
        self._store(x, np.full((fill, self.channels), np.nan, dtype=np.float32))

    def _write(self, first_index: int, values: np.ndarray) -> None:
        if len(values) > self.capacity:
            first_index += len(values) - self.capacity
            values = values[-self.capacity :]
        x = (first_index + np.arange(len(values), dtype=np.float64)) * self._sample_period
        self._store(x, values)

    def _store(self, x: np.ndarray, values: np.ndarray) -> None:
        n = len(x)  # never more than capacity (callers trim)
        cap = self.capacity
        head = self._head
        split = min(n, cap - head)
        # Up to two pieces: [head, head+split) and, wrapped, [0, n-split).
        for ring_at, lo, hi in ((head, 0, split), (0, split, n)):
            if hi <= lo:
                continue
            a, b = ring_at, ring_at + (hi - lo)
            block = values[lo:hi].T
            for shift in (0, cap):
                self._x[a + shift : b + shift] = x[lo:hi]
                self._y[:, a + shift : b + shift] = block
        self._head = (head + n) % cap
        self._filled = min(cap, self._filled + n)

    def shift(self, delta: np.ndarray) -> None:
        """Add ``delta`` (one value per channel) to everything held: a new tare moves the
        trace already on screen, so old and new samples share one zero."""
        self._y += np.asarray(delta, dtype=np.float32).reshape(self.channels, 1)

    def view(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The newest ``n`` samples (all held, by default): x in seconds and y (channels × n).

        Both are views into the buffer: valid until the next ``append``.
        """
        count = self._filled if n is None else min(int(n), self._filled)
        end = self._head + self.capacity
        start = end - count
        return self._x[start:end], self._y[:, start:end]

    def last_time_s(self) -> float | None:
        """Time of the newest sample, or None when empty."""
        if self._filled == 0:
            return None
        return float(self._x[self._head + self.capacity - 1])
