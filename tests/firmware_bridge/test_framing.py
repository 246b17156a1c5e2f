"""Framing and message bodies against protocol.md, byte for byte."""

from __future__ import annotations

import binascii

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.framing import cobs_decode, cobs_encode, crc16, decode_frame, encode_frame
from firmware_bridge.messages import (
    Ack,
    Event,
    GetInfo,
    Heartbeat,
    Info,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    encode,
    parse_body,
    samples_body,
)


def test_crc_is_ccitt_false() -> None:
    # The standard check value of CRC-16/CCITT-FALSE.
    assert crc16(b"123456789") == 0x29B1


def test_protocol_example_frame() -> None:
    body = bytes.fromhex("02 00 00 00 00 01 00 e8 03 00 00 fe ff ff ff")
    assert samples_body(0, np.array([[1000, -2]])) == body
    expected = cobs_encode(body + binascii.crc_hqx(body, 0xFFFF).to_bytes(2, "little")) + b"\x00"
    assert encode(SampleBlock(0, [[1000, -2]])) == expected
    assert decode_frame(expected[:-1]) == body


def test_cobs_known_vectors() -> None:
    # Vectors from Cheshire & Baker's paper and the Wikipedia table.
    assert cobs_encode(b"\x00") == b"\x01\x01"
    assert cobs_encode(b"\x00\x00") == b"\x01\x01\x01"
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert cobs_encode(b"\x11\x00\x00\x00") == b"\x02\x11\x01\x01\x01"
    data = bytes(range(1, 255))
    assert cobs_encode(data) == b"\xff" + data + b"\x01"


@given(st.binary(max_size=600))
def test_cobs_round_trip(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert b"\x00" not in encoded
    assert cobs_decode(encoded) == data


@given(st.binary(min_size=1, max_size=252))
def test_frame_round_trip(body: bytes) -> None:
    frame = encode_frame(body)
    assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]
    assert len(frame) <= 256
    assert decode_frame(frame[:-1]) == body


def test_body_too_long_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_frame(bytes(253))


@pytest.mark.parametrize(
    ("message", "length"),
    [
        (Info(80_000, "NR-0001", "fw-1.0", 24), 40),
        (Event(3, 2**32 - 1, 17), 8),
        (Heartbeat(123456), 5),
        (Ack(0x84, 2), 3),
        (GetInfo(), 1),
        (Start(), 1),
        (Stop(), 1),
        (SetRate(2_000_000), 5),
    ],
)
def test_every_body_round_trips(message: object, length: int) -> None:
    body = message.body()  # type: ignore[attr-defined]
    assert len(body) == length
    assert parse_body(body) == message


def test_info_fields() -> None:
    info = parse_body(Info(80_000, "NR-0001", "fw-1.0", 24).body())
    assert isinstance(info, Info)
    assert info.sample_rate_hz == 80.0
    assert info.serial_number == "NR-0001"
    assert info.firmware_version == "fw-1.0"
    assert Info.from_dict(info.to_dict()) == info


def test_wrong_length_is_not_parsed() -> None:
    assert parse_body(Heartbeat(1).body() + b"\x00") is None
    assert parse_body(b"") is None


def test_large_sample_block_splits_into_frames() -> None:
    counts = np.arange(140).reshape(70, 2)
    data = encode(SampleBlock(5, counts))
    assert data.count(b"\x00") == 3  # 30 + 30 + 10 samples
