"""Opening a server database: refuse what is not ours, create it, upgrade it.

As with an SQLite file, the database is checked before anything is written
to it: one holding other tables, another program's ``meta`` or a newer
schema is refused and left untouched.  Creating and upgrading each run in
one transaction (PostgreSQL's DDL is transactional), under an advisory
lock so two stations opening a new database at once create it once.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import psycopg

from station.store import schema
from station.store.database_choice import masked
from station.store.errors import DatabaseFileError
from station.store.postgres import schema as pg_schema
from station.store.postgres.errors import connect_error
from station.store.postgres.url import server_of
from station.store.validate import now_utc

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
OPEN_LOCK = 0x4E534443  # pg_advisory_xact_lock key held while checking, creating, upgrading


def connection_lost(exc: psycopg.OperationalError) -> bool:
    """Whether the error is about the connection itself (no server, login refused,
    server shutting down) rather than about a statement."""
    state = exc.sqlstate or ""
    return not state or state.startswith(("08", "28", "57P", "3D"))


def connect(url: str) -> psycopg.Connection[Any]:
    """One autocommit connection, or a clear error naming the server (never the password)."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise connect_error(server_of(url), exc) from None
    except psycopg.ProgrammingError as exc:  # a malformed address
        raise DatabaseFileError(
            f"{masked(url)} is not a usable database address ({exc}): check --database"
        ) from None


def version_of(row: Any) -> int:
    return 0 if row is None else int(bytes(row[0]).decode("ascii"))


def prepare(url: str, *, clinic_layer_ok: bool = False) -> int | None:
    """Check the database is ours and bring it to the current schema; returns the
    version upgraded from (None when it was already current or is new).

    A clinic server (``server init``: roles, row-level security, views that pin their
    tables' columns) is upgraded only by ``server migrate`` (``clinic_layer_ok``), which
    takes the views down first; a station opening it refuses to upgrade it."""
    with connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (OPEN_LOCK,))
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        }
        if not tables:
            _create(conn)
            log.info("created the Nordic Station schema %d on %s", schema.CURRENT_VERSION,
                     masked(url))  # fmt: skip
            return None
        version = _check(conn, url, tables)
        if version == schema.CURRENT_VERSION:
            return None
        layer = conn.execute("SELECT to_regclass('ns_private.layer')").fetchone()
        if not clinic_layer_ok and layer is not None and layer[0] is not None:
            raise DatabaseFileError(
                f"the clinic server at {masked(url)} has schema {version} and this station "
                f"needs {schema.CURRENT_VERSION}: an administrator upgrades it with "
                "'nordic-station server migrate URL'; it was left untouched"
            )
        log.info("upgrading the database on %s from schema %d to %d", masked(url), version,
                 schema.CURRENT_VERSION)  # fmt: skip
        for migration in pg_schema.later_migrations(version):
            for step in migration.postgres:
                conn.execute(step)
            _set_version(conn, migration.version)
        return version


def probe(url: str) -> int | None:
    """The schema version of a server database, changing nothing (None: it is empty);
    another program's or a newer schema is refused as :func:`prepare` refuses it."""
    with connect(url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        }
        return _check(conn, url, tables) if tables else None


def _check(conn: psycopg.Connection[Any], url: str, tables: set[str]) -> int:
    rows = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
    app_id = rows.get("application_id")
    if app_id is None or bytes(app_id).decode("ascii", "replace") != str(schema.APPLICATION_ID):
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseFileError(
            f"the database at {masked(url)} belongs to another program (tables: {shown}); "
            "it was left untouched: pass another --database"
        )
    version = version_of((rows.get("schema_version", b"0"),))
    if version > schema.CURRENT_VERSION:
        raise DatabaseFileError(
            f"the database at {masked(url)} was written by a newer Nordic Station (schema "
            f"{version}, this version knows up to {schema.CURRENT_VERSION}): "
            "install the newer version"
        )
    if version < pg_schema.BASELINE_VERSION:
        raise DatabaseFileError(
            f"the database at {masked(url)} has schema {version}, older than any server "
            f"schema ({pg_schema.BASELINE_VERSION}): it was left untouched"
        )
    return version


def _create(conn: psycopg.Connection[Any]) -> None:
    for step in pg_schema.BASELINE:
        conn.execute(step)
    meta = {
        "application_id": str(schema.APPLICATION_ID).encode("ascii"),
        "schema_version": str(pg_schema.BASELINE_VERSION).encode("ascii"),
        "pseudonym_secret": secrets.token_bytes(32),
        "created_at": now_utc().encode("ascii"),
    }
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO meta (key, value) VALUES (%s, %s)", list(meta.items()))
    for migration in pg_schema.later_migrations(pg_schema.BASELINE_VERSION):
        for step in migration.postgres:
            conn.execute(step)
        _set_version(conn, migration.version)


def _set_version(conn: psycopg.Connection[Any], version: int) -> None:
    conn.execute(
        "UPDATE meta SET value = %s WHERE key = 'schema_version'",
        (str(int(version)).encode("ascii"),),
    )
