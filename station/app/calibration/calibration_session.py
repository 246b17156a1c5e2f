"""A calibration or a quick verification in progress, without Qt.

The wizard feeds it the rig's sample blocks (from the app's one connection:
the blocks arrive on the link's reader thread and are handed over by the
acquisition's timer) and reads back what to show.  Times come from the
rig's sample clock (index ÷ rate), continuous across a rig restart, as
calibration/live.py does for the CLI, so a busy GUI never fools the
settle detector.  Fitting, judging and building the certificate is
``calibration.certify``: the wizard and the CLI write the same certificate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from calibration.acceptance import ChannelAcceptance
from calibration.certificate import STANDARD_GRAVITY, Certificate
from calibration.certify import certify
from calibration.fit import ChannelFit, fit_points
from calibration.procedure import Phase, Procedure, ProcedureEvent, verification_steps
from calibration.settle import SettleConfig, Stability
from calibration.verify import DEFAULT_LIMIT_PCT, verify_reading
from firmware_bridge.messages import SampleBlock
from firmware_bridge.segment_clock import SegmentClock
from station.app.shell.units import format_force

log = logging.getLogger(__name__)

STATUS_WORDS = {
    Stability.NO_DATA: "waiting for readings",
    Stability.COLLECTING: "collecting",
    Stability.SETTLED: "steady",
    Stability.NOISY: "too noisy",
    Stability.CREEPING: "still moving",
    Stability.JUMP: "jumped",
    Stability.REMOVED_EARLY: "load removed?",
    Stability.NO_CHANGE: "no change yet",
}


@dataclass
class CalibrationResult:
    """A finished calibration: the certificate (not yet saved), verdicts and fits to plot."""

    certificate: Certificate
    acceptance: dict[str, ChannelAcceptance]
    fits: dict[str, ChannelFit]

    @property
    def passed(self) -> bool:
        return self.certificate.passed is not False


@dataclass
class Session:
    """One run of the procedure: a calibration (``kind="calibrate"``) or a verification."""

    procedure: Procedure
    kind: str
    rate_hz: float
    device_serial: str | None
    masses_kg: list[float] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    verify_mass_kg: float | None = None
    verify_limit_pct: float = DEFAULT_LIMIT_PCT
    events: list[ProcedureEvent] = field(default_factory=list)
    recent: list[tuple[float, float]] = field(default_factory=list)  # (t, counts) to plot

    def __post_init__(self) -> None:
        self.clock = SegmentClock()

    @classmethod
    def calibration(
        cls,
        masses: Sequence[float] | str,
        channels: Sequence[str] | str,
        rate_hz: float,
        device_serial: str | None,
        *,
        descending: bool = True,
        repeat: bool = False,
        config: SettleConfig | None = None,
        timeout_s: float = 20.0,
    ) -> Session:
        """CalibrationError (one line) for bad masses or channels."""
        procedure = Procedure(
            masses,
            channels,
            repeat=repeat,
            descending=descending,
            config=config,
            timeout_s=timeout_s,
        )
        session = cls(procedure, "calibrate", rate_hz, device_serial)
        session.masses_kg = sorted({s.mass_kg for s in procedure.steps})
        session.channels = list(dict.fromkeys(s.channel for s in procedure.steps))
        return session

    @classmethod
    def verification(
        cls,
        channel: str,
        mass_kg: float,
        rate_hz: float,
        device_serial: str | None,
        *,
        limit_pct: float = DEFAULT_LIMIT_PCT,
        config: SettleConfig | None = None,
        timeout_s: float = 20.0,
    ) -> Session:
        procedure = Procedure.from_steps(
            verification_steps(channel, mass_kg), config=config, timeout_s=timeout_s
        )
        session = cls(procedure, "verify", rate_hz, device_serial)
        session.channels = [procedure.steps[0].channel]
        session.verify_mass_kg = float(mass_kg)
        session.verify_limit_pct = float(limit_pct)
        return session

    # -- feeding ------------------------------------------------------------------------
    def feed(self, blocks: Iterable[SampleBlock]) -> list[ProcedureEvent]:
        """Give the procedure the readings in ``blocks``; the events they caused."""
        events: list[ProcedureEvent] = []
        for block in blocks:
            if not len(block) or self.procedure.finished:
                continue
            t, counts = self.clock.chunk(block, self.rate_hz)
            events += self.procedure.feed(t, counts)
            step = self.procedure.step
            if step is not None:
                column = 0 if step.channel == "left" else 1
                self.recent.extend(zip(t.tolist(), counts[:, column].tolist(), strict=True))
        horizon = self.recent[-1][0] - 6.0 if self.recent else 0.0
        if self.recent and self.recent[0][0] < horizon:
            self.recent = [r for r in self.recent if r[0] >= horizon]
        self.events += events
        return events

    def act(self, action: str) -> list[ProcedureEvent]:
        """The operator's action: "accept", "retry", "skip" or "abort"."""
        events = getattr(self.procedure, action)()
        self.events += events
        return events

    # -- what to show ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.procedure.finished

    @property
    def aborted(self) -> bool:
        return self.procedure.phase is Phase.ABORTED

    def reading_text(self, unit: str = "N") -> str:
        """The reading, e.g. "492 345 counts (about 20.03 kg, 196 N) · spread 35 counts
        (limit 800)"; the force is shown in ``unit``."""
        proc = self.procedure
        step = proc.step
        reading = proc.reading
        if step is None or reading.mean_counts is None:
            return STATUS_WORDS.get(reading.status, str(reading.status))
        text = f"{reading.mean_counts:,.0f} counts".replace(",", " ")
        scale = proc.counts_per_kg(step.channel)
        zero = proc.zero_counts(step.channel)
        if scale and zero is not None:
            kg = (reading.mean_counts - zero) / scale
            text += f" (about {kg:.2f} kg, {format_force(kg * STANDARD_GRAVITY, unit)})"
        if reading.spread_counts is not None:
            text += (
                f" · spread {reading.spread_counts:.0f} counts (limit {reading.spread_limit:.0f})"
            )
        return text

    def stability(self) -> tuple[str, str]:
        """(word, level) of the current reading: level is "good", "wait" or "problem"."""
        reading = self.procedure.reading
        word = STATUS_WORDS.get(reading.status, str(reading.status))
        if reading.status is Stability.COLLECTING:
            word += f" ({reading.covered_s:.1f} s)"
        if self.procedure.phase is Phase.WAITING:
            return f"{word}, not measuring yet", "wait"
        if reading.status is Stability.SETTLED:
            return word, "good"
        if reading.status in (Stability.COLLECTING, Stability.NO_DATA, Stability.NO_CHANGE):
            return word, "wait"
        return word, "problem"

    # -- results ----------------------------------------------------------------------------
    def calibration_result(
        self,
        *,
        operator: str | None,
        valid_days: int,
        base: Certificate | None,
    ) -> CalibrationResult:
        """Fit, judge and build the certificate (CalibrationError/CertificateError if it cannot)."""
        points = self.procedure.points
        log.info("certifying rig %s from %d points", self.device_serial, len(points))
        method: dict[str, Any] = {
            "source": "app wizard",
            "masses_kg": self.masses_kg,
            "channels": self.channels,
            "sample_rate_hz": self.rate_hz,
            "settle": self.procedure.config.to_dict(),
        }
        certificate, acceptance = certify(
            points,
            self.device_serial,
            operator=operator or None,
            valid_days=valid_days,
            base=base,
            method=method,
        )
        return CalibrationResult(certificate, acceptance, fit_points(points))

    def verification_record(
        self, certificate: Certificate, operator: str | None
    ) -> dict[str, Any] | None:
        """The verification record (calibration/verify.py), None if a reading is missing."""
        points = self.procedure.points
        if len(points) < 2 or self.verify_mass_kg is None:
            return None
        zero, loaded = points[0], points[1]
        record = verify_reading(
            certificate,
            self.channels[0],
            self.verify_mass_kg,
            loaded.counts,
            zero_counts=zero.counts,
            spread_counts=loaded.spread_counts,
            limit_pct=self.verify_limit_pct,
            device_serial=self.device_serial,
            operator=operator or None,
        )
        if not (zero.settled and loaded.settled):
            record["accepted_unsettled"] = True
        return record
