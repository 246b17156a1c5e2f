"""Message bodies of protocol.md, both directions, as small value types.

``parse_body`` turns one decoded body into a message (or says why not);
``encode`` turns a message into wire bytes.  Sample frames are parsed in bulk
by the decoder, so :class:`SampleBlock` here is the merged, host-side view.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from firmware_bridge.framing import encode_frame

PROTOCOL_VERSION = 1
INDEX_MODULO = 2**32
MAX_SAMPLES_PER_FRAME = 30
# What the station accepts as a sample rate or ADC width, whoever states it
# (INFO, a "# rate=" line, a recording header, the user): anything outside is
# a broken or hostile input, refused rather than computed with.
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 100_000.0
MIN_ADC_BITS = 2
MAX_ADC_BITS = 32
RATE_RANGE = "1 Hz to 100 kHz"


def rate_ok(rate_hz: float | int) -> bool:
    """Whether ``rate_hz`` is a sample rate the station works with (any number type)."""
    try:
        value = float(rate_hz)
    except (OverflowError, TypeError, ValueError):
        return False
    return math.isfinite(value) and MIN_RATE_HZ <= value <= MAX_RATE_HZ


def show_rate(rate_hz: float | int) -> str:
    """A rate for a message ("1e-07 Hz"), even one too large to print in full."""
    try:
        number = float(rate_hz)
    except (OverflowError, TypeError, ValueError):
        return "a number too large to use"
    return f"{number:g} Hz" if math.isfinite(number) else "a number too large to use"


class MsgType(IntEnum):
    INFO = 0x01
    SAMPLES = 0x02
    EVENT = 0x03
    HEARTBEAT = 0x04
    ACK = 0x05
    GET_INFO = 0x81
    START = 0x82
    STOP = 0x83
    SET_RATE = 0x84


DEVICE_TYPES = frozenset(
    {MsgType.INFO, MsgType.SAMPLES, MsgType.EVENT, MsgType.HEARTBEAT, MsgType.ACK}
)
HOST_TYPES = frozenset({MsgType.GET_INFO, MsgType.START, MsgType.STOP, MsgType.SET_RATE})


class EventCode(IntEnum):
    STARTED = 1
    STOPPED = 2
    OVERRUN = 3
    BUTTON = 4
    FAULT = 5


class AckStatus(IntEnum):
    OK = 0
    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    BUSY = 3


class SampleFlag(IntEnum):
    LEFT_SATURATED = 0x01
    RIGHT_SATURATED = 0x02
    ADC_FAULT = 0x04


# Fixed body lengths (type byte included); SAMPLES is 7 + 8 * count.
BODY_LENGTH = {
    MsgType.INFO: 40,
    MsgType.EVENT: 8,
    MsgType.HEARTBEAT: 5,
    MsgType.ACK: 3,
    MsgType.GET_INFO: 1,
    MsgType.START: 1,
    MsgType.STOP: 1,
    MsgType.SET_RATE: 5,
}

_INFO = struct.Struct("<BBBIB16s16s")
_EVENT = struct.Struct("<BBIH")
_HEARTBEAT = struct.Struct("<BI")
_ACK = struct.Struct("<BBB")
_SET_RATE = struct.Struct("<BI")
_SAMPLES_HEAD = struct.Struct("<BIBB")


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace")


def _field(value: str) -> bytes:
    return value.encode("ascii", "replace")[:16].ljust(16, b"\x00")


@dataclass(frozen=True)
class Info:
    """Who the rig is and how it samples (INFO)."""

    sample_rate_mhz: int
    serial_number: str
    firmware_version: str = ""
    adc_bits: int = 24
    channels: int = 2
    protocol_version: int = PROTOCOL_VERSION

    @property
    def sample_rate_hz(self) -> float:
        return self.sample_rate_mhz / 1000.0

    def to_dict(self) -> dict:
        return {
            "protocol_version": self.protocol_version,
            "channels": self.channels,
            "sample_rate_mhz": self.sample_rate_mhz,
            "adc_bits": self.adc_bits,
            "serial_number": self.serial_number,
            "firmware_version": self.firmware_version,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Info:
        return cls(
            sample_rate_mhz=int(data["sample_rate_mhz"]),
            serial_number=str(data.get("serial_number", "")),
            firmware_version=str(data.get("firmware_version", "")),
            adc_bits=int(data.get("adc_bits", 24)),
            channels=int(data.get("channels", 2)),
            protocol_version=int(data.get("protocol_version", PROTOCOL_VERSION)),
        )

    def body(self) -> bytes:
        return _INFO.pack(
            MsgType.INFO,
            self.protocol_version,
            self.channels,
            self.sample_rate_mhz,
            self.adc_bits,
            _field(self.serial_number),
            _field(self.firmware_version),
        )


@dataclass(frozen=True)
class Event:
    """Something the rig reports at a sample index (EVENT: STARTED, STOPPED, OVERRUN...)."""

    code: int
    sample_index: int
    arg: int = 0

    def body(self) -> bytes:
        return _EVENT.pack(MsgType.EVENT, self.code, self.sample_index % INDEX_MODULO, self.arg)


@dataclass(frozen=True)
class Heartbeat:
    """Once a second while not streaming: a quiet rig, not an unplugged one (HEARTBEAT)."""

    uptime_ms: int

    def body(self) -> bytes:
        return _HEARTBEAT.pack(MsgType.HEARTBEAT, self.uptime_ms % INDEX_MODULO)


@dataclass(frozen=True)
class Ack:
    """The rig's answer to a command, with its status (ACK)."""

    command_type: int
    status: int = AckStatus.OK

    def body(self) -> bytes:
        return _ACK.pack(MsgType.ACK, self.command_type, self.status)


