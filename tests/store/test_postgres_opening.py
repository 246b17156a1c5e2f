"""Opening a server database (created at the current schema; another program's or a
newer one refused untouched), choosing a backend by location, and the UUID every
record gets where it is created (on both engines)."""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from station import paths
from station.store import DatabaseFileError, SqliteStore, Store, StoreError, open_store, schema
from station.store.database_choice import masked
from station.store.locations import open_backend
from station.store.postgres import PostgresStore
from station.store.postgres import schema as pg_schema
from tests.store.conftest import RawSql
from tests.store.test_database import _make_v1_database

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _tables(url: str) -> dict[str, int]:
    """Every table of the URL's schema with its row count."""
    with psycopg.connect(url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY table_name"
            )
        ]
        return {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


@pytest.mark.postgres_only
def test_a_new_server_database_is_created_at_the_current_schema(pg_url: str) -> None:
    backend = PostgresStore(pg_url)
    try:
        assert backend.schema_version == schema.CURRENT_VERSION >= pg_schema.BASELINE_VERSION
        assert backend.migrated_from is None and backend.integrity_check() == []
        assert len(backend.pseudonym_secret()) == 32
    finally:
        backend.close()
    assert set(_tables(pg_url)) == pg_schema.TABLES
    with psycopg.connect(pg_url) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        # The columns another developer's migration adds on SQLite are in the baseline.
        knee = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE "
            "table_schema = current_schema() AND column_name = 'knee_angle_deg' ORDER BY 1"
        ).fetchall()
        public = conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'audit_log' AND grantee = 'PUBLIC'"
        ).fetchall()
    assert bytes(meta["application_id"]).decode() == str(schema.APPLICATION_ID)
    assert bytes(meta["schema_version"]).decode() == str(schema.CURRENT_VERSION)
    assert knee == [("pending_tests",), ("tests",)]
    assert public == []
    reopened = PostgresStore(pg_url)  # opening again changes nothing
    assert (reopened.migrated_from, reopened.schema_version) == (None, schema.CURRENT_VERSION)
    reopened.close()


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (["CREATE TABLE invoices (id int)", "INSERT INTO invoices VALUES (1)"], "another program"),
        (
            [
                "CREATE TABLE meta (key text, value bytea)",
                "INSERT INTO meta VALUES ('application_id', '\\x31'::bytea)",
            ],
            "another program",
        ),  # fmt: skip
    ],
    ids=["other-tables", "other-meta"],
)
def test_a_database_of_another_program_is_refused_and_left_untouched(
    pg_url: str, setup: list[str], message: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in setup:
            conn.execute(statement)
    before = _tables(pg_url)
    with pytest.raises(DatabaseFileError, match=f"{message}.*left untouched"):
        PostgresStore(pg_url)
    assert _tables(pg_url) == before


@pytest.mark.postgres_only
def test_a_database_from_a_newer_version_is_refused_untouched(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    newer = str(schema.CURRENT_VERSION + 1).encode()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (newer,))
    before = _tables(pg_url)
    with pytest.raises(DatabaseFileError, match="newer Nordic Station.*install the newer"):
        PostgresStore(pg_url)
    assert _tables(pg_url) == before


@pytest.mark.postgres_only
def test_the_password_is_never_shown_or_logged(
    pg_url: str, caplog: pytest.LogCaptureFixture, home: Path
) -> None:
    secret_url = pg_url.replace("postgres:@", "postgres:Tr0ub4dor@")  # trust auth ignores it
    caplog.set_level(logging.DEBUG)
    with Store.open(home, database=secret_url, actor="t") as store:
        store.athletes.add("Someone")
        assert store.path is None
        assert store.backend.location == masked(secret_url) and "***" in store.backend.location
    assert "Tr0ub4dor" not in caplog.text
    assert "store opened on postgresql://postgres:***@" in caplog.text


def test_masked_hides_passwords_wherever_they_are_given() -> None:
    assert masked("postgresql://kim:pa:ss@db.example:5433/ns") == (
        "postgresql://kim:***@db.example:5433/ns"
    )
    assert masked("postgres://kim@db/ns?password=x&sslmode=require") == (
        "postgres://kim@db/ns?password=***&sslmode=require"
    )
    assert masked("postgresql://db/ns") == "postgresql://db/ns"


def test_a_location_picks_its_backend(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NORDIC_STATION_DATABASE", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    explicit = tmp_path / "elsewhere" / "clinic.sqlite3"
    cases = [
        (None, SqliteStore, paths.database_path(folder)),
        (str(tmp_path / "other"), SqliteStore, paths.database_path(tmp_path / "other")),
        (f"sqlite:///{explicit}", SqliteStore, explicit),  # sqlite:////abs: absolute
    ]
    for location, kind, path in cases:
        backend = open_backend(location, folder)
        try:
            assert isinstance(backend, kind) and backend.path == path, location
        finally:
            backend.close()
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        backend = open_backend(url, folder)
        try:
            assert isinstance(backend, PostgresStore)
        finally:
            backend.close()
    with pytest.raises(StoreError, match="unknown kind of database mysql://"):
        open_backend("mysql://db/ns", folder)
    with pytest.raises(StoreError, match="names no file: write sqlite:///PATH"):
        open_backend("sqlite://host/file.sqlite3", folder)


def test_the_environment_names_the_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("NORDIC_STATION_DATABASE", f"sqlite:///{target}")
    with Store.open(tmp_path / "folder", actor="t") as store:
        assert store.path == target


def test_every_record_gets_its_own_uuid_where_it_is_created(
    store: Store, athlete, capture_file: Path, cert_file: Path, raw_sql: RawSql
) -> None:
    store.athletes.add_injury(athlete.id, "left", "2024-02-01", "strain")
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    store.runs.exclude_rep(test.id, 1, "slipped")
    pending = store.live.begin(athlete.id, certificate=cert_file)
    checked = store.certificates.add_verification(
        {"mass_kg": 20.0}, certificate_id=test.certificate_id
    )
    seen: list[str] = []
    for table in schema.UUID_TABLES:
        rows = raw_sql.execute(f"SELECT uuid FROM {table}").fetchall()
        assert rows, f"no {table} row made"
        seen += [row[0] for row in rows]
    assert all(UUID.match(value) for value in seen) and len(set(seen)) == len(seen)
    # The records carry it.
    again = store.tests.get(test.id)
    assert again.uuid in seen and again.result is not None and again.result.uuid in seen
    assert store.athletes.get(athlete.id).uuid in seen
    assert store.tests.of_athlete(athlete.id)[0].uuid == again.uuid
    assert store.athletes.injuries(athlete.id)[0].uuid in seen
    assert all(entry.uuid in seen for entry in store.audit_log())
    assert store.recovery.pending()[0].uuid in seen
    assert checked.uuid in seen and store.certificates.get(test.certificate_id).uuid in seen
    store.live.abort(pending)
    # A record without one is refused, whoever writes it.
    with pytest.raises(raw_sql.integrity_errors, match="uuid"):
        raw_sql.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, uuid) "
            "VALUES ('2024-01-01T00:00:00.000Z', 'x', 'test', 1, 'poke', '')"
        )


