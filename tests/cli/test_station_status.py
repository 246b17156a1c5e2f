"""``station status`` of a joined station whose server does not answer: "offline", and
how many records wait (the status line alone says only "offline")."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from station.cli import main
from station.store.sync import state

# A socket folder that does not exist: the probe fails at once, no network involved.
URL = "postgresql://anna@/clinic?host=/nonexistent-nordic-station-socket"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_offline_status_says_how_many_wait(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.delenv("NORDIC_STATION_DATABASE", raising=False)
    home = tmp_path / "station"
    monkeypatch.setenv("NORDIC_STATION_HOME", str(home))
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
