"""Loading many athletes and tests at once (migrations from other systems, benchmarks).

One transaction with ``executemany``; rows are built by the same helpers
as a single save, so a bulk-loaded test reads back like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from station.store.models import NewTest
from station.store.sql.athletes import EDITABLE
from station.store.sql.audit import write_bulk_audit
from station.store.sql.certificates import certificate_id
from station.store.sql.recorded_tests import INSERT_COLUMNS, new_test_row, recording_id
from station.store.sql.results import INSERT_REP, INSERT_RESULT, Prepared, Results, rep_row
from station.store.sql.rows import canonical_json, new_uuid, sha256
from station.store.validate import now_utc

# Descriptors a migrated athlete may carry (notes and archived start empty).
_ATHLETE_FIELDS = tuple(f for f in EDITABLE if f not in ("name", "notes", "archived"))


class BulkLoad(Results):
    def bulk_load(
        self, athletes: Sequence[Mapping[str, Any]], tests: Sequence[NewTest], actor: str
    ) -> None:
        """Load many athletes and tests in one transaction with executemany.

        Athletes carry their ``id``; tests carry analysis results but curves
        are not stored.  Audit entries are written ("bulk" action) so nothing
        appears from nowhere.
        """
        at = now_utc()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO athletes (id, name, name_key, external_id, date_of_birth, sex, sport, "
                "team, dominant_leg, lever_arm_m, notes, archived, created_at, updated_at, uuid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, ?)",
                [
                    (
                        a["id"],
                        a["name"],
                        a["name_key"],
                        *(a.get(k) for k in _ATHLETE_FIELDS),
                        at,
                        at,
                        a.get("uuid") or new_uuid(),
                    )
                    for a in athletes
                ],
            )
            self.dialect.after_explicit_ids(conn, "athletes")
            write_bulk_audit(conn, actor, at, "athlete", [a["id"] for a in athletes])
            recording_ids: dict[str, int] = {}
            certificate_ids: dict[str, int] = {}
            rows = []
            for test in tests:
                sha = sha256(test.recording)
                if sha not in recording_ids:
                    recording_ids[sha] = recording_id(
                        conn, test.recording, test.recording_kind, at, sha
                    )
                cert = None
                if test.certificate is not None:
                    key = canonical_json(test.certificate)
                    if key not in certificate_ids:
                        certificate_ids[key] = certificate_id(conn, test.certificate, actor, at)
                    cert = certificate_ids[key]
                rows.append(new_test_row(test, recording_ids[sha], cert, actor, at))
            first = conn.execute("SELECT coalesce(max(id), 0) FROM tests").fetchone()[0] + 1
            ids = range(first, first + len(rows))
            conn.executemany(
                f"INSERT INTO tests (id, {', '.join(INSERT_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' for _ in INSERT_COLUMNS)})",
                [(test_id, *row) for test_id, row in zip(ids, rows, strict=True)],
            )
            conn.executemany(
                INSERT_RESULT,
                [
                    Prepared.of(t.result, None, with_curves=False).row(test_id, actor, at)
                    for test_id, t in zip(ids, tests, strict=True)
                ],
            )
            conn.executemany(
                INSERT_REP,
                [
                    rep_row(test_id, rep)
                    for test_id, t in zip(ids, tests, strict=True)
                    for rep in t.reps
                ],
            )
            self.dialect.after_explicit_ids(conn, "tests")
            write_bulk_audit(conn, actor, at, "test", ids)
