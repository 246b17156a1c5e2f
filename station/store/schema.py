"""The SQLite schema as ordered migrations.

``PRAGMA user_version`` holds the number of migrations applied; opening a
database applies the missing ones in one transaction, after a backup copy (see
``SqliteStore``), so a database written by any earlier version opens in this
one with its data kept.  A shipped migration is never edited: a change is a new
migration appended to :data:`MIGRATIONS` (tests/store keeps a frozen copy of v1
and checks this).

The same versions number the PostgreSQL schema (:mod:`station.store.postgres.schema`):
a server database starts at that schema's baseline; a migration after it
gives its PostgreSQL statements in ``Migration.postgres`` and applies to both.

Guarantees written as triggers, so they hold whatever code writes:

- the audit log is append-only (erasing an athlete on request is the one
  deliberate exception: see :mod:`station.store.sql.erasure`);
- athletes, tests, analysis runs and raw recordings are never deleted;
- raw recordings, certificates and analysis runs are never modified (a
  recompute adds a run and moves the "current" mark; that mark is the only
  column of a run that may change); the one change a recording may take is
  the filling in of the bytes of one a joined station pulled without them
  (``absent``), with the same checksum.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass

APPLICATION_ID = 0x4E534442  # "NSDB": marks a file as a Nordic Station database

Step = str | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[Step, ...]
    # The same change on PostgreSQL (see station.store.postgres.schema); a migration
    # up to that schema's baseline has none: a new server database starts there.
    postgres: tuple[str, ...] = ()


def _forbid(table: str, event: str, message: str, columns: str = "") -> str:
    of = f" OF {columns}" if columns else ""
    return (
        f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event}{of} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    """CREATE TABLE athletes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    name_key TEXT NOT NULL,
    external_id TEXT UNIQUE,
    date_of_birth TEXT CHECK (date_of_birth IS NULL OR date(date_of_birth) IS date_of_birth),
    sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male', 'other')),
    sport TEXT,
    team TEXT,
    dominant_leg TEXT CHECK (dominant_leg IS NULL OR dominant_leg IN ('left', 'right')),
    lever_arm_m REAL CHECK (lever_arm_m IS NULL OR (lever_arm_m > 0 AND lever_arm_m <= 1)),
    notes TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    "CREATE INDEX athletes_by_name ON athletes (name_key)",
    "CREATE INDEX athletes_by_team ON athletes (team)",
    _forbid("athletes", "DELETE", "athletes are archived, never deleted"),
    """CREATE TABLE body_mass (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes (id),
    measured_on TEXT NOT NULL CHECK (date(measured_on) IS measured_on),
    kg REAL NOT NULL CHECK (kg > 0 AND kg <= 400),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
)""",
    "CREATE INDEX body_mass_by_athlete ON body_mass (athlete_id, measured_on)",
    """CREATE TABLE injuries (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes (id),
    side TEXT NOT NULL CHECK (side IN ('left', 'right', 'both')),
    occurred_on TEXT CHECK (occurred_on IS NULL OR date(occurred_on) IS occurred_on),
    note TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
)""",
    "CREATE INDEX injuries_by_athlete ON injuries (athlete_id)",
    """CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    device_serial TEXT,
    created TEXT,
    valid_until TEXT,
    data TEXT NOT NULL,
    imported_at TEXT NOT NULL
)""",
    _forbid("certificates", "UPDATE", "certificates are kept as issued"),
    _forbid("certificates", "DELETE", "certificates are never deleted"),
    """CREATE TABLE verifications (
    id INTEGER PRIMARY KEY,
    certificate_id INTEGER REFERENCES certificates (id),
    device_serial TEXT,
    performed_at TEXT NOT NULL,
    operator TEXT,
    passed INTEGER CHECK (passed IS NULL OR passed IN (0, 1)),
    data TEXT NOT NULL
)""",
    """CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size = length(data)),
    kind TEXT,
    stored_at TEXT NOT NULL,
    data BLOB NOT NULL
)""",
    _forbid("recordings", "UPDATE", "raw recordings are never modified"),
    _forbid("recordings", "DELETE", "raw recordings are never deleted"),
    """CREATE TABLE tests (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes (id),
    recorded_at TEXT NOT NULL,
    protocol TEXT NOT NULL,
    rig_serial TEXT,
    certificate_id INTEGER REFERENCES certificates (id),
    operator TEXT,
    notes TEXT NOT NULL DEFAULT '',
    sample_rate_hz REAL CHECK (sample_rate_hz IS NULL OR sample_rate_hz > 0),
    duration_s REAL,
    body_mass_kg REAL CHECK (body_mass_kg IS NULL OR (body_mass_kg > 0 AND body_mass_kg <= 400)),
    lever_arm_m REAL CHECK (lever_arm_m IS NULL OR (lever_arm_m > 0 AND lever_arm_m <= 1)),
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    analysis_version TEXT,
    analysis_settings TEXT,
    metrics TEXT
)""",
    "CREATE INDEX tests_by_athlete ON tests (athlete_id, recorded_at)",
    "CREATE INDEX tests_by_time ON tests (recorded_at)",
    _forbid("tests", "DELETE", "tests are never deleted"),
    _forbid("tests", "UPDATE", "a test keeps its raw recording", "recording_id"),
    """CREATE TABLE reps (
    id INTEGER PRIMARY KEY,
    test_id INTEGER NOT NULL REFERENCES tests (id),
    number INTEGER NOT NULL CHECK (number >= 1),
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    left_peak_n REAL,
    right_peak_n REAL,
    imbalance_pct REAL,
    excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
    exclusion_reason TEXT,
    excluded_by TEXT,
    excluded_at TEXT,
    CHECK (excluded = 0 OR (exclusion_reason IS NOT NULL AND excluded_by IS NOT NULL
                            AND excluded_at IS NOT NULL)),
    UNIQUE (test_id, number)
)""",
    """CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT
)""",
    "CREATE INDEX audit_by_entity ON audit_log (entity, entity_id)",
    _forbid("audit_log", "UPDATE", "the audit log is append-only"),
    _forbid("audit_log", "DELETE", "the audit log is append-only"),
    "INSERT INTO meta (key, value) VALUES ('pseudonym_secret', randomblob(32))",
    "INSERT INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    f"PRAGMA application_id = {APPLICATION_ID}",
)


