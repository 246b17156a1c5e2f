"""A joined station whose server does not answer: ``station status`` says "offline" and
how many records wait; ``sync`` and ``station join`` say what to check (the server, the
address, the login's password), not the ``--database`` option they do not take."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from station.store.sync import state
from tests.cli_run import run_cli as run

# A socket folder that does not exist: the probe fails at once, no network involved.
URL = "postgresql://anna@/clinic?host=/nonexistent-nordic-station-socket"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("psycopg")
    for name in ("NORDIC_STATION_DATABASE", "PGPASSWORD", "PGHOST", "PGUSER"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "station"
    monkeypatch.setenv("NORDIC_STATION_HOME", str(folder))
    return folder


def assert_server_hint(code: int, out: str, err: str) -> None:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("nordic-station: error: cannot reach the database server")
    assert "PGPASSWORD or ~/.pgpass" in lines[0] and "--database" not in lines[0]


def test_offline_status_says_how_many_wait(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    for name in ("Al One", "Bo Two"):
        assert run(capsys, "athlete", "add", "--name", name)[0] == 0
    with closing(state.connect(home)) as conn:
        state.prepare(conn)
        state.set_link(conn, URL, "0123456789abcdef")
    code, out, err = run(capsys, "station", "status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "offline"
    assert lines[1].startswith("waiting: 2 ")
    assert lines[2] == "last sync: never"

    code, out, err = run(capsys, "sync")
    assert_server_hint(code, out, err)
    assert "everything stays saved here" in err


def test_join_of_a_server_that_does_not_answer(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    assert_server_hint(*run(capsys, "station", "join", URL))
    assert run(capsys, "station", "status")[1] == "not joined\n"
