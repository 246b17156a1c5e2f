"""The database file: created private, never overwritten when it is not ours,
upgraded from old versions with its data kept, guarded by triggers."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from firmware_bridge.errors import InputError
from station import paths
from station.store import DatabaseFileError, SqliteStore, Store, open_store, schema
from tests.store import schema_v1, synth
from tests.store.conftest import RawSql


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only("file mode, WAL and pragmas of the SQLite file")
def test_new_database_is_owner_only_with_wal_and_foreign_keys(home: Path) -> None:
    with open_store() as store:
        store.add_athlete("A")
        db = paths.database_path(home)
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        wal = db.with_name(db.name + "-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
        conn = store.backend._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.CURRENT_VERSION
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "content",
    [os.urandom(8192), b"SQLite format 3\x00" + os.urandom(8192), b"not a database\n" * 10],
    ids=["random", "sqlite-header-then-garbage", "text"],
)
@pytest.mark.sqlite_only("a file that is not SQLite (PostgreSQL: test_postgres_opening.py)")
def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(
    home: Path, content: bytes
) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    db.write_bytes(content)
    with pytest.raises(DatabaseFileError, match="left untouched|not a usable database"):
        open_store()
    assert db.read_bytes() == content
    assert not db.with_name(db.name + "-wal").exists()


@pytest.mark.sqlite_only("another program's SQLite file (PostgreSQL: test_postgres_opening.py)")
def test_an_sqlite_database_of_another_program_is_refused_and_left_untouched(home: Path) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = _digest(db)
    with pytest.raises(DatabaseFileError, match="another program.*invoices"):
        open_store()
    assert _digest(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    assert conn.execute("SELECT total FROM invoices").fetchall() == [(12.5,)]
    conn.close()


@pytest.mark.sqlite_only("user_version of the SQLite file (PostgreSQL: test_postgres_opening.py)")
def test_a_database_from_a_newer_version_is_refused(home: Path) -> None:
    open_store().close()
    db = paths.database_path(home)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _digest(db)
    with pytest.raises(DatabaseFileError, match="newer Nordic Station"):
        open_store()
    assert _digest(db) == before


def test_an_empty_file_becomes_a_new_database(home: Path) -> None:
    home.mkdir(parents=True)
    paths.database_path(home).touch()
    with open_store() as store:
        assert store.add_athlete("A").id == 1


def test_the_shipped_first_migration_is_never_edited() -> None:
    assert schema.MIGRATIONS[0].steps == schema_v1.STATEMENTS
    assert [m.version for m in schema.MIGRATIONS] == list(range(1, schema.CURRENT_VERSION + 1))


def _make_v1_database(db: Path, blob: bytes) -> None:
    """A database exactly as version 1 of the station left it, built by hand."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in schema_v1.STATEMENTS:
        conn.execute(statement)
    at = "2024-03-01T09:00:00.000Z"
    conn.execute(
        "INSERT INTO athletes (id, name, name_key, external_id, date_of_birth, sex, sport, team, "
        "dominant_leg, lever_arm_m, notes, archived, created_at, updated_at) "
        "VALUES (7, 'Old Timer', 'old timer', 'OLD-7', '1990-05-01', 'male', 'rugby', 'Vets', "
        "'left', 0.4, 'kept since v1', 0, ?, ?)",
        (at, at),
    )
    conn.execute(
        "INSERT INTO body_mass (athlete_id, measured_on, kg, recorded_at, recorded_by) "
        "VALUES (7, '2024-02-28', 91.5, ?, 'clinician')",
        (at,),
    )
    conn.execute(
        "INSERT INTO injuries (athlete_id, side, occurred_on, note, recorded_at, recorded_by) "
        "VALUES (7, 'left', '2023-10-01', 'hamstring strain', ?, 'clinician')",
        (at,),
    )
    cert = synth.certificate()
    conn.execute(
        "INSERT INTO certificates "
        "(id, sha256, device_serial, created, valid_until, data, imported_at) "
        "VALUES (3, 'c3', 'NR-SIM-0001', NULL, NULL, ?, ?)",
        (json.dumps(cert), at),
    )
    conn.execute(
        "INSERT INTO recordings (id, sha256, size, kind, stored_at, data) "
        "VALUES (5, ?, ?, 'binary', ?, ?)",
        (hashlib.sha256(blob).hexdigest(), len(blob), at, blob),
    )
    metrics = {
        "summary": {"left": {"max_force_n": 301.0}, "right": {"max_force_n": 250.0}},
        "reps": [
            {"number": 1, "start_s": 4.0, "end_s": 7.8},
            {"number": 2, "start_s": 12.6, "end_s": 16.4},
        ],
        "flags": ["old_flag"],
    }
    conn.execute(
        "INSERT INTO tests (id, athlete_id, recorded_at, protocol, rig_serial, certificate_id, "
        "operator, notes, sample_rate_hz, duration_s, body_mass_kg, lever_arm_m, recording_id, "
        "source, created_at, created_by, analysis_version, analysis_settings, metrics) "
        "VALUES (11, 7, ?, 'nordic_eccentric', 'NR-SIM-0001', 3, 'Kim', 'baseline', 80.0, 27.0, "
        "91.5, 0.4, 5, 'import:old.bin', ?, 'clinician', 'analysis 0.9', '{}', ?)",
        (at, at, json.dumps(metrics)),
    )
    conn.execute(
        "INSERT INTO reps (test_id, number, start_s, end_s, left_peak_n, right_peak_n, "
        "imbalance_pct, excluded, exclusion_reason, excluded_by, excluded_at) VALUES "
        "(11, 1, 4.0, 7.8, 301.0, 250.0, 16.9, 0, NULL, NULL, NULL), "
        "(11, 2, 12.6, 16.4, 290.0, 240.0, 17.2, 1, 'heel lifted', 'Kim', ?)",
        (at,),
    )
    conn.execute(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after) "
        "VALUES (?, 'clinician', 'athlete', 7, 'create', NULL, '{\"name\": \"Old Timer\"}')",
        (at,),
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.sqlite_only("upgrades an SQLite file of schema 1 (a server starts at schema 7)")
def test_a_version_1_database_opens_with_its_data_kept(home: Path, capture_bytes: bytes) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    _make_v1_database(db, capture_bytes)

    with open_store() as store:
        assert store.backend.schema_version == schema.CURRENT_VERSION
        assert store.backend.migrated_from == 1
        # A backup of the v1 file was taken first, and it is still a v1 database.
        backup = store.backend.backup_path
        assert backup is not None and backup.parent == paths.backups_dir(home)
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        conn = sqlite3.connect(backup)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        conn.close()

        athlete = store.resolve_athlete("OLD-7")
        assert (athlete.id, athlete.name, athlete.team, athlete.lever_arm_m) == (
            7,
            "Old Timer",
            "Vets",
            0.4,
        )
        assert athlete.body_mass_kg == 91.5 and athlete.notes == "kept since v1"
        assert athlete.erased_at is None  # schema 5
        assert [i.note for i in store.injuries(7)] == ["hamstring strain"]

        test = store.get_test(11)
        assert test.recording_sha256 == hashlib.sha256(capture_bytes).hexdigest()
        assert store.recording(11) == capture_bytes
        assert test.recovered is False and test.warnings == ()
        assert (test.voided, test.void_reason) == (False, None)  # schema 4: valid by default
        assert test.result is not None and test.result.reason == "migrated"
        assert test.result.analysis_version == "analysis 0.9"
        assert test.result.metrics["flags"] == ["old_flag"]
        assert test.result.excluded == (2,)
        reps = store.reps(11)
        assert [(r.number, r.excluded, r.exclusion_reason) for r in reps] == [
            (1, False, None),
            (2, True, "heel lifted"),
        ]
        assert [e.action for e in store.audit_log("athlete", 7)] == ["create"]

        # The old test can be analysed again with today's analysis; both runs are kept.
        outcome = store.recompute(11)
        assert outcome.stored and outcome.old is not None and outcome.old.reason == "migrated"
        runs = store.results(11)
        assert [r.reason for r in runs] == ["migrated", "recompute"]
        assert [r.is_current for r in runs] == [False, True]
        assert store.reps(11)[1].excluded  # the exclusion carried over by time overlap
        # And new work goes on in the upgraded file.
        store.add_athlete("New One")

    with open_store() as store:  # opening again does not migrate or back up again
        assert store.backend.migrated_from is None
        assert len(store.list_athletes()) == 2


