"""The audit entries of rep exclusions a new analysis could not carry over."""

from __future__ import annotations

from collections.abc import Sequence

from station.store.models import Rep
from station.store.sql.audit import AuditRecord


def unmatched_audit(test_id: int, unmatched: Sequence[Rep]) -> list[AuditRecord]:
    """Exclusions the new analysis could not carry over (no rep matches any more)."""
    return [
        AuditRecord(
            "rep",
            test_id,
            "exclusion_unmatched",
            {"rep": r.number, "reason": r.exclusion_reason},
            None,
        )
        for r in unmatched
    ]
