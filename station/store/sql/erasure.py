"""Erasing an athlete: the one deliberate exception to "nothing is ever
changed or deleted" (the statements both engines share).

:func:`erase_rows` works on any schema version (the live database and the
copies in backups/ alike): with the guards of history lowered (the
engine's :meth:`Dialect.guards_down`), it removes the athlete's name, date
of birth, notes, every free text and the raw recordings only their tests
use and redacts the audit entries that hold their content, all in the
caller's transaction, so no other writer ever sees the guards down.  Each
backend then makes sure the old bytes are gone from its files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from station.store.errors import NotFoundError
from station.store.redact import ERASED, redact_record, scrub, secrets_of
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import DbConnection, Dialect
from station.store.sql.recorded_tests import ERASED_PREFIX
from station.store.sql.rows import compact_json

log = logging.getLogger(__name__)

ERASED_NAME = "erased athlete"


@dataclass
class Erased:
    """What an erasure removed (counts only: never the content)."""

    athlete_id: int
    tests: int = 0
    recordings: int = 0
    audit_entries: int = 0
    pending_files: list[str] = field(default_factory=list)
    discarded_files: list[str] = field(default_factory=list)
    compacted: bool = True


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def _secrets(conn: DbConnection, athlete_id: int, test_ids: list[int]) -> set[str]:
    """Every text held about the athlete, to find copies of it inside JSON."""
    values: list[Any] = list(
        conn.execute(
            "SELECT name, external_id, date_of_birth, notes FROM athletes WHERE id = ?",
            (athlete_id,),
        ).fetchone()
        or ()
    )
    values += [row[0] for row in conn.execute(
        "SELECT note FROM injuries WHERE athlete_id = ?", (athlete_id,)
    )]  # fmt: skip
    if test_ids:
        marks = _marks(len(test_ids))
        for notes, source in conn.execute(
            f"SELECT notes, source FROM tests WHERE id IN ({marks})", test_ids
        ):
            values += [notes, str(source).partition(":")[2]]
        values += [row[0] for row in conn.execute(
            f"SELECT exclusion_reason FROM reps WHERE test_id IN ({marks})", test_ids
        )]  # fmt: skip
    for before, after in conn.execute(
        "SELECT before, after FROM audit_log WHERE entity = 'athlete' AND entity_id = ?",
        (athlete_id,),
    ):
        for text in (before, after):
            part = json.loads(text) if text else None
            if isinstance(part, dict):
                values += [part.get(k) for k in ("name", "external_id", "notes", "note")]
    return secrets_of(values)


def _redact_metrics(text: str | None, secrets: set[str]) -> str | None:
    """An analysis result without exclusion reasons or any text holding the athlete's."""
    if text is None:
        return None
    try:
        metrics = json.loads(text)
    except ValueError:
        return json.dumps({})
    if isinstance(metrics, dict):
        for rep in metrics.get("reps") or []:
            if isinstance(rep, dict) and rep.get("exclusion_reason"):
                rep["exclusion_reason"] = ERASED
        if isinstance(metrics.get("excluded"), dict):
            metrics["excluded"] = {k: ERASED for k in metrics["excluded"]}
    return compact_json(scrub(metrics, secrets, ERASED))


def erase_rows(conn: DbConnection, dialect: Dialect, athlete_id: int, erased_at: str) -> Erased:
    """Erase one athlete's identifying content in ``conn``'s open transaction."""
    with dialect.guards_down(conn):
        return _erase_rows(conn, dialect, athlete_id, erased_at)