def _move_metrics_to_results(conn: sqlite3.Connection) -> None:
    """v2: each test's single stored analysis becomes its first (current) run."""
    rows = conn.execute(
        "SELECT id, created_at, created_by, analysis_version, analysis_settings, metrics "
        "FROM tests WHERE metrics IS NOT NULL ORDER BY id"
    ).fetchall()
    for test_id, created_at, created_by, version, settings, metrics in rows:
        try:
            summary = json.dumps((json.loads(metrics) or {}).get("summary") or {})
        except (ValueError, AttributeError):
            summary = "{}"
        excluded = [
            number
            for (number,) in conn.execute(
                "SELECT number FROM reps WHERE test_id = ? AND excluded = 1 ORDER BY number",
                (test_id,),
            )
        ]
        conn.execute(
            "INSERT INTO results (test_id, created_at, created_by, reason, analysis_version, "
            "settings, metrics, summary, excluded, is_current) "
            "VALUES (?, ?, ?, 'migrated', ?, ?, ?, ?, ?, 1)",
            (
                test_id,
                created_at,
                created_by,
                version or "unknown",
                settings or "{}",
                metrics,
                summary,
                json.dumps(excluded),
            ),
        )


V2 = (
    # Small columns first: SQLite reads a row front to back, so lists and
    # exports that need only the summary never walk the big metrics text.
    """CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    test_id INTEGER NOT NULL REFERENCES tests (id),
    is_current INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    analysis_version TEXT NOT NULL,
    excluded TEXT NOT NULL DEFAULT '[]',
    curves_result_id INTEGER REFERENCES results (id),
    summary TEXT NOT NULL,
    settings TEXT NOT NULL,
    metrics TEXT NOT NULL
)""",
    "CREATE INDEX results_by_test ON results (test_id)",
    "CREATE UNIQUE INDEX results_one_current ON results (test_id) WHERE is_current = 1",
    _forbid("results", "DELETE", "analysis runs are never deleted"),
    _forbid(
        "results",
        "UPDATE",
        "analysis runs are never modified",
        "id, test_id, created_at, created_by, reason, analysis_version, settings, metrics, "
        "summary, excluded, curves_result_id",
    ),
    """CREATE TABLE curves (
    result_id INTEGER NOT NULL REFERENCES results (id),
    name TEXT NOT NULL,
    codec TEXT NOT NULL,
    length INTEGER NOT NULL CHECK (length >= 0),
    param REAL,
    data BLOB NOT NULL,
    PRIMARY KEY (result_id, name)
)""",
    _forbid("curves", "UPDATE", "stored curves are never modified"),
    _forbid("curves", "DELETE", "stored curves are never deleted"),
    _move_metrics_to_results,
    "ALTER TABLE tests DROP COLUMN metrics",
    "ALTER TABLE tests DROP COLUMN analysis_settings",
    "ALTER TABLE tests DROP COLUMN analysis_version",
)

