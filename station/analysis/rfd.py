"""Onset, RFD 0–W ms and impulse 0–W ms of one leg in one rep (metrics.md).

All on the *RFD-filtered* force: the analysis Butterworth (same order, zero
phase) at ``rfd_cutoff_hz`` (50 Hz), lowered to ``rfd_max_cutoff_rate_fraction``
(0.4) × the rate on slow rigs, tared with the analysis zero.  The 10 Hz
analysis filter would flatten a 50 ms rise; 50 Hz keeps it and still removes
the load cell's noise.

- onset: the first sample of the leg's window whose force exceeds
  ``onset_threshold_n`` (20 N).  It must be a crossing: when that is the
  window's first sample, the sample just before it must be there (no gap, not
  the start of the data) and at or below the threshold; else there is no onset
  (flag ``onset_not_found``): the rise was not seen.
- RFD 0–W = (F(onset + W) − F(onset)) ÷ W; impulse 0–W = area under F from the
  onset to onset + W (trapezoids); F(onset + W) is interpolated linearly
  between samples.  W = 50, 100, 150, 200, 250 ms.
- A window is resolved only when it spans at least
  ``rfd_min_samples_per_window`` sample periods (metrics.md: not when the
  period exceeds W / 2); else ``None`` for every rep (result flag
  ``rfd_window_unavailable``).  A resolved window that runs into missing
  samples or the end of the data is ``None`` too (rep flag ``rfd_window_cut``).

Cost: the RFD filter runs only around each leg's rise (:func:`rise_windows`),
where it gives what filtering the whole run would, to far below a
millinewton; the tests check that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.analysis.filters import LowpassDesign, design_lowpass, filtfilt_runs
from station.analysis.gaps import Runs
from station.analysis.settings import RFD_WINDOWS_MS, AnalysisSettings

WINDOW_KEYS = tuple(f"0-{w}ms" for w in RFD_WINDOWS_MS)
SETTLE_CYCLES = 16.0  # margin in periods of the cut-off: the filter's transient is gone by then
ONSET_SEARCH_S = 0.5  # the onset is looked for here first (it is near a window's start)


@dataclass(frozen=True)
class Windowed:
    """One leg's onset (s, device clock), and RFD (N/s) and impulse (N·s) per window."""

    onset_s: float | None
    onset_sample: int | None
    rfd_n_per_s: tuple[float | None, ...]
    impulse_ns: tuple[float | None, ...]
    cut: bool = False  # a window the rate resolves ran into missing samples or the data's end

    @classmethod
    def none(cls) -> Windowed:
        empty = (None,) * len(RFD_WINDOWS_MS)
        return cls(None, None, empty, empty)


def resolvable(rate_hz: float, settings: AnalysisSettings) -> tuple[bool, ...]:
    """Per window, whether the rig's rate resolves it (the window spans enough periods)."""
    need = settings.rfd_min_samples_per_window
    return tuple(w / 1000.0 * rate_hz >= need - 1e-9 for w in RFD_WINDOWS_MS)


def design_rfd_filter(rate_hz: float, settings: AnalysisSettings) -> LowpassDesign:
    """The RFD filter: the analysis Butterworth at the RFD cut-off, lowered on slow rigs."""
    ceiling = settings.rfd_max_cutoff_rate_fraction * rate_hz
    return design_lowpass(rate_hz, settings, settings.rfd_cutoff_hz, ceiling)


def rise_windows(
    tared: np.ndarray,
    runs: Runs,
    index: np.ndarray,
    windows: Sequence[tuple[int, int]],
    rate_hz: float,
    settings: AnalysisSettings,
    design: LowpassDesign,
    resolved: Sequence[bool],
) -> dict[tuple[int, int], list[Windowed]]:
    """:func:`windowed` of every channel over each of ``windows`` (``start:stop`` samples),
    filtering only around the rises.

    ``tared`` (channels, n) is the unfiltered, tared force in newtons.  The RFD
    filter runs over the first ``ONSET_SEARCH_S`` of each window, plus the
    longest RFD window and a settling margin on both sides, all stretches in
    one batched call; a channel whose onset is not there gets its whole window
    filtered.  Within the margin the filter's start-up transient has died
    away, so this equals filtering the whole run (the tests check it to a
    micronewton).
    """
    n = len(index)
    settle = int(math.ceil(SETTLE_CYCLES / design.cutoff_hz * rate_hz))
    after = settle + int(math.ceil(max(RFD_WINDOWS_MS) / 1000.0 * rate_hz)) + 1
    search = int(math.ceil(ONSET_SEARCH_S * rate_hz))
    found: dict[tuple[int, int], list[Windowed]] = {}
    todo = list(dict.fromkeys(windows))
    for widen in (False, True):
        ends = [stop if widen else min(stop, start + search) for start, stop in todo]
        spans = [
            (max(0, w[0] - settle), min(n, end + after)) for w, end in zip(todo, ends, strict=True)
        ]
        forces = _filter_stretches(tared, runs, spans, design)
        retry = []
        for (start, stop), end, (a, b), force in zip(todo, ends, spans, forces, strict=True):
            rows = found.setdefault((start, stop), [Windowed.none()] * len(tared))
            for ch in range(len(tared)):
                if rows[ch].onset_sample is not None:
                    continue
                rows[ch] = windowed(
                    force[ch], index[a:b], start - a, end - a, rate_hz, settings, resolved, a
                )
            if end < stop and any(w.onset_sample is None for w in rows):
                retry.append((start, stop))
        todo = retry
        if not todo:
            break
    return found


