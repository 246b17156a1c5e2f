"""The store's commands: output a script can use, one line and exit 2 for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from station import paths
from tests.cli_run import run_cli as run  # tests import it from here too


def assert_one_line_error(code: int, err: str, text: str) -> None:
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note:")]
    assert len(lines) == 1, err
    assert text in lines[0] and "Traceback" not in err


def test_athlete_commands(capsys, home: Path) -> None:
    code, out, _ = run(
        capsys, "athlete", "add", "--name", "Ada Lovelace", "--external-id", "S01",
        "--body-mass", "62.5", "--lever-arm", "0.42", "--team", "U19", "--sport", "football",
        "--dominant", "right", "--dob", "2005-03-02", "--sex", "f",
    )  # fmt: skip
    assert (code, out) == (0, "1\n")
    assert run(capsys, "athlete", "add", "--name", "Bo")[1] == "2\n"
    code, out, _ = run(capsys, "athlete", "list")
    assert code == 0 and "Ada Lovelace" in out and "S01" in out and "62.5" in out
    code, out, _ = run(capsys, "athlete", "list", "--search", "LOVE", "--json")
    assert [a["name"] for a in json.loads(out)] == ["Ada Lovelace"]
    assert run(capsys, "athlete", "edit", "S01", "--team", "", "--body-mass", "64")[0] == 0
    assert run(capsys, "athlete", "mass", "S01", "65", "--date", "2024-01-01")[0] == 0
    assert run(capsys, "athlete", "injury", "S01", "--side", "left", "--note", "strain")[0] == 0
    code, out, _ = run(capsys, "athlete", "show", "S01", "--json", "--history")
    shown = json.loads(out)
    assert shown["team"] is None and shown["body_mass_kg"] == 64.0
    assert [m["kg"] for m in shown["body_mass_history"]] == [65.0, 62.5, 64.0]
    assert shown["injuries"][0]["note"] == "strain"
    assert [h["action"] for h in shown["history"]] == [
        "create",
        "body_mass",
        "update",
        "body_mass",
        "injury",
    ]
    code, out, _ = run(capsys, "athlete", "show", "1")
    assert "Ada Lovelace" in out and "64 kg" in out
    assert run(capsys, "athlete", "archive", "2")[0] == 0
    assert "Bo" not in run(capsys, "athlete", "list")[1]
    assert "Bo" in run(capsys, "athlete", "list", "--archived")[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["athlete", "add", "--name", "X", "--body-mass", "0"], "body mass 0 kg is impossible"),
        (["athlete", "add", "--name", "X", "--body-mass", "401"], "at most 400"),
        (["athlete", "add", "--name", "X", "--dob", "2999-01-01"], "in the future"),
        (["athlete", "add", "--name", "X", "--lever-arm", "-1"], "lever arm -1 m is impossible"),
        (["athlete", "add", "--name", "X", "--external-id", "S01"], "already used by athlete 1"),
        (["athlete", "add", "--name", "X", "--sex", "?"], "not one of"),
        (["athlete", "add"], "--name"),
        (["athlete", "show", "nobody"], "no athlete with id or external id 'nobody'"),
        (["athlete", "edit", "S01", "--name", ""], "name must not be empty"),
        (["athlete", "edit", "S01"], "nothing to change"),
        (["test", "list", "nobody"], "no athlete"),
        (["test", "show", "42"], "no test 42"),
        (["test", "show", "abc"], "not a test id"),
        (["test", "import", "S01", "missing.bin"], "missing.bin: no such file"),
        (["test", "import", "S01", "x", "--rate", "fast"], "not a number of Hz"),
        (["rep", "exclude", "1", "1"], "--reason"),
        (["recompute"], "pass --all"),
        (["export", "summary"], "--out"),
        (["export", "summary", "--out", "s.csv", "--since", "soon"], "not a date"),
        (["recover", "--discard", "7"], "no unfinished test 7"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys, home: Path, argv: list[str], message: str
) -> None:
    run(capsys, "athlete", "add", "--name", "Ada", "--external-id", "S01")
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, message)
    if argv[:2] == ["athlete", "add"]:
        assert run(capsys, "athlete", "list", "--json")[1].count('"id"') == 1  # nothing written


def test_tests_reps_exports_and_recompute(
    capsys, home: Path, tmp_path: Path, capture_file, cert_file
) -> None:
    run(capsys, "athlete", "add", "--name", "Ada", "--external-id", "S01", "--body-mass", "60")
    code, out, err = run(
        capsys, "test", "import", "S01", str(capture_file), "--calibration", str(cert_file),
        "--operator", "Kim", "--notes", "baseline",
    )  # fmt: skip
    assert (code, out) == (0, "1\n"), err
    code, out, _ = run(capsys, "test", "list", "S01")
    assert code == 0 and "3/3" in out
    code, out, _ = run(capsys, "rep", "exclude", "1", "2", "--reason", "heel lifted", "--by", "Kim")
    assert code == 0 and "rep 2 of test 1 excluded" in out
    code, out, _ = run(capsys, "test", "show", "1")
    assert "heel lifted (Kim" in out and "run 1" in out and "exclusion" in out
    code, out, _ = run(capsys, "test", "show", "1", "--json")
    shown = json.loads(out)
    assert (
        shown["reps"][1]["excluded"] and shown["result"]["metrics"]["summary"]["reps_included"] == 2
    )
    assert run(capsys, "rep", "include", "1", "2")[0] == 0
    code, out, _ = run(capsys, "recompute", "1")
    assert code == 0 and "unchanged" in out
    code, out, _ = run(capsys, "recompute", "--all", "--dry-run")
    assert code == 0 and "test 1" in out

    summary = tmp_path / "summary.csv"
    code, out, _ = run(capsys, "export", "summary", "--out", str(summary), "--anonymise")
    assert code == 0 and "1 test(s)" in out and "Ada" not in summary.read_text()
    code, _, err = run(capsys, "export", "summary", "--out", str(summary))
    assert_one_line_error(code, err, "already exists: pass --force")
    assert run(capsys, "export", "summary", "--out", str(summary), "--force")[0] == 0
    assert "Ada" in summary.read_text()
    code, out, _ = run(capsys, "export", "test", "1", "--out", str(tmp_path / "t1"))
    assert (
        code == 0
        and (tmp_path / "t1" / "test-1.csv").exists()
        and (tmp_path / "t1" / "test-1.json").exists()
    )


def test_import_warnings_go_to_stderr(capsys, home: Path, tmp_path: Path, capture_file) -> None:
    run(capsys, "athlete", "add", "--name", "Ada")
    cert = json.loads(
        json.dumps(__import__("tests.store.synth", fromlist=["x"]).certificate("NR-OTHER"))
    )
    path = tmp_path / "other.json"
    path.write_text(json.dumps(cert))
    code, out, err = run(
        capsys, "test", "import", "1", str(capture_file), "--calibration", str(path)
    )
    assert (code, out) == (0, "1\n")
    assert "warning:" in err and "NR-OTHER" in err


@pytest.mark.sqlite_only("the database file is made in the --data-dir folder")
def test_data_dir_option_wins(capsys, tmp_path: Path, home: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert run(capsys, "athlete", "add", "--data-dir", str(elsewhere), "--name", "Ada")[0] == 0
    assert paths.database_path(elsewhere).exists() and not home.exists()


@pytest.mark.sqlite_only("a damaged SQLite file")
def test_a_damaged_database_is_a_clear_error_for_every_command(capsys, home: Path) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    garbage = os.urandom(4096)
    db.write_bytes(garbage)
    for argv in (
        ["athlete", "list"],
        ["test", "list", "1"],
        ["recover", "--list"],
        ["recompute", "--all"],
    ):
        code, _, err = run(capsys, *argv)
        assert_one_line_error(code, err, "not a Nordic Station database")
    assert db.read_bytes() == garbage
