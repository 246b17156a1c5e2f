"""The tare: where zero force is, taken from the athlete's quiet start.

Before a test the athlete kneels with the ankles in the hooks and does not
pull; the counts of that still period are the zero (preload included).  A
window of ``quiet_window_s`` is *still* when the filtered force of both legs
has a standard deviation of at most ``quiet_max_std_n`` over it (the noise
floor of a filtered load cell is far below that; a pulling athlete far
above).  The zero is the median of the raw counts over the first stretch of
overlapping still windows, which must begin before the first rep, leaving
out the stretch's last window (where a slow onset may already creep in, a few
newtons at a time, without breaking the stillness).  Without a quiet start
(:func:`choose_zero`) the zero falls back to the certificate's offset, then to
the first still rest, then to the least-moving window, and the result says so.

Windows are built from blocks of a fifth of a window inside each contiguous
run, so the search costs two reductions over the samples however long the
capture; stretches are located to a fifth of a window (0.2 s by default).
Still windows are also used to warn about drift: a resting stretch later in
the session that sits far from the zero means the zero no longer holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from station.analysis.gaps import Runs
from station.analysis.reps import Detection, detect_reps
from station.analysis.settings import AnalysisSettings

BLOCKS_PER_WINDOW = 5


def _num(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class ZeroInfo:
    """Where the zero came from (quiet_start, certificate, quiet_rest or estimated), the zero
    in counts per channel, and the still samples used, if any."""

    source: str
    counts: tuple[float, float]
    start_s: float | None = None
    end_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": {"left": self.counts[0], "right": self.counts[1]},
            "start_s": _num(self.start_s, 4),
            "end_s": _num(self.end_s, 4),
        }

    def warning(self) -> str | None:
        """What a person should be told about this zero (None for a quiet start)."""
        if self.source == "quiet_start":
            return None
        if self.source == "certificate":
            return "no quiet start before the first rep: the zero is the certificate's offset"
        if self.source == "quiet_rest":
            return (
                "no quiet start before the first rep and no zero in the certificate: the zero "
                f"is from the still stretch at {self.start_s:.1f} s"
            )
        return (
            "no quiet start, no zero in the certificate and nothing still: the zero was "
            "estimated from the least-moving second of the recording"
        )


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

    ``force`` is channel-major, (channels, n), in newtons, near zero (the analysis
    centres it on the first sample), so sums of squares keep the variance exact.
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
    s1 = np.add.reduceat(x, starts, axis=1).T
    # Squares channel by channel: one channel's temporary, not all of them at once.
    s2 = np.stack([np.add.reduceat(row * row, starts) for row in x], axis=1)
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
    return Windows(starts[:m], stops[k - 1 :], valid, w1, std)


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
    return _median_rows(np.asarray(counts[stretch.start : stretch.stop], np.float64))


def _median_rows(values: np.ndarray) -> np.ndarray:
    """``np.median(values, axis=0)``, value for value, without loading ``numpy.ma``
    (np.median's NaN check imports it: about 7 ms of every command's start)."""
    n = len(values)
    if n == 0 or np.isnan(values).any():
        return np.median(values, axis=0)
    half = n // 2
    if n % 2:
        return np.partition(values, half, axis=0)[half]
    part = np.partition(values, [half - 1, half], axis=0)
    return np.mean(part[half - 1 : half + 1], axis=0)


def choose_zero(
    counts: np.ndarray,
    index: np.ndarray,
    runs: Runs,
    filtered: np.ndarray,
    centre: np.ndarray,
    gains: np.ndarray,
    win: Windows,
    block: int,
    rate: float,
    settings: AnalysisSettings,
    certificate_zeros: tuple[float, float] | None,
) -> tuple[np.ndarray, ZeroInfo, Detection]:
    """The zero (counts per channel), where it came from, and the reps it leads to.

    From the first still stretch if it begins before the first rep; else the
    certificate's zero, then a still rest, then the least-moving window.
    ``filtered`` is the filtered signal in newtons around ``centre`` counts
    (channel-major); the reps are detected with each candidate zero.
    """

    def detect(zero: np.ndarray) -> Detection:
        offset = (zero - centre) * gains
        return detect_reps(
            index, runs, filtered[0], filtered[1], rate, settings, (offset[0], offset[1])
        )

    def info(source: str, zero: np.ndarray, stretch: QuietStretch | None) -> ZeroInfo:
        pair = (float(zero[0]), float(zero[1]))
        if stretch is None:
            return ZeroInfo(source, pair)
        start_s = float(index[stretch.start] / rate)
        return ZeroInfo(source, pair, start_s, float(index[stretch.stop - 1] / rate))

    if len(counts) == 0:
        zero = np.asarray(certificate_zeros or (0.0, 0.0), np.float64)
        source = "certificate" if certificate_zeros else "estimated"
        return zero, info(source, zero, None), Detection([], [])
    window = block * BLOCKS_PER_WINDOW
    stretch = first_quiet_stretch(win, settings.quiet_max_std_n)
    if stretch is not None:
        used = settled(stretch, window)
        zero = zero_from_stretch(counts, used)
        detection = detect(zero)
        first = detection.reps[0].start if detection.reps else None
        if first is None or stretch.start < first:
            if first is not None and used.stop > first:
                # The stretch runs into the first rep's window: keep only the part before it.
                used = QuietStretch(used.start, first)
                zero = zero_from_stretch(counts, used)
                detection = detect(zero)
            return zero, info("quiet_start", zero, used), detection
    if certificate_zeros is not None:
        zero = np.asarray(certificate_zeros, np.float64)
        return zero, info("certificate", zero, None), detect(zero)
    if stretch is not None:
        used = settled(stretch, window)
        zero = zero_from_stretch(counts, used)
        return zero, info("quiet_rest", zero, used), detect(zero)
    stretch = least_moving(win, len(counts))
    zero = zero_from_stretch(counts, stretch)
    return zero, info("estimated", zero, stretch), detect(zero)


def baseline_offset(
    win: Windows,
    offset: np.ndarray,
    settings: AnalysisSettings,
    detection: Detection,
) -> tuple[float | None, float | None]:
    """Largest |level| per leg over resting windows: still, outside every rep and ignored
    pull, and with both legs below the rep threshold (a held one-leg pull is not a rest).
    ``offset`` (N per channel) turns the windows' means into tared forces."""
    if len(win.start) == 0:
        return (None, None)
    busy = sorted(
        [(r.start, r.stop) for r in detection.reps] + [(p.start, p.stop) for p in detection.ignored]
    )
    means = win.mean - offset[None, :]
    usable = win.still(settings.quiet_max_std_n) & np.all(
        np.abs(means) < settings.rep_threshold_n, axis=1
    )
    if busy:
        a = np.array([b[0] for b in busy])
        b = np.array([b[1] for b in busy])
        k = np.searchsorted(a, win.stop, side="left") - 1
        usable &= ~((k >= 0) & (b[np.maximum(k, 0)] > win.start))
    if not usable.any():
        return (None, None)
    means = means[usable]
    worst = np.argmax(np.abs(means), axis=0)
    return (float(means[worst[0], 0]), float(means[worst[1], 1]))
