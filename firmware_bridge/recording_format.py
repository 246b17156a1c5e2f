"""The recording format's constants and encoders (version 1; see firmware_bridge.recording).

Shared by the writer (:mod:`firmware_bridge.recording`) and the reader
(:mod:`firmware_bridge.recording_reader`).
"""

from __future__ import annotations

import json
import struct
import zlib
from enum import IntEnum

from firmware_bridge.errors import InputError

VERSION = 1
MAGIC = b"NSREC1\n"
MAGIC_PREFIX = b"NSREC"
FORMAT = "nordic-station.recording/1"
SYNC = b"\xa5\x5a"
RECORD_HEAD = struct.Struct("<2sBBId")  # sync, type, flags, length, t
HEADER_LENGTH = struct.Struct("<I")
CRC = struct.Struct("<I")
RECORD_OVERHEAD = RECORD_HEAD.size + CRC.size
MAX_RECORD = 1 << 24  # payload bytes; larger writes are split
MAX_HEADER = 1 << 24
MAX_JSON_DEPTH = 64  # the station writes 3 levels; a calibration certificate a few more
FLUSH_INTERVAL_S = 0.5


class RecordType(IntEnum):
    DATA = 1
    SENT = 2
    UPDATE = 3
    NOTE = 4


class RecordingError(InputError):
    """A recording that cannot be opened at all (missing, unreadable, empty, not one)."""


def encode_record(kind: int, payload: bytes, t: float) -> bytes:
    """One record's bytes (payload at most MAX_RECORD bytes)."""
    head = RECORD_HEAD.pack(SYNC, kind, 0, len(payload), t)
    crc = zlib.crc32(payload, zlib.crc32(head[2:]))
    return head + payload + CRC.pack(crc)


def encode_header(header: dict) -> bytes:
    text = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    return MAGIC + HEADER_LENGTH.pack(len(text)) + text + CRC.pack(zlib.crc32(text))