@dataclass(frozen=True)
class GetInfo:
    """Ask the rig who it is and how it samples (GET_INFO; INFO follows the ACK)."""

    def body(self) -> bytes:
        return bytes([MsgType.GET_INFO])


@dataclass(frozen=True)
class Start:
    """Start streaming SAMPLES (START; a new segment begins)."""

    def body(self) -> bytes:
        return bytes([MsgType.START])


@dataclass(frozen=True)
class Stop:
    """Stop streaming (STOP)."""

    def body(self) -> bytes:
        return bytes([MsgType.STOP])


@dataclass(frozen=True)
class SetRate:
    """Set the sample rate in millihertz (SET_RATE; refused while streaming)."""

    sample_rate_mhz: int

    def body(self) -> bytes:
        return _SET_RATE.pack(MsgType.SET_RATE, self.sample_rate_mhz)


@dataclass
class SampleBlock:
    """Consecutive samples as the host sees them.

    ``first_index`` is unwrapped (it keeps counting past 2^32) and counts from
    the start of ``segment``; a new segment begins at every START or device
    restart.  ``counts`` is (n, 2) int32, left then right; ``flags`` holds the
    frame flags of each sample (SampleFlag bits).
    """

    first_index: int
    counts: np.ndarray
    flags: np.ndarray = field(default=None)  # type: ignore[assignment]
    segment: int = 0

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int32).reshape(-1, 2)
        if self.flags is None:
            self.flags = np.zeros(len(self.counts), dtype=np.uint8)
        else:
            self.flags = np.asarray(self.flags, dtype=np.uint8).reshape(-1)

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def end_index(self) -> int:
        return self.first_index + len(self.counts)


Message = Info | Event | Heartbeat | Ack | GetInfo | Start | Stop | SetRate | SampleBlock


def samples_body(first_index: int, counts: np.ndarray, flags: int = 0) -> bytes:
    """Body of one SAMPLES frame (1..30 samples)."""
    counts = np.asarray(counts, dtype="<i4").reshape(-1, 2)
    n = len(counts)
    if not 1 <= n <= MAX_SAMPLES_PER_FRAME:
        raise ValueError(f"a SAMPLES frame holds 1..30 samples, not {n}")
    return (
        _SAMPLES_HEAD.pack(MsgType.SAMPLES, first_index % INDEX_MODULO, n, flags) + counts.tobytes()
    )


def encode(message: Message) -> bytes:
    """Wire bytes of one message; a SampleBlock becomes as many frames as it needs."""
    if isinstance(message, SampleBlock):
        out = bytearray()
        for start in range(0, len(message), MAX_SAMPLES_PER_FRAME):
            stop = min(start + MAX_SAMPLES_PER_FRAME, len(message))
            flags = int(np.bitwise_or.reduce(message.flags[start:stop])) if stop > start else 0
            out += encode_frame(
                samples_body(message.first_index + start, message.counts[start:stop], flags)
            )
        return bytes(out)
    return encode_frame(message.body())


def parse_body(body: bytes) -> Message | None:
    """Parse one non-SAMPLES body of known type and right length, else None."""
    if not body:
        return None
    kind = body[0]
    if BODY_LENGTH.get(kind) != len(body):
        return None
    if kind == MsgType.INFO:
        _, version, channels, rate, bits, serial, firmware = _INFO.unpack(body)
        return Info(rate, _text(serial), _text(firmware), bits, channels, version)
    if kind == MsgType.EVENT:
        _, code, index, arg = _EVENT.unpack(body)
        return Event(code, index, arg)
    if kind == MsgType.HEARTBEAT:
        return Heartbeat(_HEARTBEAT.unpack(body)[1])
    if kind == MsgType.ACK:
        _, command, status = _ACK.unpack(body)
        return Ack(command, status)
    if kind == MsgType.GET_INFO:
        return GetInfo()
    if kind == MsgType.START:
        return Start()
    if kind == MsgType.STOP:
        return Stop()
    if kind == MsgType.SET_RATE:
        return SetRate(_SET_RATE.unpack(body)[1])
    return None
