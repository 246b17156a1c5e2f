"""What a storage backend must provide (SQLite and PostgreSQL implement it).

:class:`~station.store.Store` only talks to its backend through these
methods, each one transaction, with typed values in and dataclasses out
(:mod:`station.store.models`); a backend implements this protocol and
passes tests/store against it (the store fixture runs every test on both).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from station.store.models import (
    Athlete,
    AthleteChanges,
    AthleteWrite,
    AuditEntry,
    BodyMass,
    CertificateRecord,
    Curves,
    Injury,
    JsonDocument,
    NewRep,
    NewResult,
    NewTest,
    PendingTest,
    Rep,
    Result,
    TestChanges,
    TestRecord,
    TestSummary,
    Verification,
)
from station.store.sql import AuditRecord, Erased, NewRun, RecomputeInput


class Backend(Protocol):
    @property
    def path(self) -> Path | None:
        """The database file (None for a server)."""
        ...

    @property
    def location(self) -> str:
        """Where the data is, for messages: the file, or the address without password."""
        ...

    migrated_from: int | None  # the schema version upgraded from when opened, if any
    backup_path: Path | None  # the copy taken before that upgrade (SQLite only)

    def close(self) -> None: ...
    def checkpoint(self) -> None: ...
    def integrity_check(self) -> list[str]: ...
    @property
    def schema_version(self) -> int: ...
    def pseudonym_secret(self) -> bytes: ...

    # athletes
    def insert_athlete(self, write: AthleteWrite, actor: str) -> int: ...
    def get_athlete(self, athlete_id: int) -> Athlete | None: ...
    def athletes_by_external_id(self, external_id: str) -> list[Athlete]: ...
    def list_athletes(
        self,
        search_key: str | None = None,
        team: str | None = None,
        include_archived: bool = False,
        archived_only: bool = False,
        limit: int | None = None,
    ) -> list[Athlete]: ...
    def update_athlete(
        self,
        athlete_id: int,
        changes: AthleteChanges,
        name_key: str | None,
        actor: str,
        action: str = "update",
        body_mass: BodyMass | None = None,
    ) -> bool: ...
    def import_athletes(self, rows: Sequence[AthleteWrite], actor: str) -> list[int]: ...
    def body_mass_history(self, athlete_id: int) -> list[BodyMass]: ...
    def add_injury(
        self,
        athlete_id: int,
        side: str,
        occurred_on: date | None,
        note: str,
        actor: str,
        region: str = "",
        grade: str | None = None,
        return_to_play: date | None = None,
    ) -> int: ...
    def injuries(self, athlete_id: int) -> list[Injury]: ...

    # certificates
    def add_certificate(self, data: JsonDocument, actor: str) -> int: ...
    def get_certificate(self, certificate_id: int) -> CertificateRecord | None: ...
    def list_certificates(self, device_serial: str | None = None) -> list[CertificateRecord]: ...
    def add_verification(
        self,
        certificate_id: int | None,
        device_serial: str | None,
        performed_at: str,
        operator: str | None,
        passed: bool | None,
        data: JsonDocument,
        actor: str,
    ) -> int: ...
    def verifications(self, certificate_id: int | None = None) -> list[Verification]: ...

    # tests
    def save_test(self, test: NewTest, actor: str) -> int: ...
    def get_test(self, test_id: int) -> TestRecord | None: ...
    def test_ids(self) -> list[int]: ...
    def list_tests(
        self, athlete_id: int, limit: int | None = None, include_voided: bool = False
    ) -> list[TestSummary]: ...
    def latest_tests(
        self, team: str | None = None, include_voided: bool = False
    ) -> dict[int, TestSummary]: ...
    def update_test(self, test_id: int, fields: TestChanges, actor: str) -> bool: ...
    def set_voided(self, test_id: int, voided: bool, reason: str, actor: str) -> bool: ...
    def recording(self, test_id: int) -> tuple[bytes, str | None, str]: ...
    def recording_exists(self, digest_hex: str) -> bool: ...
    def absent_recordings(self) -> list[int]: ...
    def tests_with_recording(self, digest_hex: str) -> list[int]: ...
    def results(self, test_id: int) -> list[Result]: ...
    def get_result(self, result_id: int) -> Result | None: ...
    def curves(self, result_id: int) -> Curves | None: ...
    def reps(self, test_id: int) -> list[Rep]: ...
    def add_result(
        self,
        test_id: int,
        result: NewResult,
        reps: Sequence[NewRep],
        expected_current_id: int | None,
        actor: str,
        audit: Sequence[AuditRecord] = (),
    ) -> int: ...

    # bulk recompute (station.store.recompute_all)
    def current_runs(self) -> list[tuple[int, str | None, str | None]]: ...
    def recompute_inputs(self, test_ids: Sequence[int]) -> list[RecomputeInput]: ...
    def add_runs(self, runs: Sequence[NewRun], actor: str) -> list[int | None]: ...

    # tests in progress
    def insert_pending(
        self,
        athlete_id: int,
        file_name: str,
        protocol: str,
        rig_serial: str | None,
        certificate: JsonDocument | None,
        operator: str | None,
        notes: str,
        host: str | None,
        pid: int | None,
        actor: str,
        rate_hz: float | None = None,
        knee_angle_deg: float | None = None,
        position: str | None = None,
    ) -> int: ...
    def get_pending(self, pending_id: int, folder: Path) -> PendingTest | None: ...
    def list_pending(self, folder: Path) -> list[PendingTest]: ...
    def delete_pending(
        self, pending_id: int, actor: str, action: str, detail: JsonDocument
    ) -> None: ...

    # erasure on request (name, birth date, free text, raw recordings; backups too)
    def erase_athlete(self, athlete_id: int, reason: str, actor: str) -> Erased: ...

    # audit and export
    def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int | None = None
    ) -> list[AuditEntry]: ...
    def summary_rows(
        self,
        athlete_id: int | None = None,
        team: str | None = None,
        since: str | None = None,
        until: str | None = None,
        include_voided: bool = False,
        changed_since: str | None = None,
    ) -> Iterator[dict[str, Any]]: ...

    # loading many records at once (migrations from other systems, benchmarks)
    def bulk_load(
        self, athletes: Sequence[Mapping[str, Any]], tests: Sequence[NewTest], actor: str
    ) -> None: ...
