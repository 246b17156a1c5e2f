"""The interactive CLI on a synthetic rig (fast, no port): answers, problems, abort, and
the port reader's timing across a rig restart."""

from __future__ import annotations

import io
import json
import queue

import numpy as np
import pytest

import calibration.live as live
from calibration.certificate import load_certificate
from calibration.points import read_points_csv
from calibration.procedure import Phase, Procedure
from firmware_bridge.errors import PortError
from firmware_bridge.link import Blocks, ErrorReported, LinkState, StateChanged
from firmware_bridge.messages import Info, SampleBlock
from station.cli import main
from station.cli.calibration_console import Console, drive, live_text
from tests.calibration.synth import COUNTS_PER_N, SynthRig


class FakeReadings:
    """LiveReadings' interface on a SynthRig: 0.1 s of readings per call, instantly."""

    def __init__(self, port="synth://", *, expected_serial=None, rig=None):
        self.rig = rig or SynthRig()
        self.serial_number = "NR-SYNTH"
        self.sample_rate_hz = 80.0
        self.adc_bits = 24
        self.closed = False

    def open(self):
        return None

    def close(self):
        self.closed = True

    def read(self, timeout_s=0.1):
        return [self.rig.read(0.1)], []


def operator_for(rig, steps, extra=()):
    """An input() that hangs what each step asks for and presses Enter; then ``extra``."""
    plan = iter(steps)
    answers = iter(extra)

    def answer():
        step = next(plan, None)
        if step is None:
            return next(answers, "q")
        rig.set_mass(step.channel, step.mass_kg)
        return ""

    return answer


def test_drive_runs_the_procedure_to_the_end():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left,right")
    out = io.StringIO()
    drive(
        proc,
        FakeReadings(rig=rig),
        Console(out, operator_for(rig, proc.steps), live=False),
        poll_s=0,
    )
    assert proc.phase is Phase.DONE
    text = out.getvalue()
    assert text.count("  ok   ") == 10
    assert "[1/10] Empty the left hook" in text and "[7/10] Hang 10 kg on the right hook" in text


def test_a_problem_is_explained_and_accept_anyway_keeps_the_point():
    rig = SynthRig()
    rig.extra_noise[0] = 5000
    proc = Procedure("0,10,20", "left", descending=False, timeout_s=2)
    answers = iter(["", "what?", "a", "q"])
    out = io.StringIO()
    drive(proc, FakeReadings(rig=rig), Console(out, lambda: next(answers), live=False), poll_s=0)
    text = out.getvalue()
    assert "not settled after 2 s: too noisy" in text
    assert "Enter or r = retry, a = accept anyway, s = skip, q = quit:" in text
    assert "(answer with Enter, or one of the letters shown)" in text
    assert "although not settled" in text
    assert proc.points[0].settled is False
    assert proc.phase is Phase.ABORTED


def test_live_line_shows_reading_spread_drift_and_kilograms():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False)
    proc.accept()
    for _ in range(20):
        proc.feed(*rig.read(0.1))
    rig.set_mass("left", 10)
    proc.accept()
    for _ in range(25):
        proc.feed(*rig.read(0.1))
    rig.set_mass("left", 20)
    for _ in range(30):
        proc.feed(*rig.read(0.1))
    text = live_text(proc)
    assert text.startswith("  left ")
    assert "spread" in text and "drift" in text and "STEADY" in text
    kg = float(text.split("(~")[1].split("kg")[0])
    assert kg == pytest.approx(20.0, abs=0.02)


@pytest.fixture
def fake_port(monkeypatch):
    rig = SynthRig()
    monkeypatch.setattr(live, "LiveReadings", lambda *a, **k: FakeReadings(rig=rig))
    return rig


def test_calibrate_command_writes_a_certificate(fake_port, tmp_path, monkeypatch, capsys):
    proc = Procedure("0,10,20", "left,right")
    monkeypatch.setattr("builtins.input", operator_for(fake_port, proc.steps))
    out = tmp_path / "cert.json"
    code = main(
        [
            "calibrate",
            "synth://",
            "--masses",
            "0,10,20",
            "--out",
            str(out),
            "--operator",
            "Jo",
            "--repeat",
        ][:-1]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    cert = load_certificate(out)
    assert cert.device_serial == "NR-SYNTH" and cert.operator == "Jo"
    assert cert.gain("right") == pytest.approx(1 / COUNTS_PER_N[1], rel=1e-3)
    data = json.loads(out.read_text())
    assert data["method"]["source"] == "live" and data["method"]["masses_kg"] == [0, 10, 20]
    assert data["method"]["settle"]["window_s"] == 1.0
    assert data["software"]["name"] == "nordic-station"


def test_quitting_keeps_the_points_and_writes_no_certificate(
    fake_port, tmp_path, monkeypatch, capsys
):
    proc = Procedure("0,10,20", "left,right")
    monkeypatch.setattr("builtins.input", operator_for(fake_port, proc.steps[:3]))
    out = tmp_path / "cert.json"
    code = main(["calibrate", "synth://", "--masses", "0,10,20", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1
    assert not out.exists()
    saved = tmp_path / "cert.points.csv"
    assert f"the 3 points taken are in {saved}" in text
    assert [p.mass_kg for p in read_points_csv(saved)] == [0, 10, 20]


def test_skipped_steps_that_leave_too_few_points_fail_cleanly(
    fake_port, tmp_path, monkeypatch, capsys
):
    proc = Procedure("0,10,20", "left,right")
    steps = iter(proc.steps)

    def answer():
        step = next(steps)
        fake_port.set_mass(step.channel, step.mass_kg)
        return "s" if step.channel == "right" and step.mass_kg > 0 else ""

    monkeypatch.setattr("builtins.input", answer)
    out = tmp_path / "cert.json"
    code = main(["calibrate", "synth://", "--masses", "0,10,20", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert "channel right: too few points" in captured.err
    assert not out.exists()
    assert (tmp_path / "cert.points.csv").exists()


class FakeLink:
    def __init__(self, port, expected_serial=None):
        self.events = queue.Queue()
        self.info = Info(80_000, "NR-FAKE")
        self.serial_number = "NR-FAKE"
        self.connected = True

    def open(self):
        return self.info

    def start(self):
        pass

    def stop(self):
        pass

    def close(self):
        self.connected = False


def test_port_reader_keeps_device_time_increasing_across_a_restart():
    readings = live.LiveReadings("fake", link_factory=FakeLink)
    readings.open()
    link = readings.link
    counts = np.zeros((8, 2), np.int32)
    link.events.put(Blocks(0.0, (SampleBlock(0, counts, segment=0), SampleBlock(8, counts)), 0))
    link.events.put(StateChanged(0.0, LinkState.DISCONNECTED, LinkState.STREAMING, "lost it"))
    link.events.put(Blocks(0.0, (SampleBlock(0, counts, segment=1),), 0))
    chunks, notes = readings.read(0.01)
    times = np.concatenate([t for t, _ in chunks])
    assert np.all(np.diff(times) == pytest.approx(1 / 80))
    assert times[0] == 0 and times[-1] == pytest.approx(23 / 80)
    assert notes == ["lost it"]
    link.events.put(ErrorReported(0.0, "reader stopped", "internal", fatal=True))
    with pytest.raises(PortError, match="reader stopped"):
        readings.read(0.01)
    readings.close()
    assert not link.connected
