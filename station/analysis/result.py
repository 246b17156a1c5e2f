"""The result object: everything the analysis found, and the rules it used.

``AnalysisResult.to_dict()`` is the ``nordic-station.analysis/1`` JSON of
analyze-cli.md (stream, reps, summary, flags) plus extra fields (never
renamed within the schema): the analysis version and settings, so a stored
result can be recomputed and compared; the zero and filter actually used; the
pulls left out; the reference lines.  ``curves`` holds the processed signals
for storage, export and plots.  ``with_exclusions`` re-summarises after the
clinician excludes reps; nothing else is recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from firmware_bridge.errors import InputError
from station.analysis import flags as F
from station.analysis.convert import ChannelCalibration
from station.analysis.gaps import Runs
from station.analysis.metrics import LEGS, Imbalance, LegMetrics, Rep
from station.analysis.references import DEFAULT_REFERENCES, ReferenceLine, evaluate_references
from station.analysis.rfd import WINDOW_KEYS
from station.analysis.settings import RFD_WINDOWS_MS, AnalysisSettings
from station.analysis.summary import LegSummary, Summary, summarize
from station.analysis.tare import ZeroInfo

SCHEMA = "nordic-station.analysis/1"
ANALYSIS_VERSION = "nordic-station.analysis 1.0.0"

# Flags a rep can carry that are also raised on the whole result when an included rep has them.
REP_FLAGS_RAISED = (
    F.SATURATED,
    F.SAMPLES_DROPPED_IN_REP,
    F.BEYOND_CALIBRATED_RANGE,
    F.REP_TRUNCATED,
    F.ONSET_NOT_FOUND,
    F.RFD_WINDOW_CUT,
)


def _num(value: float | None, digits: int) -> float | None:
    """JSON-safe rounded number: None for missing or non-finite values."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


