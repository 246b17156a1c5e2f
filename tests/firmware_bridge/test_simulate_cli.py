"""``nordic-station simulate`` as a subprocess: the first line is a port pyserial can
open, the rig answers on it, signals stop it cleanly, bad faults are one line."""

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

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.messages import GetInfo, Info, Message, SampleBlock, Start, encode
from firmware_bridge.virtual_rig import VirtualRig

pytestmark = pytest.mark.pty

ROOT = Path(__file__).resolve().parents[2]


class Simulate:
    """``nordic-station simulate ARGS`` running; stdout is read from its file descriptor
    so that nothing printed is lost between the first line and the end."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station.cli", "simulate", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.out = b""

    def first_line(self, timeout: float = 20.0) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, "simulate printed no first line"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                assert chunk, f"simulate ended early: {self.proc.stderr.read()!r}"  # type: ignore[union-attr]
                self.out += chunk
        return self.out.split(b"\n", 1)[0].decode()

    def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self, sig: int) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, (self.out + out).decode(), err.decode()


def read_until(port: serial.Serial, done, timeout: float = 3.0) -> list[Message]:  # noqa: ANN001
    decoder = StreamDecoder()
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(messages):
        messages += decoder.feed(port.read(port.in_waiting or 1))
    return messages


def test_first_line_is_a_port_that_answers_and_sigint_exits_0(tmp_path: Path) -> None:
    link = tmp_path / "rig"
    sim = Simulate("--rate", "1000", "--seed", "3", "--serial", "NR-CLI-1", "--link", str(link))
    try:
        path = sim.first_line()
        assert path == str(link)
        with serial.Serial(path, timeout=0.05) as port:
            port.write(encode(GetInfo()))
            messages = read_until(port, lambda m: any(isinstance(x, Info) for x in m))
            info = next(m for m in messages if isinstance(m, Info))
            assert (info.sample_rate_mhz, info.serial_number) == (1_000_000, "NR-CLI-1")
            port.write(encode(Start()))
            messages = read_until(
                port, lambda m: sum(len(x) for x in m if isinstance(x, SampleBlock)) >= 300
            )
        blocks = [m for m in messages if isinstance(m, SampleBlock)]
        index = np.concatenate([np.arange(b.first_index, b.end_index) for b in blocks])
        counts = np.concatenate([b.counts for b in blocks])
        rig = VirtualRig(rate_hz=1000, seed=3)  # the same defaults as the CLI's rig
        np.testing.assert_array_equal(counts, rig.expected_counts(index)[0])
        sim.say("left 20")  # a bench command on stdin
        sim.say("kick")
        deadline = time.monotonic() + 5
        while b"left hook: 20 kg" not in sim.out and time.monotonic() < deadline:
            if select.select([sim.proc.stdout], [], [], 0.1)[0]:
                sim.out += os.read(sim.proc.stdout.fileno(), 4096)  # type: ignore[union-attr]
    finally:
        code, out, err = sim.stop(signal.SIGINT)
    assert code == 0
    assert "Traceback" not in err
    assert err.startswith("unknown bench command 'kick'")
    lines = out.splitlines()
    assert lines[1].startswith("virtual rig NR-CLI-1: 1000 Hz")
    assert "left hook: 20 kg" in lines
    assert not os.path.lexists(link)  # the symlink is cleaned up


def test_bad_fault_is_exit_2_and_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "station.cli", "simulate", "--fault", "drop:7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr
    assert err.count("\n") == 1
    assert err.startswith("nordic-station: error: bad fault 'drop:7'")


def test_replay_serves_a_capture_and_sigterm_exits_0(tmp_path: Path) -> None:
    rig = VirtualRig(rate_hz=200, seed=5)
    capture = tmp_path / "capture.bin"
    capture.write_bytes(rig.capture_bytes(6.0))
    link = tmp_path / "replayed"
    sim = Simulate("--replay", str(capture), "--link", str(link))
    try:
        path = sim.first_line()
        with serial.Serial(path, timeout=0.05) as port:
            messages = read_until(
                port, lambda m: sum(len(x) for x in m if isinstance(x, SampleBlock)) >= 100
            )
    finally:
        code, _, err = sim.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err
    blocks = [m for m in messages if isinstance(m, SampleBlock)]
    assert blocks
    for block in blocks:  # whatever part we caught is the capture's own samples
        index = np.arange(block.first_index, block.end_index)
        np.testing.assert_array_equal(block.counts, rig.expected_counts(index)[0])


def test_in_process_run_for_a_duration_prints_the_path_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli import main

    link = tmp_path / "bench"
    code = main(["simulate", "--static-load", "left:20", "--duration", "0.2", "--link", str(link)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == str(link)
    assert "static load left 196.1 N, right 0.0 N" in out[1]
    assert not link.exists()


def test_link_that_is_a_real_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli import main

    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    assert main(["simulate", "--link", str(precious), "--duration", "0.1"]) == 2
    assert "is not a symlink" in capsys.readouterr().err
    assert precious.read_text() == "keep me"


def test_certificate_out_writes_the_rigs_true_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from calibration.certificate import load_certificate
    from firmware_bridge.virtual_rig import VirtualRig
    from station.cli import main

    cert_path = tmp_path / "cal.json"
    link = tmp_path / "rig"
    args = ["simulate", "--serial", "NR-T1", "--duration", "0.1", "--link", str(link)]
    assert main([*args, "--certificate-out", str(cert_path)]) == 0
    cert = load_certificate(cert_path)
    truth = VirtualRig(serial_number="NR-T1").calibration_certificate()
    assert cert.device_serial == "NR-T1"
    for channel in ("left", "right"):
        assert cert.gain(channel) == truth["channels"][channel]["gain_n_per_count"]
    # Never over an existing file.
    assert main([*args, "--certificate-out", str(cert_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_help_documents_the_adc_fault() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "station.cli", "simulate", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0
    assert "adcfault:T[:D]" in proc.stdout and "EVENT FAULT" in proc.stdout


def test_the_fault_tally_predicts_the_receivers_counters_exactly() -> None:
    """Every timed fault kind at once; the tally's expectation is what the decoder counts."""
    from firmware_bridge.decoder import decode_bytes
    from firmware_bridge.virtual_rig import RigOptions
    from station.cli.simulate import expected_counters, fault_tally

    faults = ["drop:0.5s:2", "overrun:1s:25", "garbage:1.5s", "bitflip:2s", "stall:2.2s:0.3:lose"]
    faults.append("drop:2.9s:3")  # the last frames of the test: only STOPPED tells
    rig = RigOptions(rate_hz=100, faults=faults).build()
    counters = decode_bytes(rig.capture_bytes(3.0)).counters.to_dict()
    expected = expected_counters(rig.faults.stats)
    assert expected["dropped_samples"] > 0 and expected["frames_corrupt"] == 2
    assert {key: counters[key] for key in expected} == expected
    line = fault_tally(rig.faults.stats)
    assert line.startswith("faults injected: ") and "overruns 1" in line
    assert f"dropped_samples {expected['dropped_samples']}" in line


