"""An athlete erased on the server is erased in every station's copy at its next sync:
name, notes and raw recordings gone there too; the erasure is not sent back."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import psycopg

from station.store.store import Store
from station.store.sync.erasure import erase_athlete
from tests.network.sync_fixtures import PgServer, clinic_server, local_db, ok, one, station
from tests.network.test_sync_stations import captures, sent_received

__all__ = ["clinic_server"]


def test_an_erasure_on_the_server_reaches_every_station(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        ok(station(home, "station", "join", clinic_server.url))
    athlete = ok(station(a, "athlete", "add", "--name", "Jo Private", "--notes", "knee")).strip()
    ok(station(a, "athlete", "add", "--name", "Al Stays"))
    ok(station(a, "test", "import", athlete, str(captures(tmp_path, 1, seed=3)[0])))
    ok(station(a, "sync"))
    ok(station(b, "sync"))
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        server_id = one(conn, "SELECT id FROM athletes WHERE name = 'Jo Private'")
    with Store.open(tmp_path / "admin", database=clinic_server.url, actor="admin") as server:
        erase_athlete(server, server_id)  # as 'athlete erase --database URL' does

    for home in (a, b):
        assert "1 erasure;" in ok(station(home, "sync"))
        with closing(local_db(home)) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM athletes")}
            notes = conn.execute("SELECT count(*) FROM athletes WHERE notes = 'knee'").fetchone()
            sizes = [row[0] for row in conn.execute("SELECT length(data) FROM recordings")]
        assert "Jo Private" not in names and "Al Stays" in names
        assert notes == (0,)
        assert sizes == [0]
        assert sent_received(ok(station(home, "sync"))) == (0, 0)
        assert ok(station(home, "station", "status")).startswith("synced")
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        erasures = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'erase'").fetchone()
    assert erasures == (1,)
