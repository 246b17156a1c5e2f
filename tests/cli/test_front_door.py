"""The command line's front door: version, ``python -m station``, help without a
display, exit codes, hints, and where the log goes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import firmware_bridge
import station
from station import logs
from station.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _headless_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    return env


def test_one_version_from_the_package_metadata() -> None:
    expected = version("nordic-station")
    assert station.__version__ == expected
    assert firmware_bridge.__version__ == expected
    result = subprocess.run(
        [sys.executable, "-m", "station", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"nordic-station {expected}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_bare_command_without_a_display_prints_help_and_exits(tmp_path: Path) -> None:
    env = _headless_env()
    env["NORDIC_STATION_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "station"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: nordic-station")
    for section in ("examples:", "exit status:", "2  bad input"):
        assert section in result.stdout
    assert "pseudo-terminal instead" not in result.stderr  # no virtual rig started


def test_an_error_prints_the_command_line_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "diy.txt"
    text.write_text("10,20\n11,21\n")
    assert main(["analyze", str(text)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("nordic-station: error: ")
    assert err.endswith("carries no sample rate: pass --rate HZ")


def test_the_log_goes_to_the_data_folder_and_to_the_terminal_on_verbose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "not-yet"
    try:
        assert logs.configure(missing) is None  # a one-off command creates no data folder
        assert not missing.exists()
        path = logs.configure(tmp_path, verbose=True)
        assert path == tmp_path / "logs" / "nordic-station.log"
        logging.getLogger("station.test").info("link state: streaming")
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert "INFO station.test: link state: streaming" in path.read_text()
        assert "link state: streaming" in capsys.readouterr().err
        logs.configure(tmp_path, verbose=False)
        logging.getLogger("station.test").info("quiet now")
        assert "quiet now" not in capsys.readouterr().err
    finally:
        logs.configure(missing)


def test_verbose_is_accepted_by_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["analyze", "--verbose", "--help"])
    assert exited.value.code == 0
    assert "--verbose" in capsys.readouterr().out
