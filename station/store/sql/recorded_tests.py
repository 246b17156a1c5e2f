"""Tests and their raw recordings (SQLite).

A test is committed whole: recording, metadata, first analysis run, curves
and reps in one transaction.  Recordings are content-addressed (the same
bytes imported twice are stored once) and checked against their hash when
read back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from station.store.errors import (
    ConflictError,
    DatabaseFileError,
    NotFoundError,
    RecordingAbsentError,
)
from station.store.models import NewTest, TestChanges, TestRecord, TestSummary
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import DbConnection, new_id
from station.store.sql.certificates import certificate_id
from station.store.sql.results import RESULT, Prepared, Results, insert_result
from station.store.sql.rows import Shape, json_tuple, new_uuid, only, sha256
from station.store.validate import now_utc

ERASED_PREFIX = "erased-"  # the "hash" of a recording erased on request
# Whether test t's recording was pulled without its bytes, and "not so", both from the
# small index of absent rows (read once per statement).
ABSENT_TEST = "t.recording_id IN (SELECT id FROM recordings WHERE absent = 1)"
HERE = "t.recording_id NOT IN (SELECT id FROM recordings WHERE absent = 1)"
TEST_COLUMNS = frozenset(
    {
        "athlete_id",
        "recorded_at",
        "operator",
        "notes",
        "body_mass_kg",
        "lever_arm_m",
        "rig_serial",
        "knee_angle_deg",  # an isometric test's, corrected after saving (test edit)
        "position",
    }
)
TEST_FIELDS = (
    "athlete_id",
    "recorded_at",
    "protocol",
    "rig_serial",
    "certificate_id",
    "operator",
    "notes",
    "sample_rate_hz",
    "duration_s",
    "body_mass_kg",
    "lever_arm_m",
    "knee_angle_deg",
    "position",
)
# Every column of a new test row, in the order of :func:`new_test_row`.
INSERT_COLUMNS = (
    *TEST_FIELDS,
    "recording_id",
    "source",
    "created_at",
    "created_by",
    "recovered",
    "warnings",
    "uuid",
)
TEST = Shape(
    TestRecord,
    "tests t JOIN recordings r ON r.id = t.recording_id",
    [
        *((name, f"t.{name}") for name in ("id", *TEST_FIELDS, "source", "recovered")),
        ("recording_sha256", "r.sha256"),
        ("recording_size", "r.size"),
        ("recording_kind", "r.kind"),
        ("created_at", "t.created_at"),
        ("warnings", "t.warnings"),
        ("voided", "t.voided"),
        ("void_reason", "t.void_reason"),
        ("uuid", "t.uuid"),
        ("recording_absent", ABSENT_TEST),
    ],
    {"recovered": bool, "warnings": json_tuple, "voided": bool, "recording_absent": bool},
)


def _summary(text: str | None) -> dict[str, Any]:
    return (json.loads(text) or {}).get("summary", {}) if text else {}


SUMMARY_TEST_FIELDS = (
    "id",
    "athlete_id",
    "recorded_at",
    "protocol",
    "rig_serial",
    "operator",
    "recovered",
    "sample_rate_hz",
    "duration_s",
    "knee_angle_deg",
    "position",
    "body_mass_kg",
)
SUMMARY = Shape(
    TestSummary,
    "tests t LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1",
    [
        *((name, f"t.{name}") for name in SUMMARY_TEST_FIELDS),
        ("analysis_version", "r.analysis_version"),
        ("summary", "r.summary"),
        ("reps", "(SELECT count(*) FROM reps p WHERE p.test_id = t.id)"),
        (
            "excluded_reps",
            "(SELECT count(*) FROM reps p WHERE p.test_id = t.id AND p.excluded = 1)",
        ),
        ("voided", "t.voided"),
        ("void_reason", "t.void_reason"),
        ("uuid", "t.uuid"),
    ],
    {"recovered": bool, "summary": _summary, "voided": bool},
)


def new_test_row(
    test: NewTest,
    recording_id: int,
    certificate_id: int | None,
    actor: str,
    at: str,
) -> tuple[Any, ...]:
    """The values of a new test row, in the order of :data:`INSERT_COLUMNS`."""
    return (
        test.athlete_id,
        test.recorded_at,
        test.protocol,
        test.rig_serial,
        certificate_id,
        test.operator,
        test.notes,
        test.sample_rate_hz,
        test.duration_s,
        test.body_mass_kg,
        test.lever_arm_m,
        test.knee_angle_deg,
        test.position,
        recording_id,
        test.source,
        at,
        actor,
        int(test.recovered),
        json.dumps(list(test.warnings), ensure_ascii=False),
        test.uuid or new_uuid(),
    )


def recording_id(
    conn: DbConnection, data: bytes, kind: str | None, at: str, digest_hex: str
) -> int:
    """Content-addressed: the same bytes imported twice are stored once (and bytes a
    pulled test's recording was waiting for fill it in)."""
    row = conn.execute(
        "SELECT id, absent FROM recordings WHERE sha256 = ?", (digest_hex,)
    ).fetchone()
    if row is not None:
        if row[1]:
            fill_recording(conn, int(row[0]), digest_hex, data)
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO recordings (sha256, size, kind, stored_at, data) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        (digest_hex, len(data), kind, at, data),
    )
    return new_id(cursor)