class _Column:
    """One of :class:`Curves`' arrays, laid out on first use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, curves: Curves, owner: type | None = None) -> np.ndarray:
        return curves._rows()[self.name]


class Curves:
    """Processed signals, one row per sample, plus one NaN row at every break.

    ``time_s`` is the device's sample clock (index ÷ rate), float64; forces are
    float32 newtons, raw (tared, unfiltered) and filtered.  A break (dropped
    samples or a device restart) is one row with NaN forces and a time between
    its neighbours, so a plot draws a gap there and nothing is joined up.
    ``sample`` is the row's position in the input sample arrays (-1 at breaks);
    ``saturated`` has bit 0 for left and bit 1 for right.

    Made by the analysis (:meth:`from_samples`), the rows are laid out when first
    asked for: ``nordic-station analyze`` prints numbers and never needs them
    (10 minutes at 1 kHz: ~20 MB of rows, ~10 ms of a whole command).
    """

    __slots__ = ("_arrays", "_make")

    def __init__(
        self,
        time_s: np.ndarray,
        left_raw_n: np.ndarray,
        right_raw_n: np.ndarray,
        left_n: np.ndarray,
        right_n: np.ndarray,
        sample: np.ndarray,
        saturated: np.ndarray,
    ) -> None:
        self._arrays: dict[str, np.ndarray] | None = {
            "time_s": time_s,
            "left_raw_n": left_raw_n,
            "right_raw_n": right_raw_n,
            "left_n": left_n,
            "right_n": right_n,
            "sample": sample,
            "saturated": saturated,
        }
        self._make: Callable[[], dict[str, np.ndarray]] | None = None

    def _rows(self) -> dict[str, np.ndarray]:
        arrays = self._arrays
        if arrays is None:
            assert self._make is not None
            arrays = self._arrays = self._make()
            self._make = None  # the sources are let go
        return arrays

    time_s = _Column()
    left_raw_n = _Column()
    right_raw_n = _Column()
    left_n = _Column()
    right_n = _Column()
    sample = _Column()
    saturated = _Column()

    def to_arrays(self) -> dict[str, np.ndarray]:
        return dict(self._rows())

    def __len__(self) -> int:
        return len(self.time_s)

    def __repr__(self) -> str:
        return f"Curves({len(self)} rows)"

    @classmethod
    def from_samples(
        cls,
        index: np.ndarray,
        rate: float,
        runs: Runs,
        raw: np.ndarray,
        filtered: np.ndarray,
        saturated: np.ndarray,
    ) -> Curves:
        """Rows from channel-major (2, n) raw and filtered forces and saturation masks
        (laid out when first read; the arrays must not change until then)."""
        curves = cls.__new__(cls)
        curves._arrays = None
        curves._make = partial(_curve_rows, index, rate, runs, raw, filtered, saturated)
        return curves


def _curve_rows(
    index: np.ndarray,
    rate: float,
    runs: Runs,
    raw: np.ndarray,
    filtered: np.ndarray,
    saturated: np.ndarray,
) -> dict[str, np.ndarray]:
    """The rows of :meth:`Curves.from_samples`."""
    n = len(index)
    breaks = runs.starts[1:]  # sample positions that start a new run

    def column(values: np.ndarray, fill: float = np.nan, dtype: type = np.float32) -> np.ndarray:
        if len(breaks):
            return np.insert(values.astype(dtype, copy=False), breaks, fill)
        return values.astype(dtype, copy=False)

    time_s = index / rate
    if len(breaks):
        time_s = np.insert(time_s, breaks, (index[breaks - 1] + index[breaks]) / 2.0 / rate)
    if saturated.any():
        sat = saturated[0].astype(np.uint8) | (saturated[1].astype(np.uint8) << 1)
    else:
        sat = np.zeros(n, np.uint8)
    return {
        "time_s": time_s,
        "left_raw_n": column(raw[0]),
        "right_raw_n": column(raw[1]),
        "left_n": column(filtered[0]),
        "right_n": column(filtered[1]),
        "sample": column(np.arange(n), -1, np.int64),
        "saturated": column(sat, 0, np.uint8),
    }


@dataclass(frozen=True)
class StreamInfo:
    """What the capture was: rate, size, serial, and the decoder's counters."""

    sample_rate_hz: float | None
    samples: int
    duration_s: float | None
    device_serial: str | None
    counters: dict[str, int]
    saturated_left: int
    saturated_right: int
    adc_bits: int
    segments: int
    breaks: int
    mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.counters
        out: dict[str, Any] = {
            "sample_rate_hz": self.sample_rate_hz,
            "samples": self.samples,
            "duration_s": _num(self.duration_s, 4),
            "device_serial": self.device_serial,
            "frames_ok": int(c.get("frames_ok", 0)),
            "frames_corrupt": int(c.get("frames_corrupt", 0)),
            "frames_unknown": int(c.get("frames_unknown", 0)),
            "lines_corrupt": int(c.get("lines_corrupt", 0)),
            "dropped_samples": int(c.get("dropped_samples", 0)),
            "saturated_samples": {
                "left": int(c.get("saturated_left", self.saturated_left)),
                "right": int(c.get("saturated_right", self.saturated_right)),
            },
        }
        for name in (
            "lines_ok",
            "lead_in_bytes",
            "tail_bytes",
            "device_restarts",
            "overrun_events",
            "bytes_total",
        ):
            out[name] = int(c.get(name, 0))
        out["mode"] = self.mode
        out["adc_bits"] = self.adc_bits
        out["segments"] = self.segments
        out["breaks"] = self.breaks
        return out


@dataclass(frozen=True)
class IgnoredPullInfo:
    """A pull the detector did not count as a rep, when it was and why (for the report)."""

    start_s: float
    end_s: float
    reason: str
    legs: str
    left_peak_n: float
    right_peak_n: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": _num(self.start_s, 4),
            "end_s": _num(self.end_s, 4),
            "reason": self.reason,
            "legs": self.legs,
            "left_peak_n": _num(self.left_peak_n, 2),
            "right_peak_n": _num(self.right_peak_n, 2),
        }


def _windows_dict(values: tuple[float | None, ...], digits: int) -> dict[str, float | None]:
    """Per-window values keyed "0-50ms" ... (null where not available)."""
    padded = values + (None,) * (len(WINDOW_KEYS) - len(values))
    return {key: _num(v, digits) for key, v in zip(WINDOW_KEYS, padded, strict=True)}


