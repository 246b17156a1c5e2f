"""Choosing the store: ``--database`` on every command, ``NORDIC_STATION_DATABASE``,
else the data folder's own; bad locations are one line and exit 2; a password in a
URL is never printed, logged or kept."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from station import logs, paths
from station.cli import build_parser
from station.store import database_choice, open_store
from station.store import store as store_module
from station.store.database_choice import LocationError, masked, parse, without_password
from tests.cli_run import run_cli as run

SECRET = "hunter2-Secret"


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- the location as typed ---------------------------------------------------------------


def test_the_kinds_of_location(tmp_path: Path) -> None:
    assert parse(str(tmp_path)).kind == "folder" and parse(str(tmp_path)).path == tmp_path
    assert parse(str(tmp_path / "new")).kind == "folder"  # created when opened
    file = parse(f"sqlite:///{tmp_path}/ns.sqlite3")
    assert file.kind == "sqlite" and file.path == tmp_path / "ns.sqlite3"
    assert parse("sqlite:///relative.sqlite3").path == Path("relative.sqlite3")
    for url in ("postgresql://ns@db.clinic:5432/nordic", "postgres://ns@db/nordic"):
        assert parse(url).kind == "postgresql" and parse(url).path is None


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"mysql://ns:{SECRET}@db/nordic", "unknown kind of database mysql://"),
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        (f"postgresql://ns:{SECRET}@db:port/nordic", "not a PostgreSQL URL"),
    ],
)
def test_a_bad_location_says_what_is_wrong(location: str, says: str) -> None:
    with pytest.raises(LocationError, match=says) as caught:
        parse(location)
    assert SECRET not in str(caught.value)


def test_a_file_is_not_a_folder_and_a_folder_is_not_a_file(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(LocationError, match="is a file, not a folder"):
        parse(str(file))
    with pytest.raises(LocationError, match="is a folder, not a database file"):
        parse(f"sqlite:///{tmp_path}")


def test_passwords_are_masked_and_never_kept() -> None:
    url = f"postgresql://ns:{SECRET}@db.clinic:5432/nordic?sslmode=require&password={SECRET}"
    assert masked(url) == ("postgresql://ns:***@db.clinic:5432/nordic?sslmode=require&password=***")
    assert without_password(url) == "postgresql://ns@db.clinic:5432/nordic?sslmode=require"
    assert database_choice.password_of(url) == SECRET
    plain = "postgresql://ns@db/nordic"
    assert masked(plain) == plain == without_password(plain)
    assert database_choice.password_of(plain) is None
    assert without_password("/srv/nordic") == "/srv/nordic"


def test_option_then_environment_then_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.DATABASE_ENV_VAR, raising=False)
    assert paths.database_location(None) is None
    monkeypatch.setenv(paths.DATABASE_ENV_VAR, "  ")
    assert paths.database_location(None) is None  # an empty variable is not a choice
    monkeypatch.setenv(paths.DATABASE_ENV_VAR, "/from/env")
    assert paths.database_location(None) == "/from/env"
    assert paths.database_location("/from/option") == "/from/option"
    assert paths.database_location("") == ""  # given empty: refused when opened, not ignored


# --- the command line --------------------------------------------------------------------


def store_commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every (sub)command parser the CLI builds, by its full name."""
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(f"{name} {sub}".strip(), child)

    walk("", build_parser())
    return found


def test_every_command_takes_database_beside_data_dir() -> None:
    commands = store_commands()
    assert len(commands) > 20
    for name, parser in commands:
        options = {opt for action in parser._actions for opt in action.option_strings}
        assert "--data-dir" in options and "--database" in options, name


def test_database_option_picks_the_store(capsys, home: Path, tmp_path: Path) -> None:
    other = tmp_path / "clinic-db"
    code, _, err = run(capsys, "athlete", "add", "--name", "Ada", "--database", str(other))
    assert code == 0, err
    assert paths.database_path(other).exists()
    assert not paths.database_path(home).exists()  # the data folder's own is untouched
    code, out, _ = run(capsys, "--database", str(other), "athlete", "list")  # before the command
    assert code == 0 and "Ada" in out
    code, out, _ = run(capsys, "athlete", "list")
    assert code == 0 and "Ada" not in out


