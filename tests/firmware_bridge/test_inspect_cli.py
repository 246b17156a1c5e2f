"""``nordic-station inspect``: what a file holds, for people and for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.capture import load_capture
from firmware_bridge.decoder import Counters
from firmware_bridge.messages import Event, EventCode, Info, encode
from firmware_bridge.recording import RecordingWriter
from station.cli import main
from station.cli.inspect import describe
from tests.firmware_bridge.streams import session, wire

ROOT = Path(__file__).resolve().parents[2]
COUNTER_NAMES = [f.name for f in fields(Counters)]


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """``nordic-station inspect ARGS`` in this process (fast); one test below uses a subprocess."""

    def run(*args: str) -> Result:
        code = main(["inspect", *args])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def make_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = wire(session(n_frames=50, per_frame=10)) + b"\x01\x02\x00"  # one corrupt frame
    recording = tmp_path / "test.nsrec"
    with RecordingWriter(
        recording,
        port="/dev/ttyACM0",
        info=Info(1_000_000, "NR-0001", "1.2.3"),
        calibration={"format": "nordic-station.calibration/1", "device_serial": "NR-0001"},
    ) as writer:
        for i in range(0, len(data), 200):
            writer.write(data[i : i + 200], t=i / 20_000)
        writer.note("state", state="disconnected", detail="unplugged")
    raw = tmp_path / "capture.bin"
    raw.write_bytes(data)
    text = tmp_path / "diy.txt"
    text.write_text("# serial=DIY-1\n1,2\n3,4\nbad line\n5,6\n")
    return recording, raw, text


def test_text_report_names_the_rig_and_every_counter(tmp_path: Path, run_cli) -> None:
    recording, _, _ = make_files(tmp_path)
    result = run_cli(str(recording))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for needle in (
        "station recording",
        "/dev/ttyACM0",
        "NR-0001",
        "firmware 1.2.3",
        "1000 Hz",
        "24-bit ADC",
        "samples      500 in 1 segment(s)",
        "duration     0.500 s",
        "STARTED x1",
        "calibration  recorded (rig NR-0001)",
        "disconnected x1",
    ):
        assert needle in out, needle
    for name in COUNTER_NAMES:
        assert f"  {name} " in out, name
    assert "frames_corrupt   1" in out


def test_json_report_for_scripts(tmp_path: Path, run_cli) -> None:
    recording, raw, _ = make_files(tmp_path)
    result = run_cli(str(raw), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "nordic-station.inspect/1"
    assert report["kind"] == "binary" and report["header"] is None
    assert report["samples"] == 500 and report["sample_rate_hz"] == 1000.0
    assert list(report["counters"]) == COUNTER_NAMES
    assert report["counters"]["frames_corrupt"] == 1
    rec = json.loads(run_cli(str(recording), "--json").stdout)
    assert rec["kind"] == "recording"
    assert rec["header"]["port"] == "/dev/ttyACM0" and rec["header"]["station_version"]
    assert rec["recording"]["notes"] == 1 and rec["recording"]["data_bytes"] == raw.stat().st_size
    assert rec["counters"] == report["counters"]


def test_text_capture_without_rate_is_shown_with_a_warning(tmp_path: Path, run_cli) -> None:
    _, _, text = make_files(tmp_path)
    report = json.loads(run_cli(str(text), "--json").stdout)
    assert report["kind"] == "text" and report["samples"] == 3
    assert report["device_serial"] == "DIY-1" and report["duration_s"] is None
    assert report["counters"]["lines_corrupt"] == 1
    assert any("--rate" in w for w in report["warnings"])
    with_rate = json.loads(run_cli(str(text), "--json", "--rate", "10").stdout)
    assert with_rate["duration_s"] == 0.3 and with_rate["warnings"] == []


def test_a_damaged_recording_shows_its_warnings(tmp_path: Path, run_cli) -> None:
    recording, _, _ = make_files(tmp_path)
    recording.write_bytes(recording.read_bytes()[:-50])
    result = run_cli(str(recording))
    assert result.returncode == 0
    assert "warnings" in result.stdout and "cut off" in result.stdout


def test_a_recording_without_samples_is_still_described(tmp_path: Path) -> None:
    path = tmp_path / "idle.nsrec"
    with RecordingWriter(path, info=Info(80_000, "NR-9")) as writer:
        writer.write(b"\x00" + encode(Info(80_000, "NR-9")) + encode(Event(EventCode.BUTTON, 0)))
    report = describe(load_capture(path, require_samples=False))
    assert report["samples"] == 0 and report["events"] == {"BUTTON": 1}
    assert report["duration_s"] is None


def test_bad_input_is_one_line_exit_2(tmp_path: Path, run_cli) -> None:
    noise = tmp_path / "noise.bin"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for args, needle in (
        ([str(tmp_path / "missing.nsrec")], "no such file"),
        ([str(empty)], "is empty"),
        ([str(noise)], "no samples found (not a rig capture?)"),
        ([str(tmp_path)], "directory"),
        ([str(noise), "--rate", "-5"], "1 Hz to 100 kHz"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert needle in result.stderr, (args, result.stderr)


def test_as_a_subprocess_a_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station.cli", "inspect", str(tmp_path / "missing.nsrec")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    expected = f"{tmp_path / 'missing.nsrec'}: no such file (check the path)"
    assert result.stderr == f"nordic-station: error: {expected}\n"


def _recording_with_header(path: Path, header_text: bytes, data: bytes) -> None:
    """A recording whose header JSON is exactly ``header_text`` (checksum right)."""
    import zlib

    from firmware_bridge.recording import CRC, HEADER_LENGTH, MAGIC, encode_record

    head = MAGIC + HEADER_LENGTH.pack(len(header_text)) + header_text
    path.write_bytes(head + CRC.pack(zlib.crc32(header_text)) + encode_record(1, data, 0.0))


def test_hostile_files_are_one_line_exit_2(tmp_path: Path, run_cli) -> None:
    """Issue 12 §3: odd and hostile input never shows a traceback or an internal error."""
    samples = wire(session(n_frames=3))
    deep = tmp_path / "deep.nsrec"
    _recording_with_header(deep, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, samples)
    huge_rate = tmp_path / "huge-rate.nsrec"
    info = json.dumps({"info": {"sample_rate_mhz": int("9" * 400), "serial_number": "X"}})
    _recording_with_header(
        huge_rate, info.encode(), samples[:1] + samples[1 + len(encode(session()[0])) :]
    )
    no_bits = tmp_path / "no-bits.bin"
    no_bits.write_bytes(wire([Info(80_000, "X", adc_bits=0), *session(n_frames=2)[1:]]))
    text_huge = tmp_path / "huge.txt"
    text_huge.write_bytes(b"# rate=" + b"9" * 400 + b"\n1,2\n3,4\n")
    text_tiny = tmp_path / "tiny.txt"
    text_tiny.write_bytes(b"# rate=0.0000001\n1,2\n3,4\n")
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"1,2\n3,4\n")
    for args, needle in (
        ([str(deep)], "nests deeper than 64 levels"),
        ([str(huge_rate)], "outside 1 Hz to 100 kHz"),
        ([str(no_bits)], "0-bit ADC"),
        ([str(text_huge)], "outside 1 Hz to 100 kHz"),
        ([str(text_tiny)], "1e-07 Hz, outside 1 Hz to 100 kHz"),
        ([str(plain), "--rate", "1e-7"], "1 Hz to 100 kHz"),
        ([str(plain), "--rate", "9" * 400], "1 Hz to 100 kHz"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert "internal error" not in result.stderr
        assert needle in result.stderr, (args, result.stderr)
