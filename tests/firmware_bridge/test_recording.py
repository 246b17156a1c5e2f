"""Recordings: round trip, crash safety, and damage read back as data plus warnings."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge import recording as rec
from firmware_bridge.errors import DiskFullError
from firmware_bridge.messages import Info
from firmware_bridge.recording import (
    MAGIC,
    RecordingError,
    RecordingWriter,
    RecordType,
    encode_header,
    encode_record,
    parse_recording,
    read_recording,
)

INFO = Info(1_000_000, "NR-0001", "1.2.3")
CERT = {"format": "nordic-station.calibration/1", "device_serial": "NR-0001", "channels": {}}
ROOT = Path(__file__).resolve().parents[2]


def chunks(n: int = 50, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, int(rng.integers(1, 300)), dtype=np.uint8).tobytes() for _ in range(n)
    ]


def write_sample(path: Path, parts: list[bytes], **kwargs: object) -> None:
    with RecordingWriter(path, port="virtual://a", info=INFO, **kwargs) as writer:
        for i, part in enumerate(parts):
            writer.write(part, t=0.01 * i)


def test_round_trip_keeps_every_byte_time_and_header_field(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    parts = chunks()
    with RecordingWriter(
        path, port="/dev/ttyACM0", info=INFO, calibration=CERT, metadata={"athlete": "x"}
    ) as writer:
        for i, part in enumerate(parts):
            writer.write(part, t=0.5 + 0.01 * i)
        writer.write_sent(b"\x02\x82\x00", t=0.25)
        writer.note("state", state="streaming", t=0.3)
    result = read_recording(path)
    assert result.warnings == []
    assert result.data == b"".join(parts)
    assert np.allclose(result.chunk_times, 0.5 + 0.01 * np.arange(len(parts)))
    assert result.chunk_ends[-1] == len(result.data)
    assert list(np.diff(np.concatenate(([0], result.chunk_ends)))) == [len(p) for p in parts]
    header = result.header
    assert header["format"] == "nordic-station.recording/1"
    assert header["port"] == "/dev/ttyACM0"
    assert header["info"] == INFO.to_dict()
    assert result.calibration == CERT
    assert header["metadata"] == {"athlete": "x"}
    assert header["station_version"]
    assert header["started_utc"].endswith("+00:00")
    assert isinstance(header["start_monotonic"], float)
    assert result.sent == [(0.25, b"\x02\x82\x00")]
    assert result.notes == [{"t": 0.3, "event": "state", "state": "streaming"}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_info_learned_after_opening_replaces_the_header_info(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    with RecordingWriter(path, port="p") as writer:
        writer.write(b"\x00abc")
        writer.set_info(INFO)
        assert writer.header["info"] == INFO.to_dict()
    assert read_recording(path).info == INFO.to_dict()


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter(path)
    assert path.read_bytes() == b"precious"
    with RecordingWriter(path, overwrite=True) as writer:
        writer.write(b"new")
    assert read_recording(path).data == b"new"


def test_writes_larger_than_a_record_are_split(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(rec, "MAX_RECORD", 100)
    path = tmp_path / "a.nsrec"
    data = bytes(range(256)) * 2
    with RecordingWriter(path) as writer:
        writer.write(data, t=1.0)
    result = read_recording(path)
    assert result.data == data and result.records == 6 and result.warnings == []


def test_flushes_within_half_a_second_without_further_writes(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    writer = RecordingWriter(path)
    try:
        writer.write(b"early bytes")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and b"early bytes" not in path.read_bytes():
            time.sleep(0.05)
        seen_after = time.monotonic() - (deadline - 2.0)
        assert read_recording(path).data == b"early bytes"
        assert seen_after < 0.9
    finally:
        writer.close()


def test_a_failed_disk_write_is_raised_not_lost(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.nsrec"
    writer = RecordingWriter(path)

    def full(fd: int, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rec, "_write_all", full)
    writer.write(b"abc")
    with pytest.raises(DiskFullError, match="disk is full"):
        writer.flush()
    with pytest.raises(DiskFullError, match="disk is full"):
        writer.write(b"more")
    with pytest.raises(DiskFullError):
        writer.close()
    assert writer.closed


CRASH_SCRIPT = """
import sys, time
from firmware_bridge.recording import RecordingWriter
w = RecordingWriter(sys.argv[1], port="p")
i = 0
said = False
while True:
    w.write(i.to_bytes(4, "little") * 8)
    i += 1
    if i == 20:
        print("running", flush=True)
    if not said and time.monotonic() - w.start_monotonic >= 1.6:
        said = True  # long enough for several flushes: the test may kill it now
        print("flushed for 1.6 s", flush=True)
    time.sleep(0.002)  # the writer's pace (a rig's reads), not a wait of the test
