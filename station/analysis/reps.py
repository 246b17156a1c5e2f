"""Repetition detection on the filtered, tared forces: bilateral (Nordic) or per leg.

The Nordic test is bilateral: a repetition counts only while both legs pull.
An isometric test (``settings.protocol == "isometric"``) finds each leg's
contractions on their own with the same steps 1-4, a *pulling sample* being
one leg at or above the threshold and *still* that leg below the edge; legs
whose cores overlap in time form one rep (``legs`` both), else a rep has one
leg.  Neighbouring reps' windows are cut at the midpoint between their cores.

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

LEG_NAMES = ("left", "right")


@dataclass(frozen=True)
class RepWindow:
    """A detected rep: sample positions ``start:stop`` (window), ``core_start:core_stop``."""

    start: int
    stop: int
    core_start: int
    core_stop: int
    bilateral_s: float
    legs: tuple[str, ...] = ("left", "right")
    # Per leg (left, right): its own window start:stop in an isometric rep, None when the leg
    # is not in the rep; None as a whole for a bilateral rep (both legs use the rep's window).
    leg_windows: tuple[tuple[int, int] | None, tuple[int, int] | None] | None = None

    def leg_window(self, leg: int) -> tuple[int, int] | None:
        """Samples ``start:stop`` over which leg 0 (left) or 1 (right) is measured."""
        if self.leg_windows is None:
            return (self.start, self.stop)
        return self.leg_windows[leg]


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
    """What the detector found: the reps' windows, and the pulls it did not count as reps."""

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
    """Find the reps (bilateral, or per leg for an isometric protocol) and the pulls left
    out in filtered forces (N).

    The forces are ``left - offset[0]`` and ``right - offset[1]`` (tared); the
    offset moves the thresholds instead of making tared copies of the signals.
    """
    n = len(index)
    if n == 0:
        return Detection([], [])
    index = np.asarray(index, np.int64)
    thr, edge = settings.rep_threshold_n, settings.rep_edge_n
    merge_gap = settings.rep_merge_gap_s * rate_hz
    lhit = left >= thr + offset[0]
    rhit = right >= thr + offset[1]
    lact = left >= edge + offset[0]
    ract = right >= edge + offset[1]
    # First sample of each stretch between hard breaks, with the ends as sentinels.
    bounds = np.concatenate(([0], runs.hard_starts(merge_gap), [n]))
    cuts = runs.starts[1:]
    if settings.is_isometric:
        return _unilateral(lhit, rhit, lact, ract, index, cuts, bounds, rate_hz, settings)
    both = lhit & rhit
    active = _Active(*_true_runs(lact | ract, np.empty(0, np.int64)))
    reps = _rep_windows(both, active, index, cuts, bounds, rate_hz, settings)
    ignored = _ignored(lhit, rhit, both, index, cuts, active, bounds, merge_gap, reps)
    return Detection(reps, ignored)


def _rep_windows(
    hit: np.ndarray,
    active: _Active,
    index: np.ndarray,
    cuts: np.ndarray,
    bounds: np.ndarray,
    rate_hz: float,
    settings: AnalysisSettings,
) -> list[RepWindow]:
    """Steps 2-4 of the module docstring on the pulling samples ``hit``."""
    merge_gap = settings.rep_merge_gap_s * rate_hz
    extend = settings.rep_max_extend_s * rate_hz
    run_s, run_e = _true_runs(hit, cuts)
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
    return reps


def _unilateral(
    lhit: np.ndarray,
    rhit: np.ndarray,
    lact: np.ndarray,
    ract: np.ndarray,
    index: np.ndarray,
    cuts: np.ndarray,
    bounds: np.ndarray,
    rate_hz: float,
    settings: AnalysisSettings,
) -> Detection:
    """Isometric reps: each leg's own reps, legs with overlapping cores joined into one."""
    merge_gap = settings.rep_merge_gap_s * rate_hz
    none = np.zeros_like(lhit)
    per_leg: list[list[RepWindow]] = []
    ignored: list[IgnoredPull] = []
    for leg, (hit, act) in enumerate(((lhit, lact), (rhit, ract))):
        active = _Active(*_true_runs(act, np.empty(0, np.int64)))
        found = _rep_windows(hit, active, index, cuts, bounds, rate_hz, settings)
        per_leg.append(found)
        # A pull of this leg that is no rep of it was too short (the only reason left).
        sides = (hit, none) if leg == 0 else (none, hit)
        ignored += _ignored(*sides, hit, index, cuts, active, bounds, merge_gap, found)
    ignored.sort(key=lambda p: p.start)
    return Detection(_join_legs(per_leg, lhit & rhit, index, rate_hz), ignored)


def _join_legs(
    per_leg: list[list[RepWindow]], both: np.ndarray, index: np.ndarray, rate_hz: float
) -> list[RepWindow]:
    """One rep per group of leg reps whose cores overlap; windows cut between reps."""
    items = sorted(
        ((w, leg) for leg in (0, 1) for w in per_leg[leg]), key=lambda item: item[0].core_start
    )
    groups: list[list[tuple[RepWindow, int]]] = []
    for item in items:
        if groups and item[0].core_start < max(w.core_stop for w, _ in groups[-1]):
            groups[-1].append(item)
        else:
            groups.append([item])
    spans: list[list[list[int] | None]] = []
    for group in groups:
        legs: list[list[int] | None] = [None, None]
        for w, leg in group:
            span = legs[leg]
            legs[leg] = (
                [w.start, w.stop, w.core_start, w.core_stop]
                if span is None
                else [min(span[0], w.start), max(span[1], w.stop), span[2], w.core_stop]
            )
        spans.append(legs)
    # Cut overlapping neighbours at the midpoint between their cores (as bilateral reps are).
    for k in range(len(spans) - 1):
        this = [s for s in spans[k] if s is not None]
        after = [s for s in spans[k + 1] if s is not None]
        end = max(s[1] for s in this)
        if end <= min(s[0] for s in after):
            continue
        core_end = max(s[3] for s in this) - 1
        core_start = min(s[2] for s in after)
        cut = int(np.searchsorted(index, (index[core_end] + index[core_start]) / 2.0, "right"))
        for s in this:
            s[1] = min(s[1], cut)
        for s in after:
            s[0] = max(s[0], cut)
    reps: list[RepWindow] = []
    for legs in spans:
        present = [s for s in legs if s is not None]
        start, stop = min(s[0] for s in present), max(s[1] for s in present)
        reps.append(
            RepWindow(
                start=start,
                stop=stop,
                core_start=min(s[2] for s in present),
                core_stop=max(s[3] for s in present),
                bilateral_s=float(np.count_nonzero(both[start:stop]) / rate_hz),
                legs=tuple(name for name, s in zip(LEG_NAMES, legs, strict=True) if s),
                leg_windows=(
                    None if legs[0] is None else (legs[0][0], legs[0][1]),
                    None if legs[1] is None else (legs[1][0], legs[1][1]),
                ),
            )
        )
    return reps


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
