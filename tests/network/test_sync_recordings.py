"""Raw recordings on demand: a joined station pulls the tests of its teams without their
raw bytes (history, summaries and results work on what came), fetches them with
``sync --recordings`` byte for byte, refuses bytes that do not match their checksum,
leaves no half-filled row when killed mid-fetch, never pushes an absent recording's
empty bytes, and an erasure on the server leaves nothing to fetch."""

from __future__ import annotations

import hashlib
import os
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from station.store.postgres import opening
from station.store.store import Store
from station.store.sync import state
from station.store.sync.erasure import erase_athlete
from station.store.sync.errors import SyncError
from station.store.sync.push import Pusher
from tests.network.sync_fixtures import (
    PgServer,
    Running,
    absent_recordings,
    clinic_server,
    fetch_all,
    local_db,
    local_recordings,
    ok,
    one,
    server_recordings,
    station,
)
from tests.network.test_sync_faults import one_line_error
from tests.network.test_sync_stations import captures, sent_received

__all__ = ["clinic_server"]

TESTS = 4


@pytest.fixture
def pulled(clinic_server: PgServer, tmp_path: Path) -> tuple[Path, Path, str]:
    """Station a made four tests and synced; station b pulled them (its athlete's id)."""
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        ok(station(home, "station", "join", clinic_server.url))
    athlete = ok(station(a, "athlete", "add", "--name", "Pat Pulled", "--team", "A")).strip()
    for path in captures(tmp_path, TESTS, seed=11):
        ok(station(a, "test", "import", athlete, str(path)))
    ok(station(a, "sync"))
    assert sent_received(ok(station(b, "sync"))) == (0, TESTS)
    with closing(local_db(b)) as conn:
        here = conn.execute("SELECT id FROM athletes WHERE name = 'Pat Pulled'").fetchone()[0]
    return a, b, str(here)


def checksums(home: Path) -> dict[str, str]:
    """Each test's recording SHA-256, and the SHA-256 of the bytes actually held."""
    with closing(local_db(home)) as conn:
        rows = conn.execute(
            "SELECT t.uuid, r.sha256, r.data FROM tests t JOIN recordings r "
            "ON r.id = t.recording_id"
        ).fetchall()
    return {u: sha for u, sha, data in rows if hashlib.sha256(bytes(data)).hexdigest() == sha}


def test_pulled_tests_come_without_their_bytes_and_history_still_works(
    clinic_server: PgServer, pulled: tuple[Path, Path, str]
) -> None:
    a, b, athlete = pulled
    assert absent_recordings(b) == TESTS and absent_recordings(a) == 0
    assert set(local_recordings(b).values()) == {b""}
    made = local_recordings(a)
    raw_bytes = sum(len(data) for data in made.values())
    with closing(local_db(b)) as conn:
        conn.execute("VACUUM")
    with closing(local_db(a)) as conn:
        conn.execute("VACUUM")
    size_a = os.path.getsize(a / "nordic-station.sqlite3")
    size_b = os.path.getsize(b / "nordic-station.sqlite3")
    assert size_a - size_b >= 0.9 * raw_bytes, (size_a, size_b, raw_bytes)
    # History, results and summaries need no raw bytes.
    listed = ok(station(b, "test", "list", athlete, "--json"))
    assert listed.count('"id"') == TESTS
    ok(station(b, "test", "show", "1"))
    ok(station(b, "export", "summary", "--out", str(b / "summary.csv")))
    assert len((b / "summary.csv").read_text().splitlines()) == TESTS + 1
    # What needs them says where they are, in one line.
    failed = station(b, "export", "test", "1", "--out", str(b / "curves"))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
    assert "the raw recording of test 1 is on the clinic server" in failed.stderr
    assert "nordic-station sync --recordings" in failed.stderr
    skipped = ok(station(b, "recompute", "--all", "--jobs", "1"))
    assert f"{TESTS} skipped: their raw recording is on the clinic server" in skipped

    # One test's, then the athlete's, then nothing left.
    out = ok(station(b, "sync", "--recordings", "--test", "2"))
    assert out.splitlines()[-1].startswith("fetched 1 raw recording (")
    assert absent_recordings(b) == TESTS - 1
    out = ok(station(b, "sync", "--recordings", "--athlete", athlete))
    assert out.splitlines()[-1].startswith(f"fetched {TESTS - 1} raw recordings (")
    assert local_recordings(b) == made == server_recordings(clinic_server.url)
    assert len(checksums(b)) == TESTS
    assert ok(station(b, "sync", "--recordings")).splitlines()[-1] == "fetched 0 raw recordings"
    ok(station(b, "export", "test", "1", "--out", str(b / "curves")))


