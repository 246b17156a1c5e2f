"""Bulk decoding speed of binary frames (target: >= 30 MB/s; the wire carries 0.09 MB/s).

The stream is 10 minutes of 2-channel samples at 1 kHz in full 30-sample
frames, with HX711-like counts (offset + slowly varying force + noise).

Also: reading a hostile 2 MB recording made of sync-marked records, each
followed by a stray byte (a damaged stretch every 22 bytes).  Reading must
be linear in the file's size (target: <= 2 s; it was minutes, issue 12 §3).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_seconds, verdict  # noqa: E402
from firmware_bridge.decoder import decode_bytes  # noqa: E402
from firmware_bridge.messages import Info, SampleBlock, encode  # noqa: E402
from firmware_bridge.recording import (  # noqa: E402
    FORMAT,
    RecordType,
    encode_header,
    encode_record,
    parse_recording,
)


def make_stream(seconds: float = 600.0, rate: int = 1000) -> bytes:
    n = int(seconds * rate)
    rng = np.random.default_rng(0)
    t = np.arange(n) / rate
    force = 200 * np.clip(np.sin(2 * np.pi * t / 20), 0, None)
    counts = np.stack([81234 + force / 0.0005, -40211 + force / 0.0005], axis=1)
    counts = (counts + rng.normal(0, 20, counts.shape)).astype(np.int32)
    info = Info(rate * 1000, "NR-BENCH")
    return b"\x00" + encode(info) + encode(SampleBlock(0, counts))


def main() -> None:
    data = make_stream()
    mb = len(data) / 1e6
    seconds = median_seconds(lambda: decode_bytes(data), runs=7)
    stream = decode_bytes(data)
    assert stream.samples == 600_000 and stream.counters.frames_corrupt == 0
    print(f"decode {mb:.1f} MB (10 min, 1 kHz): median {seconds * 1000:.0f} ms")
    print("throughput:", verdict(mb / seconds, 30, "MB/s", lower_is_better=False))
    print(f"ratio to the 921600-baud wire (0.09 MB/s): {mb / seconds / 0.09:.0f}x")

    record = encode_record(RecordType.DATA, b"x", 0.0) + b"\x01"
    hostile = encode_header({"format": FORMAT}) + record * (2_000_000 // len(record))
    seconds = median_seconds(lambda: parse_recording(hostile), runs=5)
    print(
        "read a 2 MB recording of sync marks and damage: "
        + verdict(seconds, 2.0, "s", lower_is_better=True)
    )


if __name__ == "__main__":
    main()
