"""Three stations (separate processes) and one server: tests saved while the server is
down reach it when it is back, and every station sees each test exactly once with its
raw recording byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from tests.network.sync_fixtures import (
    PgServer,
    absent_recordings,
    clinic_server,
    fetch_all,
    local_counts,
    local_recordings,
    ok,
    server_recordings,
    station,
)
from tests.store import synth

__all__ = ["clinic_server"]


def captures(folder: Path, count: int, seed: int) -> list[Path]:
    """Different sessions (each its own raw recording)."""
    paths = []
    for i in range(count):
        data = synth.capture(300.0 + 10 * i, 250.0, seed=seed * 100 + i)
        paths.append(synth.write_recording(folder / f"s{seed}-{i}.nsrec", data))
    return paths


def sent_received(line: str) -> tuple[int, int]:
    match = re.fullmatch(r"sent (.*); received (.*); (\d+) waiting\n", line)
    assert match, line

    def tests(part: str) -> int:
        found = re.search(r"(\d+) tests?\b(?! change)", part)
        return int(found.group(1)) if found else 0

    return tests(match.group(1)), tests(match.group(2))


def test_tests_saved_offline_reach_every_station_exactly_once(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    a, b, c = (tmp_path / name for name in "abc")
    for home in (a, b, c):
        assert ok(station(home, "station", "join", clinic_server.url)).startswith("joined ")
        status = ok(station(home, "station", "status")).splitlines()
        assert status[0] == "joined, never synced: 0 waiting"  # not "synced": nothing went yet
        assert status[1] == "last sync: never"
    clinic_server.stop()
    for seed, home in enumerate((a, b), start=1):
        athlete = ok(station(home, "athlete", "add", "--name", f"Athlete {seed}", "--team", "A"))
        for path in captures(tmp_path, 2, seed):
            ok(station(home, "test", "import", athlete.strip(), str(path)))
        assert ok(station(home, "station", "status")).splitlines()[0] == "offline"
        failed = station(home, "sync")
        assert failed.returncode == 2
        assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
        assert "cannot reach the database server" in failed.stderr
    assert len(local_recordings(a)) == len(local_recordings(b)) == 2
    made = {**local_recordings(a), **local_recordings(b)}

    clinic_server.start()
    assert sent_received(ok(station(a, "sync"))) == (2, 0)
    assert sent_received(ok(station(b, "sync"))) == (2, 2)
    assert sent_received(ok(station(c, "sync"))) == (0, 4)
    assert sent_received(ok(station(a, "sync"))) == (0, 2)

    assert len(made) == 4
    assert server_recordings(clinic_server.url) == made
    # Pulled tests came without their raw bytes (on demand), each station's own with them.
    assert [absent_recordings(home) for home in (a, b, c)] == [2, 2, 4]
    for home in (a, b, c):
        fetch_all(home)
        assert local_recordings(home) == made  # each test once, its bytes equal
        assert local_counts(home) == clinic_server.counts()
        assert ok(station(home, "station", "status")).splitlines()[0] == "synced"
    assert clinic_server.counts()["current results"] == 4
    assert sent_received(ok(station(c, "sync"))) == (0, 0)
    assert sent_received(ok(station(c, "sync", "--full"))) == (0, 0)  # every key listed


def test_two_stations_syncing_at_once_lose_and_double_nothing(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    from tests.network.sync_fixtures import Running

    homes = [tmp_path / "a", tmp_path / "b"]
    for seed, home in enumerate(homes, start=1):
        ok(station(home, "station", "join", clinic_server.url))
        athlete = ok(station(home, "athlete", "add", "--name", f"Both {seed}", "--team", "A"))
        for path in captures(tmp_path, 3, seed):
            ok(station(home, "test", "import", athlete.strip(), str(path)))
    made = {**local_recordings(homes[0]), **local_recordings(homes[1])}
    runs = [Running(home, "sync", NORDIC_STATION_SYNC_BATCH="1") for home in homes]
    for run in runs:
        code, out, err = run.finish()
        assert code == 0, err
        assert sent_received(out)[0] == 3
    for home in homes:
        ok(station(home, "sync"))
    assert len(made) == 6 and server_recordings(clinic_server.url) == made
    for home in homes:
        fetch_all(home)
        assert local_recordings(home) == made
        assert local_counts(home) == clinic_server.counts()