@pytest.mark.sqlite_only("upgrades an SQLite file of schema 1")
def test_an_upgrade_gives_every_existing_record_a_uuid(home: Path, capture_bytes: bytes) -> None:
    home.mkdir(parents=True)
    _make_v1_database(paths.database_path(home), capture_bytes)
    with open_store() as store:
        assert store.backend.migrated_from == 1
    conn = sqlite3.connect(paths.database_path(home))
    try:
        for table in schema.UUID_TABLES:
            values = [row[0] for row in conn.execute(f"SELECT uuid FROM {table}")]
            assert all(uuid.UUID(v).version == 4 for v in values), table
            assert len(set(values)) == len(values)
        assert conn.execute("SELECT count(*) FROM athletes").fetchone()[0] == 1
    finally:
        conn.close()


def test_every_migration_after_the_server_baseline_says_what_it_does_on_postgres() -> None:
    """A migration newer than the server's baseline must carry its PostgreSQL
    statements, or a server database would claim a version it does not have."""
    assert pg_schema.BASELINE_VERSION <= schema.CURRENT_VERSION
    for migration in schema.MIGRATIONS:
        if migration.version > pg_schema.BASELINE_VERSION:
            assert migration.postgres, f"migration {migration.version} has no PostgreSQL steps"
        else:
            assert not migration.postgres, f"migration {migration.version} is in the baseline"
