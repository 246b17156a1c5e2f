"""The one entry point: samples in, an :class:`AnalysisResult` out.

Order of work (each step in its own module):

1. split the samples into contiguous runs at gaps and restarts (gaps.py);
2. scale counts by the gain and low-pass each run, zero-phase (filters.py);
3. find the quiet start and take the zero from it, else fall back (tare.py);
4. detect reps on the tared, filtered forces (reps.py): bilateral, or per leg
   for an isometric protocol;
5. measure each rep and leg (metrics.py; onset, RFD and impulse windows on the
   RFD filter around the reps, rfd.py) and summarise (summary.py).

Scaling and filtering are linear, so the signal is filtered once and the zero
is subtracted afterwards; a different zero never needs a second filter pass.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.certificate import Certificate
from calibration.checks import (
    CheckResult,
    check_acceptance,
    check_expiry,
    check_serial,
    check_serials,
)
from firmware_bridge.decoder import DEFAULT_ADC_BITS, DecodedStream
from firmware_bridge.errors import InputError
from station.analysis import flags as F
from station.analysis.convert import ChannelCalibration
from station.analysis.filters import LowpassDesign, design_lowpass, filtfilt_runs
from station.analysis.gaps import find_runs
from station.analysis.measure import ignored_info, measure_reps
from station.analysis.metrics import LEGS, rfd_available
from station.analysis.references import DEFAULT_REFERENCES, ReferenceLine
from station.analysis.result import (
    AnalysisResult,
    Curves,
    StreamInfo,
    check_exclusions,
)
from station.analysis.rfd import WINDOW_KEYS, design_rfd_filter, resolvable
from station.analysis.saturation import adc_fault_mask, saturation_mask
from station.analysis.settings import AnalysisSettings
from station.analysis.summary import summarize
from station.analysis.tare import baseline_offset, block_samples, choose_zero, windows


@dataclass(frozen=True)
class AnalysisInput:
    """Samples as arrays: what :func:`analyze` needs from a capture.

    ``index`` (int64) is each sample's position on the device's sample clock
    (gaps = dropped samples); ``counts`` is (n, 2) left/right raw counts;
    ``flags`` the per-sample SAMPLES frame flags; ``segment`` the decoder's
    segment number (a new one at every START or device restart).
    """

    index: np.ndarray
    counts: np.ndarray
    rate_hz: float | None
    flags: np.ndarray | None = None
    segment: np.ndarray | None = None
    adc_bits: int = DEFAULT_ADC_BITS
    device_serial: str | None = None
    counters: Mapping[str, int] | None = None
    mode: str | None = None

    @classmethod
    def from_stream(cls, stream: DecodedStream, rate_hz: float | None = None) -> AnalysisInput:
        return cls(
            index=stream.index,
            counts=stream.counts,
            rate_hz=stream.sample_rate_hz or rate_hz,
            flags=stream.flags,
            segment=stream.segment,
            adc_bits=stream.adc_bits,
            device_serial=stream.serial_number,
            counters=stream.counters.to_dict(),
            mode=stream.mode,
        )


def analyze(
    source: DecodedStream | AnalysisInput,
    certificate: Certificate | ChannelCalibration | None,
    settings: AnalysisSettings | None = None,
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
    excluded: Mapping[int, str] | None = None,
    references: Sequence[ReferenceLine] = DEFAULT_REFERENCES,
    tested_at: dt.datetime | dt.date | None = None,
) -> AnalysisResult:
    """Analyse a decoded capture with a calibration certificate (see docs/analysis.md).

    With a :class:`Certificate`, the calibration checks run too (serial number,
    recorded acceptance, and expiry when ``tested_at`` says when the test was
    made; without it the result does not depend on today's date).
    """
    data = source if isinstance(source, AnalysisInput) else AnalysisInput.from_stream(source)
    if certificate is None:
        raise InputError("counts cannot become newtons without a calibration: pass a certificate")
    if isinstance(certificate, ChannelCalibration):
        calibration = certificate
        found = [check_serials(calibration.device_serial, data.device_serial)]
    else:
        calibration = ChannelCalibration.from_certificate(certificate)
        found = [check_serial(certificate, data.device_serial), check_acceptance(certificate)]
        if tested_at is not None:
            found.append(check_expiry(certificate, tested_at))
    return _analyze(
        data,
        calibration,
        settings,
        body_mass_kg,
        lever_arm_m,
        excluded,
        references,
        [c for c in found if c is not None],
    )


def analyze_arrays(
    index: np.ndarray,
    counts: np.ndarray,
    flags: np.ndarray | None,
    rate_hz: float,
    adc_bits: int,
    gains: Sequence[float],
    zeros: Sequence[float] | None = None,
    *,
    segment: np.ndarray | None = None,
    settings: AnalysisSettings | None = None,
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
    excluded: Mapping[int, str] | None = None,
    device_serial: str | None = None,
    counters: Mapping[str, int] | None = None,
) -> AnalysisResult:
    """Array-level form of :func:`analyze` (live path, tests): gains and fallback zeros given."""
    data = AnalysisInput(
        index=np.asarray(index, np.int64),
        counts=np.asarray(counts).reshape(-1, 2),
        rate_hz=rate_hz,
        flags=flags,
        segment=segment,
        adc_bits=adc_bits,
        device_serial=device_serial,
        counters=counters,
    )
    calibration = ChannelCalibration(
        gains=(float(gains[0]), float(gains[1])),
        zeros=None if zeros is None else (float(zeros[0]), float(zeros[1])),
    )
    return _analyze(
        data, calibration, settings, body_mass_kg, lever_arm_m, excluded, DEFAULT_REFERENCES
    )


def _positive(value: float | None, what: str, option: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{what} must be a number ({option})")
    if value <= 0:
        raise InputError(f"{what} must be positive, not {value} ({option})")
    return float(value)


def _analyze(
    data: AnalysisInput,
    calibration: ChannelCalibration,
    settings: AnalysisSettings | None,
    body_mass_kg: float | None,
    lever_arm_m: float | None,
    excluded: Mapping[int, str] | None,
    references: Sequence[ReferenceLine],
    certificate_checks: Sequence[CheckResult] = (),
) -> AnalysisResult:
    settings = settings or AnalysisSettings()
    body_mass_kg = _positive(body_mass_kg, "body mass in kg", "--body-mass KG")
    lever_arm_m = _positive(lever_arm_m, "lever arm in metres", "--lever-arm M")
    rate = data.rate_hz
    if not rate or not math.isfinite(rate) or rate <= 0:
        raise InputError("the capture carries no sample rate: pass the rate in Hz (--rate HZ)")
    rate = float(rate)
    index = np.asarray(data.index, np.int64)
    counts = np.asarray(data.counts).reshape(-1, 2)
    if len(index) != len(counts):
        raise InputError("the sample index and the counts differ in length")
    step = np.diff(index)
    if len(step) and step.min() <= 0:
        raise InputError("the sample index must increase from sample to sample")
    segment = None if data.segment is None else np.asarray(data.segment)
    n = len(counts)
    runs = find_runs(index, segment, step)
    del step  # a copy of the index's size, needed no more
    gains = np.asarray(calibration.gains, np.float64)
    saturated = saturation_mask(counts, data.flags, data.adc_bits)  # (2, n)
    adc_fault = adc_fault_mask(data.flags, n)
    design = design_lowpass(rate, settings)
    base_flags, warnings = _rate_flags(design, rate, settings)
    if n == 0:
        base_flags.append(F.NO_SAMPLES)

    # 2. Filter once, channel-major, on counts scaled to newtons around an arbitrary centre.
    centre = counts[0].astype(np.float64) if n else np.zeros(2)
    scaled = np.empty((2, n))
    np.subtract(counts.T, centre[:, None], out=scaled)  # as float64, in one pass
    scaled *= gains[:, None]
    filtered = filtfilt_runs(scaled, runs, design)

    # 3-4. Tare and detection.
    block = block_samples(rate, settings.quiet_window_s)
    win = windows(filtered, runs, block)
    zero, zero_info, detection = choose_zero(
        counts, index, runs, filtered, centre, gains, win, block, rate, settings, calibration.zeros
    )
    if zero_info.source != "quiet_start" and n:
        base_flags.append(F.NO_QUIET_START)
        warnings.append(zero_info.warning() or "")
        if zero_info.source == "estimated":
            base_flags.append(F.ZERO_ESTIMATED)
    offset = (zero - centre) * gains
    filtered -= offset[:, None]  # now tared newtons
    scaled -= offset[:, None]

    # 5. Reps and legs; onset, RFD and impulse windows on the RFD filter, around the reps only.
    rfd_design = design_rfd_filter(rate, settings)
    resolved = resolvable(rate, settings)
    reps = measure_reps(
        detection, filtered, index, runs, rate, settings, saturated, adc_fault, calibration,
        body_mass_kg, lever_arm_m, (scaled, rfd_design), resolved,  # scaled is tared by now
    )  # fmt: skip
    if not all(resolved):
        base_flags.append(F.RFD_WINDOW_UNAVAILABLE)
        missing = ", ".join(k for k, ok in zip(WINDOW_KEYS, resolved, strict=True) if not ok)
        warnings.append(
            f"RFD and impulse windows {missing} not available: at {rate:g} Hz a window must "
            f"span at least {settings.rfd_min_samples_per_window:g} sample periods"
        )
    if settings.is_isometric and settings.knee_angle_deg is None:
        warnings.append(
            "isometric test without a knee angle: results of different angles must not be "
            "compared (set knee_angle_deg)"
        )
    exclusions = check_exclusions(excluded, [r.number for r in reps])
    reps = [r.with_exclusion(exclusions.get(r.number)) for r in reps]
    ignored = ignored_info(detection.ignored, filtered, index, rate)
    if ignored:
        base_flags.append(F.PULLS_IGNORED)

    # Data quality of the whole capture.
    sat_left, sat_right = (int(v) for v in saturated.sum(axis=1))
    counters = dict(data.counters or {})
    counters.setdefault("samples", n)
    counters.setdefault("dropped_samples", runs.dropped_samples)
    counters.setdefault("saturated_left", sat_left)
    counters.setdefault("saturated_right", sat_right)
    segments = 1 + int(runs.new_segment.sum()) if n else 0
    quality = (
        (sat_left or sat_right, F.SATURATED_SAMPLES),
        (counters["dropped_samples"] > 0 or runs.dropped_samples > 0, F.SAMPLES_DROPPED),
        (counters.get("frames_corrupt", 0) or counters.get("lines_corrupt", 0), F.CORRUPT_DATA),
        (counters.get("device_restarts", 0) or segments > 1, F.DEVICE_RESTART),
        (adc_fault.any(), F.ADC_FAULT),
    )
    base_flags += [flag for condition, flag in quality if condition]
    for check in certificate_checks:
        base_flags.append(check.flag)
        warnings.append(check.message)
    drift = baseline_offset(win, offset, settings, detection)
    if any(d is not None and abs(d) > settings.drift_warning_n for d in drift):
        base_flags.append(F.BASELINE_DRIFT)
        worst = ", ".join(
            f"{leg} {d:+.1f} N" for leg, d in zip(LEGS, drift, strict=True) if d is not None
        )
        warnings.append(
            f"a resting stretch after the tare sits away from zero ({worst}; warning above "
            f"{settings.drift_warning_n:g} N): check the zero"
        )

    stream = StreamInfo(
        sample_rate_hz=rate,
        samples=n,
        duration_s=float(index[-1] - index[0] + 1) / rate if n else 0.0,
        device_serial=data.device_serial,
        counters=counters,
        saturated_left=sat_left,
        saturated_right=sat_right,
        adc_bits=int(data.adc_bits),
        segments=segments,
        breaks=max(runs.count - 1, 0),
        mode=data.mode,
    )
    return AnalysisResult(
        settings=settings,
        stream=stream,
        calibration=calibration,
        zero=zero_info,
        cutoff_hz=design.cutoff_hz,
        reps=tuple(reps),
        summary=summarize(reps, body_mass_kg, lever_arm_m, settings.asymmetry_formula),
        rfd_cutoff_hz=rfd_design.cutoff_hz,
        ignored=tuple(ignored),
        curves=Curves.from_samples(index, rate, runs, scaled, filtered, saturated),
        base_flags=tuple(dict.fromkeys(base_flags)),
        warnings=tuple(warnings),
        body_mass_kg=body_mass_kg,
        lever_arm_m=lever_arm_m,
        # The published lines are Nordic figures: an isometric test is never compared with them.
        references=tuple(references) if settings.protocol == "nordic" else (),
        baseline_offset_n=drift,
    )


def _rate_flags(
    design: LowpassDesign, rate: float, settings: AnalysisSettings
) -> tuple[list[str], list[str]]:
    """Flags and warnings that follow from the sample rate alone."""
    flags: list[str] = []
    warnings: list[str] = []
    if design.lowered:
        flags.append(F.CUTOFF_LOWERED)
        warnings.append(
            f"filter cut-off lowered from {settings.cutoff_hz:g} Hz to {design.cutoff_hz:.3g} Hz: "
            f"the sample rate ({rate:g} Hz) is too low for it"
        )
    if not rfd_available(rate, settings):
        flags.append(F.RFD_UNAVAILABLE)
        warnings.append(
            f"rate of force development not available: {rate:g} Hz is below "
            f"{settings.rfd_min_rate_hz:g} Hz, too slow for "
            f"{settings.rfd_window_s * 1000:g} ms windows"
        )
    return flags, warnings


def settings_from(value: AnalysisSettings | Mapping[str, Any] | None) -> AnalysisSettings:
    """Settings from an object, a stored dict or None (defaults)."""
    if value is None:
        return AnalysisSettings()
    if isinstance(value, AnalysisSettings):
        return value
    return AnalysisSettings.from_dict(dict(value))
