"""The researchers' pseudonymised views.

Each view lists only the columns named here (a column added to the schema later
stays out until someone adds it on purpose).  A person appears as a stable
pseudonym: the first 16 hex digits of SHA-256(secret || athlete uuid), with the
secret in ``ns_private.secret`` that only admins and the views' owner read; a
test is keyed the same way, so results and reps join to their test without
exposing an id the station shows.  Age in whole years at the test replaces the
date of birth.  Rows are those of the researcher's teams; erased athletes are
left out.  The views are owned by ``ns_owner`` and marked ``security_barrier``,
so a researcher's own conditions cannot see rows before the views' filter.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from station.store.postgres.server.connection import columns, tables
from station.store.postgres.server.roles import ADMIN, OWNER, RESEARCHER

RESULT_COLUMNS = (
    "is_current",
    "created_at",
    "analysis_version",
    "excluded",
    "summary",
    "settings",
    "metrics",
)
# Stored as JSON text (the station's format); shown as jsonb so a researcher can
# write ``summary->>'left_peak_n'`` without a cast.
RESULT_JSON = frozenset({"excluded", "summary", "settings", "metrics"})
REP_COLUMNS = (
    "number",
    "start_s",
    "end_s",
    "left_peak_n",
    "right_peak_n",
    "imbalance_pct",
    "excluded",
)
VIEWS = ("research_athletes", "research_tests", "research_results", "research_reps")


def _key(column: str) -> str:
    return f"left(encode(sha256(s.value || convert_to({column}::text, 'UTF8')), 'hex'), 16)"


def _age(birth: str, at: str) -> str:
    return (
        f"CASE WHEN {birth} IS NULL OR {at} IS NULL THEN NULL ELSE "
        f"extract(year FROM age(left({at}::text, 10)::date, left({birth}::text, 10)::date))::int "
        "END"
    )


def _pick(
    have: list[str], alias: str, wanted: tuple[str, ...], as_json: frozenset[str] = frozenset()
) -> list[str]:
    return [
        f"{alias}.{c}::jsonb AS {c}" if c in as_json else f"{alias}.{c}"
        for c in wanted
        if c in have
    ]


def _definitions(conn: psycopg.Connection) -> dict[str, str]:
    a_cols, t_cols = columns(conn, "athletes"), columns(conn, "tests")
    key = "uuid" if "uuid" in a_cols else "id"
    test_key = "uuid" if "uuid" in t_cols else "id"
    visible = "ns_private.visible_team(a.team)"
    if "erased_at" in a_cols:
        visible += " AND a.erased_at IS NULL"
    secret = "CROSS JOIN ns_private.secret s"
    athletes = ", ".join(
        [f"{_key('a.' + key)} AS pseudonym"]
        + _pick(a_cols, "a", ("sex", "sport", "team", "dominant_leg", "lever_arm_m", "archived"))
    )
    test_cols = ", ".join(
        [
            f"{_key('t.' + test_key)} AS test_key",
            f"{_key('a.' + key)} AS pseudonym",
            "a.team",
            "left(t.recorded_at::text, 10)::date AS test_date",
            f"{_age('a.date_of_birth', 't.recorded_at')} AS age_years",
            "a.sex",
        ]
        + _pick(
            t_cols,
            "t",
            (
                "protocol",
                "rig_serial",
                "sample_rate_hz",
                "duration_s",
                "body_mass_kg",
                "lever_arm_m",
                "recovered",
                "voided",
                "knee_angle_deg",
                "position",
            ),
        )
    )
    of_tests = f"FROM public.tests t JOIN public.athletes a ON a.id = t.athlete_id {secret}"
    definitions = {
        "research_athletes": f"SELECT {athletes} FROM public.athletes a {secret} WHERE {visible}",
        "research_tests": f"SELECT {test_cols} {of_tests} WHERE {visible}",
    }
    present = tables(conn)
    if "results" in present:
        r_cols = ", ".join(
            [f"{_key('t.' + test_key)} AS test_key"]
            + _pick(
                columns(conn, "results"),
                "r",
                RESULT_COLUMNS,
                RESULT_JSON,
            )
        )
        definitions["research_results"] = (
            f"SELECT {r_cols} FROM public.results r JOIN public.tests t ON t.id = r.test_id "
            f"JOIN public.athletes a ON a.id = t.athlete_id {secret} WHERE {visible}"
        )
    if "reps" in present:
        p_cols = ", ".join(
            [f"{_key('t.' + test_key)} AS test_key"]
            + _pick(
                columns(conn, "reps"),
                "p",
                REP_COLUMNS,
            )
        )
        definitions["research_reps"] = (
            f"SELECT {p_cols} FROM public.reps p JOIN public.tests t ON t.id = p.test_id "
            f"JOIN public.athletes a ON a.id = t.athlete_id {secret} WHERE {visible}"
        )
    return definitions


def drop_research_views(conn: psycopg.Connection) -> None:
    for name in VIEWS:
        conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier("public", name)))


def apply_research_views(conn: psycopg.Connection) -> None:
    """(Re)create the views from the tables as they are now."""
    drop_research_views(conn)
    readers = sql.SQL("{}, {}").format(sql.Identifier(RESEARCHER), sql.Identifier(ADMIN))
    for name, query in _definitions(conn).items():
        view = sql.Identifier("public", name)
        conn.execute(
            sql.SQL("CREATE VIEW {} WITH (security_barrier) AS {}").format(view, sql.SQL(query))
        )
        conn.execute(sql.SQL("ALTER VIEW {} OWNER TO {}").format(view, sql.Identifier(OWNER)))
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(view))
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(view, readers))
