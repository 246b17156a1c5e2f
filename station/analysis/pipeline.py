"""The one entry point: samples in, an :class:`AnalysisResult` out.

Order of work (each step in its own module):

1. split the samples into contiguous runs at gaps and restarts (gaps.py);
2. scale counts by the gain and low-pass each run, zero-phase (filters.py);
3. find the quiet start and take the zero from it, else fall back (tare.py);
4. detect bilateral reps on the tared, filtered forces (reps.py);
5. measure each rep and leg (metrics.py) and summarise (summary.py).

Scaling and filtering are linear, so the signal is filtered once and the zero
is subtracted afterwards; a different zero never needs a second filter pass.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from calibration.certificate import Certificate
from calibration.checks import CheckResult, check_acceptance, check_expiry, check_serial
from firmware_bridge.errors import InputError
from station.analysis import flags as F
from station.analysis.convert import ChannelCalibration
from station.analysis.filters import LowpassDesign, design_lowpass, filtfilt_runs
from station.analysis.gaps import Runs, find_runs
from station.analysis.metrics import LEGS, Imbalance, Rep, leg_metrics, rfd_available
from station.analysis.references import DEFAULT_REFERENCES, ReferenceLine
from station.analysis.reps import Detection, detect_reps
from station.analysis.result import (
    AnalysisResult,
    Curves,
    IgnoredPullInfo,
    StreamInfo,
    ZeroInfo,
    check_exclusions,
)
from station.analysis.saturation import adc_fault_mask, saturation_mask
from station.analysis.settings import AnalysisSettings
from station.analysis.summary import summarize
from station.analysis.tare import (
    BLOCKS_PER_WINDOW,
    QuietStretch,
    Windows,
    block_samples,
    first_quiet_stretch,
    least_moving,
    settled,
    windows,
    zero_from_stretch,
)

if TYPE_CHECKING:
    from firmware_bridge.decoder import DecodedStream

DEFAULT_ADC_BITS = 24


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
        return _analyze(
            data, certificate, settings, body_mass_kg, lever_arm_m, excluded, references
        )
    found = [check_serial(certificate, data.device_serial), check_acceptance(certificate)]
    if tested_at is not None:
        found.append(check_expiry(certificate, tested_at))
    return _analyze(
        data,
        ChannelCalibration.from_certificate(certificate),
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
    certificate_checks: Sequence[CheckResult] | None = None,
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
    if len(index) > 1 and np.any(np.diff(index) <= 0):
        raise InputError("the sample index must increase from sample to sample")
    segment = None if data.segment is None else np.asarray(data.segment)
    n = len(counts)
    runs = find_runs(index, segment)
    gains = np.asarray(calibration.gains, np.float64)
    saturated = saturation_mask(counts, data.flags, data.adc_bits)  # (2, n)
    adc_fault = adc_fault_mask(data.flags, n)
    design = design_lowpass(rate, settings)
    base_flags, warnings = _rate_flags(design, rate, settings)
    if n == 0:
        base_flags.append(F.NO_SAMPLES)

    # 2. Filter once, channel-major, on counts scaled to newtons around an arbitrary centre.
    centre = counts[0].astype(np.float64) if n else np.zeros(2)
    scaled = counts.T.astype(np.float64, order="C")
    scaled -= centre[:, None]
    scaled *= gains[:, None]
    filtered = filtfilt_runs(scaled, runs, design)

    # 3-4. Tare and detection.
    block = block_samples(rate, settings.quiet_window_s)
    win = windows(filtered, runs, block)
    zero, zero_info, detection = _tare_and_detect(
        counts, index, runs, filtered, centre, gains, win, block, rate, settings, calibration
    )
    if zero_info.source != "quiet_start" and n:
        base_flags.append(F.NO_QUIET_START)
        warnings.append(_zero_warning(zero_info))
        if zero_info.source == "estimated":
            base_flags.append(F.ZERO_ESTIMATED)
    offset = (zero - centre) * gains
    filtered -= offset[:, None]  # now tared newtons
    scaled -= offset[:, None]

    # 5. Reps and legs.
    reps = _measure_reps(
        detection, filtered, index, runs, rate, settings, saturated, adc_fault, calibration,
        body_mass_kg, lever_arm_m,
    )  # fmt: skip
    exclusions = check_exclusions(excluded, [r.number for r in reps])
    reps = [r.with_exclusion(exclusions.get(r.number)) for r in reps]
    ignored = [
        IgnoredPullInfo(
            start_s=float(index[p.start] / rate),
            end_s=float(index[p.stop - 1] / rate),
            reason=p.reason,
            legs=p.legs,
            left_peak_n=float(filtered[0, p.start : p.stop].max()),
            right_peak_n=float(filtered[1, p.start : p.stop].max()),
        )
        for p in detection.ignored
    ]
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
    if certificate_checks is None:
        mine = (calibration.device_serial or "").strip()
        theirs = (data.device_serial or "").strip()
        certificate_checks = []
        if mine and theirs and mine != theirs:
            certificate_checks.append(
                CheckResult(
                    F.CERTIFICATE_SERIAL_MISMATCH,
                    f"the calibration is for rig {mine}, but the data come from rig {theirs}",
                )
            )
    for check in certificate_checks:
        base_flags.append(check.flag)
        warnings.append(check.message)
    drift = _baseline_offset(win, offset, settings, reps, detection)
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
        summary=summarize(reps, body_mass_kg, lever_arm_m),
        ignored=tuple(ignored),
        curves=_curves(index, rate, runs, scaled, filtered, saturated),
        base_flags=tuple(dict.fromkeys(base_flags)),
        warnings=tuple(warnings),
        body_mass_kg=body_mass_kg,
        lever_arm_m=lever_arm_m,
        references=tuple(references),
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


def _zero_warning(zero: ZeroInfo) -> str:
    if zero.source == "certificate":
        return "no quiet start before the first rep: the zero is the certificate's offset"
    if zero.source == "quiet_rest":
        return (
            f"no quiet start before the first rep and no zero in the certificate: the zero is "
            f"from the still stretch at {zero.start_s:.1f} s"
        )
    return (
        "no quiet start, no zero in the certificate and no still stretch: the zero was estimated "
        "from the least-moving second of the recording"
    )


def _tare_and_detect(
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
    calibration: ChannelCalibration,
) -> tuple[np.ndarray, ZeroInfo, Detection]:
    """Zero from the first still stretch if it begins before the first rep; else fall back
    to the certificate's zero, then to a still rest, then to the least-moving window."""

    def detect(zero: np.ndarray) -> Detection:
        offset = (zero - centre) * gains
        return detect_reps(
            index, runs, filtered[0] - offset[0], filtered[1] - offset[1], rate, settings
        )

    def info(source: str, zero: np.ndarray, stretch: QuietStretch | None) -> ZeroInfo:
        pair = (float(zero[0]), float(zero[1]))
        if stretch is None:
            return ZeroInfo(source, pair)
        start_s = float(index[stretch.start] / rate)
        return ZeroInfo(source, pair, start_s, float(index[stretch.stop - 1] / rate))

    if len(counts) == 0:
        zero = np.asarray(calibration.zeros or (0.0, 0.0), np.float64)
        source = "certificate" if calibration.zeros else "estimated"
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
    if calibration.zeros is not None:
        zero = np.asarray(calibration.zeros, np.float64)
        return zero, info("certificate", zero, None), detect(zero)
    if stretch is not None:
        used = settled(stretch, window)
        zero = zero_from_stretch(counts, used)
        return zero, info("quiet_rest", zero, used), detect(zero)
    stretch = least_moving(win, len(counts))
    zero = zero_from_stretch(counts, stretch)
    return zero, info("estimated", zero, stretch), detect(zero)