def test_a_fetch_killed_midway_leaves_no_half_row(pulled: tuple[Path, Path, str]) -> None:
    a, b, _ = pulled
    fetch = Running(
        b,
        "sync",
        "--recordings",
        NORDIC_STATION_SYNC_PAUSE_IN_BATCH="30",
        NORDIC_STATION_SYNC_BATCH="1",
    )
    fetch.wait_for("sync paused in fetch batch 2")
    fetch.kill()
    # The first batch committed whole; the one being filled was rolled back whole.
    assert absent_recordings(b) == TESTS - 1
    assert len(checksums(b)) == 1
    with closing(local_db(b)) as conn:
        states = conn.execute("SELECT absent, size = length(data), length(data) FROM recordings")
        assert all((flag == 1) == (size == 0) and same for flag, same, size in states)
    assert "fetched 3 raw recordings" in fetch_all(b)
    assert local_recordings(b) == local_recordings(a)


def test_a_server_recording_that_does_not_match_its_checksum_is_refused(
    clinic_server: PgServer, pulled: tuple[Path, Path, str]
) -> None:
    _, b, _ = pulled
    with psycopg.connect(clinic_server.url, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # past the guards
        conn.execute(
            "UPDATE recordings SET data = overlay(data placing '\\x00'::bytea from 40) "
            "WHERE id = (SELECT min(id) FROM recordings)"
        )
    failed = station(b, "sync", "--recordings")
    assert failed.returncode == 2
    one_line_error(failed.stderr)
    assert "does not match its checksum" in failed.stderr
    assert absent_recordings(b) == TESTS  # its batch stored nothing
    assert len(checksums(b)) == 0


def test_push_never_sends_an_absent_recordings_empty_bytes(
    clinic_server: PgServer, pulled: tuple[Path, Path, str]
) -> None:
    a, b, _ = pulled
    with closing(local_db(b)) as conn:  # b forgets the server holds its pulled tests
        conn.execute("DELETE FROM sync_known WHERE tbl IN ('tests', 'results')")
        conn.commit()
    before = server_recordings(clinic_server.url)
    out = ok(station(b, "sync"))
    assert sent_received(out)[0] == 0  # the server had them all: nothing doubled
    assert server_recordings(clinic_server.url) == before == local_recordings(a)
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        assert one(conn, "SELECT count(*) FROM recordings WHERE length(data) = 0") == 0
        assert one(conn, "SELECT count(*) FROM recordings WHERE absent = 1") == 0
    assert absent_recordings(b) == TESTS


def test_push_refuses_a_test_whose_absent_recording_the_server_lacks(
    clinic_server: PgServer, pulled: tuple[Path, Path, str]
) -> None:
    """Pushed to a server that never had them (here: another database), the pulled tests
    are refused whole: no recording with empty bytes reaches it."""
    _, b, _ = pulled
    with psycopg.connect(clinic_server.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE elsewhere")
    parts = urlsplit(clinic_server.url)
    elsewhere = urlunsplit((parts.scheme, parts.netloc, "/elsewhere", parts.query, ""))
    opening.prepare(elsewhere)
    with closing(state.connect(b)) as conn, psycopg.connect(elsewhere, autocommit=True) as server:
        conn.execute("DELETE FROM sync_known")  # as if b had never synced with anyone
        with pytest.raises(SyncError, match="pulled without its bytes"):
            Pusher(conn, server).run()
    with psycopg.connect(elsewhere, autocommit=True) as conn:
        assert one(conn, "SELECT count(*) FROM recordings") == 0
        assert one(conn, "SELECT count(*) FROM tests") == 0
    assert absent_recordings(b) == TESTS


def test_an_erasure_on_the_server_leaves_nothing_to_fetch(
    clinic_server: PgServer, pulled: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, b, _ = pulled
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        server_id = one(conn, "SELECT id FROM athletes WHERE name = 'Pat Pulled'")
    with Store.open(tmp_path / "admin", database=clinic_server.url, actor="admin") as server:
        erase_athlete(server, server_id)
    assert "1 erasure;" in ok(station(b, "sync"))
    with closing(local_db(b)) as conn:
        rows = conn.execute("SELECT sha256, absent, length(data) FROM recordings").fetchall()
    assert len(rows) == TESTS
    assert all(sha.startswith("erased-") and (absent, size) == (0, 0) for sha, absent, size in rows)
    assert ok(station(b, "sync", "--recordings")).splitlines()[-1] == "fetched 0 raw recordings"
