"""Sync under faults: the server killed, the connection dropped, the station killed, each
at a known point of a sync (the sync's test hooks); the resumed sync never loses nor
duplicates a test, and the counts on both sides agree after it."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tests.network.sync_fixtures import (
    PgServer,
    Running,
    clinic_server,
    fetch_all,
    local_counts,
    local_db,
    local_recordings,
    ok,
    server_recordings,
    station,
)
from tests.network.test_sync_stations import captures, sent_received

__all__ = ["clinic_server"]

TESTS = 4
ONE_AT_A_TIME = {"NORDIC_STATION_SYNC_BATCH": "1"}


@pytest.fixture
def recorded(clinic_server: PgServer, tmp_path: Path) -> Path:
    """A joined station holding one athlete and four tests the server has not seen."""
    home = tmp_path / "a"
    ok(station(home, "station", "join", clinic_server.url))
    athlete = ok(station(home, "athlete", "add", "--name", "Sam Fault", "--team", "A")).strip()
    for path in captures(tmp_path, TESTS, seed=7):
        ok(station(home, "test", "import", athlete, str(path)))
    return home


def one_line_error(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if not line.startswith("sync paused")]
    assert len(lines) == 1 and lines[0].startswith("nordic-station: error:"), stderr
    assert "Traceback" not in stderr


def check_all_there(server: PgServer, home: Path) -> None:
    assert local_counts(home) == server.counts()
    assert server.counts()["tests"] == server.counts()["test uuids"] == TESTS
    fetch_all(home)  # a pulling station's recordings came without their bytes
    assert server_recordings(server.url) == local_recordings(home)
    assert ok(station(home, "station", "status")).splitlines()[0] == "synced"


def test_server_killed_inside_a_batch(clinic_server: PgServer, recorded: Path) -> None:
    sync = Running(recorded, "sync", NORDIC_STATION_SYNC_PAUSE_IN_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused in push batch 2")
    clinic_server.kill()
    sync.resume()
    code, _, stderr = sync.finish()
    assert code == 2
    one_line_error(stderr)
    clinic_server.start()
    assert clinic_server.counts()["tests"] == 1  # the second batch never committed
    assert sent_received(ok(station(recorded, "sync"))) == (TESTS - 1, 0)
    check_all_there(clinic_server, recorded)


def test_server_killed_after_a_commit(clinic_server: PgServer, recorded: Path) -> None:
    sync = Running(recorded, "sync", NORDIC_STATION_SYNC_PAUSE_AFTER_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused after push batch 2")
    clinic_server.kill()
    sync.resume()
    code, _, stderr = sync.finish()
    assert code == 2
    one_line_error(stderr)
    clinic_server.start()
    assert clinic_server.counts()["tests"] == 2
    assert sent_received(ok(station(recorded, "sync"))) == (TESTS - 2, 0)
    check_all_there(clinic_server, recorded)


def test_connection_dropped_inside_a_batch(clinic_server: PgServer, recorded: Path) -> None:
    sync = Running(recorded, "sync", NORDIC_STATION_SYNC_PAUSE_IN_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused in push batch 3")
    assert clinic_server.drop_connections() >= 1
    sync.resume()
    code, _, stderr = sync.finish()
    assert code == 2
    one_line_error(stderr)
    assert "connection" in stderr
    assert clinic_server.counts()["tests"] == 2
    assert sent_received(ok(station(recorded, "sync"))) == (TESTS - 2, 0)
    check_all_there(clinic_server, recorded)


def test_station_killed_between_server_commit_and_its_mark(
    clinic_server: PgServer, recorded: Path
) -> None:
    sync = Running(recorded, "sync", NORDIC_STATION_SYNC_PAUSE_AFTER_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused after push batch 2")
    sync.kill()
    assert clinic_server.counts()["tests"] == 2  # on the server, not yet marked here
    # Some went, but no sync finished yet.
    status = ok(station(recorded, "station", "status")).splitlines()[0]
    assert status == f"joined, never synced: {TESTS - 1} waiting"
    # The unmarked test is sent again: the server keeps its copy, nothing doubles.
    assert sent_received(ok(station(recorded, "sync"))) == (TESTS - 2, 0)
    check_all_there(clinic_server, recorded)


def test_station_killed_while_pulling(
    clinic_server: PgServer, recorded: Path, tmp_path: Path
) -> None:
    ok(station(recorded, "sync"))
    other = tmp_path / "other"
    ok(station(other, "station", "join", clinic_server.url))
    sync = Running(other, "sync", NORDIC_STATION_SYNC_PAUSE_IN_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused in pull batch 2")
    sync.kill()
    assert len(local_recordings(other)) == 1  # the batch being stored was rolled back
    # The mark of listed tests stops at the one stored: the next pull asks for the rest.
    with closing(local_db(other)) as conn:
        mark = conn.execute("SELECT upto, seen FROM sync_marks WHERE tbl = 'tests'").fetchone()
        test = conn.execute("SELECT uuid FROM tests").fetchone()[0]
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        first = conn.execute("SELECT id FROM tests WHERE uuid = %s", (test,)).fetchone()[0]
    assert mark == (first, 1)
    assert sent_received(ok(station(other, "sync"))) == (0, TESTS - 1)
    check_all_there(clinic_server, other)


def test_server_killed_while_a_station_pulls(
    clinic_server: PgServer, recorded: Path, tmp_path: Path
) -> None:
    ok(station(recorded, "sync"))
    other = tmp_path / "other"
    ok(station(other, "station", "join", clinic_server.url))
    sync = Running(other, "sync", NORDIC_STATION_SYNC_PAUSE_IN_BATCH="30", **ONE_AT_A_TIME)
    sync.wait_for("sync paused in pull batch 3")
    clinic_server.kill()
    sync.resume()
    code, _, stderr = sync.finish()
    # The batch read before the kill is stored whole (its snapshot was read already);
    # the next batch finds no server.
    assert code == 2
    one_line_error(stderr)
    assert len(local_recordings(other)) == 3
    clinic_server.start()
    assert sent_received(ok(station(other, "sync"))) == (0, TESTS - 3)
    check_all_there(clinic_server, other)
