"""``nordic-station server``: init/migrate are idempotent, logins work with the
printed password, and every failure is one line with exit status 2 that never
shows the administrator's password."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.cli_run import run_cli as cli
from tests.network.conftest import Server

DB = "cli_db"
LOGINS = ("cli_clin", "cli_res", "cli_adm", "cli_made_by_admin", "cli_gone", "cli_boss", "cli_weak")


@pytest.fixture(scope="module")
def url(role_server: Server, new_database: Callable[[str], str]) -> str:
    made = new_database(DB)
    with psycopg.connect(role_server.url, autocommit=True) as conn:
        for login in (
            "cli_clin",
            "cli_res",
            "cli_adm",
            "cli_made_by_admin",
            "cli_gone",
            "cli_boss",
            "cli_weak",
        ):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
    return made


def password_in(out: str) -> str:
    found = re.search(r"password \(shown only now[^)]*\): (\S+)", out)
    assert found, out
    return found.group(1)


def policy_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_policies").fetchone()[0]


def test_init_twice_then_migrate_changes_nothing(capsys, url: str) -> None:
    code, out, err = cli(capsys, "server", "init", url)
    assert code == 0, err
    assert "server ready" in out
    policies = policy_count(url)
    assert policies > 20
    assert cli(capsys, "server", "init", url)[0] == 0
    code, out, _ = cli(capsys, "server", "migrate", url)
    assert code == 0
    assert "up to date" in out
    assert policy_count(url) == policies
    with psycopg.connect(url) as conn:
        forced = conn.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
            "AND relnamespace = 'public'::regnamespace ORDER BY relname"
        ).fetchall()
    assert {r[0] for r in forced} >= {
        "athletes",
        "tests",
        "results",
        "reps",
        "curves",
        "recordings",
        "body_mass",
        "injuries",
        "pending_tests",
    }


def test_a_user_logs_in_with_the_printed_password_and_is_listed(
    capsys, url: str, role_server: Server
) -> None:
    cli(capsys, "server", "init", url)
    code, out, err = cli(
        capsys, "server", "user", "add", url, "cli_clin", "--role", "clinician", "--team", "A"
    )
    assert code == 0, err
    password = password_in(out)
    done = role_server.psql(DB, "cli_clin", password, "SELECT current_user")
    assert done.stdout.strip() == "cli_clin", done.stderr
    code, out, _ = cli(capsys, "server", "user", "list", url)
    assert code == 0
    assert re.search(r"cli_clin\s+clinician\s+A", out)
    assert password not in out
    code, out, _ = cli(capsys, "server", "user", "list", url, "--json")
    assert {"name": "cli_clin", "role": "clinician", "teams": ["A"]} in json.loads(out)
    # The password reached the server only as a SCRAM verifier.
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'cli_clin'"
        ).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$")
    assert password not in stored
    # A wrong password is a refused login, not an unreachable server.
    wrong = f"postgresql://cli_clin:not-{password}@/{DB}?host={role_server.socket_dir}"
    code, out, err = cli(capsys, "athlete", "list", "--database", wrong)
    assert code == 2 and "refused the login: password authentication failed" in err, err
    assert password not in out + err and "cannot reach" not in err


def test_a_researcher_is_added_with_teams_and_an_admin_without(capsys, url: str) -> None:
    cli(capsys, "server", "init", url)
    args = ("server", "user", "add", url)
    assert (
        cli(capsys, *args, "cli_res", "--role", "researcher", "--team", "A", "--team", "B")[0] == 0
    )
    assert cli(capsys, *args, "cli_adm", "--role", "admin")[0] == 0
    out = cli(capsys, "server", "user", "list", url)[1]
    assert re.search(r"cli_res\s+researcher\s+A, B", out)
    assert re.search(r"cli_adm\s+admin\s+all", out)


def test_an_admin_login_can_add_people(capsys, url: str, role_server: Server) -> None:
    cli(capsys, "server", "init", url)
    args = ("server", "user", "add", url)
    code, out, _ = cli(capsys, *args, "cli_boss", "--role", "admin")
    assert code == 0
    password = password_in(out)
    as_admin = f"postgresql://cli_boss:{password}@/{DB}?host={role_server.socket_dir}"
    code, out, err = cli(
        capsys, *args[:3], as_admin, "cli_made_by_admin", "--role", "clinician", "--team", "A"
    )
    assert code == 0, err
    assert password not in out + err
    assert "cli_made_by_admin" in cli(capsys, "server", "user", "list", url)[1]


def test_remove_drops_the_login_and_keeps_its_audit(capsys, url: str, role_server: Server) -> None:
    cli(capsys, "server", "init", url)
    out = cli(
        capsys, "server", "user", "add", url, "cli_gone", "--role", "clinician", "--team", "A"
    )[1]
    password = password_in(out)
    role_server.psql(DB, "cli_gone", password, "SELECT name FROM athletes")
    code, out, err = cli(capsys, "server", "user", "remove", url, "cli_gone")
    assert code == 0, err
    assert "cli_gone" not in cli(capsys, "server", "user", "list", url)[1]
    done = role_server.psql(DB, "cli_gone", password, "SELECT 1")
    assert done.returncode != 0
    with psycopg.connect(url) as conn:
        kept = conn.execute(
            "SELECT action FROM ns_private.audit WHERE login = 'cli_gone' OR "
            "(table_name = 'cli_gone' AND action LIKE 'user %%') ORDER BY id"
        ).fetchall()
    assert [r[0] for r in kept] == ["user add", "read", "user remove"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["user", "add", "{url}", "Bad-Name", "--role", "clinician", "--team", "A"], "login name"),
        (["user", "add", "{url}", "ns_sneaky", "--role", "admin"], "reserved"),
        (["user", "add", "{url}", "no_team", "--role", "clinician"], "at least one team"),
        (["user", "add", "{url}", "postgres", "--role", "admin"], "reserved"),
        (["user", "remove", "{url}", "nobody_here"], "no station login"),
        (["init", "sqlite:///tmp/x.db"], "PostgreSQL URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, url: str, argv: list[str], message: str) -> None:
    cli(capsys, "server", "init", url)
    code, out, err = cli(capsys, "server", *[a.replace("{url}", url) for a in argv])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_duplicate_login_is_refused(capsys, url: str) -> None:
    cli(capsys, "server", "init", url)
    args = ("server", "user", "add", url, "cli_clin", "--role", "clinician", "--team", "A")
    cli(capsys, *args)
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert "already exists" in err


def test_an_unreachable_server_never_shows_the_password(capsys) -> None:
    secret = "Sup3rSecretPw"
    code, out, err = cli(
        capsys, "server", "init", f"postgresql://boss:{secret}@/db?host=/nonexistent/socket"
    )
    assert code == 2
    assert "cannot reach the database server" in err
    assert secret not in out + err
    assert len(err.strip().splitlines()) == 1


def test_a_login_without_rights_cannot_set_up_the_server(
    capsys, url: str, role_server: Server
) -> None:
    cli(capsys, "server", "init", url)
    out = cli(
        capsys, "server", "user", "add", url, "cli_weak", "--role", "clinician", "--team", "A"
    )[1]
    password = password_in(out)
    weak = f"postgresql://cli_weak:{password}@/{DB}?host={role_server.socket_dir}"
    code, out, err = cli(capsys, "server", "init", weak)
    assert code == 2
    assert "may not set up the server" in err or "refused" in err
    assert password not in err
    assert "cli_weak:***@" in err
    code, _, err = cli(capsys, "server", "user", "add", weak, "cli_x", "--role", "admin")
    assert code == 2
    assert len(err.strip().splitlines()) == 1


def test_migrate_needs_init_first(capsys, new_database: Callable[[str], str]) -> None:
    bare = new_database("cli_bare_db")
    code, _, err = cli(capsys, "server", "migrate", bare)
    assert code == 2
    assert "server init" in err


def test_migrate_picks_up_a_new_column(capsys, url: str, role_server: Server) -> None:
    """After a schema upgrade the audited views carry the new column and the
    research views still list only what they name."""
    cli(capsys, "server", "init", url)
    with psycopg.connect(url) as conn:
        conn.execute("ALTER TABLE athletes ADD COLUMN IF NOT EXISTS nickname TEXT")
    assert cli(capsys, "server", "migrate", url)[0] == 0
    with psycopg.connect(url) as conn:
        clinic = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'ns_clinic' AND table_name = 'athletes'"
        ).fetchall()
        research = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'research_athletes'"
        ).fetchall()
    assert ("nickname",) in clinic
    assert ("nickname",) not in research


def test_migrate_lifts_the_views_before_the_store_upgrades(
    capsys, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade that drops a column fails while the views pin it; ``server migrate``
    drops them first, lets the store upgrade, and lays them again."""
    cli(capsys, "server", "init", url)
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.DependentObjectsStillExist):
        conn.execute("ALTER TABLE athletes DROP COLUMN sport")
    from station.store.postgres.server import setup

    def upgrade(target: str, **_: object) -> None:
        with psycopg.connect(target) as conn:
            conn.execute("ALTER TABLE athletes DROP COLUMN IF EXISTS sport")

    monkeypatch.setattr(setup, "prepare", upgrade)
    code, _, err = cli(capsys, "server", "migrate", url)
    assert code == 0, err
    with psycopg.connect(url) as conn:
        research = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'research_athletes'"
            )
        }
    assert "sport" not in research
    assert {"pseudonym", "team"} <= research


