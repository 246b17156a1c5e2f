"""Replay: bytes out equal bytes in, at the recorded pace or faster, in-process and over a pty."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from firmware_bridge.capture import load_capture
from firmware_bridge.device import PtyServer, open_port
from firmware_bridge.errors import describe
from firmware_bridge.messages import Info, SampleBlock, encode
from firmware_bridge.recording import RecordingWriter
from firmware_bridge.replay import (
    ControlledReplay,
    ReplayDevice,
    ReplayError,
    load_replay,
    parse_replay_url,
    playback_opener,
    schedule,
)

INFO = Info(1_000_000, "NR-0001", "1.2.3")


def frames(seconds: float, rate: int = 1000, per_frame: int = 20) -> list[bytes]:
    n = int(seconds * rate) // per_frame
    rng = np.random.default_rng(0)
    return [
        encode(SampleBlock(k * per_frame, rng.integers(-(2**20), 2**20, (per_frame, 2))))
        for k in range(n)
    ]


def make_recording(path: Path, seconds: float, rate: int = 1000, per_frame: int = 20) -> bytes:
    """A recording whose chunks arrived at the pace of their samples."""
    parts = [b"\x00" + encode(INFO), *frames(seconds, rate, per_frame)]
    with RecordingWriter(path, port="virtual://r", info=INFO) as writer:
        writer.write(parts[0], t=0.0)
        for k, part in enumerate(parts[1:]):
            writer.write(part, t=(k + 1) * per_frame / rate)
    return b"".join(parts)


def read_all(port: serial.SerialBase, expected: int, limit_s: float) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + limit_s
    while len(out) < expected and time.monotonic() < deadline:
        out += port.read(port.in_waiting or 1)
    return bytes(out)


@pytest.mark.parametrize(
    ("speed", "query"), [(1.0, "speed=1"), (4.0, "speed=4"), (math.inf, "speed=max")]
)
def test_replay_url_sends_exactly_the_recorded_bytes_at_the_recorded_pace(
    tmp_path: Path, speed: float, query: str
) -> None:
    path = tmp_path / "two_seconds.nsrec"
    data = make_recording(path, 2.0)
    port = open_port(f"replay://{path}?{query}", timeout=0.05)
    started = time.monotonic()
    try:
        got = read_all(port, len(data), limit_s=6.0)
    finally:
        port.close()
    took = time.monotonic() - started
    assert got == data
    if math.isinf(speed):
        assert took < 0.5
    else:
        assert 2.0 / speed * 0.9 <= took <= 2.0 / speed + 0.4


def test_a_raw_capture_is_paced_by_its_sample_rate(tmp_path: Path) -> None:
    raw = tmp_path / "capture.bin"
    data = b"\x00" + encode(INFO) + b"".join(frames(0.6))
    raw.write_bytes(data)
    device = ReplayDevice(raw, speed=1.0)
    assert device.duration_s == pytest.approx(0.6)
    port = open_port(f"replay://{raw}", timeout=0.05)
    started = time.monotonic()
    try:
        got = read_all(port, len(data), limit_s=3.0)
    finally:
        port.close()
    assert got == data
    assert 0.5 <= time.monotonic() - started <= 1.0


def test_schedule_of_a_raw_capture_times_each_frame_by_its_last_sample(tmp_path: Path) -> None:
    raw = tmp_path / "capture.bin"
    heartbeat_then_samples = (
        b"\x00"
        + encode(INFO)
        + encode(SampleBlock(0, np.ones((30, 2))))
        + encode(SampleBlock(30, np.ones((5, 2))))
    )
    raw.write_bytes(heartbeat_then_samples)
    ends, times = schedule(load_capture(raw))
    assert ends[-1] == len(heartbeat_then_samples)
    assert times[-1] == pytest.approx(35 / 1000)
    assert times[-2] == pytest.approx(30 / 1000)


def test_a_text_capture_needs_a_rate_to_be_paced_but_not_at_max_speed(tmp_path: Path) -> None:
    path = tmp_path / "diy.txt"
    path.write_text("1,2\n3,4\n")
    with pytest.raises(ReplayError, match="no sample rate") as refused:
        ReplayDevice(path, speed=1)
    # The command line is told its option; the app, a sentence without one.
    assert "--rate" in describe(refused.value, for_cli=True)
    assert "--rate" not in describe(refused.value, for_cli=False)
    assert ReplayDevice(path, speed=1, rate_hz=10).duration_s == pytest.approx(0.2)
    device = ReplayDevice(path, speed="max")
    device.on_open(0.0)
    assert device.poll(0.0) == b"1,2\n3,4\n"


def test_max_speed_hands_over_bounded_bursts(tmp_path: Path) -> None:
    path = tmp_path / "big.nsrec"
    data = make_recording(path, 10.0)
    device = ReplayDevice(path, speed=math.inf)
    device.on_open(100.0)
    pieces = []
    while not device.finished:
        assert device.next_due(100.0) == 100.0
        pieces.append(device.poll(100.0))
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 1 << 16


@pytest.mark.pty
def test_over_a_pty_nothing_is_lost_even_when_the_reader_opens_late(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    data = make_recording(path, 1.0)
    with PtyServer(ReplayDevice(path, speed=math.inf)) as server:
        time.sleep(0.3)  # a reader that opens late must still get the first byte
        port = serial.Serial(server.path, timeout=0.05)
        try:
            got = read_all(port, len(data), limit_s=5.0)
        finally:
            port.close()
    assert got == data


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("replay:///tmp/a.nsrec", ("/tmp/a.nsrec", 1.0, None)),
        ("replay://rec.nsrec?speed=2.5", ("rec.nsrec", 2.5, None)),
        ("replay://dir/rec.bin?speed=max&rate=80", ("dir/rec.bin", math.inf, 80.0)),
        ("replay:///tmp/a%20b.txt?speed=inf", ("/tmp/a b.txt", math.inf, None)),
    ],
)
def test_replay_urls(url: str, expected: tuple) -> None:
    assert parse_replay_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("replay://a?speed=0", "speed"),
        ("replay://a?speed=fast", "speed"),
        ("replay://a?rate=-3", "rate"),
        ("replay://a?loop=1", "unknown replay option"),
        ("replay://", "names no file"),
    ],
)
def test_bad_replay_urls(url: str, message: str) -> None:
    with pytest.raises(ReplayError, match=message):
        parse_replay_url(url)


def test_a_missing_file_fails_to_open_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(serial.SerialException, match="no such file"):
        open_port(f"replay://{tmp_path}/missing.nsrec")


def test_transport_pauses_changes_speed_and_seeks(tmp_path: Path) -> None:
    recording = tmp_path / "session.nsrec"
    make_recording(recording, 12.0, rate=100)
    device = ControlledReplay(load_capture(recording), speed=1.0)
    total = len(device.inner.data)
    device.on_open(100.0)
    first = device.poll(101.0)  # one second of the recording
    assert 0 < len(first) < total
    assert device.now_s(101.0) == pytest.approx(1.0)
    device.pause(101.0)
    assert device.poll(105.0) == b""  # paused: time stands still
    assert device.now_s(105.0) == pytest.approx(1.0)
    device.resume(105.0)
    device.set_speed(4.0, 105.0)
    assert device.now_s(106.0) == pytest.approx(5.0)  # 4 s of recording in 1 s
    device.poll(106.0)
    device.seek_forward(10.0, 106.0)
    assert device.now_s(106.0) == pytest.approx(10.0)
    device.set_speed(math.inf, 106.0)
    while not device.finished:
        device.poll(106.5)
    assert device.position_s == pytest.approx(device.duration_s)


def test_a_controlled_replay_starts_at_its_start_and_waits_while_paused(tmp_path: Path) -> None:
    recording = tmp_path / "session.nsrec"
    make_recording(recording, 4.0, rate=100)
    device = ControlledReplay(load_capture(recording), start_s=2.0, paused=True)
    device.on_open(50.0)
    sent = device.poll(60.0)  # everything before 2 s at once, and nothing more while paused
    assert device.position_s == pytest.approx(2.0, abs=0.25)
    assert device.poll(70.0) == b"" and 0 < len(sent) < len(device.inner.data)
    assert device.next_due(70.0) > 70.0


def test_a_link_reads_a_controlled_replay_through_its_opener(tmp_path: Path) -> None:
    from firmware_bridge.link import Link

    recording = tmp_path / "session.nsrec"
    data = make_recording(recording, 0.5, rate=1000)
    url = f"replay://{recording}"
    device = ControlledReplay(load_replay(url), speed=math.inf)
    link = Link(url, opener=playback_opener(device))
    link.open()
    deadline = time.monotonic() + 10.0
    while not (device.finished and link.counters()["bytes_received"] == len(data)):
        assert time.monotonic() < deadline, "the replay did not reach the link"
        time.sleep(0.005)
    link.close()
    assert link.counters()["samples"] == 500