def test_simulate_prints_the_fault_tally_when_it_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli import main

    link = tmp_path / "rig"
    code = main(["simulate", "--fault", "drop:1s", "--duration", "0.2", "--link", str(link)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[-1].startswith("faults injected: none; a receiver counts dropped_samples 0")


def test_two_runs_without_link_each_get_their_own_private_path() -> None:
    """Issue 12 §3: not one predictable path in the shared temp folder for every run."""
    first, second = Simulate("--serial", "NR-SAME"), Simulate("--serial", "NR-SAME")
    try:
        paths = [first.first_line(), second.first_line()]
        assert paths[0] != paths[1]
        for path in paths:
            folder = os.path.dirname(path)
            assert os.path.islink(path)
            assert os.stat(folder).st_mode & 0o777 == 0o700  # nobody else can plant a link
            with serial.Serial(path, timeout=0.05) as port:  # each is its own working rig
                port.write(encode(GetInfo()))
                messages = read_until(port, lambda m: any(isinstance(x, Info) for x in m))
                assert any(isinstance(m, Info) for m in messages)
    finally:
        results = [first.stop(signal.SIGTERM), second.stop(signal.SIGTERM)]
    assert [code for code, _, _ in results] == [0, 0]
    for path in paths:
        assert not os.path.lexists(os.path.dirname(path))  # cleaned up, folder and all


CERT_ON_A_FULL_DISK = """
import resource, sys
from station.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))  # room for 100 bytes, no more
sys.exit(main(["simulate", "--certificate-out", sys.argv[1], "--duration", "0.1",
               "--link", sys.argv[2]]))
"""


def test_a_certificate_that_does_not_fit_on_the_disk_is_not_left_half_written(
    tmp_path: Path,
) -> None:
    cert = tmp_path / "cert.json"
    result = subprocess.run(
        [sys.executable, "-c", CERT_ON_A_FULL_DISK, str(cert), str(tmp_path / "rig")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "Free some disk space" in result.stderr
    assert not cert.exists()  # nothing saved half