@pytest.mark.sqlite_only("upgrades an SQLite file of schema 1 (a server starts at schema 7)")
def test_a_failed_upgrade_changes_nothing(home: Path, capture_bytes: bytes, monkeypatch) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    _make_v1_database(db, capture_bytes)

    def broken(conn: sqlite3.Connection) -> None:
        raise RuntimeError("disk on fire")

    steps = list(schema.MIGRATIONS[1].steps)
    steps.insert(steps.index(schema._move_metrics_to_results) + 1, broken)
    migrations = list(schema.MIGRATIONS)
    migrations[1] = schema.Migration(2, "broken", tuple(steps))
    monkeypatch.setattr(schema, "MIGRATIONS", tuple(migrations))
    with pytest.raises(RuntimeError, match="disk on fire"):
        open_store()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT metrics IS NOT NULL FROM tests WHERE id = 11").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'results'").fetchone() == (
        0,
    )
    conn.close()


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE audit_log SET actor = 'someone else'", "the audit log is append-only"),
        ("DELETE FROM audit_log", "the audit log is append-only"),
        ("DELETE FROM tests", "tests are never deleted"),
        ("DELETE FROM athletes", "athletes are archived, never deleted"),
        ("UPDATE recordings SET data = ?", "raw recordings are never modified"),
        ("DELETE FROM recordings", "raw recordings are never deleted"),
        ("UPDATE results SET metrics = '{}'", "analysis runs are never modified"),
        ("DELETE FROM results", "analysis runs are never deleted"),
        ("UPDATE curves SET data = ?", "stored curves are never modified"),
        ("UPDATE certificates SET data = '{}'", "certificates are kept as issued"),
        ("UPDATE tests SET recording_id = 99", "a test keeps its raw recording"),
    ],
)
def test_triggers_keep_history_whatever_code_writes(
    store: Store,
    athlete,
    capture_file: Path,
    cert_file: Path,
    raw_sql: RawSql,
    statement: str,
    reason: str,
) -> None:
    test = store.import_test(athlete.id, capture_file, certificate=cert_file)
    before = _counts(store)
    # Any other writer, not the store's own code; the trigger's own message, not
    # some other constraint that happened to fail.
    with pytest.raises(raw_sql.integrity_errors, match=reason):
        raw_sql.execute(statement, (b"\x00",) if "?" in statement else ())
    assert store.backend.integrity_check() == []
    assert _counts(store) == before
    assert store.recording(test.id) == capture_file.read_bytes()
    assert store.get_test(test.id).result == test.result