def _erase_rows(conn: DbConnection, dialect: Dialect, athlete_id: int, erased_at: str) -> Erased:
    tables = dialect.tables(conn)
    outcome = Erased(athlete_id)
    if (
        "athletes" not in tables
        or conn.execute("SELECT 1 FROM athletes WHERE id = ?", (athlete_id,)).fetchone() is None
    ):
        return outcome
    test_ids = [row[0] for row in conn.execute(
        "SELECT id FROM tests WHERE athlete_id = ? ORDER BY id", (athlete_id,)
    )]  # fmt: skip
    secrets = _secrets(conn, athlete_id, test_ids)
    athlete_columns = dialect.columns(conn, "athletes")
    # The team stays: on a clinic's server it is what lets the team's clinicians see the
    # erased row (row-level security), so the erasure reaches their stations' copies.
    sets = (
        "name = ?, name_key = ?, external_id = NULL, date_of_birth = NULL, notes = '', "
        "sport = NULL, archived = 1, updated_at = ?"
    )
    params: list[Any] = [ERASED_NAME, ERASED_NAME, erased_at]
    if "erased_at" in athlete_columns:
        sets += ", erased_at = ?"
        params.append(erased_at)
    conn.execute(f"UPDATE athletes SET {sets} WHERE id = ?", [*params, athlete_id])
    injury_sets = "note = ''"
    if "region" in dialect.columns(conn, "injuries"):  # schema 6: structured injuries
        injury_sets += ", region = '', grade = NULL"
    conn.execute(f"UPDATE injuries SET {injury_sets} WHERE athlete_id = ?", (athlete_id,))
    outcome.tests = len(test_ids)
    if test_ids:
        marks = _marks(len(test_ids))
        test_columns = dialect.columns(conn, "tests")
        extra = ""
        if "void_reason" in test_columns:
            extra += ", void_reason = CASE WHEN void_reason IS NULL THEN NULL ELSE ? END"
        conn.execute(
            f"UPDATE tests SET notes = ''{extra} WHERE id IN ({marks})",
            [*([ERASED] if extra else []), *test_ids],
        )
        # A source's detail after ":" (an imported file's name) may name the athlete.
        for test_id, source in conn.execute(
            f"SELECT id, source FROM tests WHERE id IN ({marks}) AND source LIKE '%:%'", test_ids
        ).fetchall():
            conn.execute(
                "UPDATE tests SET source = ? WHERE id = ?",
                (str(source).partition(":")[0], test_id),
            )
        if "metrics" in test_columns:  # schema 1 kept the analysis in the test row
            for test_id, metrics in conn.execute(
                f"SELECT id, metrics FROM tests WHERE id IN ({marks})", test_ids
            ).fetchall():
                conn.execute(
                    "UPDATE tests SET metrics = ? WHERE id = ?",
                    (_redact_metrics(metrics, secrets), test_id),
                )
        conn.execute(
            "UPDATE reps SET exclusion_reason = CASE WHEN exclusion_reason IS NULL THEN NULL "
            f"ELSE ? END WHERE test_id IN ({marks})",
            [ERASED, *test_ids],
        )
        if "results" in tables:
            for result_id, metrics in conn.execute(
                f"SELECT id, metrics FROM results WHERE test_id IN ({marks})", test_ids
            ).fetchall():
                conn.execute(
                    "UPDATE results SET metrics = ? WHERE id = ?",
                    (_redact_metrics(metrics, secrets), result_id),
                )
        # Raw recordings only this athlete's tests use (the same bytes may belong to
        # another athlete's test too: those stay).
        recordings = [row[0] for row in conn.execute(
            f"SELECT DISTINCT recording_id FROM tests WHERE id IN ({marks}) AND recording_id "
            "NOT IN (SELECT recording_id FROM tests WHERE athlete_id != ?) AND recording_id "
            "NOT IN (SELECT id FROM recordings WHERE sha256 LIKE ?)",
            [*test_ids, athlete_id, f"{ERASED_PREFIX}%"],
        )]  # fmt: skip
        # One pulled without its bytes (schema 9) is erased too: no longer waiting for them.
        absent = ", absent = 0" if "absent" in dialect.columns(conn, "recordings") else ""
        for recording_id in recordings:
            conn.execute(
                f"UPDATE recordings SET data = ?, size = 0, sha256 = ?{absent} WHERE id = ?",
                (b"", f"{ERASED_PREFIX}{recording_id}", recording_id),
            )
        outcome.recordings = len(recordings)
    if "pending_tests" in tables:
        outcome.pending_files = [row[0] for row in conn.execute(
            "SELECT file_name FROM pending_tests WHERE athlete_id = ?", (athlete_id,)
        )]  # fmt: skip
        conn.execute("DELETE FROM pending_tests WHERE athlete_id = ?", (athlete_id,))
    outcome.audit_entries, outcome.discarded_files = _redact_audit(conn, athlete_id, test_ids)
    return outcome