def test_environment_picks_the_store_and_the_option_beats_it(
    capsys, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "by-env.sqlite3"
    monkeypatch.setenv(paths.DATABASE_ENV_VAR, f"sqlite:///{file}")
    assert run(capsys, "athlete", "add", "--name", "Env Person")[0] == 0
    assert file.exists()
    with open_store(database=f"sqlite:///{file}") as store:
        assert [a.name for a in store.athletes.find()] == ["Env Person"]
        assert store.location == f"sqlite:///{file}"
    option = tmp_path / "by-option"
    assert run(capsys, "athlete", "add", "--name", "Opt", "--database", str(option))[0] == 0
    with open_store(database=str(option)) as store:
        assert [a.name for a in store.athletes.find()] == ["Opt"]


@pytest.mark.parametrize(
    ("location", "says"),
    [
        (f"mysql://ns:{SECRET}@db/nordic", "unknown kind of database mysql://"),
        # port 1 on this computer: nothing listens, so the connection is refused at once
        (f"postgresql://ns:{SECRET}@127.0.0.1:1/nordic", "cannot reach the database server"),
        (f"postgres://ns@127.0.0.1:1/nordic?password={SECRET}", "cannot reach"),
        ("", "empty"),
    ],
)
def test_bad_locations_are_one_line_and_exit_2_without_the_password(
    capsys, home: Path, location: str, says: str
) -> None:
    home.mkdir(parents=True)  # so the log file is written too
    for argv in (
        ["athlete", "list", "--database", location],
        ["test", "list", "Ada", "--database", location],
        ["recover", "--list", "--database", location],
    ):
        code, out, err = run(capsys, *argv)
        line = one_line_error(code, err)
        assert says in line and SECRET not in out + err
    log = logs.log_path(home)
    assert not log.exists() or SECRET not in log.read_text(encoding="utf-8")


def test_a_file_given_as_the_database_folder_is_one_line(capsys, tmp_path: Path) -> None:
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    code, _, err = run(capsys, "athlete", "list", "--database", str(file))
    assert "is a file, not a folder" in one_line_error(code, err)


def fake_locations(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[str]:
    """Stand-in for ``station.store.locations.open_backend``: a server that cannot be
    reached."""
    calls: list[str] = []

    def open_backend(location: str, folder: Path) -> object:
        calls.append(location)
        raise error

    monkeypatch.setattr(store_module, "open_backend", open_backend)
    return calls


def test_an_unreachable_server_is_one_line_without_the_password(
    capsys, home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql://ns:{SECRET}@db.clinic:5432/nordic"
    calls = fake_locations(
        monkeypatch,
        ConnectionRefusedError(111, f"connection to {url} refused: is the server running?"),
    )
    with caplog.at_level(logging.DEBUG):
        code, out, err = run(capsys, "athlete", "list", "--database", url)
    line = one_line_error(code, err)
    assert calls == [url]  # the location reached the backend's opener whole
    assert "refused" in line and "postgresql://ns:***@db.clinic:5432/nordic" in line
    assert SECRET not in out + err + caplog.text


def test_a_server_error_without_the_password_is_kept_as_it_is(
    capsys, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_locations(monkeypatch, TimeoutError("db.clinic:5432 did not answer in 10 s"))
    code, _, err = run(capsys, "athlete", "list", "--database", "postgresql://ns@db.clinic/n")
    assert "did not answer" in one_line_error(code, err)


def test_the_opened_location_is_logged_masked(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Opened:
        path = tmp_path / "x"
        migrated_from = None
        backup_path = None

        def close(self) -> None:
            pass

    monkeypatch.setattr(store_module, "open_backend", lambda location, folder: Opened())
    url = f"postgresql://ns:{SECRET}@db/nordic"
    with caplog.at_level(logging.INFO), open_store(database=url) as store:
        assert store.location == "postgresql://ns:***@db/nordic"
        assert store.upgrade is None
    assert "postgresql://ns:***@db/nordic" in caplog.text and SECRET not in caplog.text
