"""A station synced as a clinician of one team, on a server set up with ``server init``
(row-level security): the athletes of other teams, with their tests, stay on the
station and keep waiting; the rest goes, and the sync succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.network.sync_fixtures import PgServer, clinic_server, ok, station
from tests.network.test_sync_stations import captures

__all__ = ["clinic_server"]

pytest.importorskip("station.store.postgres.server", reason="the server roles layer (network)")


def test_athletes_of_other_teams_stay_on_the_station(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    admin = tmp_path / "admin"
    ok(station(admin, "server", "init", clinic_server.url))
    ok(station(admin, "server", "user", "add", clinic_server.url, "nurse_sync",
               "--role", "clinician", "--team", "A"))  # fmt: skip
    nurse = clinic_server.url.replace("postgres:@", "nurse_sync@")
    home = tmp_path / "station"
    ok(station(home, "station", "join", nurse))
    paths = captures(tmp_path, 2, seed=5)
    for team, path in zip("AB", paths, strict=True):
        athlete = ok(station(home, "athlete", "add", "--name", f"Team {team}", "--team", team))
        ok(station(home, "test", "import", athlete.strip(), str(path)))
    line = ok(station(home, "sync"))
    assert line.startswith("sent 1 certificates, 1 athletes, 1 tests;"), line
    assert "2 waiting (1 athletes of teams this login may not write stay here)" in line
    counts = clinic_server.counts()
    assert (counts["athletes"], counts["tests"]) == (1, 1)
    assert ok(station(home, "station", "status")).splitlines()[0] == "2 waiting"
