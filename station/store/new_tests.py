"""The one way a test is made: a capture's bytes and a certificate, analysed, saved with its run.

``store.new_tests`` of a :class:`~station.store.Store`.  An imported file
(:meth:`TestCreation.import_file`), a live test's recording and a crashed
test's recovered recording (:mod:`station.store.live`,
:mod:`station.store.recovery`) all go through :meth:`TestCreation.save_capture`;
a stored test analysed again (a recompute, a rep exclusion) through
:meth:`TestCreation.reanalyse`, the same analysis on the kept bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calibration.certificate import Certificate
from firmware_bridge.capture import Capture
from station.analysis import AnalysisSettings
from station.store import processing, protocols, validate
from station.store.athletes import Athletes
from station.store.backend import Backend
from station.store.certificates import Certificates, as_certificate
from station.store.importing import capture_started, printable, read_stable
from station.store.models import Athlete, NewTest, Rep, TestRecord
from station.store.parts import Service
from station.store.stored_tests import StoredTests

log = logging.getLogger(__name__)

Settings = AnalysisSettings | Mapping[str, Any] | None


@dataclass(frozen=True)
class Origin:
    """What a new test's record says besides its analysis: where it came from."""

    source: str  # "live", "recovered", "import:FILE"
    reason: str  # why its first run was made ("import", "live", "recovered")
    protocol: str
    operator: str | None = None
    notes: str = ""
    knee_angle_deg: float | None = None  # an isometric test's knee angle
    position: str | None = None
    rig_serial: str | None = None  # when the capture itself does not say
    recovered: bool = False
    pending_id: int | None = None
    warnings: tuple[str, ...] = ()  # shown before the analysis's own
    training: dict[str, Any] | None = None  # a training session's live zone figures


