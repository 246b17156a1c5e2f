"""The tare: where zero force is, taken from the athlete's quiet start.

Before a test the athlete kneels with the ankles in the hooks and does not
pull; the counts of that still period are the zero (preload included).  A
window of ``quiet_window_s`` is *still* when the filtered force of both legs
has a standard deviation of at most ``quiet_max_std_n`` over it (the noise
floor of a filtered load cell is far below that; a pulling athlete far
above).  The zero is the median of the raw counts over the first stretch of
overlapping still windows, which must begin before the first rep, leaving
out the stretch's last window (where a slow onset may already creep in, a few
newtons at a time, without breaking the stillness).

Windows are built from blocks of a fifth of a window inside each contiguous
run, so the search costs two reductions over the samples however long the
capture; stretches are located to a fifth of a window (0.2 s by default).
Still windows are also used to warn about drift: a resting stretch later in
the session that sits far from the zero means the zero no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.analysis.gaps import Runs

BLOCKS_PER_WINDOW = 5


@dataclass(frozen=True)
class QuietStretch:
    """Samples ``start:stop`` (positions into the sample arrays) are still."""

    start: int
    stop: int


@dataclass(frozen=True)
class Windows:
    """Sliding windows of ``BLOCKS_PER_WINDOW`` whole blocks inside one run.

    ``start``/``stop`` are sample positions of each window; ``valid`` says the
    window lies inside one run with full blocks; ``mean``/``std`` are
    (windows, channels) over the window (meaningful where valid).
    """

    start: np.ndarray
    stop: np.ndarray
    valid: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    def still(self, max_std: float) -> np.ndarray:
        return self.valid & np.all(self.std <= max_std, axis=1)


def block_samples(rate_hz: float, window_s: float) -> int:
    """Samples per block, so that a window is a whole number of blocks (at least 2 samples)."""
    return max(1, int(round(window_s * rate_hz / BLOCKS_PER_WINDOW)))


def windows(force: np.ndarray, runs: Runs, block: int) -> Windows:
    """Statistics of every window of ``BLOCKS_PER_WINDOW`` blocks of ``block`` samples.

    ``force`` is channel-major, (channels, n), in newtons.
    """
    x = np.asarray(force, np.float64)
    n, k = x.shape[1], BLOCKS_PER_WINDOW
    empty = np.empty(0, np.int64)
    if n == 0 or runs.count == 0:
        return Windows(empty, empty, empty.astype(bool), np.empty((0, 2)), np.empty((0, 2)))
    per_run = -(-runs.lengths // block)  # blocks per run, the last one may be short
    run_of_block = np.repeat(np.arange(runs.count), per_run)
    first_block = np.cumsum(per_run) - per_run
    starts = (
        runs.starts[run_of_block]
        + (np.arange(len(run_of_block)) - first_block[run_of_block]) * block
    )
    stops = np.minimum(starts + block, runs.stops[run_of_block])
    centre = np.median(x[:, : min(n, 4 * block * k)], axis=1)
    x = x - centre[:, None]  # centred: exact variances
    s1 = np.add.reduceat(x, starts, axis=1).T
    s2 = np.add.reduceat(x * x, starts, axis=1).T
    zero = np.zeros((1, x.shape[0]))
    c1 = np.concatenate((zero, np.cumsum(s1, axis=0)))
    c2 = np.concatenate((zero, np.cumsum(s2, axis=0)))
    m = len(starts) - k + 1
    if m <= 0:
        return Windows(empty, empty, empty.astype(bool), np.empty((0, 2)), np.empty((0, 2)))
    size = float(block * k)
    w1 = (c1[k:] - c1[:-k]) / size
    w2 = (c2[k:] - c2[:-k]) / size
    short = np.concatenate(([0], np.cumsum(stops - starts != block)))
    valid = (run_of_block[:m] == run_of_block[k - 1 :]) & (short[k:] - short[:-k] == 0)
    std = np.sqrt(np.maximum(w2 - w1 * w1, 0.0))
    return Windows(starts[:m], stops[k - 1 :], valid, w1 + centre, std)


def first_quiet_stretch(win: Windows, max_std: float) -> QuietStretch | None:
    """The first run of consecutive still windows, as the samples they cover."""
    still = win.still(max_std)
    hits = np.flatnonzero(still)
    if len(hits) == 0:
        return None
    first = int(hits[0])
    ends = np.flatnonzero(~still[first:])
    last = first + (int(ends[0]) if len(ends) else len(still) - first) - 1
    return QuietStretch(int(win.start[first]), int(win.stop[last]))


def least_moving(win: Windows, n: int) -> QuietStretch:
    """The window with the smallest spread (the last resort when nothing is still)."""
    if not win.valid.any():
        return QuietStretch(0, n)
    spread = np.where(win.valid, win.std.sum(axis=1), np.inf)
    best = int(np.argmin(spread))
    return QuietStretch(int(win.start[best]), int(win.stop[best]))


def settled(stretch: QuietStretch, window: int) -> QuietStretch:
    """The stretch without its last window, where a slow onset may already creep in
    (a whole window of it is kept when the stretch is shorter than two)."""
    return QuietStretch(stretch.start, max(stretch.start + window, stretch.stop - window))


def zero_from_stretch(counts: np.ndarray, stretch: QuietStretch) -> np.ndarray:
    """Median raw counts per channel over the still stretch (``counts`` is (n, 2))."""
    return np.median(np.asarray(counts[stretch.start : stretch.stop], np.float64), axis=0)