V3 = (
    "ALTER TABLE tests ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1))",
    "ALTER TABLE tests ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]'",
    """CREATE TABLE pending_tests (
    id INTEGER PRIMARY KEY,
    athlete_id INTEGER NOT NULL REFERENCES athletes (id),
    file_name TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    started_by TEXT NOT NULL,
    protocol TEXT NOT NULL,
    rig_serial TEXT,
    certificate_id INTEGER REFERENCES certificates (id),
    operator TEXT,
    notes TEXT NOT NULL DEFAULT '',
    host TEXT,
    pid INTEGER,
    rate_hz REAL CHECK (rate_hz IS NULL OR rate_hz > 0)
)""",
)

V4 = (
    # A voided test (started by mistake, wrong athlete...) leaves lists, trends and
    # exports but keeps its raw recording and audit trail; a void can be undone.
    "ALTER TABLE tests ADD COLUMN voided INTEGER NOT NULL DEFAULT 0 CHECK (voided IN (0, 1))",
    "ALTER TABLE tests ADD COLUMN void_reason TEXT",
    "CREATE INDEX tests_by_athlete_valid ON tests (athlete_id, voided, recorded_at)",
)

V5 = (
    # When an athlete was erased (their name, birth date, notes, free text and raw
    # recordings removed on request); the row stays so their tests' numbers do.
    "ALTER TABLE athletes ADD COLUMN erased_at TEXT",
)

V6 = (
    # Injuries as structured records (issue 11 §2): muscle or region, grade, return to play.
    "ALTER TABLE injuries ADD COLUMN region TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE injuries ADD COLUMN grade TEXT",
    "ALTER TABLE injuries ADD COLUMN return_to_play TEXT "
    "CHECK (return_to_play IS NULL OR date(return_to_play) IS return_to_play)",
)

# Every record gets a UUID made where it is created (issue 13 §3), so a record
# copied between stations and a server is the same record everywhere.
UUID_TABLES = (
    "athletes",
    "body_mass",
    "injuries",
    "certificates",
    "verifications",
    "tests",
    "audit_log",
    "results",
    "pending_tests",
)


def _give_uuids(conn: sqlite3.Connection) -> None:
    """v7: a uuid column on every table of records, one made now for each existing row.

    SQLite cannot add a UNIQUE column, nor NOT NULL without a default: the
    column defaults to '' and a unique index and a trigger refusing '' hold
    the rule instead.
    """
    for table in UUID_TABLES:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN uuid TEXT NOT NULL DEFAULT ''")
        ids = [row[0] for row in conn.execute(f"SELECT id FROM {table}")]
        conn.executemany(
            f"UPDATE {table} SET uuid = ? WHERE id = ?",
            [(str(uuid.uuid4()), row_id) for row_id in ids],
        )
        conn.execute(f"CREATE UNIQUE INDEX {table}_by_uuid ON {table} (uuid)")
        conn.execute(
            f"CREATE TRIGGER {table}_needs_uuid BEFORE INSERT ON {table} "
            "WHEN length(NEW.uuid) != 36 BEGIN SELECT RAISE(ABORT, 'a record needs its uuid'); END"
        )


V7: tuple[Step, ...] = (
    # The triggers that forbid changes to these tables name their columns or none:
    # filling the new column is allowed only on the tables with no UPDATE guard.
    *(f"DROP TRIGGER {table}_no_update" for table in ("certificates", "audit_log")),
    "DROP TRIGGER results_no_update",
    _give_uuids,
    _forbid("certificates", "UPDATE", "certificates are kept as issued"),
    _forbid("audit_log", "UPDATE", "the audit log is append-only"),
    _forbid(
        "results",
        "UPDATE",
        "analysis runs are never modified",
        "id, uuid, test_id, created_at, created_by, reason, analysis_version, settings, "
        "metrics, summary, excluded, curves_result_id",
    ),
)

