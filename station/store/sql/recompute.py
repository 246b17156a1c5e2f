"""Reading what a bulk recompute needs and writing its runs in batches (SQLite).

A batch of new runs is one transaction: a recompute killed at any moment
leaves whole batches stored and nothing of the one in flight, and each run
is written only if the test's current run is still the one it was based on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.store.models import NewRep, Rep
from station.store.sql.audit import AuditRecord
from station.store.sql.recorded_tests import ERASED_PREFIX, HERE
from station.store.sql.results import REP, Prepared, Results
from station.store.validate import now_utc


@dataclass(frozen=True)
class RecomputeInput:
    """One stored test as a worker process analyses it (plain values, picklable)."""

    test_id: int
    recording: bytes
    recording_sha256: str
    sample_rate_hz: float | None
    certificate: dict[str, Any] | None
    body_mass_kg: float | None
    lever_arm_m: float | None
    current_id: int | None
    current_version: str | None
    current_settings: str | None  # JSON text, as stored
    current_metrics: str | None  # JSON text, as stored
    reps: tuple[Rep, ...]


@dataclass(frozen=True)
class NewRun:
    """A run made by a worker, ready to write: ``current_id`` is the run it replaces."""

    test_id: int
    current_id: int | None
    prepared: Prepared
    reps: tuple[NewRep, ...]
    audit: tuple[AuditRecord, ...] = ()


class RecomputeRuns(Results):
    def current_runs(self) -> list[tuple[int, str | None, str | None]]:
        """(test id, analysis version, settings JSON) of every test's current run,
        for tests whose raw recording is here (not erased, not waiting on the clinic's
        server), oldest first."""
        rows = self._all(
            "SELECT t.id, r.analysis_version, r.settings FROM tests t "
            "JOIN recordings rec ON rec.id = t.recording_id "
            "LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1 "
            f"WHERE rec.sha256 NOT LIKE ? AND {HERE} ORDER BY t.id",
            (f"{ERASED_PREFIX}%",),
        )
        return [(int(row[0]), row[1], row[2]) for row in rows]

    def recompute_inputs(self, test_ids: Sequence[int]) -> list[RecomputeInput]:
        """Everything needed to analyse these tests again, read in one snapshot."""
        out: list[RecomputeInput] = []
        if not test_ids:
            return out
        marks = ", ".join("?" for _ in test_ids)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT t.id, rec.data, rec.sha256, t.sample_rate_hz, c.data, t.body_mass_kg, "
                "t.lever_arm_m, r.id, r.analysis_version, r.settings, r.metrics "
                "FROM tests t JOIN recordings rec ON rec.id = t.recording_id "
                "LEFT JOIN certificates c ON c.id = t.certificate_id "
                "LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1 "
                f"WHERE t.id IN ({marks}) ORDER BY t.id",
                list(test_ids),
            ).fetchall()
            reps: dict[int, list[Rep]] = {}
            for row in conn.execute(
                REP.sql.replace("SELECT ", "SELECT test_id, ", 1)
                + f"WHERE test_id IN ({marks}) ORDER BY test_id, number",
                list(test_ids),
            ):
                reps.setdefault(int(row[0]), []).append(REP.make(row[1:]))
        for row in rows:
            out.append(
                RecomputeInput(
                    test_id=int(row[0]),
                    recording=bytes(row[1]),
                    recording_sha256=str(row[2]),
                    sample_rate_hz=row[3],
                    certificate=None if row[4] is None else json.loads(row[4]),
                    body_mass_kg=row[5],
                    lever_arm_m=row[6],
                    current_id=row[7],
                    current_version=row[8],
                    current_settings=row[9],
                    current_metrics=row[10],
                    reps=tuple(reps.get(int(row[0]), ())),
                )
            )
        return out

    def add_runs(self, runs: Sequence[NewRun], actor: str) -> list[int | None]:
        """Store many new runs as current in ONE transaction, each with its reps
        and audit entries as :meth:`add_result` would; a test whose current run
        moved meanwhile is skipped (None in its place)."""
        at = now_utc()
        ids: list[int | None] = []
        with self._write() as conn:
            for run in runs:
                row = conn.execute(
                    "SELECT id FROM results WHERE test_id = ? AND is_current = 1", (run.test_id,)
                ).fetchone()
                if (row[0] if row else None) != run.current_id:
                    ids.append(None)
                    continue
                result_id = self._make_current(
                    conn,
                    run.test_id,
                    run.prepared,
                    run.reps,
                    run.audit,
                    run.current_id,
                    actor,
                    at,
                )
                ids.append(result_id)
        return ids
