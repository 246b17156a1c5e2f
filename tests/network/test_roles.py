"""What each role sees and may do, checked with ``psql`` logged in as that person.

Fixture: team A (Ann, Ari), team B (Bo), and Nils with no team; each athlete has
one test with a recording, a result, two reps and an audit_log entry holding
their name.  ``cl_a`` is a clinician of A, ``cl_b`` of B, ``re_a`` a researcher
of A, ``ad_1`` an admin.  "No more than the station shows" is checked against
this fixture's expected rows: this build has no PostgreSQL backend behind the
store's public API yet (see docs/clinic-network.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from station.store.postgres.server.connection import connect
from station.store.postgres.server.roles import add_user
from station.store.postgres.server.setup import init_server
from tests.network.conftest import Server

DB = "roles_db"
ATHLETES = {  # name: (team, date of birth)
    "Ann Alpha": ("A", "2000-05-01"),
    "Ari Alpha": ("A", "1990-12-31"),
    "Bo Beta": ("B", "1995-02-02"),
    "Nils Noteam": (None, "1980-01-01"),
}
TEST_DAY = "2026-03-01T10:00:00.000Z"
SECRET_TEXT = ("Dr Operator", "private note", "EXT-", "Alpha", "Beta", "Noteam", "2000-05-01")
IDENTIFYING = {
    "name",
    "name_key",
    "date_of_birth",
    "notes",
    "note",
    "external_id",
    "operator",
    "void_reason",
    "exclusion_reason",
    "excluded_by",
    "created_by",
    "uuid",
    "id",
    "athlete_id",
    "test_id",
}


@pytest.fixture(scope="module")
def db(role_server: Server, new_database) -> Iterator[tuple[Server, dict[str, str]]]:
    url = new_database(DB)
    init_server(url)
    with connect(url) as conn:
        for login in ("cl_a", "cl_b", "re_a", "ad_1"):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
        passwords = {
            "cl_a": add_user(conn, "cl_a", "clinician", ["A"]),
            "cl_b": add_user(conn, "cl_b", "clinician", ["B"]),
            "re_a": add_user(conn, "re_a", "researcher", ["A"]),
            "ad_1": add_user(conn, "ad_1", "admin", []),
        }
        for number, (name, (team, born)) in enumerate(ATHLETES.items(), start=1):
            athlete = conn.execute(
                "INSERT INTO athletes (uuid, name, name_key, external_id, date_of_birth, team, "
                "sex, notes, created_at, updated_at) VALUES (gen_random_uuid()::text, %s, "
                "lower(%s), %s, %s, %s, 'female', 'private note', 'x', 'x') RETURNING id",
                (name, name, f"EXT-{number}", born, team),
            ).fetchone()[0]
            recording = conn.execute(
                "INSERT INTO recordings (sha256, size, stored_at, data) "
                "VALUES (%s, 1, 'x', '\\x00') RETURNING id",
                (f"sha-{number}",),
            ).fetchone()[0]
            test = conn.execute(
                "INSERT INTO tests (uuid, athlete_id, recorded_at, protocol, recording_id, "
                "source, created_at, created_by, operator, notes) VALUES "
                "(gen_random_uuid()::text, %s, %s, 'nordic', %s, 'rig', 'x', 'Dr Operator', "
                "'Dr Operator', 'private note') RETURNING id",
                (athlete, TEST_DAY, recording),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO results (uuid, test_id, is_current, created_at, created_by, reason, "
                "analysis_version, summary, settings, metrics) VALUES (gen_random_uuid()::text, "
                "%s, 1, 'x', 'Dr Operator', 'first', '1.0', '{}', '{}', '{}')",
                (test,),
            )
            for rep in (1, 2):
                conn.execute(
                    "INSERT INTO reps (test_id, number, start_s, end_s, left_peak_n, right_peak_n)"
                    " VALUES (%s, %s, 0, 1, 300, 310)",
                    (test, rep),
                )
            conn.execute(
                "INSERT INTO body_mass (uuid, athlete_id, measured_on, kg, recorded_at, "
                "recorded_by) VALUES (gen_random_uuid()::text, %s, '2026-01-01', 80, 'x', 'x')",
                (athlete,),
            )
            conn.execute(
                "INSERT INTO injuries (uuid, athlete_id, side, note, recorded_at, recorded_by) "
                "VALUES (gen_random_uuid()::text, %s, 'left', 'private note', 'x', 'x')",
                (athlete,),
            )
            conn.execute(
                "INSERT INTO pending_tests (uuid, athlete_id, file_name, started_at, started_by, "
                "protocol, operator) VALUES (gen_random_uuid()::text, %s, %s, 'x', 'x', "
                "'nordic', 'Dr Operator')",
                (athlete, f"pending-{number}.nsrec"),
            )
            conn.execute(
                "INSERT INTO curves (result_id, name, codec, length, data) "
                "SELECT id, 'force', 'raw', 0, '\\x00' FROM results WHERE test_id = %s",
                (test,),
            )
            conn.execute(
                "INSERT INTO audit_log (uuid, at, actor, entity, entity_id, action, after) "
                "VALUES (gen_random_uuid()::text, 'x', 'Dr Operator', 'athlete', %s, 'create', %s)",
                (athlete, f'{{"name": "{name}"}}'),
            )
    yield role_server, passwords


def rows(db: tuple[Server, dict[str, str]], user: str, query: str) -> list[list[str]]:
    server, passwords = db
    done = server.psql(DB, user, passwords[user], query)
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines() if line]


def refused(db: tuple[Server, dict[str, str]], user: str, query: str) -> str:
    server, passwords = db
    done = server.psql(DB, user, passwords[user], query)
    assert done.returncode != 0, f"{user} was allowed: {query} -> {done.stdout!r}"
    return done.stderr


def admin_rows(query: str, *params: object) -> list[tuple]:
    with psycopg.connect(pytest.admin_url) as conn:  # type: ignore[attr-defined]
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module", autouse=True)
def _admin_url(db) -> None:
    pytest.admin_url = db[0].url_of(DB)  # type: ignore[attr-defined]


def names_of_team(team: str | None) -> list[str]:
    return sorted(n for n, (t, _) in ATHLETES.items() if t == team)


# --- clinicians --------------------------------------------------------------


def test_a_clinician_sees_the_athletes_of_their_team_only(db) -> None:
    assert [r[0] for r in rows(db, "cl_a", "SELECT name FROM athletes ORDER BY name")] == (
        names_of_team("A")
    )
    assert [r[0] for r in rows(db, "cl_b", "SELECT name FROM athletes ORDER BY name")] == (
        names_of_team("B")
    )


@pytest.mark.parametrize(
    ("table", "per_athlete"),
    [
        ("tests", 1),
        ("results", 1),
        ("reps", 2),
        ("curves", 1),
        ("recordings", 1),
        ("body_mass", 1),
        ("injuries", 1),
        ("pending_tests", 1),
        ("audit_log", 1),
    ],
)
def test_a_clinician_sees_their_teams_tests_and_what_hangs_off_them(
    db, table: str, per_athlete: int
) -> None:
    expected = per_athlete * len(names_of_team("A"))
    assert rows(db, "cl_a", f"SELECT count(*) FROM {table}") == [[str(expected)]]
    # The same rows as the administrator sees for team A, by id.
    mine = rows(db, "cl_a", "SELECT t.id FROM tests t ORDER BY t.id")
    team_a = admin_rows(
        "SELECT t.id FROM tests t JOIN athletes a ON a.id = t.athlete_id "
        "WHERE a.team = 'A' ORDER BY t.id"
    )
    assert [int(r[0]) for r in mine] == [r[0] for r in team_a]


def test_a_clinician_of_another_team_cannot_read_or_change_team_a(db) -> None:
    ann = admin_rows("SELECT id FROM athletes WHERE name = 'Ann Alpha'")[0][0]
    assert rows(db, "cl_b", f"SELECT name FROM athletes WHERE id = {ann}") == []
    assert rows(db, "cl_b", f"SELECT count(*) FROM tests WHERE athlete_id = {ann}") == [["0"]]
    # An update of a row they cannot see changes nothing.
    rows(db, "cl_b", f"UPDATE athletes SET sport = 'hacked' WHERE id = {ann}")
    assert admin_rows("SELECT sport FROM athletes WHERE id = %s", ann) == [(None,)]
    # Neither can they put an athlete into team A, or a test on Ann.
    err = refused(
        db,
        "cl_b",
        "INSERT INTO athletes (uuid, name, name_key, team, created_at, updated_at) "
        "VALUES (gen_random_uuid()::text, 'X', 'x', 'A', 'x', 'x')",
    )
    assert "row-level security" in err
    err = refused(
        db,
        "cl_b",
        "INSERT INTO body_mass (uuid, athlete_id, measured_on, kg, recorded_at, recorded_by) "
        f"VALUES (gen_random_uuid()::text, {ann}, '2026-01-01', 80, 'x', 'x')",
    )
    assert "row-level security" in err


def test_a_clinician_cannot_skip_the_audited_view_for_identifying_columns(db) -> None:
    err = refused(db, "cl_a", "SELECT name FROM public.athletes")
    assert "permission denied for table athletes" in err
    refused(db, "cl_a", "SELECT notes FROM public.tests")
    # Non-identifying columns of the base table: allowed, still only their team.
    assert sorted(r[0] for r in rows(db, "cl_a", "SELECT team FROM public.athletes")) == [
        "A",
        "A",
    ]


def test_a_clinicians_read_of_a_name_leaves_one_audit_row_per_statement(db) -> None:
    def reads() -> int:
        return admin_rows(
            "SELECT count(*) FROM ns_private.audit WHERE login = 'cl_a' AND action = 'read' "
            "AND table_name = 'athletes'"
        )[0][0]

    before = reads()
    got = rows(db, "cl_a", "SELECT name FROM athletes")  # two rows, one statement
    assert len(got) == 2
    assert reads() == before + 1
    rows(db, "cl_a", "SELECT name FROM athletes WHERE team = 'A'; SELECT 1 FROM athletes")
    assert reads() == before + 3


def test_a_clinicians_changes_are_audited_with_their_login(db) -> None:
    rows(
        db,
        "cl_a",
        "INSERT INTO athletes (uuid, name, name_key, team, created_at, updated_at) "
        "VALUES (gen_random_uuid()::text, 'Cleo Alpha', 'cleo alpha', 'A', 'x', 'x')",
    )
    rows(db, "cl_a", "UPDATE athletes SET sport = 'rugby' WHERE name = 'Cleo Alpha'")
    cleo = admin_rows("SELECT id FROM athletes WHERE name = 'Cleo Alpha'")[0][0]
    audit = admin_rows(
        "SELECT action, detail FROM ns_private.audit WHERE login = 'cl_a' "
        "AND table_name = 'athletes' AND row_id = %s ORDER BY id",
        str(cleo),
    )
    assert audit == [("insert", None), ("update", "sport")]
    with psycopg.connect(pytest.admin_url) as conn:  # type: ignore[attr-defined]
        conn.execute("UPDATE athletes SET archived = 1 WHERE id = %s", (cleo,))


def test_a_clinician_reads_only_their_own_team_grants_and_never_the_secret(db) -> None:
    assert rows(db, "cl_a", "SELECT login, team FROM ns_private.grants") == [["cl_a", "A"]]
    refused(db, "cl_a", "SELECT * FROM ns_private.secret")
    # The station's own export secret (meta) is theirs to use; it is not the researchers'.
    query = "SELECT encode(value, 'hex') FROM meta WHERE key = 'pseudonym_secret'"
    station_secret = rows(db, "cl_a", query)
    research_secret = admin_rows("SELECT encode(value, 'hex') FROM ns_private.secret")
    assert station_secret and research_secret
    assert station_secret[0][0] != research_secret[0][0]


# --- the audit ---------------------------------------------------------------


@pytest.mark.parametrize("user", ["cl_a", "re_a", "ad_1"])
@pytest.mark.parametrize(
    "query",
    [
        "UPDATE ns_private.audit SET login = 'nobody'",
        "DELETE FROM ns_private.audit",
        "TRUNCATE ns_private.audit",
        "INSERT INTO ns_private.audit (login, action) VALUES ('nobody', 'forged')",
    ],
)
def test_no_login_can_change_the_audit(db, user: str, query: str) -> None:
    count = admin_rows("SELECT count(*) FROM ns_private.audit")[0][0]
    err = refused(db, user, query)
    assert "permission denied" in err
    assert admin_rows("SELECT count(*) FROM ns_private.audit WHERE login = 'nobody'") == [(0,)]
    assert admin_rows("SELECT count(*) FROM ns_private.audit")[0][0] >= count


def test_only_admins_read_the_audit(db) -> None:
    refused(db, "cl_a", "SELECT count(*) FROM ns_private.audit")
    refused(db, "re_a", "SELECT count(*) FROM ns_private.audit")
    assert int(rows(db, "ad_1", "SELECT count(*) FROM ns_private.audit")[0][0]) > 0


@pytest.mark.parametrize(
    "query",
    [
        "UPDATE ns_private.audit SET login = 'nobody'",
        "DELETE FROM ns_private.audit",
        "TRUNCATE ns_private.audit",
    ],
)
def test_even_the_table_owner_and_a_superuser_meet_the_append_only_trigger(db, query) -> None:
    with (
        psycopg.connect(pytest.admin_url) as conn,  # type: ignore[attr-defined]
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(query)


# --- researchers -------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["athletes", "public.athletes", "tests", "results", "reps", "audit_log", "ns_clinic.athletes"],
)
def test_a_researcher_cannot_read_the_base_tables(db, table: str) -> None:
    err = refused(db, "re_a", f"SELECT * FROM {table}")
    assert "permission denied" in err


def test_the_research_views_hold_no_identifying_column(db) -> None:
    for view in ("research_athletes", "research_tests", "research_results", "research_reps"):
        cols = {
            r[0]
            for r in admin_rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s", view
            )
        }
        assert cols, view
        assert not cols & IDENTIFYING, (view, cols & IDENTIFYING)
        text = " ".join("|".join(r) for r in rows(db, "re_a", f"SELECT * FROM {view}"))
        for secret in SECRET_TEXT:
            assert secret not in text, (view, secret)


def test_the_research_views_show_only_the_researchers_teams(db) -> None:
    assert rows(db, "re_a", "SELECT DISTINCT team FROM research_athletes") == [["A"]]
    assert rows(db, "re_a", "SELECT count(*) FROM research_tests") == [["2"]]
    assert rows(db, "re_a", "SELECT count(*) FROM research_reps") == [["4"]]
    assert rows(db, "re_a", "SELECT count(*) FROM research_results") == [["2"]]
    # A condition of the researcher's own cannot reach other teams' rows.
    assert rows(db, "re_a", "SELECT count(*) FROM research_tests WHERE team = 'B'") == [["0"]]


def test_a_researcher_queries_results_as_json_and_sees_the_protocol_columns(db) -> None:
    kinds = rows(
        db,
        "re_a",
        "SELECT DISTINCT jsonb_typeof(summary), jsonb_typeof(settings), jsonb_typeof(metrics), "
        "jsonb_typeof(excluded) FROM research_results",
    )
    assert kinds == [["object", "object", "object", "array"]]
    cols = {
        r[0]
        for r in admin_rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            "research_tests",
        )
    }
    assert {"protocol", "knee_angle_deg", "position"} <= cols


def test_the_pseudonym_is_stable_distinct_and_not_the_uuid(db) -> None:
    query = "SELECT pseudonym FROM research_athletes ORDER BY pseudonym"
    first, second = rows(db, "re_a", query), rows(db, "re_a", query)
    assert first == second
    pseudonyms = [r[0] for r in first]
    team_a = admin_rows("SELECT count(*) FROM athletes WHERE team = 'A'")[0][0]
    assert len(set(pseudonyms)) == len(pseudonyms) == team_a
    uuids = {r[0] for r in admin_rows("SELECT uuid FROM athletes")}
    assert not set(pseudonyms) & uuids
    # Tests carry the same pseudonym as their athlete; results and reps join by test_key.
    joined = rows(
        db,
        "re_a",
        "SELECT count(*) FROM research_tests t JOIN research_athletes a USING (pseudonym) "
        "JOIN research_reps r USING (test_key)",
    )
    assert joined == [["4"]]


def test_age_at_the_test_replaces_the_date_of_birth(db) -> None:
    ages = sorted(int(r[0]) for r in rows(db, "re_a", "SELECT age_years FROM research_tests"))
    # Ann born 2000-05-01 is 25 on 2026-03-01; Ari born 1990-12-31 is 35.
    assert ages == [25, 35]


def test_a_researcher_writes_nothing(db) -> None:
    refused(db, "re_a", "DELETE FROM research_athletes")
    refused(
        db,
        "re_a",
        "INSERT INTO athletes (uuid, name, name_key, team, created_at, updated_at) "
        "VALUES (gen_random_uuid()::text, 'X', 'x', 'A', 'x', 'x')",
    )


# --- admins ------------------------------------------------------------------


def test_an_admin_sees_every_athlete_including_those_without_a_team(db) -> None:
    got = sorted(r[0] for r in rows(db, "ad_1", "SELECT name FROM athletes"))
    assert set(got) >= set(ATHLETES)
    assert rows(db, "ad_1", "SELECT count(*) FROM research_athletes") != [["0"]]


def test_a_wrong_password_is_refused(db) -> None:
    server, _ = db
    done = server.psql(DB, "cl_a", "not-the-password", "SELECT 1")
    assert done.returncode != 0
    assert "password authentication failed" in done.stderr


@pytest.mark.parametrize(
    "query",
    [
        "UPDATE tests SET recording_id = recording_id",
        "UPDATE public.tests SET recording_id = recording_id",
        "UPDATE athletes SET uuid = uuid",
        "UPDATE audit_log SET after = NULL",
        "UPDATE public.audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "UPDATE results SET metrics = '{}'",
        "DELETE FROM tests",
        "DELETE FROM athletes",
        "TRUNCATE public.reps",
    ],
)
def test_a_clinician_cannot_rewrite_what_is_kept_even_with_the_erasure_switch(
    db, query: str
) -> None:
    """The store lets an erasure through its append-only triggers when the session
    sets ``nordic_station.erasing``; any login can set that, so the server's
    privileges must refuse these writes by themselves."""
    err = refused(db, "cl_a", f"SELECT set_config('nordic_station.erasing', 'on', false); {query}")
    assert "permission denied" in err


def test_a_clinician_may_mark_which_analysis_run_is_current(db) -> None:
    rows(db, "cl_a", "UPDATE results SET is_current = is_current")


def server_log(db) -> str:
    server, _ = db
    return (Path(server.socket_dir) / "log").read_text(encoding="utf-8", errors="replace")


def test_a_read_the_table_cannot_keep_is_still_in_the_server_log(db) -> None:
    """A READ ONLY transaction cannot write the audit table and a rolled-back one
    takes its row back; the server log line (written first) stays in both cases."""
    marker = "nordic-station audit: cl_b read athletes"
    before = server_log(db).count(marker)
    rows(db, "cl_b", "BEGIN READ ONLY; SELECT name FROM athletes; COMMIT")
    rows(db, "cl_b", "BEGIN; SELECT name FROM athletes; ROLLBACK")
    log = server_log(db)
    assert log.count(marker) == before + 2
    assert "read-only transaction, cl_b read athletes kept in the log only" in log
