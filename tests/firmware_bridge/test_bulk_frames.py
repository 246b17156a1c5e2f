"""The whole-buffer decoding path gives exactly what the frame-by-frame path gives.

The helpers (COBS in place, CRC over columns, samples as window rows) are
checked against the single-frame functions of framing.py, and whole streams
(virtual-rig captures with every fault, and fuzzed, damaged sessions long
enough for the vectorised CRC to run) against the frame-by-frame decoder.
"""

from __future__ import annotations

import binascii

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import firmware_bridge.binary_decoding as decoder_module
from firmware_bridge.bulk_frames import (
    MIN_VECTOR_CRC,
    cobs_decode_frames,
    crc16_frames,
    gather_samples,
)
from firmware_bridge.decoder import DecodedStream, decode_bytes
from firmware_bridge.framing import MAX_ENCODED, cobs_decode, cobs_encode
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock, encode
from firmware_bridge.virtual_rig import VirtualRig

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frames_of(wire: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    buf = np.frombuffer(wire, dtype=np.uint8)
    delims = np.flatnonzero(buf == 0)
    starts = np.concatenate(([0], delims[:-1] + 1))
    keep = delims > starts
    return buf, starts[keep], delims[keep]


def _check_cobs(runs: list[bytes]) -> None:
    wire = b"".join(run + b"\x00" for run in runs)
    buf, starts, ends = _frames_of(wire)
    dec, start, length, valid = cobs_decode_frames(buf, starts, ends)
    for i, run in enumerate(runs):
        expected = cobs_decode(run) if len(run) <= MAX_ENCODED else None
        assert bool(valid[i]) == (expected is not None), run
        if expected is not None:
            assert dec[start[i] : start[i] + length[i]].tobytes() == expected


def test_cobs_in_place_matches_the_single_frame_decoder() -> None:
    rng = np.random.default_rng(3)
    runs = [cobs_encode(rng.integers(0, 256, n, dtype=np.uint8).tobytes()) for n in range(255)]
    runs += [cobs_encode(bytes([7]) * n) for n in (253, 254)]  # 255 codes, last and not last
    runs += [cobs_encode(bytes([7]) * 254 + b"\x00")[:MAX_ENCODED]]
    runs += [b"\x05\x01", b"\xff" + b"\x01" * 10, b"\x01" * 300, b"\x02\x09\x03\x01"]
    _check_cobs(runs)


@pytest.mark.fuzz
@SETTINGS
@given(st.lists(st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\0", b"\1"))))
def test_cobs_in_place_on_any_runs(runs: list[bytes]) -> None:
    _check_cobs(runs)


@pytest.mark.fuzz
@SETTINGS
@given(st.lists(st.binary(min_size=0, max_size=254), min_size=1, max_size=5), st.integers(0, 120))
def test_crc_over_columns_is_crc_hqx(bodies: list[bytes], copies: int) -> None:
    # Enough frames of one length for the column path, and a few of other lengths.
    bodies = bodies + [bodies[0]] * max(copies, MIN_VECTOR_CRC)
    data = b"".join(bodies)
    dec = np.frombuffer(data + b"\x00", dtype=np.uint8)
    lengths = np.array([len(b) for b in bodies], dtype=np.int64)
    start = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    got = crc16_frames(dec, start, lengths)
    assert got.tolist() == [binascii.crc_hqx(b, 0xFFFF) for b in bodies]


def test_gather_samples_with_mixed_counts() -> None:
    rng = np.random.default_rng(1)
    blocks = [rng.integers(-(2**31), 2**31, (int(c), 2), dtype=np.int64) for c in [3, 30, 1, 30]]
    raw = bytearray(b"\x09")
    data_start, flags = [], []
    for k, block in enumerate(blocks):
        raw += bytes([k])  # the flags byte before each frame's samples
        flags += [k] * len(block)
        data_start.append(len(raw))
        raw += block.astype("<i4").tobytes() + b"\x55"
    dec = np.frombuffer(bytes(raw), dtype=np.uint8)
    count = np.array([len(b) for b in blocks])
    counts, got_flags = gather_samples(dec, np.array(data_start), count)
    np.testing.assert_array_equal(counts, np.concatenate(blocks).astype(np.int32))
    assert got_flags.tolist() == flags


def _frame_by_frame(data: bytes) -> DecodedStream:
    original = decoder_module.FEW_FRAMES
    decoder_module.FEW_FRAMES = 10**9
    try:
        return decode_bytes(data)
    finally:
        decoder_module.FEW_FRAMES = original


def _assert_same(data: bytes, chunk: int = 1 << 20) -> DecodedStream:
    bulk = decode_bytes(data, chunk=chunk)
    slow = _frame_by_frame(data)
    assert bulk.counters == slow.counters
    assert bulk.events == slow.events
    assert bulk.sample_rate_hz == slow.sample_rate_hz
    for name in ("index", "counts", "flags", "segment"):
        np.testing.assert_array_equal(getattr(bulk, name), getattr(slow, name), err_msg=name)
    return bulk


@pytest.mark.parametrize(
    "faults",
    [
        (),
        ("bitflip:0.0005",),
        ("garbage:0.02:40", "drop:0.01:2"),
        ("overrun:3s:120", "adcfault:2s:1s", "bitflip:4s"),
        ("garbage:0.01:250", "bitflip:0.001", "overrun:0.005"),
    ],
)
def test_virtual_rig_captures_decode_the_same_both_ways(faults: tuple[str, ...]) -> None:
    rig = VirtualRig(rate_hz=1000.0, faults=faults, seed=5)
    data = rig.capture_bytes(8.0)
    stream = _assert_same(data)
    assert stream.samples > 0
    if not faults:
        assert stream.counters.frames_corrupt == 0


@st.composite
def long_session(draw: st.DrawFn) -> bytes:
    """Many full sample frames (the column CRC runs) with events, gaps and saturation."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    index = draw(st.sampled_from([0, 2**32 - 700]))
    out = [b"\x00", encode(Info(1_000_000, "NR-0001", adc_bits=draw(st.sampled_from([16, 24]))))]
    out.append(encode(Event(EventCode.STARTED, index)))
    for _ in range(draw(st.integers(MIN_VECTOR_CRC, 150))):
        size = 30 if rng.random() < 0.9 else int(rng.integers(1, 31))
        if rng.random() < 0.03:
            index += int(rng.integers(1, 100))
            if rng.random() < 0.5:
                out.append(encode(Event(EventCode.OVERRUN, index, 17)))
        counts = rng.integers(-(2**15), 2**15, (size, 2))
        counts[rng.random(size) < 0.05] = 2**15 - 1
        flags = int(rng.integers(0, 8)) if rng.random() < 0.1 else 0
        out.append(encode(SampleBlock(index, counts, np.full(size, flags))))
        index += size
    out.append(encode(Event(EventCode.STOPPED, index)))
    return b"".join(out)


@pytest.mark.fuzz
@SETTINGS
@given(
    long_session(),
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), max_size=6),
    st.lists(st.tuples(st.integers(0, 10**7), st.binary(min_size=1, max_size=300)), max_size=3),
    st.integers(0, 10**7),
    st.sampled_from([1 << 20, 4096, 777]),
)
def test_damaged_long_sessions_decode_the_same_both_ways(
    data: bytes,
    flips: list[tuple[int, int]],
    inserts: list[tuple[int, bytes]],
    cut: int,
    chunk: int,
) -> None:
    wire = bytearray(data)
    for where, value in flips:
        wire[where % len(wire)] = value
    for where, garbage in inserts:
        at = where % (len(wire) + 1)
        wire[at:at] = garbage
    wire = wire[cut % (len(wire) + 1) :] if cut % 3 == 0 else wire
    _assert_same(bytes(wire), chunk)
