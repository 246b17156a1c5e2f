"""Turning a capture into a stored test: read it once, analyse it, build the record.

Part of :class:`~station.store.Store`; :mod:`station.store.live` commits
recorded tests through the same path.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calibration.certificate import Certificate
from firmware_bridge.capture import Capture, CaptureError, load_capture_bytes
from firmware_bridge.errors import InputError
from firmware_bridge.files import MAX_CAPTURE_BYTES, read_regular
from station.analysis import AnalysisSettings
from station.store import processing, protocols, validate
from station.store.certificates import as_certificate
from station.store.models import Athlete, NewTest, TestRecord
from station.store.parts import StoreParts

log = logging.getLogger(__name__)


class Importing(StoreParts):
    def import_test(
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
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
        knee_angle_deg: float | str | None = None,
        position: str | None = None,
    ) -> TestRecord:
        """Store a capture made elsewhere (recording, raw binary or text) as a new test,
        analysed under its protocol (an isometric one with its knee angle and position)."""
        who = self._who(by)
        subject = self._changeable(athlete)
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
        chosen = processing.certificate_for(capture, cert, str(path))
        if when is None:
            when = capture_started(capture) or processing.file_time(path)
        analysed = self._analyse(subject.id, capture, chosen, when, kind.settings(settings))
        earlier = self.backend.tests_with_recording(hashlib.sha256(blob).hexdigest())
        if earlier:
            analysed.warnings.insert(
                0,
                f"the same capture was imported before as test "
                f"{', '.join(str(t) for t in earlier)}: stored once, kept as a new test",
            )
        log.info(
            "importing a %s capture for athlete %d (%d bytes, %d warning(s))",
            capture.kind,
            subject.id,
            len(blob),
            len(analysed.warnings),
        )
        new = analysed_test(
            subject.id,
            when,
            kind,
            blob,
            analysed,
            "import",
            source=f"import:{_printable(Path(path).name)}",
            rig_serial=analysed.rig_serial,
            operator=operator,
            notes=notes_text,
            warnings=analysed.warnings,
        )
        return self.get_test(self.backend.save_test(new, who))

    def _analyse(
        self,
        athlete_id: int,
        capture: Capture,
        certificate: Certificate,
        when: str,
        settings: AnalysisSettings | Mapping[str, Any] | None,
    ) -> processing.Analysed:
        athlete = self.get_athlete(athlete_id)
        day = date.fromisoformat(when[:10])
        analysed = processing.run_analysis(
            capture,
            certificate,
            settings=settings,
            body_mass_kg=self.body_mass_on(athlete_id, day),
            lever_arm_m=athlete.lever_arm_m,
        )
        for warning in processing.certificate_warnings(certificate, analysed.rig_serial, day):
            if warning not in analysed.warnings:
                analysed.warnings.append(warning)
        return analysed


def analysed_test(
    athlete_id: int,
    when: str,
    kind: protocols.TestProtocol,
    blob: bytes,
    analysed: processing.Analysed,
    reason: str,
    **origin: Any,
) -> NewTest:
    """The record of an analysed capture, ready to save; ``origin`` holds what
    depends on where it came from (source, operator, notes, warnings...)."""
    return NewTest(
        athlete_id=athlete_id,
        recorded_at=when,
        protocol=kind.protocol,
        knee_angle_deg=kind.knee_angle_deg,
        position=kind.position,
        recording=blob,
        recording_kind=analysed.capture.kind,
        result=processing.new_result(analysed.result, reason),
        reps=processing.new_reps(analysed.metrics, {}),
        sample_rate_hz=analysed.sample_rate_hz,
        duration_s=analysed.duration_s,
        body_mass_kg=analysed.result.body_mass_kg,
        lever_arm_m=analysed.result.lever_arm_m,
        certificate=analysed.certificate.to_dict(),
        **origin,
    )


def capture_started(capture: Capture) -> str | None:
    started = (capture.header or {}).get("started_utc")
    if not started:
        return None
    try:
        return validate.parse_instant(str(started))
    except InputError:
        return None


def read_stable(path: Path, rate_hz: float | None) -> tuple[bytes, Capture]:
    """Read a capture's bytes once and decode them, refusing a file that changed meanwhile."""
    try:
        before = path.stat()
    except FileNotFoundError:
        raise CaptureError(f"{path}: no such file") from None
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    blob = read_regular(path, MAX_CAPTURE_BYTES, CaptureError)
    try:
        after = path.stat()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        blob
    ) != after.st_size:
        raise CaptureError(
            f"{path} changed while it was being imported: try again once it is complete"
        )
    return blob, load_capture_bytes(blob, str(path), rate_hz)


def _printable(file_name: str) -> str:
    """A file name as text, whatever bytes it was made of (a name in another
    encoding reaches us with lone surrogates, which the database refuses)."""
    return file_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