def _measure_reps(
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
) -> list[Rep]:
    """Metrics and flags of every detected rep (``filtered`` is tared, (2, n))."""
    n = len(index)
    hard = set(runs.hard_starts(settings.rep_merge_gap_s * rate).tolist())
    edge = settings.rep_edge_n
    reps: list[Rep] = []
    for number, window in enumerate(detection.reps, start=1):
        s, e = window.start, window.stop
        legs = [
            leg_metrics(
                filtered[ch],
                index,
                s,
                e,
                rate,
                settings,
                saturated[ch],
                calibration.max_force_n[ch],
                body_mass_kg,
                lever_arm_m,
            )
            for ch in (0, 1)
        ]
        rep_flags: list[str] = []
        if legs[0].saturated or legs[1].saturated:
            rep_flags.append(F.SATURATED)
        if index[e - 1] - index[s] + 1 > e - s:
            rep_flags.append(F.SAMPLES_DROPPED_IN_REP)
        if legs[0].beyond_calibrated_range or legs[1].beyond_calibrated_range:
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
        reps.append(
            Rep(
                number=number,
                start_s=float(index[s] / rate),
                end_s=float(index[e - 1] / rate),
                left=legs[0],
                right=legs[1],
                imbalance=Imbalance.of(legs[0].peak_force_n, legs[1].peak_force_n),
                flags=tuple(rep_flags),
                sample_start=s,
                sample_stop=e,
                curve_start=s + first_run,
                curve_stop=e + last_run,
                bilateral_s=window.bilateral_s,
            )
        )
    return reps


def _baseline_offset(
    win: Windows,
    offset: np.ndarray,
    settings: AnalysisSettings,
    reps: list[Rep],
    detection: Detection,
) -> tuple[float | None, float | None]:
    """Largest |level| per leg over resting windows: still, outside every rep and ignored
    pull, and with both legs below the rep threshold (a held one-leg pull is not a rest)."""
    if len(win.start) == 0:
        return (None, None)
    busy = sorted(
        [(r.sample_start, r.sample_stop) for r in reps]
        + [(p.start, p.stop) for p in detection.ignored]
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


def _curves(
    index: np.ndarray,
    rate: float,
    runs: Runs,
    raw: np.ndarray,
    filtered: np.ndarray,
    saturated: np.ndarray,
) -> Curves:
    """One row per sample and one NaN row at every break (see :class:`Curves`)."""
    n = len(index)
    breaks = runs.starts[1:]  # sample positions that start a new run

    def column(values: np.ndarray, fill: float = np.nan, dtype: type = np.float32) -> np.ndarray:
        values = values.astype(dtype)
        return np.insert(values, breaks, fill) if len(breaks) else values

    time_s = index / rate
    if len(breaks):
        time_s = np.insert(time_s, breaks, (index[breaks - 1] + index[breaks]) / 2.0 / rate)
    sat = saturated[0].astype(np.uint8) | (saturated[1].astype(np.uint8) << 1)
    return Curves(
        time_s=time_s,
        left_raw_n=column(raw[0]),
        right_raw_n=column(raw[1]),
        left_n=column(filtered[0]),
        right_n=column(filtered[1]),
        sample=column(np.arange(n), -1, np.int64),
        saturated=column(sat, 0, np.uint8),
    )


def settings_from(value: AnalysisSettings | Mapping[str, Any] | None) -> AnalysisSettings:
    """Settings from an object, a stored dict or None (defaults)."""
    if value is None:
        return AnalysisSettings()
    if isinstance(value, AnalysisSettings):
        return value
    return AnalysisSettings.from_dict(dict(value))
