"""``nordic-station replay``: a file served on a pty, byte for byte, until interrupted."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from firmware_bridge.capture import load_capture
from firmware_bridge.messages import Info, SampleBlock, encode
from firmware_bridge.recording import RecordingWriter
from station.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "station.cli"]


@pytest.mark.pty
def test_serves_the_file_on_a_pty_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "src.nsrec"
    info = Info(1_000_000, "NR-0001")
    parts = [b"\x00" + encode(info)] + [
        encode(SampleBlock(i * 30, np.full((30, 2), i))) for i in range(100)
    ]
    with RecordingWriter(path, info=info) as writer:
        for k, part in enumerate(parts):
            writer.write(part, t=k * 0.03)
    data = b"".join(parts)
    proc = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "replay", str(path), "--speed", "max"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port_path = proc.stdout.readline().strip()
        port = serial.Serial(port_path, timeout=0.05)
        got = bytearray()
        deadline = time.monotonic() + 10
        while len(got) < len(data) and time.monotonic() < deadline:
            got += port.read(port.in_waiting or 1)
        port.close()
        assert bytes(got) == data
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and f"{len(data)} of {len(data)} bytes sent" in stderr


def test_a_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "station.cli", "replay", str(tmp_path / "missing.nsrec")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr


def test_a_bad_speed_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(
        b"\x00" + encode(Info(80_000, "NR-1")) + encode(SampleBlock(0, np.ones((3, 2))))
    )
    assert main(["replay", str(path), "--speed", "fast"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "speed" in captured.err


def _source(tmp_path: Path, frames: int = 100, step_s: float = 0.002) -> tuple[Path, bytes]:
    path = tmp_path / "src.nsrec"
    info = Info(1_000_000, "NR-0001")
    parts = [b"\x00" + encode(info)] + [
        encode(SampleBlock(i * 30, np.full((30, 2), i))) for i in range(frames)
    ]
    with RecordingWriter(path, info=info) as writer:
        for k, part in enumerate(parts):
            writer.write(part, t=k * step_s)
    return path, b"".join(parts)


class Replay:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station.cli", "replay", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = self.proc.stdout.readline().strip()
        self.err = b""

    def wait_for(self, needle: str, timeout: float = 10.0) -> None:
        """Read stderr until ``needle`` appears (a condition, not a sleep)."""
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        deadline = time.monotonic() + timeout
        while needle.encode() not in self.err:
            left = deadline - time.monotonic()
            assert left > 0, f"replay never said {needle!r}: {self.err!r}"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                assert chunk, f"replay ended: {self.err!r}"
                self.err += chunk

    def end(self, timeout: float = 20.0) -> tuple[int, str]:
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return self.proc.returncode, self.err.decode() + stderr


@pytest.mark.pty
def test_cat_finishes_because_the_replay_closes_its_port_at_the_end(tmp_path: Path) -> None:
    source, data = _source(tmp_path)
    replay = Replay(str(source))
    cat = subprocess.run(["cat", replay.port], capture_output=True, timeout=30, check=False)
    assert cat.stdout == data  # every byte, then the end of the port
    code, stderr = replay.end()
    assert code == 0 and "Traceback" not in stderr
    assert f"replay finished: {len(data)} bytes sent" in stderr


@pytest.mark.pty
def test_record_until_closed_finishes_with_the_whole_replay(tmp_path: Path) -> None:
    source, data = _source(tmp_path)
    replay = Replay(str(source), "--speed", "max")
    out = tmp_path / "copy.nsrec"
    record = subprocess.run(
        [*CLI, "record", replay.port, str(out), "--passive", "--no-start", "--until-closed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert record.returncode == 0, record.stderr
    assert "the port closed: the recording ends" in record.stderr
    assert load_capture(out).data == data
    assert replay.end()[0] == 0


@pytest.mark.pty
def test_a_reader_that_leaves_early_does_not_eat_the_start_for_the_next(tmp_path: Path) -> None:
    # 250 kB in 0.5 s at the recorded pace: more than a pty holds, so the first
    # reader cannot have had it all handed over when it leaves.
    source, data = _source(tmp_path, frames=1000, step_s=0.0005)
    replay = Replay(str(source))
    first = serial.Serial(replay.port, timeout=0.05)
    got = bytearray()
    deadline = time.monotonic() + 10
    while len(got) < 100 and time.monotonic() < deadline:
        got += first.read(first.in_waiting or 1)
    first.close()  # a reader that failed after the first bytes
    assert 100 <= len(got) < len(data)
    replay.wait_for("the replay starts again for the next one")
    cat = subprocess.run(["cat", replay.port], capture_output=True, timeout=30, check=False)
    assert cat.stdout == data  # the next reader gets the replay from its very start
    assert replay.end()[0] == 0
