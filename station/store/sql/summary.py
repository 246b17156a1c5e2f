"""One row per test for the summary export (SQLite), read in one snapshot.

Rows carry the current run's small digest (see :func:`rows.digest`), never
the whole analysis result, so 40,000 tests export in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from station.store.sql.base import Transactions
from station.store.sql.rows import select

SUMMARY_COLUMNS = (
    "test_id",
    "athlete_id",
    "name",
    "external_id",
    "date_of_birth",
    "sex",
    "sport",
    "team",
    "dominant_leg",
    "recorded_at",
    "protocol",
    "rig_serial",
    "certificate_id",
    "operator",
    "sample_rate_hz",
    "duration_s",
    "body_mass_kg",
    "lever_arm_m",
    "source",
    "recovered",
    "result_id",
    "analysis_version",
    "analyzed_at",
    "digest",
    "excluded",
    "voided",
    "void_reason",
)
SUMMARY_SQL = (
    "SELECT t.id, t.athlete_id, a.name, a.external_id, a.date_of_birth, a.sex, a.sport, "
    "a.team, a.dominant_leg, t.recorded_at, t.protocol, t.rig_serial, t.certificate_id, "
    "t.operator, t.sample_rate_hz, t.duration_s, t.body_mass_kg, t.lever_arm_m, t.source, "
    "t.recovered, r.id, r.analysis_version, r.created_at, r.summary, r.excluded, "
    "t.voided, t.void_reason "
    "FROM tests t JOIN athletes a ON a.id = t.athlete_id "
    "LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1 "
)


# A test "changed" when anything written about it is in the audit log at or
# after the instant: its creation (record, import, recovery, bulk load), a new
# analysis run (recompute, rep exclusion; entity "test", action "result:*"),
# an exclusion or inclusion of a rep (entity "rep", keyed by the test's id),
# a void or unvoid, an edit of its fields; or an edit or erasure of its
# athlete's descriptors, which every row of theirs carries.  Every one of
# those writes its audit entry in the same transaction as the change.
CHANGED_SINCE = (
    "(t.id IN (SELECT entity_id FROM audit_log WHERE entity IN ('test', 'rep') AND at >= ?) "
    "OR t.athlete_id IN (SELECT entity_id FROM audit_log WHERE entity = 'athlete' "
    "AND action IN ('update', 'erase') AND at >= ?))"
)


class SummaryRows(Transactions):
    SUMMARY_COLUMNS = SUMMARY_COLUMNS

    def summary_rows(
        self,
        athlete_id: int | None = None,
        team: str | None = None,
        since: str | None = None,
        until: str | None = None,
        include_voided: bool = False,
        changed_since: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """One row per test with its current result's digest, oldest first
        (voided tests only with ``include_voided``).

        ``since``/``until`` are stored instants (inclusive, exclusive).  Rows
        are read inside one snapshot, so an export is consistent even while
        the app keeps recording.

        ``changed_since`` (a stored instant) keeps only tests with an audit
        entry at or after it (see :data:`CHANGED_SINCE`), voided ones included,
        so an incremental reader learns of voids too.
        """
        sql, params = select(
            SUMMARY_SQL,
            [
                None if athlete_id is None else ("t.athlete_id = ?", (athlete_id,)),
                None if team is None else ("lower(a.team) = lower(?)", (team,)),
                None if since is None else ("t.recorded_at >= ?", (since,)),
                None if until is None else ("t.recorded_at < ?", (until,)),
                None if changed_since is None else (CHANGED_SINCE, (changed_since,) * 2),
                None if include_voided or changed_since else ("t.voided = 0", ()),
            ],
            "t.recorded_at, t.id",
        )
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        for row in rows:
            item = dict(zip(SUMMARY_COLUMNS, row, strict=True))
            item["digest"] = json.loads(item["digest"]) if item["digest"] else {}
            item["excluded"] = json.loads(item["excluded"]) if item["excluded"] else []
            item["recovered"] = bool(item["recovered"])
            item["voided"] = bool(item["voided"])
            yield item
