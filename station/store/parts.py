"""What every part of :class:`~station.store.Store` shares: its folder, backend and actor.

The façade is assembled from one class per job (athletes, certificates,
importing, live tests, stored tests, recomputing, export rows); each
inherits this so it can say whose change it is, and calls the others'
public methods through ``self``.  The methods one part calls on another are
declared here for the type checker, so a renamed method breaks the check
rather than a clinic's station.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.store import validate
from station.store.backend import Backend
from station.store.locks import FileLock

if TYPE_CHECKING:
    from calibration.certificate import Certificate
    from firmware_bridge.capture import Capture
    from station.analysis import AnalysisSettings
    from station.store.models import (
        Athlete,
        CertificateRecord,
        PendingTest,
        TestRecord,
    )
    from station.store.processing import Analysed


class StoreParts:
    folder: Path
    backend: Backend
    actor: str
    _locks: dict[int, FileLock]

    def _who(self, by: str | None) -> str:
        return validate.text_field(by, "who") or self.actor

    if TYPE_CHECKING:  # implemented by the other parts (see the module docstring)

        def get_athlete(self, athlete_id: int) -> Athlete: ...
        def resolve_athlete(self, ref: Athlete | int | str) -> Athlete: ...
        def _changeable(self, ref: Athlete | int | str) -> Athlete: ...
        def body_mass_on(self, athlete_id: int, day: date) -> float | None: ...
        def get_certificate(self, certificate_id: int) -> CertificateRecord: ...
        def certificate_of(self, test: TestRecord) -> Certificate | None: ...
        def get_test(self, test_id: int) -> TestRecord: ...
        def _stored_capture(self, test: TestRecord) -> Capture: ...
        def pending_tests(self, *, include_live: bool = True) -> list[PendingTest]: ...
        def _analyse(
            self,
            athlete_id: int,
            capture: Capture,
            certificate: Certificate,
            when: str,
            settings: AnalysisSettings | Mapping[str, Any] | None,
        ) -> Analysed: ...