def fill_recording(conn: DbConnection, recording_id: int, digest_hex: str, data: bytes) -> bool:
    """Fill in the bytes of a recording pulled without them (in ``conn``'s transaction);
    False when it was not waiting for them (filled meanwhile, erased).  The bytes must
    be those of its SHA-256: anything else is refused before a byte is written."""
    if not data or sha256(data) != digest_hex:
        raise DatabaseFileError(
            f"the bytes given for raw recording {digest_hex[:12]}... do not match its checksum: "
            "nothing was written"
        )
    cursor = conn.execute(
        "UPDATE recordings SET data = ?, size = ?, absent = 0 "
        "WHERE id = ? AND sha256 = ? AND absent = 1",
        (data, len(data), recording_id, digest_hex),
    )
    return bool(cursor.rowcount)


def _sha256_meanwhile(data: bytes) -> Callable[[], str]:
    """Hash a big recording on another core while the curves are encoded
    (hashlib releases the GIL); returns a function that waits for the digest."""
    if len(data) < 1 << 20:
        digest_hex = sha256(data)
        return lambda: digest_hex
    box: list[str] = []
    worker = threading.Thread(target=lambda: box.append(sha256(data)), daemon=True)
    worker.start()

    def result() -> str:
        worker.join()
        return box[0]

    return result


def _test_audit(test: NewTest, certificate_id: int | None, sha: str) -> dict[str, Any]:
    return {
        "athlete_id": test.athlete_id,
        "recorded_at": test.recorded_at,
        "protocol": test.protocol,
        "rig_serial": test.rig_serial,
        "certificate_id": certificate_id,
        "operator": test.operator,
        "notes": test.notes,
        "sample_rate_hz": test.sample_rate_hz,
        "duration_s": test.duration_s,
        "body_mass_kg": test.body_mass_kg,
        "lever_arm_m": test.lever_arm_m,
        "knee_angle_deg": test.knee_angle_deg,
        "position": test.position,
        "source": test.source,
        "recovered": test.recovered,
        "recording_sha256": sha,
        "recording_size": len(test.recording),
        "warnings": list(test.warnings),
        "analysis_version": test.result.analysis_version,
    }


