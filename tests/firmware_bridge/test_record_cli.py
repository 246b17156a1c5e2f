"""``nordic-station record`` as a user runs it: a subprocess, its exit status and files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.capture import load_capture
from firmware_bridge.messages import Info, SampleBlock, Stop, encode
from firmware_bridge.recording import RecordingWriter, read_recording
from station.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "station.cli"]
CERT = {
    "format": "nordic-station.calibration/1",
    "device_serial": "NR-SIM-0001",
    "channels": {"left": {"gain_n_per_count": 0.000477}, "right": {"gain_n_per_count": 0.000502}},
}


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """``nordic-station ARGS`` in this process (fast); the Ctrl-C and missing-port
    tests run it as a subprocess, as a user would."""

    def run(*args: str) -> Result:
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def run_subprocess(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_line_error(result: Result | subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nordic-station: error:") and needle in result.stderr


def test_records_a_virtual_rig_for_a_duration(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "rig.nsrec"
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps(CERT))
    result = run_cli(
        "record",
        "virtual://cli?rate=200",
        str(out),
        "--duration",
        "1",
        "--calibration",
        str(cal),
        "--meta",
        "athlete=A-7",
    )
    assert result.returncode == 0, result.stderr
    assert "recorded" in result.stderr and "Traceback" not in result.stderr
    recording = read_recording(out)
    assert recording.warnings == []
    assert recording.header["port"] == "virtual://cli?rate=200"
    assert recording.header["metadata"] == {"command": "record", "athlete": "A-7"}
    assert recording.info["serial_number"] == "NR-SIM-0001"
    assert recording.calibration == CERT
    assert encode(Stop()) in [data for _, data in recording.sent]
    capture = load_capture(out)
    assert 150 <= capture.stream.samples <= 260
    assert capture.stream.counters.frames_corrupt == 0
    assert not list(tmp_path.glob(".*partial*"))


def test_ctrl_c_stops_cleanly_and_leaves_a_readable_file(tmp_path: Path) -> None:
    out = tmp_path / "interrupted.nsrec"
    proc = subprocess.Popen(
        [*CLI, "record", "virtual://ctrlc?rate=500", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (out.exists() and out.stat().st_size > 2000):
            time.sleep(0.1)
        assert out.exists(), "the recording never started"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "recorded" in stderr
    recording = read_recording(out)
    assert recording.warnings == []
    assert encode(Stop()) in [data for _, data in recording.sent]
    assert load_capture(out).stream.samples > 0


def test_a_missing_port_is_one_line_exit_2_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "never.nsrec"
    result = run_subprocess("record", str(tmp_path / "ttyACM9"), str(out))
    assert_one_line_error(result, "no such device — is the rig plugged in?")
    assert os.listdir(tmp_path) == []


def test_refuses_to_overwrite_without_force(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "old.nsrec"
    out.write_bytes(b"precious")
    result = run_cli("record", "virtual://f?rate=100", str(out), "--duration", "0.3")
    assert_one_line_error(result, "already exists: pass --force")
    assert out.read_bytes() == b"precious"
    failed = run_cli("record", str(tmp_path / "ttyNONE"), str(out), "--force")
    assert failed.returncode == 2
    assert out.read_bytes() == b"precious"  # a port that fails does not cost the old file
    forced = run_cli("record", "virtual://f?rate=100", str(out), "--duration", "0.3", "--force")
    assert forced.returncode == 0, forced.stderr
    replaced = read_recording(out)
    assert replaced.info["serial_number"] == "NR-SIM-0001"
    assert replaced.info["sample_rate_mhz"] == 100_000  # the ?rate=100 of the new recording
    assert replaced.header["port"] == "virtual://f?rate=100"


def test_bad_options_are_one_line(tmp_path: Path, run_cli) -> None:
    result = run_cli("record", "virtual://x", str(tmp_path / "a.nsrec"), "--duration", "-1")
    assert_one_line_error(result, "--duration")
    result = run_cli("record", "virtual://x", str(tmp_path / "a.nsrec"), "--meta", "novalue")
    assert_one_line_error(result, "KEY=VALUE")
    result = run_cli("record", "virtual://x", str(tmp_path / "no" / "a.nsrec"))
    assert_one_line_error(result, "does not exist")


def test_recording_a_replay_keeps_every_byte(tmp_path: Path, run_cli) -> None:
    source = tmp_path / "source.nsrec"
    info = Info(500_000, "NR-0042", "9.9")
    parts = [b"\x00" + encode(info)] + [
        encode(SampleBlock(i * 25, np.full((25, 2), i))) for i in range(40)
    ]
    with RecordingWriter(source, info=info) as writer:
        for k, part in enumerate(parts):
            writer.write(part, t=k * 0.05)
    out = tmp_path / "copy.nsrec"
    result = run_cli("record", f"replay://{source}?speed=max", str(out), "--duration", "1")
    assert result.returncode == 0, result.stderr
    assert read_recording(out).data == b"".join(parts)
    assert load_capture(out).stream.samples == 1000


FULL_DISK = """
import resource, sys
from station.cli import main
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # the file can grow no further
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_reports_what_the_file_really_holds(tmp_path: Path) -> None:
    """The disk fills up mid-recording: the command says so, and the samples it
    reports as kept are the samples in the file."""
    out = tmp_path / "full.nsrec"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, "30000", "record", "virtual://full?rate=1000", str(out)]
        + ["--duration", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("nordic-station: error:") and "Traceback" not in result.stderr
    assert "no room" in last or "disk is full" in last
    on_disk = load_capture(out, require_rate=False).stream.samples
    assert on_disk > 0
    assert f"kept {on_disk} samples" in last
    assert out.stat().st_size <= 30000
