"""Privileges and row-level security on the store's tables.

- ``ns_admin``: every row (policy ``USING (true)``).
- ``ns_clinician``: rows of athletes whose team is granted to ``current_user``
  (``ns_private.grants``); tests, results, reps, curves, body mass, injuries and
  tests in progress through their athlete; raw recordings through a visible test.
  SELECT on identifying columns is revoked: those are read through the audited
  views of :mod:`.audit`.
- ``ns_owner`` (owner of the views): the same rows as the person using the view,
  since ``current_user`` inside a view is still that person.
- ``ns_researcher``: nothing on the base tables; the views of :mod:`.research_views`.

``ENABLE`` and ``FORCE`` make the policies bind the tables' owner too; only a
superuser (the administrator's URL) passes them.
"""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from station.store.postgres.server.connection import columns, idents, names, run, table, tables
from station.store.postgres.server.roles import ADMIN, CLINICIAN, GROUPS, OWNER, RESEARCHER
from station.store.postgres.server.rules import DELETABLE, IDENTIFYING, clinician_writes

_ATHLETE = "EXISTS (SELECT 1 FROM public.athletes a WHERE a.id = {t}.athlete_id)"
_TEST = "EXISTS (SELECT 1 FROM public.tests t WHERE t.id = {t}.test_id)"

# table -> (rows a clinician may read, update, delete; rows a clinician may insert)
ROW_RULES: dict[str, tuple[str, str]] = {
    "athletes": ("ns_private.visible_team(team)",) * 2,
    "body_mass": (_ATHLETE,) * 2,
    "injuries": (_ATHLETE,) * 2,
    "pending_tests": (_ATHLETE,) * 2,
    "tests": (_ATHLETE,) * 2,
    "results": (_TEST,) * 2,
    "reps": (_TEST,) * 2,
    "curves": ("EXISTS (SELECT 1 FROM public.results r WHERE r.id = {t}.result_id)",) * 2,
    # A recording is stored (and its id read back) before the test that points at it:
    # one no test points at yet is readable, so a clinician's station can save a test.
    "recordings": (
        "(EXISTS (SELECT 1 FROM public.tests t WHERE t.recording_id = {t}.id) "
        "OR ns_private.recording_unclaimed({t}.id))",
        "true",
    ),
    "audit_log": (
        "({t}.entity NOT IN ('athlete', 'test', 'rep') "
        "OR ({t}.entity = 'athlete' AND EXISTS "
        "(SELECT 1 FROM public.athletes a WHERE a.id = {t}.entity_id)) "
        "OR ({t}.entity IN ('test', 'rep') AND EXISTS "
        "(SELECT 1 FROM public.tests t WHERE t.id = {t}.entity_id)))",
    )
    * 2,
    # The station reads its schema version and, for its anonymised exports, its
    # pseudonym secret here (the researchers' views use another, ns_private.secret).
    "meta": ("true", "false"),
}
# Tables without row rules that every station role reads (calibration is not personal).
SHARED = {"certificates": (CLINICIAN, RESEARCHER, ADMIN), "verifications": (CLINICIAN, ADMIN)}

_PRIVATE = """
CREATE SCHEMA IF NOT EXISTS ns_private;
CREATE TABLE IF NOT EXISTS ns_private.grants (
    login TEXT NOT NULL, team TEXT NOT NULL, PRIMARY KEY (login, team));
CREATE TABLE IF NOT EXISTS ns_private.secret (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), value BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS ns_private.layer (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
-- Teams match ignoring case, as the station's team filters do.
-- Fully qualified and without SET, so the planner can inline it into the policies.
CREATE OR REPLACE FUNCTION ns_private.visible_team(t text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_catalog.pg_has_role(current_user, 'ns_admin', 'USAGE')
        OR EXISTS (SELECT 1 FROM ns_private.grants g
                   WHERE g.login = current_user AND pg_catalog.lower(g.team) = pg_catalog.lower(t))
$$;
-- Whether no test points at a recording, seen past row-level security (tests of other
-- teams count too): runs with the rights of the administrator who ran server init.
CREATE OR REPLACE FUNCTION ns_private.recording_unclaimed(rid bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT NOT EXISTS (SELECT 1 FROM public.tests t WHERE t.recording_id = rid)
$$;
ALTER TABLE ns_private.grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE ns_private.grants FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ns_self ON ns_private.grants;
CREATE POLICY ns_self ON ns_private.grants FOR SELECT
    TO ns_clinician, ns_researcher, ns_owner USING (login = current_user);
DROP POLICY IF EXISTS ns_admin_all ON ns_private.grants;
CREATE POLICY ns_admin_all ON ns_private.grants FOR ALL TO ns_admin
    USING (true) WITH CHECK (true);
"""