def _leg_dict(leg: LegMetrics | None, body_mass: bool, lever_arm: bool) -> dict[str, Any] | None:
    if leg is None:
        return None
    out: dict[str, Any] = {
        "peak_force_n": _num(leg.peak_force_n, 2),
        "time_to_peak_s": _num(leg.time_to_peak_s, 4),
        "impulse_ns": _num(leg.impulse_ns, 2),
        "mean_force_n": _num(leg.mean_force_n, 2),
        "peak_time_s": _num(leg.peak_time_s, 4),
        "rfd_n_per_s": _num(leg.rfd_n_per_s, 1),
        "saturated": leg.saturated,
        "beyond_calibrated_range": leg.beyond_calibrated_range,
        "onset_s": _num(leg.onset_s, 4),
        "rfd_window_n_per_s": _windows_dict(leg.rfd_window_n_per_s, 1),
        "impulse_window_ns": _windows_dict(leg.impulse_window_ns, 3),
    }
    if body_mass:
        out["relative_peak_force_n_per_kg"] = _num(leg.relative_peak_force_n_per_kg, 3)
    if lever_arm:
        out["peak_torque_nm"] = _num(leg.peak_torque_nm, 2)
    return out


def _rep_dict(rep: Rep, body_mass: bool, lever_arm: bool) -> dict[str, Any]:
    return {
        "number": rep.number,
        "start_s": _num(rep.start_s, 4),
        "end_s": _num(rep.end_s, 4),
        "left": _leg_dict(rep.left, body_mass, lever_arm),
        "right": _leg_dict(rep.right, body_mass, lever_arm),
        "imbalance_pct": _num(rep.imbalance.pct, 2),
        "stronger": rep.imbalance.stronger,
        "flags": list(rep.flags),
        "l_r_ratio": _num(rep.imbalance.l_r_ratio, 4),
        "duration_s": _num(rep.end_s - rep.start_s, 4),
        "bilateral_s": _num(rep.bilateral_s, 4),
        "excluded": rep.excluded,
        "exclusion_reason": rep.exclusion_reason,
        "legs": list(rep.legs),
    }


def _leg_summary_dict(leg: LegSummary, body_mass: bool, lever_arm: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "max_force_n": _num(leg.max_force_n, 2),
        "avg_force_n": _num(leg.avg_force_n, 2),
        "max_rep": leg.max_rep,
        "reps": leg.reps,
    }
    if body_mass:
        out["relative_max_force_n_per_kg"] = _num(leg.relative_max_force_n_per_kg, 3)
        out["relative_avg_force_n_per_kg"] = _num(leg.relative_avg_force_n_per_kg, 3)
    if lever_arm:
        out["max_torque_nm"] = _num(leg.max_torque_nm, 2)
        out["avg_torque_nm"] = _num(leg.avg_torque_nm, 2)
    return out


def _summary_dict(summary: Summary, body_mass: bool, lever_arm: bool) -> dict[str, Any]:
    return {
        "left": _leg_summary_dict(summary.left, body_mass, lever_arm),
        "right": _leg_summary_dict(summary.right, body_mass, lever_arm),
        "imbalance_max_pct": _num(summary.imbalance_max.pct, 2),
        "imbalance_avg_pct": _num(summary.imbalance_avg.pct, 2),
        "stronger": summary.imbalance_max.stronger,
        "stronger_max": summary.imbalance_max.stronger,
        "stronger_avg": summary.imbalance_avg.stronger,
        "l_r_ratio_max": _num(summary.imbalance_max.l_r_ratio, 4),
        "l_r_ratio_avg": _num(summary.imbalance_avg.l_r_ratio, 4),
        "reps_detected": summary.reps_detected,
        "reps_included": summary.reps_included,
        "asymmetry_formula": summary.imbalance_max.formula,
        "imbalance_max_difference_pct": _num(summary.imbalance_max.difference_pct, 2),
        "imbalance_avg_difference_pct": _num(summary.imbalance_avg.difference_pct, 2),
    }