class TestCreation(Service):
    """Capture -> analysis -> a new test saved with its runs and reps, in one transaction."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        backend: Backend,
        actor: str,
        athletes: Athletes,
        certificates: Certificates,
        tests: StoredTests,
    ) -> None:
        super().__init__(backend, actor)
        self.athletes = athletes
        self.certificates = certificates
        self.tests = tests

    def import_file(
        self,
        athlete: Athlete | int | str,
        path: str | os.PathLike[str],
        *,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        rate_hz: float | None = None,
        operator: str | None = None,
        notes: str | None = None,
        recorded_at: str | datetime | None = None,
        protocol: str | None = None,
        settings: Settings = None,
        by: str | None = None,
        knee_angle_deg: float | str | None = None,
        position: str | None = None,
    ) -> TestRecord:
        """Store a capture made elsewhere (recording, raw binary or text) as a new test,
        analysed under its protocol (an isometric one with its knee angle and position)."""
        who = self._who(by)
        subject = self.athletes.changeable(athlete)
        operator = validate.text_field(operator, "operator")
        notes_text = validate.notes(notes)
        protocols.resolve(protocol, knee_angle_deg, position, settings)  # refused before reading
        rate = None if rate_hz is None else validate.sample_rate_hz(rate_hz)
        when = (
            validate.test_time(recorded_at, subject.date_of_birth, "recorded at")
            if recorded_at is not None
            else None
        )
        cert = None if certificate is None else as_certificate(certificate)
        blob, capture = read_stable(Path(path), rate)
        kind = protocols.resolve(
            protocol,
            knee_angle_deg,
            position,
            settings,
            protocols.recorded_metadata(capture.header),
        )
        earlier = self.backend.tests_with_recording(hashlib.sha256(blob).hexdigest())
        first: tuple[str, ...] = ()
        if earlier:
            first = (
                f"the same capture was imported before as test "
                f"{', '.join(str(t) for t in earlier)}: stored once, kept as a new test",
            )
        origin = Origin(
            source=f"import:{printable(Path(path).name)}",
            reason="import",
            protocol=kind.protocol,
            knee_angle_deg=kind.knee_angle_deg,
            position=kind.position,
            operator=operator,
            notes=notes_text,
            warnings=first,
        )
        return self.save_capture(
            subject.id,
            blob,
            capture,
            origin,
            certificate=cert,
            described_as=str(path),
            recorded_at=when,
            started_at=lambda: processing.file_time(path),
            settings=settings,
            who=who,
        )

    def save_capture(
        self,
        athlete_id: int,
        blob: bytes,
        capture: Capture,
        origin: Origin,
        *,
        certificate: Certificate | Mapping[str, Any] | None,
        described_as: str,
        recorded_at: str | None,
        started_at: str | Callable[[], str],
        settings: Settings,
        who: str,
    ) -> TestRecord:
        """Analyse a decoded capture and save it as a new test; returns the saved test.

        The certificate is the one given, else the recording's own; the time is
        ``recorded_at``, else the capture's start, else ``started_at`` (a string,
        or a function giving one).  ``described_as`` names the capture in messages.
        """
        chosen = processing.certificate_for(capture, certificate, described_as)
        when = recorded_at or capture_started(capture)
        if when is None:
            when = started_at() if callable(started_at) else started_at
        kind = protocols.TestProtocol(origin.protocol, origin.knee_angle_deg, origin.position)
        analysed = self.analyse(athlete_id, capture, chosen, when, kind.settings(settings))
        warnings = list(origin.warnings) + analysed.warnings
        log.info(
            "%s a %s capture for athlete %d (%d bytes, %d warning(s))",
            "importing" if origin.reason == "import" else f"saving ({origin.reason})",
            capture.kind,
            athlete_id,
            len(blob),
            len(warnings),
        )
        result = processing.new_result(analysed.result, origin.reason)
        if origin.training is not None:
            result.metrics = {**result.metrics, "training": origin.training}
        new = NewTest(
            athlete_id=athlete_id,
            recorded_at=when,
            protocol=origin.protocol,
            knee_angle_deg=origin.knee_angle_deg,
            position=origin.position,
            recording=blob,
            recording_kind=analysed.capture.kind,
            result=result,
            reps=processing.new_reps(analysed.metrics, {}),
            sample_rate_hz=analysed.sample_rate_hz,
            duration_s=analysed.duration_s,
            body_mass_kg=analysed.result.body_mass_kg,
            lever_arm_m=analysed.result.lever_arm_m,
            certificate=analysed.certificate.to_dict(),
            source=origin.source,
            recovered=origin.recovered,
            rig_serial=analysed.rig_serial or origin.rig_serial,
            operator=origin.operator,
            notes=origin.notes,
            pending_id=origin.pending_id,
            warnings=warnings,
        )
        return self.tests.get(self.backend.save_test(new, who))

    def analyse(
        self,
        athlete_id: int,
        capture: Capture,
        certificate: Certificate,
        when: str,
        settings: Settings,
    ) -> processing.Analysed:
        """A new capture's analysis, with the athlete's body mass on the day and lever arm."""
        athlete = self.athletes.get(athlete_id)
        day = date.fromisoformat(when[:10])
        analysed = processing.run_analysis(
            capture,
            certificate,
            settings=settings,
            body_mass_kg=self.athletes.body_mass_on(athlete_id, day),
            lever_arm_m=athlete.lever_arm_m,
        )
        for warning in processing.certificate_warnings(certificate, analysed.rig_serial, day):
            if warning not in analysed.warnings:
                analysed.warnings.append(warning)
        return analysed

    def reanalyse(
        self, test: TestRecord, reps: Sequence[Rep], settings: Settings
    ) -> tuple[processing.Analysed, dict[int, processing.Exclusion], list[Rep]]:
        """Analyse a stored test again from its raw bytes, carrying exclusions over."""
        capture = self.tests.stored_capture(test)
        certificate = self.certificates.of_test(test)
        if certificate is None:
            certificate = processing.certificate_for(capture, None, f"test {test.id}")
        return processing.reanalyse(
            capture,
            certificate,
            reps,
            settings=settings,
            body_mass_kg=test.body_mass_kg,
            lever_arm_m=test.lever_arm_m,
        )
