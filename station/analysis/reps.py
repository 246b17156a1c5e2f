"""Bilateral repetition detection on the filtered, tared forces.

The Nordic test is bilateral: a repetition counts only while both legs pull.

1. A *bilateral sample* has both legs at or above ``rep_threshold_n``.
2. Runs of bilateral samples are joined into one *core* when the pause between
   them is at most ``rep_merge_gap_s`` and neither a still sample (both legs
   below ``rep_edge_n``), a device restart nor a longer data gap lies between.
   So a rep survives one leg briefly dipping below the threshold (tremor, a
   wobble) and a few dropped samples, but a full relaxation ends it.
3. A core is a rep when its bilateral samples add up to at least
   ``rep_min_duration_s``; shorter bilateral bumps are ignored.
4. The rep's window grows outwards from the core while either leg is at or
   above ``rep_edge_n``, by at most ``rep_max_extend_s`` on each side, and never
   past the midpoint to a neighbouring core, a device restart or a data gap
   longer than ``rep_merge_gap_s``.  Onset, time to peak, impulse and mean force
   are measured on this window.

Pulls where a leg reached the threshold but that are not reps are reported as
ignored (``one_leg``, ``not_together`` or ``too_short``), so the clinician sees what was left out.
Everything is vectorised: the only Python loops run over cores, not samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.analysis.gaps import Runs
from station.analysis.settings import AnalysisSettings


@dataclass(frozen=True)
class RepWindow:
    """A detected rep: sample positions ``start:stop`` (window), ``core_start:core_stop``."""

    start: int
    stop: int
    core_start: int
    core_stop: int
    bilateral_s: float


@dataclass(frozen=True)
class IgnoredPull:
    """A pull that is not a rep.

    ``reason`` is ``one_leg`` (only one leg reached the threshold),
    ``not_together`` (both did, but never at the same time) or ``too_short``
    (both legs together, for less than ``rep_min_duration_s``).
    """

    start: int
    stop: int
    reason: str
    legs: str  # "left", "right" or "both"


@dataclass(frozen=True)
class Detection:
    reps: list[RepWindow]
    ignored: list[IgnoredPull]


def _true_runs(mask: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and inclusive ends of runs of True, also split at ``cuts`` (the first
    samples after gaps), so a run never spans missing samples; :func:`_group` decides
    whether the pieces belong together."""
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    starts = change[~mask[change - 1]] if len(change) else change
    ends = change[mask[change - 1]] - 1 if len(change) else change
    if len(mask) and mask[0]:
        starts = np.concatenate(([0], starts))
    if len(mask) and mask[-1]:
        ends = np.concatenate((ends, [len(mask) - 1]))
    starts, ends = starts.astype(np.int64), ends.astype(np.int64)
    split = cuts[mask[cuts] & mask[cuts - 1]]
    if len(split):
        starts = np.sort(np.concatenate((starts, split)))
        ends = np.sort(np.concatenate((ends, split - 1)))
    return starts, ends