def _redact_audit(
    conn: DbConnection, athlete_id: int, test_ids: list[int]
) -> tuple[int, list[str]]:
    """Redact the audit entries that hold the athlete's content; returns how many,
    and the discarded recordings their tests in progress left."""
    rows = conn.execute(
        "SELECT id, entity, entity_id, before, after FROM audit_log WHERE "
        "(entity = 'athlete' AND entity_id = ?) OR entity = 'pending'"
        + (
            f" OR (entity IN ('test', 'rep') AND entity_id IN ({_marks(len(test_ids))}))"
            if test_ids
            else ""
        ),
        [athlete_id, *test_ids],
    ).fetchall()
    # Entries about tests in progress name their athlete inside the JSON only.
    rows = [row for row in rows if row[1] != "pending" or _about(row[3], row[4], athlete_id)]
    discarded: list[str] = []
    for entry_id, entity, _, before, after in rows:
        old_before = json.loads(before) if before else None
        if entity == "pending" and isinstance(old_before, dict) and old_before.get("moved_to"):
            discarded.append(str(old_before["moved_to"]))
        conn.execute(
            "UPDATE audit_log SET before = ?, after = ? WHERE id = ?",
            (
                None if before is None else json.dumps(redact_record(old_before)),
                None if after is None else json.dumps(redact_record(json.loads(after))),
                entry_id,
            ),
        )
    return len(rows), discarded


def _about(before: str | None, after: str | None, athlete_id: int) -> bool:
    """Whether an audit entry's before or after names this athlete."""
    for text in (before, after):
        part = json.loads(text) if text else None
        if isinstance(part, dict) and part.get("athlete_id") == athlete_id:
            return True
    return False


def erase_and_audit(
    conn: DbConnection, dialect: Dialect, athlete_id: int, reason: str, actor: str, at: str
) -> Erased:
    """(in ``conn``'s transaction) erase the athlete and audit that it happened:
    who, when and why, never what was erased."""
    if conn.execute("SELECT 1 FROM athletes WHERE id = ?", (athlete_id,)).fetchone() is None:
        raise NotFoundError(f"no athlete {athlete_id}")
    test_ids = [row[0] for row in conn.execute(
        "SELECT id FROM tests WHERE athlete_id = ?", (athlete_id,)
    )]  # fmt: skip
    # The reason is kept, unless it repeats what is being erased.
    reason = scrub(reason, _secrets(conn, athlete_id, test_ids), ERASED)
    outcome = erase_rows(conn, dialect, athlete_id, at)
    write_audit(
        conn,
        actor,
        at,
        AuditRecord(
            "athlete",
            athlete_id,
            "erase",
            None,
            {
                "reason": reason,
                "tests": outcome.tests,
                "recordings_erased": outcome.recordings,
                "audit_entries_redacted": outcome.audit_entries,
            },
        ),
    )
    return outcome


def log_erased(outcome: Erased) -> None:
    """Log an erasure by numbers only (never what was erased)."""
    log.info(
        "athlete %d erased: %d test(s), %d recording(s), %d audit entries redacted",
        outcome.athlete_id,
        outcome.tests,
        outcome.recordings,
        outcome.audit_entries,
    )