@dataclass(frozen=True)
class AnalysisResult:
    """Samples in, this out.  See the module docstring and docs/analysis.md."""

    settings: AnalysisSettings
    stream: StreamInfo
    calibration: ChannelCalibration
    zero: ZeroInfo
    cutoff_hz: float | None
    reps: tuple[Rep, ...]
    summary: Summary
    ignored: tuple[IgnoredPullInfo, ...]
    curves: Curves
    base_flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    body_mass_kg: float | None = None
    lever_arm_m: float | None = None
    references: tuple[ReferenceLine, ...] = DEFAULT_REFERENCES
    baseline_offset_n: tuple[float | None, float | None] = (None, None)
    analysis_version: str = ANALYSIS_VERSION
    rfd_cutoff_hz: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    # -- derived views ---------------------------------------------------------
    @property
    def included_reps(self) -> tuple[Rep, ...]:
        return tuple(r for r in self.reps if not r.excluded)

    @property
    def excluded(self) -> dict[int, str]:
        return {r.number: r.exclusion_reason or "" for r in self.reps if r.excluded}

    @property
    def flags(self) -> tuple[str, ...]:
        """Result flags: the analysis-wide ones, then those raised by included reps."""
        out = list(self.base_flags)
        if not self.reps:
            out.append(F.NO_REPS)
        elif not self.included_reps:
            out.append(F.ALL_REPS_EXCLUDED)
        if any(r.excluded for r in self.reps):
            out.append(F.REPS_EXCLUDED)
        for flag in REP_FLAGS_RAISED:
            if any(flag in r.flags for r in self.included_reps):
                out.append(flag)
        return tuple(dict.fromkeys(out))

    def rep(self, number: int) -> Rep:
        for r in self.reps:
            if r.number == number:
                return r
        raise KeyError(number)

    def rep_curves(self, number: int) -> dict[str, np.ndarray]:
        """The curves' rows of one rep's window."""
        r = self.rep(number)
        return {k: v[r.curve_start : r.curve_stop] for k, v in self.curves.to_arrays().items()}

    # -- exclusions ------------------------------------------------------------
    def with_exclusions(self, excluded: Mapping[int, str] | None) -> AnalysisResult:
        """The same result with exactly these reps excluded (number -> reason), re-summarised."""
        excluded = check_exclusions(excluded, [r.number for r in self.reps])
        reps = tuple(r.with_exclusion(excluded.get(r.number)) for r in self.reps)
        return replace(
            self,
            reps=reps,
            summary=summarize(
                reps, self.body_mass_kg, self.lever_arm_m, self.settings.asymmetry_formula
            ),
        )

    # -- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        body_mass = self.body_mass_kg is not None
        lever_arm = self.lever_arm_m is not None
        flags = list(self.flags)
        return {
            "schema": SCHEMA,
            "stream": self.stream.to_dict(),
            "reps": [_rep_dict(r, body_mass, lever_arm) for r in self.reps],
            "summary": _summary_dict(self.summary, body_mass, lever_arm),
            "flags": flags,
            "analysis_version": self.analysis_version,
            "settings": self.settings.to_dict(),
            "filter": {
                "type": "butterworth low-pass, zero-phase (sosfiltfilt)",
                "order": self.settings.filter_order,
                "cutoff_hz": _num(self.cutoff_hz, 4),
                "requested_cutoff_hz": self.settings.cutoff_hz,
            },
            "protocol": {
                "name": self.settings.protocol,
                "knee_angle_deg": self.settings.knee_angle_deg,
                "position": self.settings.position,
            },
            "rfd_filter": {
                "type": "butterworth low-pass, zero-phase (sosfiltfilt)",
                "order": self.settings.filter_order,
                "cutoff_hz": _num(self.rfd_cutoff_hz, 4),
                "requested_cutoff_hz": self.settings.rfd_cutoff_hz,
                "onset_threshold_n": self.settings.onset_threshold_n,
                "windows_ms": list(RFD_WINDOWS_MS),
            },
            "zero": self.zero.to_dict(),
            "calibration": self.calibration.to_dict(),
            "body_mass_kg": self.body_mass_kg,
            "lever_arm_m": self.lever_arm_m,
            "excluded": {str(k): v for k, v in self.excluded.items()},
            "ignored": [p.to_dict() for p in self.ignored],
            "baseline_offset_n": {
                leg: _num(v, 2) for leg, v in zip(LEGS, self.baseline_offset_n, strict=True)
            },
            "warnings": list(self.warnings),
            "flag_descriptions": {f: F.describe(f) for f in flags},
            "references": evaluate_references(self.summary, self.references),
        }


def check_exclusions(excluded: Mapping[int, str] | None, numbers: Sequence[int]) -> dict[int, str]:
    """Validate exclusions: known rep numbers, each with a non-empty reason."""
    out: dict[int, str] = {}
    for key, reason in (excluded or {}).items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise InputError(f"cannot exclude rep {key!r}: not a rep number") from None
        if number not in numbers:
            raise InputError(f"cannot exclude rep {number}: there is no such rep")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(f"excluding rep {number} needs a reason")
        out[number] = reason.strip()
    return out


__all__ = [
    "ANALYSIS_VERSION",
    "SCHEMA",
    "AnalysisResult",
    "Curves",
    "IgnoredPullInfo",
    "Imbalance",
    "StreamInfo",
    "check_exclusions",
]
