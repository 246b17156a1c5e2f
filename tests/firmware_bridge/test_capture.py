"""load_capture: the kind from the content, the same samples whatever the container."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.capture import CaptureError, load_capture, load_capture_bytes
from firmware_bridge.errors import describe
from firmware_bridge.messages import Event, EventCode, SampleBlock, encode
from firmware_bridge.recording import RecordingWriter
from tests.firmware_bridge.streams import INFO, session, wire

CERT = {"format": "nordic-station.calibration/1", "channels": {"left": {}, "right": {}}}


def record(path: Path, data: bytes, info=INFO, calibration=None, seed: int = 1) -> None:
    """Write ``data`` as a recording, cut into random chunks like live reads."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(data)), size=min(60, len(data) - 1), replace=False))
    with RecordingWriter(path, port="virtual://t", info=info, calibration=calibration) as writer:
        for i, part in enumerate(np.split(np.frombuffer(data, np.uint8), cuts)):
            writer.write(part.tobytes(), t=0.01 * i)


def two_sessions() -> bytes:
    """Two STARTs (two segments), a gap of dropped samples, a corrupt frame, a tail."""
    first = wire(session(n_frames=15, per_frame=10))
    second = session(n_frames=10, per_frame=7, seed=3)[1:]
    gapped = [m for i, m in enumerate(second) if i != 4]
    return first + b"\x01\x02\x03\x00" + b"".join(encode(m) for m in gapped) + b"\x05\x06"


def test_a_recording_and_a_raw_capture_of_the_same_bytes_give_the_same_samples(
    tmp_path: Path,
) -> None:
    data = two_sessions()
    raw = tmp_path / "capture.bin"
    raw.write_bytes(data)
    recorded = tmp_path / "capture.nsrec"
    record(recorded, data)
    a = load_capture(raw)
    b = load_capture(recorded)
    assert (a.kind, b.kind) == ("binary", "recording")
    assert b.data == data
    for name in ("index", "counts", "flags", "segment"):
        assert np.array_equal(getattr(a.stream, name), getattr(b.stream, name)), name
    assert a.stream.counters == b.stream.counters
    assert a.stream.counters.dropped_samples == 7 and a.stream.counters.frames_corrupt == 1
    assert a.stream.segment.max() == 1
    assert a.header is None and b.header["port"] == "virtual://t"


def test_kind_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    recorded = tmp_path / "looks_like.txt"
    record(recorded, wire(session()))
    text = tmp_path / "looks_like.nsrec"
    text.write_text("# rate=80\n# serial=DIY-7\n1,2\n3,4\n5,6\n")
    assert load_capture(recorded).kind == "recording"
    loaded = load_capture(text)
    assert loaded.kind == "text"
    assert loaded.stream.samples == 3 and loaded.stream.sample_rate_hz == 80.0
    assert loaded.stream.serial_number == "DIY-7"


def test_a_recording_started_mid_stream_takes_its_rate_from_the_header(tmp_path: Path) -> None:
    block = SampleBlock(500, np.ones((10, 2)))
    data = b"\x07\x07" + b"\x00" + encode(block) * 1  # no INFO in the bytes
    path = tmp_path / "mid.nsrec"
    record(path, data, calibration=CERT)
    capture = load_capture(path)
    assert capture.stream.sample_rate_hz == INFO.sample_rate_hz
    assert capture.stream.info == INFO
    assert capture.calibration == CERT
    raw = tmp_path / "mid.bin"
    raw.write_bytes(data)
    with pytest.raises(CaptureError, match="no sample rate"):
        load_capture(raw)
    assert load_capture(raw, rate_hz=250).stream.sample_rate_hz == 250


def test_a_text_capture_without_a_rate_needs_one(tmp_path: Path) -> None:
    path = tmp_path / "diy.txt"
    path.write_text("10,20\n11,21\n")
    with pytest.raises(CaptureError, match="carries no sample rate") as raised:
        load_capture(path)
    assert raised.value.cli_hint == "pass --rate HZ"
    assert "--" not in raised.value.hint and "sample rate" in raised.value.hint
    assert describe(raised.value, for_cli=True).endswith("carries no sample rate: pass --rate HZ")
    assert load_capture(path, rate_hz=80).stream.duration_s() == pytest.approx(2 / 80)


def test_damage_in_a_recording_becomes_warnings(tmp_path: Path) -> None:
    path = tmp_path / "cut.nsrec"
    record(path, wire(session(n_frames=40)))
    blob = path.read_bytes()
    path.write_bytes(blob[:-30])
    capture = load_capture(path)
    assert capture.stream.samples > 0
    assert any("cut off" in w for w in capture.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (np.random.default_rng(5).integers(1, 256, 5000, dtype=np.uint8).tobytes(), "no samples"),
        (b"hello\nworld\n", "no samples found \\(not a rig capture\\?\\)"),
    ],
)
def test_unusable_captures_raise_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "x.bin"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CaptureError, match=message) as info:
        load_capture(path)
    assert "\n" not in str(info.value)


def test_random_bytes_with_zeros_are_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(CaptureError, match="no samples found"):
        load_capture(path)


def test_a_recording_without_samples_loads_when_samples_are_not_required(tmp_path: Path) -> None:
    path = tmp_path / "idle.nsrec"
    record(path, b"\x00" + encode(INFO) + encode(Event(EventCode.BUTTON, 0)))
    with pytest.raises(CaptureError, match="holds no samples"):
        load_capture(path)
    capture = load_capture(path, require_samples=False)
    assert capture.stream.samples == 0 and capture.stream.info == INFO


def test_a_bad_rate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(wire(session()))
    with pytest.raises(CaptureError, match="1 Hz to 100 kHz"):
        load_capture(path, rate_hz=-1)


def test_bytes_in_memory_load_exactly_as_the_file(tmp_path: Path) -> None:
    recorded = tmp_path / "capture.nsrec"
    record(recorded, two_sessions(), calibration=CERT)
    from_file = load_capture(recorded)
    from_bytes = load_capture_bytes(recorded.read_bytes(), "stored test 7")
    assert from_bytes.kind == "recording" and from_bytes.path == "stored test 7"
    assert from_bytes.calibration == CERT
    for name in ("index", "counts", "flags", "segment"):
        assert np.array_equal(getattr(from_file.stream, name), getattr(from_bytes.stream, name))
    assert from_file.stream.counters == from_bytes.stream.counters
    with pytest.raises(CaptureError, match="stored test 8 is empty"):
        load_capture_bytes(b"", "stored test 8")
    with pytest.raises(CaptureError, match="no samples"):
        load_capture_bytes(bytes(range(1, 200)), "stored test 9")


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    """/dev/zero would fill the memory and a FIFO would block forever: refused at once."""
    import os

    if kind == "device":
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero here")
    elif kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        path = tmp_path
    with pytest.raises(
        CaptureError,
        match=r"not a regular file \((a device|a pipe|a directory)\): only regular files up to 5",
    ):
        load_capture(path)
