"""Analysis runs of a test, their curves and its reps (SQLite).

A test keeps every analysis run it ever had; exactly one is current.  A new
run (a recompute, an exclusion) is added and marked current in one
transaction together with the test's new rep list and its audit entries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.store import codec
from station.store.errors import ConflictError, NotFoundError
from station.store.models import Curves, NewRep, NewResult, Rep, Result
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import DbConnection, Transactions, new_id
from station.store.sql.rows import Shape, compact_json, digest, json_tuple, new_uuid
from station.store.validate import now_utc

RESULT = Shape(
    Result,
    "results",
    [
        "id",
        "test_id",
        "created_at",
        "created_by",
        "reason",
        "analysis_version",
        "settings",
        "metrics",
        "excluded",
        "is_current",
        (
            "curves_result_id",
            "coalesce(curves_result_id, "
            "  CASE WHEN EXISTS (SELECT 1 FROM curves c WHERE c.result_id = results.id) "
            "  THEN id END)",
        ),
        "uuid",
    ],
    {"settings": json.loads, "metrics": json.loads, "excluded": json_tuple, "is_current": bool},
)
REP_FIELDS = (
    "number",
    "start_s",
    "end_s",
    "left_peak_n",
    "right_peak_n",
    "imbalance_pct",
    "excluded",
    "exclusion_reason",
    "excluded_by",
    "excluded_at",
)
REP = Shape(Rep, "reps", REP_FIELDS, {"excluded": bool})
INSERT_REP = (
    f"INSERT INTO reps (test_id, {', '.join(REP_FIELDS)}) "
    f"VALUES (?, {', '.join('?' for _ in REP_FIELDS)})"
)
INSERT_RESULT = (
    "INSERT INTO results (test_id, created_at, created_by, reason, analysis_version, "
    "settings, metrics, summary, excluded, curves_result_id, uuid, is_current) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
)


def rep_row(test_id: int, rep: NewRep) -> tuple[Any, ...]:
    """The values of :data:`INSERT_REP` for one rep."""
    return (
        test_id,
        rep.number,
        rep.start_s,
        rep.end_s,
        rep.left_peak_n,
        rep.right_peak_n,
        rep.imbalance_pct,
        int(rep.excluded),
        rep.exclusion_reason,
        rep.excluded_by,
        rep.excluded_at,
    )


@dataclass(frozen=True)
class Prepared:
    """A run's JSON and curve bytes, made before the write lock is taken (the lock
    is held only while bytes go to the database)."""

    result: NewResult
    settings: str
    metrics: str
    summary: str
    excluded: str
    curves: list[codec.Encoded] | None

    @classmethod
    def of(
        cls,
        result: NewResult,
        rate_hz: float | None,
        with_curves: bool = True,
        compress: bool = True,
    ) -> Prepared:
        """The run's columns, its curves encoded (``compress``: f4dz where it pays)."""
        curves = (
            None
            if result.curves is None or not with_curves
            else [
                codec.encode(name, values, rate_hz, compress=compress)
                for name, values in result.curves.items()
            ]
        )
        return cls(
            result,
            compact_json(result.settings),
            compact_json(result.metrics),
            compact_json(digest(result.metrics)),
            json.dumps(sorted(result.excluded)),
            curves,
        )

    def row(self, test_id: int, actor: str, at: str) -> tuple[Any, ...]:
        """The values of :data:`INSERT_RESULT`."""
        result = self.result
        return (
            test_id,
            at,
            actor,
            result.reason,
            result.analysis_version,
            self.settings,
            self.metrics,
            self.summary,
            self.excluded,
            result.curves_result_id,
            new_uuid(),
        )


def insert_result(conn: DbConnection, test_id: int, prepared: Prepared, actor: str, at: str) -> int:
    cursor = conn.execute(INSERT_RESULT + " RETURNING id", prepared.row(test_id, actor, at))
    result_id = new_id(cursor)
    if prepared.curves is not None:
        conn.executemany(
            "INSERT INTO curves (result_id, name, codec, length, param, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(result_id, e.name, e.codec, e.length, e.param, e.data) for e in prepared.curves],
        )
    return result_id