class RecordedTests(Results):
    def save_test(self, test: NewTest, actor: str) -> int:
        """Commit a whole test (recording, metadata, analysis run, curves, reps) at once.

        With ``pending_id`` the in-progress entry is removed in the same
        transaction, so a test is either pending or committed, never both or neither.
        """
        at = now_utc()
        digest_of = _sha256_meanwhile(test.recording)
        prepared = Prepared.of(
            test.result, test.sample_rate_hz, compress=self.dialect.compress_curves
        )
        digest_hex = digest_of()
        with self._write() as conn:
            self._require(conn, "athletes", test.athlete_id, "athlete")
            if test.pending_id is not None:
                gone = conn.execute("DELETE FROM pending_tests WHERE id = ?", (test.pending_id,))
                if gone.rowcount != 1:
                    raise ConflictError(
                        f"test in progress {test.pending_id} was already saved or discarded"
                    )
            recording = recording_id(conn, test.recording, test.recording_kind, at, digest_hex)
            certificate = (
                None
                if test.certificate is None
                else certificate_id(conn, test.certificate, actor, at)
            )
            cursor = conn.execute(
                f"INSERT INTO tests ({', '.join(INSERT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)}) RETURNING id",
                new_test_row(test, recording, certificate, actor, at),
            )
            test_id = new_id(cursor)
            insert_result(conn, test_id, prepared, actor, at)
            self._insert_reps(conn, test_id, test.reps)
            write_audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "test",
                    test_id,
                    "recover" if test.recovered else "create",
                    None,
                    _test_audit(test, certificate, digest_hex),
                ),
            )
        return test_id

    def get_test(self, test_id: int) -> TestRecord | None:
        with self._read() as conn:
            row = conn.execute(TEST.sql + "WHERE t.id = ?", (test_id,)).fetchone()
            if row is None:
                return None
            result = conn.execute(
                RESULT.sql + "WHERE test_id = ? AND is_current = 1", (test_id,)
            ).fetchone()
        return TEST.make(row, result=None if result is None else RESULT.make(result))

    def list_tests(
        self, athlete_id: int, limit: int | None = None, include_voided: bool = False
    ) -> list[TestSummary]:
        """An athlete's tests, newest first, with each one's current summary
        (voided tests only with ``include_voided``)."""
        valid = "" if include_voided else " AND t.voided = 0"
        sql = SUMMARY.sql + f"WHERE t.athlete_id = ?{valid} ORDER BY t.recorded_at DESC, t.id DESC"
        params: list[Any] = [athlete_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return SUMMARY.many(self._all(sql, params))

    def latest_tests(
        self, team: str | None = None, include_voided: bool = False
    ) -> dict[int, TestSummary]:
        """Each athlete's newest test with its current summary, by athlete id, in one query.

        Athletes as :meth:`list_athletes` picks them (not archived; ``team``
        ignoring case); the newest as :meth:`list_tests` orders them (voided
        tests skipped unless ``include_voided``; training sessions always).  Athletes
        without a test are left out.
        """
        team_clause = "" if team is None else " AND lower(a.team) = lower(?)"
        valid = "" if include_voided else " AND n.voided = 0"
        valid += " AND n.protocol != 'training'"  # training sessions are not tests
        # One index probe an athlete (tests_by_athlete_valid), not a ranking of every test.
        newest = (
            f"SELECT (SELECT n.id FROM tests n WHERE n.athlete_id = a.id{valid} "
            "ORDER BY n.recorded_at DESC, n.id DESC LIMIT 1) "
            f"FROM athletes a WHERE a.archived = 0{team_clause}"
        )
        sql = SUMMARY.sql + f"WHERE t.id IN ({newest}) ORDER BY t.athlete_id"
        params: list[Any] = [] if team is None else [team]
        return {test.athlete_id: test for test in SUMMARY.many(self._all(sql, params))}

    def set_voided(self, test_id: int, voided: bool, reason: str, actor: str) -> bool:
        """Void a test (or undo the void) with a reason, audited; False when it
        already was in that state."""
        at = now_utc()
        with self._write() as conn:
            row = conn.execute(
                "SELECT voided, void_reason FROM tests WHERE id = ?", (test_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no test {test_id}")
            if bool(row[0]) == voided:
                return False
            conn.execute(
                "UPDATE tests SET voided = ?, void_reason = ? WHERE id = ?",
                (int(voided), reason if voided else None, test_id),
            )
            write_audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "test",
                    test_id,
                    "void" if voided else "unvoid",
                    {"voided": bool(row[0]), "void_reason": row[1]},
                    {"voided": voided, "reason": reason},
                ),
            )
        return True

    def test_ids(self) -> list[int]:
        """Every test whose raw recording is here (not erased, not waiting on the
        clinic's server), oldest first."""
        rows = self._all(
            "SELECT t.id FROM tests t JOIN recordings r ON r.id = t.recording_id "
            f"WHERE r.sha256 NOT LIKE ? AND {HERE} ORDER BY t.id",
            (f"{ERASED_PREFIX}%",),
        )
        return [row[0] for row in rows]

    def update_test(self, test_id: int, fields: TestChanges, actor: str) -> bool:
        """Change a test's descriptive fields (notes, operator, athlete...), audited."""
        changes = fields.given()
        only(changes, TEST_COLUMNS, "test")
        at = now_utc()
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {', '.join(changes)} FROM tests WHERE id = ?",
                (test_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no test {test_id}")
            before = dict(zip(changes, row, strict=True))
            changed = {k: v for k, v in changes.items() if before[k] != v}
            if not changed:
                return False
            if "athlete_id" in changed:
                self._require(conn, "athletes", changed["athlete_id"], "athlete")
            conn.execute(
                f"UPDATE tests SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
                [*changed.values(), test_id],
            )
            write_audit(
                conn,
                actor,
                at,
                AuditRecord("test", test_id, "update", {k: before[k] for k in changed}, changed),
            )
        return True

    def recording(self, test_id: int) -> tuple[bytes, str | None, str]:
        """The raw bytes of a test's recording, checked against their stored hash."""
        row = self._one(
            "SELECT r.data, r.kind, r.sha256, r.absent FROM tests t "
            "JOIN recordings r ON r.id = t.recording_id WHERE t.id = ?",
            (test_id,),
        )
        if row is None:
            raise NotFoundError(f"no test {test_id}")
        if row[3] and not str(row[2]).startswith(ERASED_PREFIX):
            raise RecordingAbsentError(test_id)
        data = bytes(row[0])
        if str(row[2]).startswith(ERASED_PREFIX):
            raise NotFoundError(
                f"the raw recording of test {test_id} was erased with its athlete's data"
            )
        if sha256(data) != row[2]:
            raise DatabaseFileError(
                f"the raw recording of test {test_id} does not match its checksum: "
                "the database is damaged; restore it from a backup"
            )
        return data, row[1], row[2]

    def tests_with_recording(self, digest_hex: str) -> list[int]:
        """Tests whose raw recording has this SHA-256 (an import done twice)."""
        rows = self._all(
            "SELECT t.id FROM tests t JOIN recordings r ON r.id = t.recording_id "
            "WHERE r.sha256 = ? ORDER BY t.id",
            (digest_hex,),
        )
        return [row[0] for row in rows]

    def absent_recordings(self) -> list[int]:
        """Tests whose raw recording waits on the clinic's server (pulled without its
        bytes by a joined station), oldest first."""
        rows = self._all(
            f"SELECT t.id FROM tests t JOIN recordings r ON r.id = t.recording_id "
            f"WHERE {ABSENT_TEST} AND r.sha256 NOT LIKE ? ORDER BY t.id",
            (f"{ERASED_PREFIX}%",),
        )
        return [row[0] for row in rows]

    def recording_exists(self, digest_hex: str) -> bool:
        """Whether these bytes are stored here (not only their checksum, as for a
        recording a joined station pulled without them)."""
        row = self._one("SELECT 1 FROM recordings WHERE sha256 = ? AND absent = 0", (digest_hex,))
        return row is not None
