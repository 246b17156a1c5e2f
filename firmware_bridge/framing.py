"""Wire framing of protocol.md: COBS(body || crc16_le(body)) || 0x00.

Single-frame helpers live here; the vectorised bulk decoder for whole
buffers is in :mod:`firmware_bridge.bulk_frames`.
"""

from __future__ import annotations

import binascii

DELIMITER = 0
MAX_PAYLOAD = 254  # body || crc
MAX_ENCODED = MAX_PAYLOAD + 1  # without the delimiter


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as the rig computes it."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result holds no 0x00 byte."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Inverse of :func:`cobs_encode`; None when ``data`` is not valid COBS."""
    out = bytearray()
    i = 0
    n = len(data)
    if n == 0:
        return None
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        out += data[i + 1 : i + code]
        i += code
        if code < 255 and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(body: bytes) -> bytes:
    """Wrap one message body for the wire (CRC, COBS, delimiter)."""
    payload = body + crc16(body).to_bytes(2, "little")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"message body of {len(body)} bytes is too long for one frame")
    return cobs_encode(payload) + b"\x00"


def decode_frame(frame: bytes) -> bytes | None:
    """Body of one encoded frame (without delimiter), or None if COBS or CRC fail."""
    if not frame or len(frame) > MAX_ENCODED:
        return None
    payload = cobs_decode(frame)
    if payload is None or len(payload) < 3:
        return None
    body, crc = payload[:-2], payload[-2:]
    if crc16(body) != int.from_bytes(crc, "little"):
        return None
    return body
