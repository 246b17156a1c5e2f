""" "A person who connects with psql sees no more than in the app": the station's
own store (the PostgreSQL backend behind the store's public API) opened with a
clinician's login lists exactly what ``psql`` shows that login, and the
station's reads and writes go through the audited views."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from station.store.postgres.server.connection import connect
from station.store.postgres.server.roles import add_user
from station.store.postgres.server.setup import init_server
from station.store.store import Store
from tests.network.conftest import Server

DB = "station_db"
LOGINS = ("st_a", "st_b", "st_adm")


@pytest.fixture(scope="module")
def setup(role_server: Server, new_database: Callable[[str], str]) -> Iterator[dict[str, str]]:
    url = new_database(DB)
    init_server(url)
    with connect(url) as conn:
        for login in LOGINS:
            conn.execute(f"DROP ROLE IF EXISTS {login}")
        passwords = {
            "st_a": add_user(conn, "st_a", "clinician", ["A"]),
            "st_b": add_user(conn, "st_b", "clinician", ["B"]),
            "st_adm": add_user(conn, "st_adm", "admin", []),
        }
    yield {"admin": url, **passwords}


def login_url(role_server: Server, user: str, password: str) -> str:
    return f"postgresql://{user}:{password}@/{DB}?host={role_server.socket_dir}"


@pytest.fixture
def station(setup: dict[str, str], role_server: Server, tmp_path: Path) -> Callable[[str], Store]:
    opened: list[Store] = []

    def open_as(user: str) -> Store:
        store = Store.open(tmp_path / user, database=login_url(role_server, user, setup[user]))
        opened.append(store)
        return store

    yield open_as
    for store in opened:
        store.close()


def test_the_station_as_a_clinician_lists_what_psql_shows_them(
    setup: dict[str, str], station: Callable[[str], Store], role_server: Server
) -> None:
    a, b = station("st_a"), station("st_b")
    a.athletes.add(name="Ada Alpha", team="A", date_of_birth="2001-01-01")
    b.athletes.add(name="Bea Beta", team="B")
    station("st_adm").athletes.add(name="Nobody Noteam")
    for user, store in (("st_a", a), ("st_b", b)):
        shown = sorted(x.name for x in store.athletes.find(include_archived=True))
        done = role_server.psql(DB, user, setup[user], "SELECT name FROM athletes ORDER BY name")
        assert done.returncode == 0, done.stderr
        assert shown == [line for line in done.stdout.splitlines() if line]
    assert [x.name for x in a.athletes.find()] == ["Ada Alpha"]
    assert [x.name for x in b.athletes.find()] == ["Bea Beta"]


def test_the_stations_reads_and_writes_are_audited_with_the_login(
    setup: dict[str, str], station: Callable[[str], Store]
) -> None:
    a = station("st_a")
    athlete = a.athletes.add(name="Cy Alpha", team="A")
    a.athletes.get(athlete.id)
    with psycopg.connect(setup["admin"]) as conn:
        actions = {
            (action, table)
            for action, table in conn.execute(
                "SELECT action, table_name FROM ns_private.audit WHERE login = 'st_a'"
            )
        }
    assert ("insert", "athletes") in actions
    assert ("read", "athletes") in actions


def test_a_clinician_station_cannot_open_another_teams_athlete(
    setup: dict[str, str], station: Callable[[str], Store]
) -> None:
    a, b = station("st_a"), station("st_b")
    theirs = b.athletes.add(name="Di Beta", team="B")
    from station.store.errors import NotFoundError, StoreError

    with pytest.raises(NotFoundError):
        a.athletes.get(theirs.id)
    with pytest.raises(StoreError):
        a.athletes.update(theirs.id, notes="changed by another team")


def test_an_admin_station_erases_an_athlete_and_the_research_views_drop_them(
    setup: dict[str, str], station: Callable[[str], Store]
) -> None:
    a, admin = station("st_a"), station("st_adm")
    gone = a.athletes.add(name="Eve Alpha", team="A", notes="private")
    admin.erasure.erase(gone.id, reason="asked to be forgotten")
    with psycopg.connect(setup["admin"]) as conn:
        name = conn.execute("SELECT name FROM athletes WHERE id = %s", (gone.id,)).fetchone()[0]
        audit = conn.execute(
            "SELECT login, action, detail FROM ns_private.audit "
            "WHERE table_name = 'athletes' AND row_id = %s ORDER BY id",
            (str(gone.id),),
        ).fetchall()
    assert "Eve" not in name
    assert ("st_adm", "update") in {(login, action) for login, action, _ in audit}
    assert not any("Eve" in (detail or "") or "private" in (detail or "") for *_, detail in audit)


def test_a_team_grant_matches_the_team_ignoring_case_as_the_station_does(
    setup: dict[str, str], station: Callable[[str], Store]
) -> None:
    admin = station("st_adm")
    admin.athletes.add(name="Fay Lower", team="a")
    assert "Fay Lower" in [x.name for x in station("st_a").athletes.find(team="A")]
    assert "Fay Lower" not in [x.name for x in station("st_b").athletes.find()]
