"""From a capture's bytes to what the store keeps (no SQL here).

Loading goes through the link helper's ``load_capture`` and analysis through
``station.analysis.analyze``, the same code as ``nordic-station analyze``, so a
stored result equals what that command prints for the same file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from calibration.certificate import Certificate
from calibration.choice import RecordedCertificateError, carried_calibration, choose_certificate
from firmware_bridge.capture import Capture
from station.analysis import AnalysisResult, AnalysisSettings, analyze, settings_from
from station.store.errors import StoreError
from station.store.models import NewRep, NewResult, Rep
from station.store.validate import format_instant

# Curves the store keeps for every analysis run.  The unfiltered forces are
# not stored when the row-to-sample map is: they are exactly
# gain x (counts - zero) of the kept raw recording, rebuilt on reading
# (:func:`with_raw_forces`), which keeps a 10-minute 1 kHz save a third smaller.
STORED_CURVES = ("time_s", "left_n", "right_n", "sample", "saturated")
RAW_CURVES = ("left_raw_n", "right_raw_n")


@dataclass
class Analysed:
    """A capture, the certificate used and the analysis of it."""

    capture: Capture
    certificate: Certificate
    result: AnalysisResult
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.result.to_dict()

    @property
    def rig_serial(self) -> str | None:
        serial = self.capture.stream.serial_number
        if serial:
            return serial
        info = (self.capture.header or {}).get("info")
        return (
            str(info.get("serial_number"))
            if isinstance(info, dict) and info.get("serial_number")
            else None
        )

    @property
    def sample_rate_hz(self) -> float | None:
        return self.result.stream.sample_rate_hz

    @property
    def duration_s(self) -> float | None:
        return self.result.stream.duration_s


def certificate_for(
    capture: Capture, given: Certificate | Mapping[str, Any] | None, source: str
) -> Certificate:
    """The certificate to convert counts with (calibration.choice: the one given, else the
    recording's own)."""
    try:
        choice = choose_certificate(
            None,
            None,
            given=given,
            recorded=carried_calibration(capture),
            recorded_source=f"{source} (its recorded calibration)",
            strict=True,
        )
    except RecordedCertificateError as exc:
        raise StoreError(f"{exc}: pass --calibration CAL.json") from None
    if choice is None:
        raise StoreError(
            f"{source} carries no calibration: pass the rig's certificate with "
            "--calibration CAL.json"
        )
    return choice.certificate


def certificate_warnings(certificate: Certificate, rig_serial: str | None, on: date) -> list[str]:
    """calibration.md: warn when a certificate has expired or is another rig's."""
    out: list[str] = []
    valid_until = certificate.data.get("valid_until")
    if valid_until:
        try:
            if date.fromisoformat(str(valid_until)[:10]) < on:
                out.append(f"the calibration certificate expired on {str(valid_until)[:10]}")
        except ValueError:
            out.append(f"the certificate's valid_until {valid_until!r} is not a date")
    serial = certificate.device_serial
    if serial and rig_serial and serial.strip() != rig_serial.strip():
        out.append(
            f"the calibration certificate is for rig {serial}, the capture is from rig {rig_serial}"
        )
    return out


def run_analysis(
    capture: Capture,
    certificate: Certificate,
    *,
    settings: AnalysisSettings | Mapping[str, Any] | None = None,
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
    excluded: Mapping[int, str] | None = None,
) -> Analysed:
    result = analyze(
        capture.stream,
        certificate,
        settings=settings_from(settings),
        body_mass_kg=body_mass_kg,
        lever_arm_m=lever_arm_m,
        excluded=excluded or None,
    )
    warnings = list(capture.warnings) + list(result.warnings)
    return Analysed(capture, certificate, result, warnings)


def new_result(
    result: AnalysisResult,
    reason: str,
    *,
    with_curves: bool = True,
    metrics: dict[str, Any] | None = None,
) -> NewResult:
    """What the store keeps of an analysis; ``metrics`` is ``result.to_dict()``
    when the caller has it already (it is not cheap)."""
    metrics = result.to_dict() if metrics is None else metrics
    curves = None
    if with_curves:
        arrays = result.curves.to_arrays()
        keep = STORED_CURVES if "sample" in arrays else STORED_CURVES + RAW_CURVES
        curves = {name: np.asarray(arrays[name]) for name in keep if name in arrays}
    return NewResult(
        analysis_version=result.analysis_version,
        settings=result.settings.to_dict(),
        metrics=metrics,
        excluded=sorted(result.excluded),
        reason=reason,
        curves=curves,
    )


def with_raw_forces(
    curves: dict[str, np.ndarray], capture: Capture, metrics: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """Add the unfiltered (tared) forces, rebuilt from the recording's counts with the
    zero and gains the run used: force = gain x (counts - zero), NaN at break rows.
    Equal to what the analysis computed to within float32 rounding."""
    if "sample" not in curves or all(name in curves for name in RAW_CURVES):
        return curves
    try:
        zero = metrics["zero"]["counts"]
        gains = metrics["calibration"]["gain_n_per_count"]
    except (KeyError, TypeError):
        return curves  # a run that does not say: leave the raw forces out
    sample = np.asarray(curves["sample"], np.int64)
    valid = sample >= 0
    counts = capture.stream.counts
    if len(counts) == 0 or (valid.any() and sample[valid].max() >= len(counts)):
        raise StoreError("the stored curves do not match the recording: run recompute")
    out = dict(curves)
    for channel, leg in enumerate(("left", "right")):
        force = np.full(len(sample), np.nan, np.float32)
        values = counts[sample[valid], channel].astype(np.float64)
        force[valid] = (values - float(zero[leg])) * float(gains[leg])
        out[f"{leg}_raw_n"] = force
    return out


@dataclass(frozen=True)
class Exclusion:
    reason: str
    by: str
    at: str


def new_reps(metrics: Mapping[str, Any], exclusions: Mapping[int, Exclusion]) -> list[NewRep]:
    """The rep rows of a result; ``exclusions`` says who excluded which rep and why."""
    out = []
    for rep in metrics.get("reps") or []:
        number = int(rep["number"])
        exclusion = exclusions.get(number)
        out.append(
            NewRep(
                number=number,
                start_s=float(rep["start_s"]),
                end_s=float(rep["end_s"]),
                left_peak_n=(rep.get("left") or {}).get("peak_force_n"),
                right_peak_n=(rep.get("right") or {}).get("peak_force_n"),
                imbalance_pct=rep.get("imbalance_pct"),
                excluded=exclusion is not None,
                exclusion_reason=exclusion.reason if exclusion else None,
                excluded_by=exclusion.by if exclusion else None,
                excluded_at=exclusion.at if exclusion else None,
            )
        )
    return out


def carry_exclusions(
    old: Sequence[Rep], new: Sequence[Mapping[str, Any]]
) -> tuple[dict[int, Exclusion], list[Rep]]:
    """Map exclusions onto a new analysis's reps by overlap in time.

    Rep numbers can change when a new analysis finds a rep more or fewer, so
    an excluded rep is matched to the new rep it overlaps most (at least half
    of the shorter of the two).  Exclusions that match nothing are returned,
    never silently dropped.
    """
    carried: dict[int, Exclusion] = {}
    unmatched: list[Rep] = []
    for rep in old:
        if not rep.excluded:
            continue
        best, best_overlap = None, 0.0
        for candidate in new:
            start, end = float(candidate["start_s"]), float(candidate["end_s"])
            overlap = min(end, rep.end_s) - max(start, rep.start_s)
            shorter = max(min(end - start, rep.end_s - rep.start_s), 1e-9)
            if overlap >= 0.5 * shorter and overlap > best_overlap:
                best, best_overlap = int(candidate["number"]), overlap
        if best is None or best in carried:
            unmatched.append(rep)
        else:
            carried[best] = Exclusion(
                rep.exclusion_reason or "", rep.excluded_by or "", rep.excluded_at or ""
            )
    return carried, unmatched


def reanalyse(
    capture: Capture,
    certificate: Certificate,
    reps: Sequence[Rep],
    *,
    settings: AnalysisSettings | Mapping[str, Any] | None,
    body_mass_kg: float | None,
    lever_arm_m: float | None,
) -> tuple[Analysed, dict[int, Exclusion], list[Rep]]:
    """Analyse a stored test again, carrying its rep exclusions over (one test's
    recompute and ``recompute --all`` both go through here)."""
    analysed = run_analysis(
        capture, certificate, settings=settings, body_mass_kg=body_mass_kg, lever_arm_m=lever_arm_m
    )
    carried, unmatched = carry_exclusions(reps, analysed.metrics.get("reps") or [])
    if carried:
        analysed.result = analysed.result.with_exclusions({n: e.reason for n, e in carried.items()})
    return analysed, carried, unmatched


def file_time(path: str | os.PathLike[str]) -> str:
    """A capture made elsewhere has no start time of its own: its file's modification time."""
    return format_instant(datetime.fromtimestamp(os.stat(path).st_mtime, UTC))
