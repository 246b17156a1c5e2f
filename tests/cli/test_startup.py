"""What ``nordic-station analyze`` loads: only what analysing a file needs (issue 16 §4).

Start-up is most of a short command's time, so a module that only some paths
need (the log file's rotating handler, the user's data folder, the live
view, the store, Qt, SciPy) must not be imported by ``analyze``.  Checked on
``sys.modules`` in a fresh process, so a regression shows without timing
anything; bench/bench_read.py has the figures.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station import logs

ROOT = Path(__file__).resolve().parents[2]

NOT_FOR_ANALYZE = (
    "logging.handlers",
    "platformdirs",
    "station.analysis.live",
    "calibration.choice",  # with --calibration given
    "firmware_bridge.recording",  # the writer: reading needs recording_reader only
    "station.store",
    "sqlite3",
    "psycopg",
    "PySide6",
    "pyqtgraph",
    "scipy",
)

# Runs the command as the process does (main() with sys.argv), then reports.
CHILD = """\
import gc, json, sys
from station.cli import main
sys.argv = ["nordic-station", *sys.argv[1:]]
status = main()
report = {
    "status": status,
    "loaded": [m for m in json.loads(%r) if m in sys.modules],
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("startup")
    model = NordicModel(Athlete(reps=2), seed=3, rate_hz=100.0)
    rig = VirtualRig(model, rate_hz=100.0)
    (folder / "capture.bin").write_bytes(rig.capture_bytes(model.session_duration_s()))
    (folder / "cal.json").write_text(json.dumps(rig.calibration_certificate()))
    return folder / "capture.bin", folder / "cal.json"


def _child(tmp_path: Path, *argv: str) -> dict:
    """Run the command in a fresh process whose user data folder exists (so a log file
    would be written there if anything were logged) but is not named by
    NORDIC_STATION_HOME (so finding it would need platformdirs)."""
    env = {k: v for k, v in os.environ.items() if k != "NORDIC_STATION_HOME"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    (tmp_path / "data" / "nordic-station").mkdir(parents=True)
    code = CHILD % json.dumps(NOT_FOR_ANALYZE)
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.splitlines()[-1]
    assert line.startswith("REPORT "), result.stdout[-500:]
    return json.loads(line.removeprefix("REPORT "))


def test_analyze_loads_only_what_analysing_a_file_needs(
    tmp_path: Path, capture: tuple[Path, Path]
) -> None:
    path, cal = capture
    report = _child(tmp_path, "analyze", str(path), "--calibration", str(cal), "--json")
    assert report["status"] == 0
    assert report["loaded"] == []
    # The start-up's objects are frozen out of the collector's way, and it runs again.
    assert report["gc_enabled"] is True
    assert report["frozen"] > 0
    assert not (tmp_path / "data" / "nordic-station" / "logs").exists()  # nothing logged


def test_the_guard_sees_a_module_that_is_loaded(tmp_path: Path) -> None:
    """The check above can fail: a command that opens the store loads it."""
    report = _child(tmp_path, "athlete", "list")
    assert report["status"] == 0
    assert "station.store" in report["loaded"]


def test_a_deferred_log_file_is_found_and_opened_at_the_first_record(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    try:
        assert logs.configure(missing, defer=True) is None
        logging.getLogger("station.test").info("nowhere to go")
        assert not missing.exists()  # no data folder: none is made, the record is dropped
        assert logs.configure(tmp_path, defer=True) is None
        assert not (tmp_path / "logs").exists()  # nothing logged yet: nothing opened
        logging.getLogger("station.test").info("link state: streaming")
        logging.getLogger("station.test").debug("not at debug level")
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = logs.log_path(tmp_path).read_text()
        assert "INFO station.test: link state: streaming" in text
        assert "not at debug level" not in text
    finally:
        logs.configure(missing)