class Results(Transactions):
    @staticmethod
    def _insert_reps(conn: DbConnection, test_id: int, reps: Sequence[NewRep]) -> None:
        conn.executemany(INSERT_REP, [rep_row(test_id, rep) for rep in reps])

    def results(self, test_id: int) -> list[Result]:
        """Every analysis run of a test, oldest first."""
        return RESULT.many(self._all(RESULT.sql + "WHERE test_id = ? ORDER BY id", (test_id,)))

    def get_result(self, result_id: int) -> Result | None:
        row = self._one(RESULT.sql + "WHERE id = ?", (result_id,))
        return None if row is None else RESULT.make(row)

    def curves(self, result_id: int) -> Curves | None:
        """The curves of an analysis run (shared with the run it was derived from)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT coalesce(curves_result_id, id) FROM results WHERE id = ?", (result_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no analysis run {result_id}")
            rows = conn.execute(
                "SELECT name, codec, length, param, data FROM curves WHERE result_id = ? "
                f"ORDER BY {self.dialect.insertion_order}",
                (row[0],),
            ).fetchall()
        if not rows:
            return None
        return {
            name: codec.decode(kind, n, param, bytes(data)) for name, kind, n, param, data in rows
        }

    def reps(self, test_id: int) -> list[Rep]:
        return REP.many(self._all(REP.sql + "WHERE test_id = ? ORDER BY number", (test_id,)))

    def _make_current(
        self,
        conn: DbConnection,
        test_id: int,
        prepared: Prepared,
        reps: Sequence[NewRep],
        audit: Sequence[AuditRecord],
        previous_id: int | None,
        actor: str,
        at: str,
    ) -> int:
        """(in ``conn``'s transaction) a new run becomes the test's current one, with its
        reps and audit entries; the previous run stays in the history."""
        conn.execute(
            "UPDATE results SET is_current = 0 WHERE test_id = ? AND is_current = 1", (test_id,)
        )
        result_id = insert_result(conn, test_id, prepared, actor, at)
        conn.execute("DELETE FROM reps WHERE test_id = ?", (test_id,))
        self._insert_reps(conn, test_id, reps)
        for record in audit:
            write_audit(conn, actor, at, record)
        write_audit(
            conn,
            actor,
            at,
            AuditRecord(
                "test",
                test_id,
                f"result:{prepared.result.reason}",
                None if previous_id is None else {"result_id": previous_id},
                {"result_id": result_id, "analysis_version": prepared.result.analysis_version},
            ),
        )
        return result_id

    def add_result(
        self,
        test_id: int,
        result: NewResult,
        reps: Sequence[NewRep],
        expected_current_id: int | None,
        actor: str,
        audit: Sequence[AuditRecord] = (),
    ) -> int:
        """Store a new analysis run as current, replacing the rep list, in one transaction.

        ``expected_current_id`` is the run the caller based its work on: if
        another process moved the current mark meanwhile, nothing is written.
        """
        at = now_utc()
        row = self._one("SELECT sample_rate_hz FROM tests WHERE id = ?", (test_id,))
        if row is None:
            raise NotFoundError(f"no test {test_id}")
        prepared = Prepared.of(result, row[0], compress=self.dialect.compress_curves)
        with self._write() as conn:
            current = conn.execute(
                "SELECT id FROM results WHERE test_id = ? AND is_current = 1", (test_id,)
            ).fetchone()
            if (current[0] if current else None) != expected_current_id:
                raise ConflictError(f"test {test_id} was changed meanwhile: run the command again")
            result_id = self._make_current(
                conn, test_id, prepared, reps, audit, current[0] if current else None, actor, at
            )
        return result_id