"""


def test_kill_9_loses_at_most_the_last_half_second(tmp_path: Path) -> None:
    path = tmp_path / "crash.nsrec"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"running\n"
        assert proc.stdout.readline() == b"flushed for 1.6 s\n"
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    result = read_recording(path)
    start = result.header["start_monotonic"]
    values = np.frombuffer(result.data, dtype="<u4")[::8]
    assert np.array_equal(values, np.arange(len(values)))  # an intact prefix, in order
    arrived = start + result.chunk_times
    # Everything written more than 0.5 s (plus scheduling slack) before the kill is there.
    assert arrived[-1] >= killed_at - 0.5 - 0.25
    assert len(values) > 100


def test_damaged_header_keeps_the_data_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    parts = chunks(20)
    write_sample(path, parts)
    blob = bytearray(path.read_bytes())
    blob[len(MAGIC) + 10] ^= 0xFF  # inside the JSON: the header CRC fails
    result = parse_recording(bytes(blob))
    assert result.data == b"".join(parts)
    assert result.header == {}
    assert any("header is damaged" in w for w in result.warnings)


def test_damaged_magic_is_still_recognised(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    parts = chunks(5)
    write_sample(path, parts)
    blob = b"XXXXXXXXXXXX" + path.read_bytes()[12:]
    assert rec.is_recording(blob)
    result = parse_recording(blob)
    assert result.data == b"".join(parts)
    assert result.header == {}
    assert result.warnings == ["the recording's magic and header are damaged; its fields are lost"]


def test_truncated_body_gives_the_intact_records_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    parts = chunks(30)
    write_sample(path, parts)
    blob = path.read_bytes()
    cut = blob[: len(blob) - len(parts[-1]) // 2 - 4]
    result = parse_recording(cut)
    assert result.data == b"".join(parts[:-1])
    assert len(result.warnings) == 1 and "cut off" in result.warnings[0]


def test_a_damaged_record_in_the_middle_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    parts = [bytes([i + 1]) * 40 for i in range(30)]
    write_sample(path, parts)
    blob = bytearray(path.read_bytes())
    where = blob.find(bytes([11]) * 40)  # the payload of chunk 10
    blob[where + 5] ^= 0x01
    result = parse_recording(bytes(blob))
    assert result.data == b"".join(parts[:10] + parts[11:])
    assert result.damaged_bytes > 0
    assert any("damaged stretch" in w for w in result.warnings)


def test_unknown_record_types_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    write_sample(path, [b"one"])
    with open(path, "ab") as f:
        f.write(rec.encode_record(99, b"future", 1.0) + rec.encode_record(1, b"two", 2.0))
    result = read_recording(path)
    assert result.data == b"onetwo" and result.unknown_records == 1
    assert any("unknown type" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"", "is empty"), (b"hello world\n", "not a station recording")],
)
def test_unusable_files_raise_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "x.nsrec"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecordingError, match=message) as info:
        read_recording(path)
    assert "\n" not in str(info.value)


def test_a_directory_and_a_newer_version_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="directory"):
        read_recording(tmp_path)
    path = tmp_path / "v2.nsrec"
    path.write_bytes(b"NSREC2\n" + b"\x00" * 20)
    with pytest.raises(RecordingError, match="version 2"):
        read_recording(path)


def test_header_is_plain_json_after_the_magic(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    write_sample(path, [b"x"])
    blob = path.read_bytes()
    n = int.from_bytes(blob[7:11], "little")
    assert json.loads(blob[11 : 11 + n])["port"] == "virtual://a"


def test_sync_marks_and_whole_records_inside_data_are_just_data(tmp_path: Path) -> None:
    path = tmp_path / "a.nsrec"
    tricky = [rec.SYNC * 3, rec.encode_record(1, b"not a record", 9.0), b"x" + rec.SYNC]
    parts = [p for part in tricky for p in (part, b"plain")]
    write_sample(path, parts)
    result = read_recording(path)
    assert result.data == b"".join(parts) and result.warnings == []
    assert len(result.chunk_times) == len(parts)


STRAY = len(encode_record(RecordType.DATA, b"x", 0.0)) + 1  # a record and its stray byte


def hostile_recording(size: int) -> bytes:
    """A header, then tiny intact records each followed by one stray byte: a damaged
    stretch every 22 bytes, the worst case for finding the next intact record."""
    record = encode_record(RecordType.DATA, b"x", 0.0)
    return encode_header({"format": rec.FORMAT}) + (record + b"\x01") * (size // (len(record) + 1))


def test_a_recording_made_of_damage_reads_everything_it_can(tmp_path: Path) -> None:
    blob = hostile_recording(20_000)
    result = parse_recording(blob)
    assert result.records == 20_000 // STRAY and result.data == b"x" * result.records
    assert result.damaged_bytes == result.records - 1


READ_2MB = """
import sys
from tests.firmware_bridge.test_recording import hostile_recording
from firmware_bridge.recording import parse_recording
print(parse_recording(hostile_recording(2_000_000)).records)
"""


def test_a_2_mb_recording_of_sync_marks_reads_without_hanging() -> None:
    """Reading is linear in the file's size (it took minutes; bench_decoder has the figure)."""
    result = subprocess.run(
        [sys.executable, "-c", READ_2MB], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 2_000_000 // STRAY


def test_a_header_or_note_nested_100000_deep_is_refused_or_skipped(tmp_path: Path) -> None:
    import zlib

    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    data = encode_record(RecordType.DATA, b"abc", 0.0)
    blob = MAGIC + rec.HEADER_LENGTH.pack(len(deep)) + deep + rec.CRC.pack(zlib.crc32(deep))
    with pytest.raises(RecordingError, match="nests deeper than 64 levels"):
        parse_recording(blob + data, "deep.nsrec")
    note = encode_record(RecordType.NOTE, deep, 0.0)
    result = parse_recording(encode_header({"format": rec.FORMAT}) + data + note)
    assert result.data == b"abc" and result.notes == []
    assert any("not JSON objects" in w for w in result.warnings)


def test_a_header_that_does_not_fit_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    def full(fd: int, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rec, "_write_all", full)
    path = tmp_path / "a.nsrec"
    with pytest.raises(DiskFullError, match="disk is full"):
        RecordingWriter(path)
    assert not path.exists()
