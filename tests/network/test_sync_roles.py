"""A station synced as a clinician of one team, on a server set up with ``server init``
(row-level security): the athletes of other teams stay on the station and keep
waiting; the rest goes, and the sync succeeds."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import psycopg

from station.store.store import Store
from tests.network.sync_fixtures import PgServer, clinic_server, local_db, ok, station
from tests.network.test_sync_stations import captures

__all__ = ["clinic_server"]


def clinician_station(server: PgServer, tmp_path: Path) -> Path:
    admin = tmp_path / "admin"
    ok(station(admin, "server", "init", server.url))
    ok(station(admin, "server", "user", "add", server.url, "nurse_sync",
               "--role", "clinician", "--team", "A"))  # fmt: skip
    home = tmp_path / "station"
    ok(station(home, "station", "join", server.url.replace("postgres:@", "nurse_sync@")))
    return home


def test_athletes_of_other_teams_stay_on_the_station(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    home = clinician_station(clinic_server, tmp_path)
    for team in "AB":
        ok(station(home, "athlete", "add", "--name", f"Team {team}", "--team", team))
    line = ok(station(home, "sync"))
    assert line.startswith("sent 1 athlete;"), line
    assert "1 waiting (1 athlete of a team this login may not write stays here)" in line
    assert clinic_server.counts()["athletes"] == 1
    assert ok(station(home, "station", "status")).splitlines()[0] == "1 waiting"


def test_a_clinician_station_sends_its_tests(clinic_server: PgServer, tmp_path: Path) -> None:
    home = clinician_station(clinic_server, tmp_path)
    athlete = ok(station(home, "athlete", "add", "--name", "Team A", "--team", "A")).strip()
    ok(station(home, "test", "import", athlete, str(captures(tmp_path, 1, seed=5)[0])))
    line = ok(station(home, "sync"))
    assert line.startswith("sent 1 certificate, 1 athlete, 1 test;"), line
    assert clinic_server.counts()["tests"] == 1


def test_an_erasure_reaches_a_clinician_station(clinic_server: PgServer, tmp_path: Path) -> None:
    """Row-level security binds the clinician: the erased row must stay visible to the
    team's clinicians (it keeps its team), or their copy would keep the name."""
    home = clinician_station(clinic_server, tmp_path)
    ok(station(home, "athlete", "add", "--name", "Jo Private", "--team", "A", "--notes", "knee"))
    ok(station(home, "sync"))
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        server_id = conn.execute("SELECT id FROM athletes WHERE name = 'Jo Private'").fetchone()[0]
    with Store.open(tmp_path / "admin-station", database=clinic_server.url, actor="dpo") as admin:
        admin.erasure.erase(server_id, "request", by="dpo")
    assert "1 erasure;" in ok(station(home, "sync"))
    with closing(local_db(home)) as conn:
        rows = conn.execute("SELECT name, notes, erased_at IS NOT NULL FROM athletes").fetchall()
    assert rows == [("erased athlete", "", 1)]
