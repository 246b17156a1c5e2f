"""``athlete erase`` on a joined station's own copy is refused: the sync would send it as
an ordinary edit (the server's row renamed but not erased, its raw recordings kept, the
other stations' copies untouched). The erasure is made on the server instead."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from station.store import open_store
from station.store.sync import state
from tests.cli_run import run_cli as run

URL = "postgresql://anna@db.clinic.example/clinic"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("NORDIC_STATION_DATABASE", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "station"
    monkeypatch.setenv("NORDIC_STATION_HOME", str(folder))
    return folder


def _athlete(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(capsys, "athlete", "add", "--name", "Jo Private", "--notes", "knee")
    assert code == 0, err
    return out.strip()


def _join_without_server(home: Path) -> None:
    """The link ``station join`` keeps (no server needed to refuse the erasure)."""
    with closing(state.connect(home)) as conn:
        state.prepare(conn)
        state.set_link(conn, URL, "0123456789abcdef")


def test_a_joined_station_refuses_to_erase_its_own_copy(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    athlete = _athlete(capsys)
    _join_without_server(home)
    code, out, err = run(capsys, "athlete", "erase", athlete, "--reason", "request 1", "--yes")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert URL in lines[0] and "erase the athlete on the server" in lines[0]
    assert "--database postgresql://ADMIN@HOST/DB" in lines[0]
    with open_store() as store:
        kept = store.athletes.get(int(athlete))
    assert (kept.name, kept.notes, kept.erased_at) == ("Jo Private", "knee", None)


def test_a_station_not_joined_still_erases(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    athlete = _athlete(capsys)
    code, _, err = run(capsys, "athlete", "erase", athlete, "--reason", "request 1", "--yes")
    assert code == 0, err
    assert "backups cleaned too" in err
    with open_store() as store:
        assert store.athletes.get(int(athlete)).erased_at is not None


def test_an_erasure_on_a_server_does_not_claim_its_backups(
    capsys: pytest.CaptureFixture[str], home: Path, pg_url: str
) -> None:
    """The station cleans only its own SQLite backups: on a server it says so."""
    code, out, err = run(capsys, "--database", pg_url, "athlete", "add", "--name", "Jo Server")
    assert code == 0, err
    code, _, err = run(
        capsys, "--database", pg_url, "athlete", "erase", out.strip(), "--reason", "r", "--yes"
    )
    assert code == 0, err
    assert "erased" in err and "backups cleaned too" not in err
    assert "the server's own backups keep it until they expire" in err
