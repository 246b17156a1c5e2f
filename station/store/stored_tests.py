"""Reading stored tests back (runs, reps, curves, raw bytes) and correcting them.

``store.tests`` of a :class:`~station.store.Store`; new tests are made by
:mod:`station.store.new_tests`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from firmware_bridge.capture import Capture, CaptureError, load_capture_bytes
from station.store import processing, protocols, validate
from station.store.athletes import Athletes
from station.store.backend import Backend
from station.store.errors import (
    ConflictError,
    NotFoundError,
    RecordingAbsentError,
    StoreError,
    ValidationError,
)
from station.store.models import (
    Athlete,
    Curves,
    Rep,
    Result,
    TestChanges,
    TestRecord,
    TestSummary,
)
from station.store.parts import Service
from station.store.sql.recorded_tests import ERASED_PREFIX

log = logging.getLogger(__name__)


class StoredTests(Service):
    """Stored tests: read back, described again, voided; their runs, reps and curves."""

    def __init__(self, backend: Backend, actor: str, athletes: Athletes) -> None:
        super().__init__(backend, actor)
        self.athletes = athletes

    def get(self, test_id: int) -> TestRecord:
        test = self.backend.get_test(_test_number(test_id))
        if test is None:
            raise NotFoundError(f"no test {test_id}: see 'nordic-station test list ATHLETE'")
        return test

    def of_athlete(
        self,
        athlete: Athlete | int | str,
        limit: int | None = None,
        *,
        include_voided: bool = False,
    ) -> list[TestSummary]:
        """An athlete's tests, newest first; voided tests only with ``include_voided``
        (history, trends and change judgements use this list, so a voided test
        leaves them all)."""
        return self.backend.list_tests(self.athletes.resolve(athlete).id, limit, include_voided)

    def latest(
        self, team: str | None = None, *, include_voided: bool = False
    ) -> dict[int, TestSummary]:
        """The newest test of every athlete (not archived) of ``team``, or of all teams,
        by athlete id; athletes without a test are missing.  One query, so a team view
        of any size costs the same as one athlete's list.  Voided tests are skipped
        (the newest valid one is given) unless ``include_voided``."""
        return self.backend.latest_tests(team or None, include_voided)

    def void(self, test_id: int, reason: str, operator: str | None = None) -> TestRecord:
        """Void a saved test (started by mistake, wrong athlete...): it leaves history,
        trends, change judgements, the team view, reports and exports, but keeps its
        raw recording and audit trail.  A reason is required; undo with :meth:`unvoid`."""
        return self._set_voided(test_id, True, reason, operator)

    def unvoid(self, test_id: int, reason: str, operator: str | None = None) -> TestRecord:
        """Undo a void (a reason is required: it goes to the audit trail)."""
        return self._set_voided(test_id, False, reason, operator)

    def _set_voided(
        self, test_id: int, voided: bool, reason: str, operator: str | None
    ) -> TestRecord:
        test = self.get(test_id)
        why = validate.text_field(reason, "reason", required=True)
        assert why is not None
        if not self.backend.set_voided(test.id, voided, why, self._who(operator)):
            state = f"already voided ({test.void_reason})" if voided else "not voided"
            raise ConflictError(f"test {test.id} is {state}: nothing changed")
        log.info("test %d %s", test.id, "voided" if voided else "unvoided")
        return self.get(test.id)

    def reps(self, test_id: int) -> list[Rep]:
        return self.backend.reps(self.get(test_id).id)

    def results(self, test_id: int) -> list[Result]:
        """Every analysis run of the test, oldest first (one is current)."""
        return self.backend.results(self.get(test_id).id)

    def curves(
        self, test_id: int, result_id: int | None = None, *, raw: bool = True
    ) -> Curves | None:
        """The curves of the current run (or of ``result_id``).

        ``raw`` adds the unfiltered forces, rebuilt from the raw recording (a
        decode of the kept bytes: leave it off when only the filtered forces
        are plotted).
        """
        test = self.get(test_id)
        if result_id is None:
            run = test.result
        else:
            run = self.backend.get_result(int(result_id))
            if run is None or run.test_id != test.id:
                raise NotFoundError(f"test {test.id} has no analysis run {result_id}")
        if run is None:
            return None
        stored = self.backend.curves(run.id)
        if stored is None or not raw or "sample" not in stored or _erased(test):
            return stored
        if test.recording_absent:  # the raw forces need the bytes: say where they are
            raise RecordingAbsentError(test.id)
        owner = (
            run
            if run.curves_result_id in (None, run.id)
            else self.backend.get_result(run.curves_result_id)
        )
        return processing.with_raw_forces(stored, self.stored_capture(test), (owner or run).metrics)

    def stored_capture(self, test: TestRecord) -> Capture:
        """The test's raw recording, decoded (to analyse it again or rebuild raw forces)."""
        blob = self.backend.recording(test.id)[0]
        try:
            return load_capture_bytes(blob, f"test-{test.id}", test.sample_rate_hz)
        except CaptureError as exc:
            raise StoreError(f"test {test.id}: its recording cannot be decoded: {exc}") from None

    def recording(self, test_id: int) -> bytes:
        """The raw recording exactly as captured (checked against its hash)."""
        return self.backend.recording(self.get(test_id).id)[0]

    def update(
        self,
        test_id: int,
        *,
        by: str | None = None,
        notes: str | None = None,
        operator: str | None = None,
        recorded_at: str | datetime | None = None,
        athlete: Athlete | int | str | None = None,
        knee_angle: float | str | None = None,
        position: str | None = None,
    ) -> TestRecord:
        """Correct a test's description (who, when, notes, whose; an isometric test's knee
        angle and position, "" clearing one); audited.  The stored result keeps the settings
        it was computed with until the test is recomputed (which takes the new angle)."""
        test = self.get(test_id)
        changes: dict[str, Any] = {}
        if knee_angle is not None or position is not None:
            if not protocols.of_test(test).is_isometric:
                raise ValidationError(
                    f"test {test.id} is a Nordic test: a knee angle or position is only for "
                    "the isometric protocol"
                )
            if knee_angle is not None:
                changes["knee_angle_deg"] = protocols.knee_angle_deg(knee_angle)
            if position is not None:
                changes["position"] = protocols.position(position)
        if notes is not None:
            changes["notes"] = validate.notes(notes)
        if operator is not None:
            changes["operator"] = validate.text_field(operator, "operator")
        owner = (
            self.athletes.get(test.athlete_id)
            if athlete is None
            else self.athletes.changeable(athlete)
        )
        if athlete is not None:
            changes["athlete_id"] = owner.id
        if recorded_at is not None or athlete is not None:
            # A test cannot move before its (new) athlete's birth, nor into the future.
            changes["recorded_at"] = validate.test_time(
                test.recorded_at if recorded_at is None else recorded_at,
                owner.date_of_birth,
                "recorded at",
            )
        if not changes:
            raise ValidationError("nothing to change: give at least one field")
        self.backend.update_test(test.id, TestChanges.of(changes), self._who(by))
        return self.get(test.id)

    def ids(self) -> list[int]:
        """Every test's id, oldest first (for ``recompute --all``); tests whose raw
        recording was erased with their athlete, or waits on the clinic's server,
        cannot be analysed again here and are left out."""
        return self.backend.test_ids()

    def absent_recordings(self) -> list[int]:
        """Tests pulled by a joined station whose raw recording is still on the clinic's
        server (results and curves are here; the bytes come with 'sync --recordings')."""
        return self.backend.absent_recordings()


def _erased(test: TestRecord) -> bool:
    """Its raw recording was erased with its athlete's data (only curves are left)."""
    return test.recording_size == 0 and test.recording_sha256.startswith(ERASED_PREFIX)


def _test_number(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{value!r} is not a test id (a whole number)") from None
    if not 1 <= number < 2**63:  # a database id is a signed 64-bit integer
        raise ValidationError(f"{value!r} is not a test id (a whole number from 1)")
    return number
