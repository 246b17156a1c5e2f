"""From detected rep windows to :class:`Rep` records: each leg's metrics and the rep's flags.

Kept apart from detection (reps.py, where the windows come from) and from the
definitions (metrics.py, what each number is), so each can be read alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from station.analysis import flags as F
from station.analysis.convert import ChannelCalibration
from station.analysis.filters import LowpassDesign
from station.analysis.gaps import Runs
from station.analysis.metrics import Imbalance, LegMetrics, Rep, leg_metrics
from station.analysis.reps import Detection, IgnoredPull
from station.analysis.result import IgnoredPullInfo
from station.analysis.rfd import Windowed, rise_windows
from station.analysis.settings import AnalysisSettings


def measure_reps(
    detection: Detection,
    filtered: np.ndarray,
    index: np.ndarray,
    runs: Runs,
    rate: float,
    settings: AnalysisSettings,
    saturated: np.ndarray,
    adc_fault: np.ndarray,
    calibration: ChannelCalibration,
    body_mass_kg: float | None,
    lever_arm_m: float | None,
    rfd: tuple[np.ndarray, LowpassDesign] | None = None,
    resolved: Sequence[bool] = (),
) -> list[Rep]:
    """Metrics and flags of every detected rep (``filtered`` is tared, (2, n)).

    Each leg is measured over its own window (the rep's, for a bilateral rep);
    onset, RFD and impulse windows come from the RFD filter (rfd.py) when
    ``rfd`` gives the tared, unfiltered (2, n) force and the filter, with the
    windows the rate ``resolved``.
    """
    n = len(index)
    hard = set(runs.hard_starts(settings.rep_merge_gap_s * rate).tolist())
    edge = settings.rep_edge_n
    reps: list[Rep] = []
    timings: dict[tuple[int, int, int], Windowed] = {}  # (start, stop, channel)
    if rfd is not None:
        # Bilateral reps measure both legs over one window: filter them together; isometric
        # legs have their own windows: filter each leg's alone.
        bilateral = all(w.leg_windows is None for w in detection.reps)
        for chans in ((0, 1),) if bilateral else ((0,), (1,)):
            rows = slice(chans[0], chans[-1] + 1)
            spans = [w.leg_window(chans[0]) for w in detection.reps]
            found = rise_windows(
                rfd[0][rows], runs, index, [s for s in spans if s is not None],
                rate, settings, rfd[1], resolved,
            )  # fmt: skip
            for (a, b), per_channel in found.items():
                for ch, timing in zip(chans, per_channel, strict=True):
                    timings[(a, b, ch)] = timing
    for number, window in enumerate(detection.reps, start=1):
        s, e = window.start, window.stop
        legs: list[LegMetrics | None] = []
        rep_flags: list[str] = []
        for ch in (0, 1):
            span = window.leg_window(ch)
            if span is None:
                legs.append(None)
                continue
            timing = timings.get((span[0], span[1], ch), Windowed.none())
            if rfd is not None and timing.onset_s is None:
                rep_flags.append(F.ONSET_NOT_FOUND)
            if timing.cut:
                rep_flags.append(F.RFD_WINDOW_CUT)
            legs.append(
                leg_metrics(
                    filtered[ch],
                    index,
                    span[0],
                    span[1],
                    rate,
                    settings,
                    saturated[ch],
                    calibration.max_force_n[ch],
                    body_mass_kg,
                    lever_arm_m,
                    timing,
                )
            )
        present = [m for m in legs if m is not None]
        if any(m.saturated for m in present):
            rep_flags.append(F.SATURATED)
        if index[e - 1] - index[s] + 1 > e - s:
            rep_flags.append(F.SAMPLES_DROPPED_IN_REP)
        if any(m.beyond_calibrated_range for m in present):
            rep_flags.append(F.BEYOND_CALIBRATED_RANGE)
        cut_start = s == 0 or s in hard
        cut_end = e == n or e in hard
        if (cut_start and filtered[:, s].max() >= edge) or (
            cut_end and filtered[:, e - 1].max() >= edge
        ):
            rep_flags.append(F.REP_TRUNCATED)
        if adc_fault[s:e].any():
            rep_flags.append(F.ADC_FAULT)
        first_run, last_run = (int(v) for v in runs.run_of(np.array([s, e - 1])))
        left, right = legs
        reps.append(
            Rep(
                number=number,
                start_s=float(index[s] / rate),
                end_s=float(index[e - 1] / rate),
                left=left,
                right=right,
                imbalance=Imbalance.of(
                    None if left is None else left.peak_force_n,
                    None if right is None else right.peak_force_n,
                    settings.asymmetry_formula,
                ),
                flags=tuple(dict.fromkeys(rep_flags)),
                sample_start=s,
                sample_stop=e,
                curve_start=s + first_run,
                curve_stop=e + last_run,
                bilateral_s=window.bilateral_s,
                legs=window.legs,
            )
        )
    return reps


def ignored_info(
    ignored: list[IgnoredPull], filtered: np.ndarray, index: np.ndarray, rate: float
) -> list[IgnoredPullInfo]:
    """The pulls that were not reps, with their times and peaks (``filtered`` tared, (2, n))."""
    return [
        IgnoredPullInfo(
            start_s=float(index[p.start] / rate),
            end_s=float(index[p.stop - 1] / rate),
            reason=p.reason,
            legs=p.legs,
            left_peak_n=float(filtered[0, p.start : p.stop].max()),
            right_peak_n=float(filtered[1, p.start : p.stop].max()),
        )
        for p in ignored
    ]
