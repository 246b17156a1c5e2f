"""The audit log: written in the same transaction as the change it describes, read back.

Writers build an :class:`AuditRecord` and call :func:`write_audit` with the
connection of their own transaction, so a change and its entry are committed
(or rolled back) together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.store.models import AuditEntry
from station.store.sql.base import DbConnection, Transactions
from station.store.sql.rows import Shape, loads, new_uuid, select, to_json


@dataclass(frozen=True)
class AuditRecord:
    """An audit entry to write in the same transaction as the change it describes."""

    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def write_audit(conn: DbConnection, actor: str, at: str, record: AuditRecord) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after, uuid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            at,
            actor,
            record.entity,
            record.entity_id,
            record.action,
            to_json(record.before),
            to_json(record.after),
            new_uuid(),
        ),
    )


def write_bulk_audit(conn: DbConnection, actor: str, at: str, entity: str, ids: Any) -> None:
    """One "bulk" entry per loaded row (no before/after: the row itself is the record)."""
    conn.executemany(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after, uuid) "
        "VALUES (?, ?, ?, ?, 'bulk', NULL, NULL, ?)",
        [(at, actor, entity, entity_id, new_uuid()) for entity_id in ids],
    )


AUDIT = Shape(
    AuditEntry,
    "audit_log",
    ["id", "at", "actor", "entity", "entity_id", "action", "before", "after", "uuid"],
    {"before": loads, "after": loads},
)


class AuditLog(Transactions):
    def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        sql, params = select(
            AUDIT.sql,
            [
                None if entity is None else ("entity = ?", (entity,)),
                None if entity_id is None else ("entity_id = ?", (entity_id,)),
            ],
            "at, id",  # time order: entries synced from another station keep their instant
            limit,
        )
        return AUDIT.many(self._all(sql, params))
