"""Per-rep, per-leg numbers of metrics.md, computed on the filtered, tared force.

Definitions (all on the zero-phase filtered force of one leg, within the
rep's window, missing samples simply absent):

- peak force (N): the maximum; its time is the first sample reaching it.
- time to peak (s): from the rep's onset (first sample of the window) to the peak.
- impulse (N·s): sum of the force over the samples above the impulse
  threshold, times the sample interval (area under the curve counting only
  time above the threshold).
- mean force (N): the mean over the window's samples.
- rate of force development (N/s): the steepest rise over any
  ``rfd_window_s`` window (50 ms) that lies between the onset and the peak,
  within one contiguous run; the window end is interpolated linearly when
  50 ms is not a whole number of samples.  Not available below
  ``rfd_min_rate_hz``, where 50 ms spans fewer than two samples.
- relative peak force (N/kg) = peak ÷ body mass; peak torque (N·m) = peak ×
  lever arm (knee joint centre to hook centre).
- imbalance % = 100 × (stronger − weaker) ÷ stronger, with the stronger side
  named; L:R ratio = left ÷ right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from station.analysis.rfd import Windowed
from station.analysis.settings import AnalysisSettings

LEGS = ("left", "right")


@dataclass(frozen=True)
class LegMetrics:
    """One leg in one rep."""

    peak_force_n: float
    peak_time_s: float
    time_to_peak_s: float
    impulse_ns: float
    mean_force_n: float
    rfd_n_per_s: float | None = None
    relative_peak_force_n_per_kg: float | None = None
    peak_torque_nm: float | None = None
    saturated: bool = False
    beyond_calibrated_range: bool = False
    peak_sample: int = 0  # position of the peak in the sample arrays
    # On the RFD-filtered force (rfd.py): onset, and per window of RFD_WINDOWS_MS.
    onset_s: float | None = None
    rfd_window_n_per_s: tuple[float | None, ...] = ()
    impulse_window_ns: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Imbalance:
    """Between legs: ``pct`` in the named ``formula``, ``stronger`` ("left", "right" or
    "equal"), ``l_r_ratio``; ``difference_pct`` is always the percentage difference, the
    form the reference lines (Bourne et al. 2015) are defined in."""

    pct: float | None
    stronger: str | None
    l_r_ratio: float | None
    formula: str = "pct_difference"
    difference_pct: float | None = None

    @classmethod
    def of(
        cls, left: float | None, right: float | None, formula: str = "pct_difference"
    ) -> Imbalance:
        if left is None or right is None or not (math.isfinite(left) and math.isfinite(right)):
            return cls(None, None, None, formula)
        ratio = left / right if right > 0 else None
        strong, weak = max(left, right), min(left, right)
        if strong <= 0:
            return cls(None, None, ratio, formula)
        stronger = "left" if left > right else ("right" if right > left else "equal")
        difference = 100.0 * (strong - weak) / strong
        return cls(asymmetry(left, right, formula), stronger, ratio, formula, difference)


def asymmetry(left: float, right: float, formula: str) -> float | None:
    """The imbalance of ``left`` and ``right`` peaks in one of metrics.md's formulas:
    ``pct_difference`` 100 (stronger - weaker) / stronger; ``signed_pct`` 100 (L - R) /
    max(L, R); ``symmetry_index`` 100 (L - R) / ((L + R) / 2).  None where undefined."""
    strong = max(left, right)
    if formula == "pct_difference":
        return 100.0 * (strong - min(left, right)) / strong if strong > 0 else None
    if formula == "signed_pct":
        return 100.0 * (left - right) / strong if strong > 0 else None
    if formula == "symmetry_index":
        mean = (left + right) / 2.0
        return 100.0 * (left - right) / mean if mean > 0 else None
    raise ValueError(f"unknown asymmetry formula {formula!r}")


@dataclass(frozen=True)
class Rep:
    """One detected repetition.  ``number`` counts from 1 and never changes on exclusion."""

    number: int
    start_s: float
    end_s: float
    left: LegMetrics | None  # None: the leg is not in this (isometric, one-leg) rep
    right: LegMetrics | None
    imbalance: Imbalance
    flags: tuple[str, ...] = ()
    excluded: bool = False
    exclusion_reason: str | None = None
    sample_start: int = 0  # window: positions into the sample arrays, stop exclusive
    sample_stop: int = 0
    curve_start: int = 0  # the same window as rows of the result's curves
    curve_stop: int = 0
    bilateral_s: float = 0.0
    legs: tuple[str, ...] = LEGS
    extra: dict = field(default_factory=dict, compare=False)

    def leg(self, name: str) -> LegMetrics | None:
        return self.left if name == "left" else self.right

    def present(self) -> list[LegMetrics]:
        """The metrics of the legs in this rep."""
        return [m for m in (self.left, self.right) if m is not None]

    def with_exclusion(self, reason: str | None) -> Rep:
        return replace(self, excluded=reason is not None, exclusion_reason=reason)


def rfd_available(rate_hz: float, settings: AnalysisSettings) -> bool:
    return rate_hz >= settings.rfd_min_rate_hz


def steepest_rise(
    force: np.ndarray,
    index: np.ndarray,
    start: int,
    peak: int,
    rate_hz: float,
    window_s: float,
) -> float | None:
    """Largest (F(t + window) − F(t)) / window with t ≥ onset and t + window ≤ peak time."""
    span = round(window_s * rate_hz, 9)
    whole = int(math.floor(span))
    frac = span - whole
    reach = whole + (1 if frac > 0 else 0)  # samples the window needs after t
    if whole < 1 or peak - reach < start:
        return None
    p = np.arange(start, peak - reach + 1)
    contiguous = index[p + reach] - index[p] == reach
    if not contiguous.any():
        return None
    p = p[contiguous]
    end = force[p + whole]
    if frac > 0:
        end = end + frac * (force[p + whole + 1] - force[p + whole])
    return float(np.max(end - force[p]) / window_s)


def leg_metrics(
    force: np.ndarray,
    index: np.ndarray,
    start: int,
    stop: int,
    rate_hz: float,
    settings: AnalysisSettings,
    saturated: np.ndarray,
    max_force_n: float | None = None,
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
    timing: Windowed | None = None,
) -> LegMetrics:
    """Metrics of one leg over samples ``start:stop`` (see the module docstring); ``timing``
    is its onset, RFD and impulse windows on the RFD filter (rfd.py)."""
    window = force[start:stop]
    peak = start + int(np.argmax(window))
    peak_force = float(force[peak])
    t0 = index[start] / rate_hz
    peak_time = index[peak] / rate_hz
    above = window > settings.impulse_threshold_n
    impulse = float(np.sum(window, where=above)) / rate_hz
    rfd = (
        steepest_rise(force, index, start, peak, rate_hz, settings.rfd_window_s)
        if rfd_available(rate_hz, settings)
        else None
    )
    return LegMetrics(
        peak_force_n=peak_force,
        peak_time_s=float(peak_time),
        time_to_peak_s=float(peak_time - t0),
        impulse_ns=impulse,
        mean_force_n=float(np.mean(window)),
        rfd_n_per_s=rfd,
        relative_peak_force_n_per_kg=peak_force / body_mass_kg if body_mass_kg else None,
        peak_torque_nm=peak_force * lever_arm_m if lever_arm_m else None,
        saturated=bool(np.any(saturated[start:stop])),
        beyond_calibrated_range=bool(max_force_n is not None and peak_force > max_force_n),
        peak_sample=peak,
        onset_s=None if timing is None else timing.onset_s,
        rfd_window_n_per_s=() if timing is None else timing.rfd_n_per_s,
        impulse_window_ns=() if timing is None else timing.impulse_ns,
    )