def _between(positions: np.ndarray, after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """How many sorted ``positions`` lie strictly between ``after`` and ``before``."""
    return np.searchsorted(positions, before, side="left") - np.searchsorted(
        positions, after, side="right"
    )


@dataclass(frozen=True)
class _Active:
    """Stretches where at least one leg is at or above the edge threshold (not still)."""

    starts: np.ndarray
    lasts: np.ndarray

    def of(self, position: np.ndarray) -> np.ndarray:
        """Which stretch holds each (active) sample position."""
        return np.searchsorted(self.starts, position, side="right") - 1


def _group(
    starts: np.ndarray,
    lasts: np.ndarray,
    index: np.ndarray,
    active: _Active,
    bounds: np.ndarray,
    max_gap: float,
) -> np.ndarray:
    """Group id per run: consecutive runs join across short, unbroken, non-still pauses."""
    if len(starts) <= 1:
        return np.zeros(len(starts), np.int64)
    prev_last, next_start = lasts[:-1], starts[1:]
    join = (
        (index[next_start] - index[prev_last] <= max_gap)
        & (active.of(prev_last) == active.of(next_start))
        & (_between(bounds, prev_last, next_start + 1) == 0)
    )
    return np.concatenate(([0], np.cumsum(~join))).astype(np.int64)


def _grouped(
    run_s: np.ndarray, run_e: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First sample, last sample and sample count of each group of runs."""
    if len(run_s) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    first_of = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    return (
        run_s[first_of],
        np.maximum.reduceat(run_e, first_of),
        np.add.reduceat(run_e - run_s + 1, first_of),
    )


def detect_reps(
    index: np.ndarray,
    runs: Runs,
    left: np.ndarray,
    right: np.ndarray,
    rate_hz: float,
    settings: AnalysisSettings,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Detection:
    """Find bilateral reps (and the pulls left out) in filtered forces (N).

    The forces are ``left - offset[0]`` and ``right - offset[1]`` (tared); the
    offset moves the thresholds instead of making tared copies of the signals.
    """
    n = len(index)
    if n == 0:
        return Detection([], [])
    index = np.asarray(index, np.int64)
    thr, edge = settings.rep_threshold_n, settings.rep_edge_n
    merge_gap = settings.rep_merge_gap_s * rate_hz
    extend = settings.rep_max_extend_s * rate_hz
    lhit = left >= thr + offset[0]
    rhit = right >= thr + offset[1]
    both = lhit & rhit
    no_cuts = np.empty(0, np.int64)
    active = _Active(*_true_runs((left >= edge + offset[0]) | (right >= edge + offset[1]), no_cuts))
    # First sample of each stretch between hard breaks, with the ends as sentinels.
    bounds = np.concatenate(([0], runs.hard_starts(merge_gap), [n]))

    cuts = runs.starts[1:]
    run_s, run_e = _true_runs(both, cuts)
    group = _group(run_s, run_e, index, active, bounds, merge_gap)
    core_s, core_e, core_n = _grouped(run_s, run_e, group)
    reps: list[RepWindow] = []
    if len(core_s):
        ws, we = _windows(core_s, core_e, index, active, bounds, extend)
        valid = core_n / rate_hz >= settings.rep_min_duration_s - 1e-9
        for k in np.flatnonzero(valid).tolist():
            reps.append(
                RepWindow(
                    int(ws[k]),
                    int(we[k]) + 1,
                    int(core_s[k]),
                    int(core_e[k]) + 1,
                    float(core_n[k] / rate_hz),
                )
            )
    ignored = _ignored(lhit, rhit, both, index, cuts, active, bounds, merge_gap, reps)
    return Detection(reps, ignored)


def _windows(
    core_s: np.ndarray,
    core_e: np.ndarray,
    index: np.ndarray,
    active: _Active,
    bounds: np.ndarray,
    extend: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive window bounds of every core (see the module docstring, step 4)."""
    ws = active.starts[active.of(core_s)]  # from the first sample after the last still one
    we = active.lasts[active.of(core_e)]
    ws = np.maximum(ws, np.searchsorted(index, index[core_s] - extend, side="left"))
    we = np.minimum(we, np.searchsorted(index, index[core_e] + extend, side="right") - 1)
    ws = np.maximum(ws, bounds[np.searchsorted(bounds, core_s, side="right") - 1])
    we = np.minimum(we, bounds[np.searchsorted(bounds, core_e, side="right")] - 1)
    if len(core_s) > 1:
        mid = (index[core_e[:-1]] + index[core_s[1:]]) / 2.0
        cut = np.searchsorted(index, mid, side="right")  # first sample of the later core's side
        ws[1:] = np.maximum(ws[1:], cut)
        we[:-1] = np.minimum(we[:-1], cut - 1)
    return ws, we


def _ignored(
    lhit: np.ndarray,
    rhit: np.ndarray,
    both: np.ndarray,
    index: np.ndarray,
    cuts: np.ndarray,
    active: _Active,
    bounds: np.ndarray,
    merge_gap: float,
    reps: list[RepWindow],
) -> list[IgnoredPull]:
    """Pulls (either leg at or above the threshold) that overlap no rep."""
    run_s, run_e = _true_runs(lhit | rhit, cuts)
    if len(run_s) == 0:
        return []
    group = _group(run_s, run_e, index, active, bounds, merge_gap)
    g_s, g_e, _ = _grouped(run_s, run_e, group)
    if reps:
        rep_s = np.array([r.start for r in reps])
        rep_e = np.array([r.stop - 1 for r in reps])
        # A pull overlaps a rep if some rep starts before the pull ends and ends after it starts.
        k = np.searchsorted(rep_s, g_e, side="right") - 1
        overlaps = (k >= 0) & (rep_e[np.maximum(k, 0)] >= g_s)
    else:
        overlaps = np.zeros(len(g_s), dtype=bool)
    out: list[IgnoredPull] = []
    for s, e in zip(g_s[~overlaps].tolist(), g_e[~overlaps].tolist(), strict=True):
        has_l, has_r = bool(lhit[s : e + 1].any()), bool(rhit[s : e + 1].any())
        legs = "both" if has_l and has_r else ("left" if has_l else "right")
        if both[s : e + 1].any():
            reason = "too_short"
        elif legs == "both":
            reason = "not_together"
        else:
            reason = "one_leg"
        out.append(IgnoredPull(s, e + 1, reason, legs))
    return out