def apply_private(conn: psycopg.Connection) -> None:
    """``ns_private``: the team grants, the pseudonym secret and the team check."""
    for statement in _PRIVATE.split(";\n"):
        if statement.strip():
            conn.execute(statement)
    # Made once, never shown: it keys the researchers' pseudonyms.
    conn.execute(
        "INSERT INTO ns_private.secret (value) VALUES (%s) ON CONFLICT DO NOTHING",
        (secrets.token_bytes(32),),
    )
    owner = sql.Identifier(OWNER)
    conn.execute(sql.SQL("ALTER SCHEMA ns_private OWNER TO {}").format(owner))
    for name in ("grants", "secret", "layer"):
        run(conn, "ALTER TABLE {} OWNER TO {}", sql.Identifier("ns_private", name), owner)
    run(conn, "ALTER FUNCTION ns_private.visible_team(text) OWNER TO {}", owner)
    groups = names(*GROUPS.values())
    conn.execute("REVOKE ALL ON SCHEMA ns_private FROM PUBLIC")
    conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA ns_private FROM PUBLIC")
    conn.execute("REVOKE ALL ON FUNCTION ns_private.visible_team(text) FROM PUBLIC")
    conn.execute("REVOKE ALL ON FUNCTION ns_private.recording_unclaimed(bigint) FROM PUBLIC")
    run(conn, "GRANT USAGE ON SCHEMA ns_private TO {}", groups)
    run(conn, "GRANT SELECT ON ns_private.grants TO {}", groups)
    run(conn, "GRANT INSERT, UPDATE, DELETE ON ns_private.grants TO {}", ADMIN)
    run(conn, "GRANT SELECT ON ns_private.secret, ns_private.layer TO {}", ADMIN)
    run(conn, "GRANT EXECUTE ON FUNCTION ns_private.visible_team(text) TO {}", groups)
    run(conn, "GRANT EXECUTE ON FUNCTION ns_private.recording_unclaimed(bigint) TO {}", groups)


def _drop_policies(conn: psycopg.Connection, name: str) -> None:
    rows = conn.execute(
        "SELECT policyname FROM pg_policies WHERE schemaname = 'public' AND tablename = %s "
        "AND policyname LIKE 'ns\\_%%'",
        (name,),
    ).fetchall()
    for (policy,) in rows:
        conn.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(policy), table(name)))


def apply_privileges(conn: psycopg.Connection) -> None:
    """Table and column privileges of every group (revoked first, then granted)."""
    present = tables(conn)
    everyone = names(*GROUPS.values(), OWNER)
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(everyone))
    for name in sorted(present):
        target = table(name)
        cols = columns(conn, name)
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}").format(target, everyone))
        run(conn, "REVOKE ALL ({}) ON {} FROM PUBLIC, {}", idents(cols), target, everyone)
        if name in SHARED:
            run(conn, "GRANT SELECT ON {} TO {}", target, names(*SHARED[name]))
            run(conn, "GRANT INSERT ON {} TO {}", target, CLINICIAN)
            run(conn, "GRANT ALL ON {} TO {}", target, ADMIN)
            run(conn, "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}", target, OWNER)
            continue
        if name not in ROW_RULES:
            continue  # a table this layer does not know yet: only the administrator's URL
        hidden = IDENTIFYING.get(name, ())
        open_cols = [c for c in cols if c not in hidden]
        for group in (CLINICIAN, ADMIN):
            run(conn, "GRANT SELECT ({}) ON {} TO {}", idents(open_cols), target, group)
        writes = clinician_writes(name, cols)
        if writes is not None:
            run(conn, "GRANT {} ON {} TO {}", writes, target, CLINICIAN)
        run(conn, "GRANT INSERT, UPDATE, DELETE ON {} TO {}", target, ADMIN)
        run(conn, "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}", target, OWNER)
    conn.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}, {}").format(
            sql.Identifier(CLINICIAN), sql.Identifier(ADMIN)
        )
    )


def apply_row_security(conn: psycopg.Connection) -> None:
    """``ENABLE`` + ``FORCE`` row-level security and the ``ns_*`` policies (recreated)."""
    present = tables(conn)
    for name, (rows, inserts) in ROW_RULES.items():
        if name not in present:
            continue
        target = table(name)
        see = sql.SQL(rows.format(t=sql.Identifier(name).as_string(conn)))
        add = sql.SQL(inserts.format(t=sql.Identifier(name).as_string(conn)))
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
        conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(target))
        _drop_policies(conn, name)
        staff = names(CLINICIAN, OWNER)
        run(conn, "CREATE POLICY ns_admin_all ON {} FOR ALL TO {} USING (true)", target, ADMIN)
        run(conn, "CREATE POLICY ns_read ON {} FOR SELECT TO {} USING ({})", target, staff, see)
        insert = "CREATE POLICY ns_insert ON {} FOR INSERT TO {} WITH CHECK ({})"
        run(conn, insert, target, staff, add)
        run(
            conn,
            "CREATE POLICY ns_update ON {} FOR UPDATE TO {} USING ({}) WITH CHECK ({})",
            *(target, staff, see, see),
        )
        # An admin writing through a view owned by ns_owner: the owner's policy applies.
        run(
            conn,
            "CREATE POLICY ns_owner_admin ON {} FOR ALL TO {} "
            "USING (pg_has_role(current_user, 'ns_admin', 'USAGE'))",
            *(target, OWNER),
        )
        if name in DELETABLE:
            delete = "CREATE POLICY ns_delete ON {} FOR DELETE TO {} USING ({})"
            run(conn, delete, target, staff, see)