def test_the_current_mark_is_the_one_thing_a_run_may_change(
    store: Store, athlete, capture_file, cert_file, raw_sql: RawSql
) -> None:
    test = store.import_test(athlete.id, capture_file, certificate=cert_file)
    raw_sql.execute("UPDATE results SET is_current = 0 WHERE test_id = ?", (test.id,))
    assert store.get_test(test.id).result is None


def test_sql_is_parameterised(store: Store) -> None:
    name = "Robert'); DROP TABLE athletes;--"
    created = store.add_athlete(name, external_id="x' OR '1'='1", team="%_\\")
    assert store.get_athlete(created.id).name == name
    assert [a.id for a in store.list_athletes("drop table")] == [created.id]
    assert [a.id for a in store.list_athletes("%")] == []  # LIKE wildcards are escaped
    assert store.resolve_athlete("x' OR '1'='1").id == created.id
    assert [a.id for a in store.list_athletes(team="%_\\")] == [created.id]


def test_a_failure_inside_a_transaction_leaves_nothing_half_written(
    store: Store, athlete, capture_file: Path, cert_file: Path, monkeypatch
) -> None:
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(store.backend), "_insert_reps", staticmethod(fail))
    counts_before = _counts(store)
    with pytest.raises(OSError, match="disk full"):
        store.import_test(athlete.id, capture_file, certificate=cert_file)
    assert _counts(store) == counts_before

    monkeypatch.setattr(type(store.backend), "_insert_body_mass", staticmethod(fail))
    with pytest.raises(OSError):
        store.add_athlete("Half Written", body_mass_kg=70)
    assert [a.name for a in store.list_athletes()] == ["Ada Lovelace"]
    assert _counts(store) == counts_before


def _counts(store: Store) -> dict[str, int]:
    tables = [
        "athletes",
        "tests",
        "recordings",
        "results",
        "curves",
        "reps",
        "audit_log",
        "certificates",
    ]
    return {t: store.backend._one(f"SELECT count(*) FROM {t}")[0] for t in tables}


def test_damage_found_later_is_a_clear_error(
    store: Store, athlete, capture_file, cert_file, raw_sql: RawSql
) -> None:
    test = store.import_test(athlete.id, capture_file, certificate=cert_file)
    # Flip the stored bytes behind the store's back (triggers off for this forgery).
    if raw_sql.engine == "sqlite":
        raw_sql.execute("DROP TRIGGER recordings_no_update")
        raw_sql.execute("UPDATE recordings SET data = zeroblob(length(data))")
    else:
        raw_sql.execute("ALTER TABLE recordings DISABLE TRIGGER recordings_no_update")
        raw_sql.execute("UPDATE recordings SET data = decode(repeat('00', length(data)), 'hex')")
        # The server's own check looks at the checksums too.
        assert store.backend.integrity_check() == [
            f"recording {test.id} does not match its checksum"
        ]
    with pytest.raises(DatabaseFileError, match="does not match its checksum"):
        store.recording(test.id)


def test_the_data_folder_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        Store.open(target)


def test_both_backends_implement_the_backend_protocol() -> None:
    """SQLite and PostgreSQL implement the same protocol: keep them honest."""
    import inspect

    from station.store import Backend
    from station.store.postgres import PostgresStore

    for name, member in vars(Backend).items():
        if name.startswith("_") or not callable(member):
            continue
        for backend in (SqliteStore, PostgresStore):
            ours = getattr(backend, name, None)
            assert ours is not None, f"{backend.__name__} lacks {name}"
            assert list(inspect.signature(ours).parameters) == list(
                inspect.signature(member).parameters
            ), (backend.__name__, name)
