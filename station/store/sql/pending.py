"""Tests in progress (SQLite): begun on the rig, not yet committed or discarded.

A row here is what lets the next start find a test a crash interrupted; it
is removed in the same transaction that commits the test (see
:meth:`RecordedTests.save_test`) or, audited, when the test is given up.
"""

from __future__ import annotations

from pathlib import Path

from station.store.errors import NotFoundError
from station.store.models import JsonDocument, PendingTest
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import Transactions, new_id
from station.store.sql.certificates import certificate_id
from station.store.sql.rows import Shape, new_uuid
from station.store.validate import now_utc

PENDING = Shape(
    PendingTest,
    "pending_tests",
    [
        "id",
        "athlete_id",
        ("path", "file_name"),
        "started_at",
        "protocol",
        "rig_serial",
        "certificate_id",
        "operator",
        "notes",
        "host",
        "pid",
        "rate_hz",
        "uuid",
    ],
)


class PendingTests(Transactions):
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
    ) -> int:
        at = now_utc()
        with self._write() as conn:
            self._require(conn, "athletes", athlete_id, "athlete")
            cert_id = None if certificate is None else certificate_id(conn, certificate, actor, at)
            cursor = conn.execute(
                "INSERT INTO pending_tests (athlete_id, file_name, started_at, started_by, "
                "protocol, rig_serial, certificate_id, operator, notes, host, pid, rate_hz, uuid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    athlete_id,
                    file_name,
                    at,
                    actor,
                    protocol,
                    rig_serial,
                    cert_id,
                    operator,
                    notes,
                    host,
                    pid,
                    rate_hz,
                    new_uuid(),
                ),
            )
            return new_id(cursor)

    def get_pending(self, pending_id: int, folder: Path) -> PendingTest | None:
        row = self._one(PENDING.sql + "WHERE id = ?", (pending_id,))
        return None if row is None else PENDING.make(row, path=folder / row[2])

    def list_pending(self, folder: Path) -> list[PendingTest]:
        return [
            PENDING.make(row, path=folder / row[2])
            for row in self._all(PENDING.sql + "ORDER BY id")
        ]

    def delete_pending(
        self, pending_id: int, actor: str, action: str, detail: JsonDocument
    ) -> None:
        """Forget a test in progress (discarded or aborted), audited."""
        at = now_utc()
        with self._write() as conn:
            gone = conn.execute("DELETE FROM pending_tests WHERE id = ?", (pending_id,))
            if gone.rowcount != 1:
                raise NotFoundError(f"no test in progress {pending_id}")
            write_audit(
                conn, actor, at, AuditRecord("pending", pending_id, action, dict(detail), None)
            )