def test_the_admin_password_is_neither_printed_nor_logged(capsys, url: str, tmp_path: Path) -> None:
    """The socket trusts ``postgres``, so any password in its URL is accepted and
    must show up nowhere: not in the output, not in the data folder's log."""
    secret = "Adm1nPassw0rdXYZ"
    with_password = url.replace("postgresql://postgres:@", f"postgresql://postgres:{secret}@")
    assert secret in with_password
    code, out, err = cli(capsys, "--data-dir", str(tmp_path), "server", "init", with_password)
    assert code == 0, err
    assert "postgres:***@" in out
    code, out2, err2 = cli(
        capsys, "--data-dir", str(tmp_path), "server", "user", "list", with_password
    )
    assert code == 0
    logged = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.log"))
    assert logged, "the command wrote no log"
    assert secret not in out + err + out2 + err2 + logged


def test_a_station_never_upgrades_a_clinic_server_itself(
    capsys, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer's views pin their tables' columns: only ``server migrate`` upgrades."""
    from station.store import schema

    assert cli(capsys, "server", "init", url)[0] == 0
    monkeypatch.setattr(schema, "CURRENT_VERSION", schema.CURRENT_VERSION + 1)  # a newer station
    code, _, err = cli(capsys, "athlete", "list", "--database", url)
    assert code == 2 and "nordic-station server migrate" in err, err
    with psycopg.connect(url) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert int(bytes(version.fetchone()[0])) == schema.CURRENT_VERSION - 1  # untouched
