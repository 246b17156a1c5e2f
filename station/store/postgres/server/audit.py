"""The server's audit: who read identifiable data and who changed what.

``ns_private.audit`` is written only by SECURITY DEFINER functions owned by the
NOLOGIN role ``ns_owner``; nobody holds INSERT/UPDATE/DELETE/TRUNCATE on it, and
triggers refuse UPDATE, DELETE and TRUNCATE even to its owner.  It stores who,
when, which table and row (uuid and id) and, for an update, the names of the
changed columns, never values: an erasure has nothing to remove from it.

Reads: PostgreSQL has no SELECT triggers.  Clinicians and admins lose SELECT on
the identifying columns of the base tables (see :mod:`.policies`); they read
them through same-named views in the schema ``ns_clinic`` (first on their
``search_path``, so the station's unqualified ``SELECT ... FROM athletes`` goes
through them).  Each view's condition is an uncorrelated sub-select of
:func:`ns_private.audit_read`, which PostgreSQL evaluates once per statement (an
InitPlan), so one audit row is written per statement, per table, per login.
The views are simple, hence updatable: writes pass through them too.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from station.store.postgres.server.connection import columns, names, run, table, tables
from station.store.postgres.server.roles import ADMIN, CLINICIAN, GROUPS, OWNER
from station.store.postgres.server.rules import IDENTIFYING, STATION_TABLES, clinician_writes

PRIVATE = "ns_private"
CLINIC = "ns_clinic"

# Every table whose changes are audited (those present in the schema).
CHANGE_AUDITED = (
    "athletes",
    "body_mass",
    "injuries",
    "tests",
    "recordings",
    "results",
    "reps",
    "curves",
    "pending_tests",
    "certificates",
    "verifications",
    "meta",
)

_AUDIT_TABLE = """
CREATE TABLE IF NOT EXISTS ns_private.audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    login TEXT NOT NULL,
    action TEXT NOT NULL,
    table_name TEXT,
    row_uuid TEXT,
    row_id TEXT,
    detail TEXT
)"""

_FORBID = """
CREATE OR REPLACE FUNCTION ns_private.audit_forbid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$"""

_READ = """
CREATE OR REPLACE FUNCTION ns_private.audit_read(tbl text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, ns_private AS $$
BEGIN
    -- First in the server log, which a rolled-back transaction cannot take back.
    RAISE LOG 'nordic-station audit: % read %', session_user, tbl;
    BEGIN
        INSERT INTO ns_private.audit (login, action, table_name)
        VALUES (session_user, 'read', tbl);
    EXCEPTION WHEN read_only_sql_transaction THEN
        -- A READ ONLY transaction cannot write the table: the log line is the record.
        RAISE LOG 'nordic-station audit: read-only transaction, % read % kept in the log only',
            session_user, tbl;
    END;
    RETURN true;
END $$"""

_EVENT = """
CREATE OR REPLACE FUNCTION ns_private.audit_event(act text, what text, about text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, ns_private AS $$
BEGIN
    IF NOT pg_has_role(session_user, 'ns_admin', 'USAGE') THEN
        RAISE EXCEPTION 'only an administrator records server events'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO ns_private.audit (login, action, table_name, detail)
    VALUES (session_user, act, what, about);
END $$"""

# TG_ARGV[0]: the row's key column ('id' or another), TG_ARGV[1]: 'uuid' when present.
_CHANGE = """
CREATE OR REPLACE FUNCTION ns_private.audit_change() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, ns_private AS $$
DECLARE
    r record;
    key_value text;
    uuid_value text;
    changed text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO ns_private.audit (login, action, table_name)
        VALUES (session_user, 'truncate', TG_TABLE_NAME);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    EXECUTE format('SELECT ($1).%I::text', TG_ARGV[0]) INTO key_value USING r;
    IF TG_ARGV[1] = 'uuid' THEN
        EXECUTE 'SELECT ($1).uuid::text' INTO uuid_value USING r;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT string_agg(n.key, ',' ORDER BY n.key) INTO changed
        FROM jsonb_each(to_jsonb(NEW)) n
        WHERE n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
    END IF;
    INSERT INTO ns_private.audit (login, action, table_name, row_uuid, row_id, detail)
    VALUES (session_user, lower(TG_OP), TG_TABLE_NAME, uuid_value, key_value, changed);
    RETURN NULL;
END $$"""


def apply_audit(conn: psycopg.Connection) -> None:
    """The audit table, its guards and functions (idempotent)."""
    conn.execute(_AUDIT_TABLE)
    run(conn, "ALTER TABLE ns_private.audit OWNER TO {}", OWNER)
    conn.execute(_FORBID)
    guards = (
        ("audit_no_change", "UPDATE OR DELETE", "ROW"),
        ("audit_no_truncate", "TRUNCATE", "STATEMENT"),
    )
    for name, timing, level in guards:
        conn.execute(f"DROP TRIGGER IF EXISTS {name} ON ns_private.audit")
        conn.execute(
            f"CREATE TRIGGER {name} BEFORE {timing} ON ns_private.audit "
            f"FOR EACH {level} EXECUTE FUNCTION ns_private.audit_forbid()"
        )
    run(conn, "REVOKE ALL ON ns_private.audit FROM PUBLIC, {}", names(*GROUPS.values(), OWNER))
    # The owner keeps INSERT (its functions write); nobody else writes.
    run(conn, "GRANT SELECT, INSERT ON ns_private.audit TO {}", OWNER)
    run(conn, "GRANT SELECT ON ns_private.audit TO {}", ADMIN)
    for body, signature in (
        (_READ, "audit_read(text)"),
        (_EVENT, "audit_event(text, text, text)"),
        (_CHANGE, "audit_change()"),
    ):
        conn.execute(body)
        function = sql.SQL(f"ns_private.{signature}")
        run(conn, "ALTER FUNCTION {} OWNER TO {}", function, OWNER)
        conn.execute(sql.SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(function))
    readers = names(CLINICIAN, ADMIN)
    run(conn, "GRANT EXECUTE ON FUNCTION ns_private.audit_read(text) TO {}", readers)
    run(conn, "GRANT EXECUTE ON FUNCTION ns_private.audit_event(text, text, text) TO {}", ADMIN)


def apply_change_triggers(conn: psycopg.Connection) -> None:
    """One row-level trigger (insert, update, delete) and one TRUNCATE trigger per table."""
    present = tables(conn)
    for name in CHANGE_AUDITED:
        if name not in present:
            continue
        cols = columns(conn, name)
        key = "id" if "id" in cols else cols[0]
        has_uuid = "uuid" if "uuid" in cols else ""
        target = table(name)
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS ns_audit_rows ON {}").format(target))
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS ns_audit_truncate ON {}").format(target))
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER ns_audit_rows AFTER INSERT OR UPDATE OR DELETE ON {} "
                "FOR EACH ROW EXECUTE FUNCTION ns_private.audit_change({}, {})"
            ).format(target, sql.Literal(key), sql.Literal(has_uuid))
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER ns_audit_truncate AFTER TRUNCATE ON {} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ns_private.audit_change('id', '')"
            ).format(target)
        )


def drop_clinic_views(conn: psycopg.Connection) -> None:
    """Before a schema upgrade: the views pin their tables' columns."""
    conn.execute(f"DROP SCHEMA IF EXISTS {CLINIC} CASCADE")


def apply_clinic_views(conn: psycopg.Connection) -> None:
    """``ns_clinic.T`` for each of the store's tables: all its columns; reading one
    with identifying columns writes one audit row per statement.

    Every table has its view, not only those audited, so that the first schema on
    a clinician's ``search_path`` holds the whole store (the backend checks the
    tables of ``current_schema()`` when it opens)."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {CLINIC}")
    run(conn, "ALTER SCHEMA {} OWNER TO {}", CLINIC, OWNER)
    conn.execute(f"REVOKE ALL ON SCHEMA {CLINIC} FROM PUBLIC")
    run(conn, "GRANT USAGE ON SCHEMA {} TO {}", CLINIC, names(CLINICIAN, ADMIN))
    present = tables(conn)
    for name in STATION_TABLES:
        if name not in present:
            continue
        view = sql.Identifier(CLINIC, name)
        conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(view))
        audited = (
            sql.SQL(" WHERE (SELECT ns_private.audit_read({}))").format(sql.Literal(name))
            if name in IDENTIFYING
            else sql.SQL("")
        )
        run(
            conn,
            "CREATE VIEW {} WITH (security_barrier) AS SELECT * FROM {}{}",
            *(view, table(name), audited),
        )
        run(conn, "ALTER VIEW {} OWNER TO {}", view, OWNER)
        run(conn, "GRANT SELECT ON {} TO {}", view, CLINICIAN)
        writes = clinician_writes(name, columns(conn, name))
        if writes is not None:
            run(conn, "GRANT {} ON {} TO {}", writes, view, CLINICIAN)
        run(conn, "GRANT ALL ON {} TO {}", view, ADMIN)
