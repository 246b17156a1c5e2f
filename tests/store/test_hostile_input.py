"""Hostile and odd input to the store's commands (issue 12 §3): one line, exit 2,
nothing saved half, never a hang or an internal error."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from station.cli import main
from station.store import Store, open_store
from station.store.sqlite import opening
from tests.store import synth
from tests.store.test_cli import assert_one_line_error, run


def _run_bounded(capsys, *argv: str, seconds: float = 30.0) -> tuple[int, str, str]:
    """Run the CLI on a thread: a command that blocks fails the test instead of hanging it."""
    box: list[int] = []

    def target() -> None:
        try:
            box.append(main(list(argv)))
        except SystemExit as exc:
            box.append(int(exc.code or 0))

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert box, f"{argv} still running after {seconds} s"
    out, err = capsys.readouterr()
    return box[0], out, err


@pytest.fixture
def ada(capsys, home: Path) -> str:
    code, out, _ = run(capsys, "athlete", "add", "--name", "Ada", "--external-id", "S01",
                       "--dob", "2005-03-02", "--body-mass", "60")  # fmt: skip
    assert code == 0
    return out.strip()


@pytest.mark.parametrize("kind", ["zero", "fifo", "huge"])
def test_only_regular_files_of_a_sane_size_are_imported(
    capsys, ada: str, tmp_path: Path, cert_file: Path, kind: str
) -> None:
    if kind == "zero":
        path = Path("/dev/zero")
        expected = "not a regular file"
    elif kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        expected = "not a regular file"
    else:
        path = tmp_path / "huge.bin"
        with open(path, "wb") as handle:
            handle.truncate((512 << 20) + 1)  # sparse: costs no disk
        expected = "over 512 MB are refused"
    code, _, err = _run_bounded(capsys, "test", "import", ada, str(path), "--calibration",
                                str(cert_file))  # fmt: skip
    assert_one_line_error(code, err, expected)
    assert "512 MB" in err
    cal = str(path) if kind != "huge" else "/dev/zero"
    code, _, err = _run_bounded(
        capsys, "test", "import", ada, str(tmp_path / "x.bin"), "--calibration", cal
    )
    assert_one_line_error(code, err, "not a regular file")
    with open_store() as store:
        assert store.list_tests(int(ada), include_voided=True) == []


NOT_UTF8 = os.fsdecode(b"Jos\xe9")  # what Python makes of $'Jos\xe9' in argv


@pytest.mark.parametrize(
    "argv",
    [
        ["athlete", "add", "--name", NOT_UTF8],
        ["athlete", "add", "--name", "X", "--team", NOT_UTF8],
        ["athlete", "show", NOT_UTF8],
        ["athlete", "list", "--search", NOT_UTF8],
        ["athlete", "edit", "S01", "--notes", NOT_UTF8],
        ["test", "list", NOT_UTF8],
        ["test", "show", NOT_UTF8],
        ["export", "summary", "--out", "x.csv", "--team", NOT_UTF8],
        ["athlete", "erase", NOT_UTF8, "--reason", "x"],
        ["athlete", "erase", "S01", "--reason", NOT_UTF8],
    ],
)
def test_bytes_that_are_not_utf8_get_one_line(capsys, ada: str, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert_one_line_error(code, err, "")
        assert "UTF-8" in err or "not a test id" in err
    with open_store() as store:
        assert store.get_athlete(int(ada)).name == "Ada"  # nothing half-saved


def test_a_file_name_that_is_not_utf8_is_imported(
    capsys, ada: str, tmp_path: Path, cert_file: Path
) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/Jos\xe9.bin"))
    path.write_bytes(synth.capture())
    code, out, err = run(capsys, "test", "import", ada, str(path), "--calibration", str(cert_file))
    assert code == 0, err
    with open_store() as store:
        assert store.get_test(int(out)).source == "import:Jos\ufffd.bin"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["athlete", "add", "--name", "X", "--body-mass", "1e-300"], "from 10 to at most 400"),
        (["athlete", "add", "--name", "X", "--lever-arm", "1e-9"], "from 0.1 to at most 1"),
        (["athlete", "mass", "S01", "1e-300"], "from 10 to at most 400"),
        (["athlete", "add", "--name", "\u200b\u200b"], "only invisible characters"),
        (["athlete", "add", "--name", "\u200e\ufeff \u2060"], "only invisible characters"),
        (["athlete", "add", "--name", "\x01\x02"], "control characters"),
        (["athlete", "add", "--name", "A\x9b"], "control characters"),
        (["athlete", "add", "--name", "--- ..."], "has no letters"),
        (["athlete", "edit", "S01", "--external-id", "#3"], "cannot start with '#'"),
    ],
)
def test_impossible_values_are_refused_with_the_allowed_range(
    capsys, ada: str, argv: list[str], message: str
) -> None:
    assert_one_line_error(*run(capsys, *argv)[::2], message)
    code, out, _ = run(capsys, "athlete", "list", "--json")
    assert out.count('"id"') == 1


def test_test_dates_in_the_future_or_before_birth_are_refused(
    capsys, ada: str, capture_file: Path, cert_file: Path
) -> None:
    base = ["test", "import", ada, str(capture_file), "--calibration", str(cert_file)]
    assert_one_line_error(*run(capsys, *base, "--recorded-at", "2999-01-01")[::2],
                          "is in the future: give a time from 2005-03-02 to now")  # fmt: skip
    assert_one_line_error(*run(capsys, *base, "--recorded-at", "2004-12-31")[::2],
                          "is before the athlete's birth (2005-03-02)")  # fmt: skip
    code, out, err = run(capsys, *base, "--recorded-at", "2024-05-01T10:00")
    assert code == 0, err
    test_id = out.strip()
    assert_one_line_error(*run(capsys, "test", "edit", test_id, "--recorded-at", "2999-01-01")[::2],
                          "in the future")  # fmt: skip
    # Moving the test to an athlete born after it was recorded is refused too.
    run(capsys, "athlete", "add", "--name", "Young", "--dob", "2025-01-01")
    assert_one_line_error(*run(capsys, "test", "edit", test_id, "--athlete", "2")[::2],
                          "before the athlete's birth")  # fmt: skip
    with open_store() as store:
        test = store.get_test(int(test_id))
        assert (test.athlete_id, test.recorded_at[:10]) == (int(ada), "2024-05-01")


def test_an_external_id_equal_to_another_athletes_id_is_picked_with_a_prefix(
    capsys, ada: str
) -> None:
    run(capsys, "athlete", "add", "--name", "Bo", "--external-id", ada)
    assert_one_line_error(*run(capsys, "athlete", "show", ada)[::2],
                          f"write #{ada} for the id or ext:{ada} for the external id")  # fmt: skip
    assert "Ada" in run(capsys, "athlete", "show", f"#{ada}")[1]
    assert "Bo" in run(capsys, "athlete", "show", f"ext:{ada}")[1]
    assert_one_line_error(*run(capsys, "athlete", "show", "#x")[::2], "not an athlete id")
    assert_one_line_error(*run(capsys, "athlete", "show", "ext:nobody")[::2], "no athlete")


# -- a full disk ------------------------------------------------------------------------
@pytest.fixture
def full_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every store opened from now on cannot grow its file: SQLite's own "disk full"."""
    configure = opening.configure

    def configure_full(conn: sqlite3.Connection, path: Path) -> int:
        version = configure(conn, path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return version

    monkeypatch.setattr(opening, "configure", configure_full)


@pytest.mark.sqlite_only("SQLite's disk-full error, simulated")
def test_a_full_disk_says_so_and_that_nothing_was_saved(
    capsys, ada: str, capture_file: Path, cert_file: Path, full_database
) -> None:
    code, _, err = run(capsys, "test", "import", ada, str(capture_file), "--calibration",
                       str(cert_file))  # fmt: skip
    assert_one_line_error(code, err, "is full: this change was not saved")
    assert "Free some disk space" in err
    assert_one_line_error(*run(capsys, "athlete", "add", "--name", "New", "--notes",
                               "x" * 5000)[::2], "is full")  # fmt: skip
    with open_store() as store:
        assert store.list_tests(int(ada)) == []
        assert [a.name for a in store.list_athletes()] == ["Ada"]


def test_an_export_on_a_full_disk_leaves_no_partial_file(
    capsys, store: Store, ada: str, capture_file: Path, cert_file: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    store.import_test(int(ada), capture_file, certificate=cert_file)
    from station.store import export

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export.os, "fsync", no_space)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(capsys, "export", "summary", "--out", str(out / "s.csv"))
    assert_one_line_error(code, err, "the disk is full")
    assert "nothing was written" in err
    code, _, err = run(capsys, "export", "test", "1", "--out", str(out))
    assert_one_line_error(code, err, "nothing was written")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["certificate", "show", "{dev}"],
        ["calibrate", "--from-points", "{dev}", "--serial", "X", "--out", "{tmp}/c.json"],
        [
            "calibrate",
            "--base",
            "{dev}",
            "--from-points",
            "{tmp}/p.csv",
            "--serial",
            "X",
            "--out",
            "{tmp}/c.json",
        ],  # fmt: skip
        ["analyze", "{dev}"],
        ["analyze", "{tmp}/x.bin", "--calibration", "{dev}"],
        ["verify", "PORT", "--channel", "left", "--mass", "1", "--certificate", "{dev}"],
    ],
)
@pytest.mark.parametrize("device", ["zero", "fifo"])
def test_every_file_argument_refuses_devices_and_pipes(
    capsys, tmp_path: Path, argv: list[str], device: str
) -> None:
    dev = "/dev/zero"
    if device == "fifo":
        dev = str(tmp_path / "pipe")
        os.mkfifo(dev)
    args = [a.format(dev=dev, tmp=tmp_path) for a in argv]
    code, _, err = _run_bounded(capsys, *args)
    assert code == 2 and "is not a regular file" in err and "MB can be read" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--body-mass", "1e-300", "from 10 to at most 400"),
        ("--body-mass", "900", "from 10 to at most 400"),
        ("--lever-arm", "1e-9", "from 0.1 to at most 1"),
    ],
)
def test_analyze_refuses_impossible_body_mass_and_lever_arm(
    capsys, capture_file: Path, cert_file: Path, option: str, value: str, message: str
) -> None:
    code, _, err = run(capsys, "analyze", str(capture_file), "--calibration", str(cert_file),
                       option, value)  # fmt: skip
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.sqlite_only("a full disk while SQLite rewrites its file after an erasure")
def test_export_all_and_erase_on_a_full_disk_say_what_was_kept(
    capsys, store: Store, ada: str, capture_file: Path, cert_file: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from station.store.sqlite import erasure

    store.import_test(int(ada), capture_file, certificate=cert_file)
    real_write = Path.write_bytes

    def no_space(self: Path, data: bytes) -> int:
        if self.suffix == ".bin":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    def vacuum_full(conn: sqlite3.Connection) -> bool:
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_bytes", no_space)
        code, _, err = run(capsys, "athlete", "export-all", ada, "--out", str(tmp_path / "all"))
    assert_one_line_error(code, err, "the disk is full")
    assert "is incomplete: delete it and try again" in err
    with monkeypatch.context() as patch:
        patch.setattr(erasure, "compact", vacuum_full)
        code, _, err = run(capsys, "athlete", "erase", ada, "--reason", "request")
    assert_one_line_error(code, err, "was erased in the database, but the disk is too full")
    assert "run the erase again to finish" in err
    assert run(capsys, "athlete", "erase", ada, "--reason", "finish")[0] == 0
    with open_store() as reopened:
        assert reopened.get_athlete(int(ada)).name == "erased athlete"