def _filter_stretches(
    tared: np.ndarray,
    runs: Runs,
    spans: Sequence[tuple[int, int]],
    design: LowpassDesign,
) -> list[np.ndarray]:
    """The RFD-filtered force over each ``a:b`` of ``spans``, in one call.

    The stretches are laid end to end and filtered as one signal, split only
    at their own gaps.  A join is a jump, and its transient dies away within
    the settling margin each stretch carries at both ends, like the filter's
    start-up at a run's edge: the samples used are as if the run was filtered
    whole.
    """
    if not spans:
        return []
    lengths = np.array([b - a for a, b in spans])
    shift = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    inner = [runs.within(a, b).starts[1:] + s for (a, b), s in zip(spans, shift, strict=True)]
    starts = np.concatenate([np.zeros(1, np.int64), *inner]).astype(np.int64)
    stops = np.concatenate((starts[1:], [int(lengths.sum())])).astype(np.int64)
    joined = Runs(starts, stops, np.zeros(len(starts), np.int64), np.zeros(len(starts), bool))
    data = np.concatenate([tared[:, a:b] for a, b in spans], axis=1)
    force = filtfilt_runs(data, joined, design)
    return [force[:, s : s + k] for s, k in zip(shift.tolist(), lengths.tolist(), strict=True)]


def windowed(
    force: np.ndarray,
    index: np.ndarray,
    start: int,
    stop: int,
    rate_hz: float,
    settings: AnalysisSettings,
    resolved: Sequence[bool],
    base: int = 0,
) -> Windowed:
    """Onset, RFD and impulse windows of one leg over samples ``start:stop`` of ``force``
    (its RFD-filtered, tared force; see the module docstring).  ``base`` is added to the
    onset's sample position (``force`` may be a stretch starting there)."""
    threshold = settings.onset_threshold_n
    above = np.flatnonzero(force[start:stop] > threshold)
    if len(above) == 0:
        return Windowed.none()
    onset = start + int(above[0])
    if onset == start and not (
        start > 0 and index[start] - index[start - 1] == 1 and force[start - 1] <= threshold
    ):
        return Windowed.none()  # no rise seen: the data before the window is missing or high
    # The longest window's samples from the onset, as far as they are contiguous; the area
    # from the onset to each sample (trapezoids), once.
    longest = int(math.floor(round(max(RFD_WINDOWS_MS) / 1000.0 * rate_hz, 9))) + 2
    seg_index = index[onset : onset + longest]
    breaks = np.flatnonzero(np.diff(seg_index) != 1)
    usable = int(breaks[0]) + 1 if len(breaks) else len(seg_index)
    seg = force[onset : onset + usable]
    cum = np.concatenate(([0.0], np.cumsum(seg[1:] + seg[:-1]))) * (0.5 / rate_hz)
    values, areas = seg.tolist(), cum.tolist()
    f0 = values[0]
    rfd: list[float | None] = []
    impulse: list[float | None] = []
    cut = False
    for window_ms, ok in zip(RFD_WINDOWS_MS, resolved, strict=True):
        span = round(window_ms / 1000.0 * rate_hz, 9)
        whole = int(math.floor(span))
        frac = span - whole
        reach = whole + (1 if frac > 0 else 0)
        if not ok:
            rfd.append(None)
            impulse.append(None)
            continue
        if reach >= usable or not math.isfinite(values[reach]):
            cut = True  # missing samples (a gap or the data's end) inside the window
            rfd.append(None)
            impulse.append(None)
            continue
        end = values[whole]
        area = areas[whole]
        if frac > 0:
            f_end = end + frac * (values[whole + 1] - end)
            area += frac / rate_hz * (end + f_end) / 2.0
            end = f_end
        rfd.append((end - f0) / (window_ms / 1000.0))
        impulse.append(area)
    return Windowed(
        onset_s=float(index[onset] / rate_hz),
        onset_sample=onset + base,
        rfd_n_per_s=tuple(rfd),
        impulse_ns=tuple(impulse),
        cut=cut,
    )