V8 = (
    # The isometric protocol's knee angle (0 = knee straight) and position (issue 15 §1):
    # tests of different protocols or angles are never compared.
    "ALTER TABLE tests ADD COLUMN knee_angle_deg REAL "
    "CHECK (knee_angle_deg IS NULL OR (knee_angle_deg >= 0 AND knee_angle_deg <= 180))",
    "ALTER TABLE tests ADD COLUMN position TEXT",
    "ALTER TABLE pending_tests ADD COLUMN knee_angle_deg REAL "
    "CHECK (knee_angle_deg IS NULL OR (knee_angle_deg >= 0 AND knee_angle_deg <= 180))",
    "ALTER TABLE pending_tests ADD COLUMN position TEXT",
)

# The one change a raw recording may take: the bytes of one pulled without them
# (``absent``) filled in, the row otherwise as it was (its SHA-256 is checked by
# the code that fills it, before: SQLite has no hash function of its own).
RECORDING_FILL = (
    "OLD.absent = 1 AND NEW.absent = 0 AND NEW.id = OLD.id AND NEW.sha256 = OLD.sha256 "
    "AND NEW.kind IS OLD.kind AND NEW.stored_at = OLD.stored_at "
    "AND length(NEW.data) > 0 AND NEW.size = length(NEW.data)"
)

ABSENT_INDEX = "CREATE INDEX recordings_absent ON recordings (id) WHERE absent = 1"

V9 = (
    # A joined station pulls the tests of its teams without their raw recordings
    # (megabytes each) and fetches those bytes only when needed (issue 14 §1): the
    # row is there (a test needs it) with its real SHA-256 and kind, no bytes.
    "ALTER TABLE recordings ADD COLUMN absent INTEGER NOT NULL DEFAULT 0 "
    "CHECK (absent IN (0, 1) AND (absent = 0 OR length(data) = 0))",
    # Which recordings are absent, from a small index (a scan of the table reads a
    # page per recording: each row of megabytes starts on a page of its own).
    ABSENT_INDEX,
    "DROP TRIGGER recordings_no_update",
    "CREATE TRIGGER recordings_no_update BEFORE UPDATE ON recordings "
    f"WHEN NOT ({RECORDING_FILL}) "
    "BEGIN SELECT RAISE(ABORT, 'raw recordings are never modified'); END",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "athletes, tests, reps, certificates, recordings, audit log", V1),
    Migration(2, "analysis runs kept as a history; curves stored per run", V2),
    Migration(3, "tests in progress (crash recovery); recovered flag; import warnings", V3),
    Migration(4, "tests can be voided with a reason (and the void undone)", V4),
    Migration(5, "athletes can be erased on request", V5),
    Migration(6, "injuries with region, grade and return to play", V6),
    Migration(7, "a UUID per record, made where it is created", V7),
    Migration(8, "tests carry the isometric knee angle and position", V8),
    Migration(
        9,
        "a joined station's pulled recordings may wait on the server (absent)",
        V9,
        postgres=(
            "ALTER TABLE recordings ADD COLUMN absent INTEGER NOT NULL DEFAULT 0 "
            "CHECK (absent IN (0, 1) AND (absent = 0 OR length(data) = 0))",
            ABSENT_INDEX,
            "DROP TRIGGER recordings_no_update ON recordings",
            # As ns_forbid (an erasure passes), but a recording's bytes may be filled in,
            # and only with bytes of its own SHA-256 (checked here too).
            f"""CREATE FUNCTION ns_fill_recording() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {RECORDING_FILL.replace("NEW.kind IS OLD.kind", "NEW.kind IS NOT DISTINCT FROM OLD.kind")}
       AND encode(sha256(NEW.data), 'hex') = NEW.sha256 THEN
        RETURN NEW;
    END IF;
    IF coalesce(current_setting('nordic_station.erasing', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$""",
            "CREATE TRIGGER recordings_no_update BEFORE UPDATE ON recordings FOR EACH ROW "
            "EXECUTE FUNCTION ns_fill_recording('raw recordings are never modified')",
        ),
    ),
)

CURRENT_VERSION = MIGRATIONS[-1].version


def apply(conn: sqlite3.Connection, from_version: int) -> int:
    """Run the migrations after ``from_version`` on ``conn`` (inside the caller's
    transaction) and set user_version; returns the new version."""
    for migration in MIGRATIONS[from_version:]:
        for step in migration.steps:
            if callable(step):
                step(conn)
            else:
                conn.execute(step)
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
    return CURRENT_VERSION
