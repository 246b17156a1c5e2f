"""Streaming decoder: bytes in chunks of any size -> messages and counters.

It implements "How a receiver reads the stream" and the text dialect of
protocol.md.  No byte sequence makes it raise: every defect becomes a counter.
Binary frames are COBS-decoded in bulk with NumPy, so a whole capture decodes
at well over the wire's speed, and a live chunk costs a few NumPy calls.
"""

from __future__ import annotations

import numpy as np

from firmware_bridge.binary_decoding import FEW_FRAMES, BinaryDecoding
from firmware_bridge.counters import Counters
from firmware_bridge.decoded_stream import (
    DEFAULT_ADC_BITS,
    DecodedStream,
    StreamCollector,
)
from firmware_bridge.decoded_stream import _place_segments as _place_segments  # for its tests
from firmware_bridge.framing import decode_frame
from firmware_bridge.index_tracker import HALF_RANGE, IndexTracker
from firmware_bridge.messages import (
    DEVICE_TYPES,
    HOST_TYPES,
    Ack,
    AckStatus,
    Event,
    EventCode,
    Heartbeat,
    Info,
    Message,
    MsgType,
    SampleFlag,
)
from firmware_bridge.text_decoding import MAX_TEXT_LINE, TextDecoding, looks_like_text

DETECT_BYTES = 64
_SATURATED = SampleFlag.LEFT_SATURATED | SampleFlag.RIGHT_SATURATED

# What callers import from here (the parts live in their own modules).
__all__ = [
    "DEFAULT_ADC_BITS",
    "DETECT_BYTES",
    "FEW_FRAMES",
    "HALF_RANGE",
    "MAX_TEXT_LINE",
    "Counters",
    "DecodedStream",
    "StreamCollector",
    "StreamDecoder",
    "decode_bytes",
    "looks_like_text",
]


class StreamDecoder(BinaryDecoding, TextDecoding):
    """Decode a byte stream from a rig (or, with ``accept='host'``, commands to one).

    ``feed`` returns the messages completed by a chunk, in stream order.
    Consecutive SAMPLES frames in a chunk are merged into one
    :class:`SampleBlock`.  Call ``finish`` at the end of a stream to account
    for its tail.
    """

    def __init__(self, accept: str = "device", rate_hz: float | None = None) -> None:
        self.accept = DEVICE_TYPES if accept == "device" else HOST_TYPES
        self._accepted = np.zeros(256, dtype=bool)  # by type byte (np.isin is slow on a live read)
        self._accepted[list(self.accept)] = True
        self.counters = Counters()
        self.mode: str | None = None  # "binary" or "text"
        self.info: Info | None = None
        self.text_rate_hz: float | None = None
        self.text_serial: str | None = None
        self.user_rate_hz = rate_hz
        self._pending = bytearray()
        self._seen_delimiter = False
        self._overlong = False
        self._overlong_bytes = 0
        self._index = IndexTracker()
        self._infos_expected = 0  # INFOs announced by an ACK (GET_INFO, SET_RATE)

    # -- what the stream says about itself ---------------------------------
    @property
    def sample_rate_hz(self) -> float | None:
        if self.info is not None and self.info.sample_rate_mhz > 0:
            return self.info.sample_rate_hz
        return self.text_rate_hz or self.user_rate_hz

    @property
    def serial_number(self) -> str | None:
        if self.info is not None:
            return self.info.serial_number
        return self.text_serial

    @property
    def adc_bits(self) -> int:
        if self.info is not None and 2 <= self.info.adc_bits <= 32:
            return self.info.adc_bits
        return DEFAULT_ADC_BITS

    @property
    def segment(self) -> int:
        return self._index.segment

    # -- feeding -------------------------------------------------------------
    def feed(self, data: bytes) -> list[Message]:
        if not data:
            return []
        self.counters.bytes_total += len(data)
        if self.mode is None:
            # The dialect is decided on the first DETECT_BYTES bytes alone, so the
            # answer never depends on how the stream was chunked; a 0x00 among them
            # (never in text) settles it at once, so a binary handshake never waits.
            self._pending += data
            head = bytes(self._pending[:DETECT_BYTES])
            if b"\x00" in head:
                self.mode = "binary"
            elif len(head) < DETECT_BYTES:
                return []
            else:
                self.mode = "text" if looks_like_text(head) else "binary"
            data = bytes(self._pending)
            self._pending.clear()
        if self.mode == "text":
            return self._feed_text(data)
        return self._feed_binary(data)

    def finish(self) -> list[Message]:
        """End of stream: decide the dialect if still open, count the tail."""
        out: list[Message] = []
        if self.mode is None:
            if not self._pending:
                return out
            data = bytes(self._pending)
            self._pending.clear()
            self.mode = "text" if looks_like_text(data) else "binary"
            self.counters.bytes_total -= len(data)
            out += self.feed(data)
        if self.mode == "text":
            if self._pending:
                line = bytes(self._pending)
                self._pending.clear()
                out += self._text_lines([line])
            self._overlong = False
            return out
        tail = bytes(self._pending)
        self._pending.clear()
        if not self._seen_delimiter:
            if tail and not self._overlong and decode_frame(tail) is not None:
                out += self._decode_region(tail + b"\x00")
            else:
                self.counters.lead_in_bytes += len(tail)
        else:
            self.counters.tail_bytes += len(tail) + (self._overlong_bytes if self._overlong else 0)
        self._overlong = False
        self._overlong_bytes = 0
        return out

    def _note(self, message: Message) -> None:
        """What a message other than samples says about the stream, in stream order."""
        tracker = self._index
        if isinstance(message, Info):
            self.info = message
            if self._infos_expected:
                self._infos_expected -= 1
            else:
                tracker.unasked_info()
        elif isinstance(message, Event):
            if message.code == EventCode.STARTED:
                tracker.new_segment(message.sample_index, self.counters)
            elif message.code == EventCode.STOPPED:
                tracker.stop(message.sample_index, self.counters)
            elif message.code == EventCode.OVERRUN:
                self.counters.overrun_events += 1
        elif isinstance(message, Heartbeat):
            tracker.heartbeat(self.counters)
        elif (
            isinstance(message, Ack)
            and message.status == AckStatus.OK
            and message.command_type in (MsgType.GET_INFO, MsgType.SET_RATE)
        ):
            self._infos_expected += 1  # the INFO that follows was asked for

    def _count_saturation(self, counts: np.ndarray, flags: np.ndarray) -> None:
        if len(counts) == 0:
            return
        top = (1 << (self.adc_bits - 1)) - 1
        bottom = -(1 << (self.adc_bits - 1))
        flagged = int(np.bitwise_or.reduce(flags))
        flat = counts.reshape(-1)  # both channels as one contiguous run
        if not flagged & _SATURATED and bottom < flat.min() and flat.max() < top:
            return  # the usual case: two reductions, no masks
        for column, bit, name in (
            (0, SampleFlag.LEFT_SATURATED, "saturated_left"),
            (1, SampleFlag.RIGHT_SATURATED, "saturated_right"),
        ):
            values = counts[:, column]
            hit = ((flags & bit) != 0) | (values >= top) | (values <= bottom)
            setattr(self.counters, name, getattr(self.counters, name) + int(np.count_nonzero(hit)))


def decode_bytes(
    data: bytes, rate_hz: float | None = None, chunk: int = 1 << 20, info: Info | None = None
) -> DecodedStream:
    """Decode a whole capture (binary or text) held in memory.

    ``info`` (e.g. from a recording header) stands in until the stream's own
    INFO arrives, so a capture started mid-stream still knows its rate and ADC width.
    """
    decoder = StreamDecoder(rate_hz=rate_hz)
    if info is not None:
        decoder.info = info
    collector = StreamCollector()
    view = memoryview(data)
    start = 0
    while start < len(data):
        # A piece that ends just after a delimiter leaves the decoder no partial frame to
        # copy and join to the next one.
        end = data.rfind(b"\x00", start, start + chunk) + 1 or start + chunk
        collector.add(decoder.feed(bytes(view[start:end])))
        start = end
    collector.add(decoder.finish())
    return collector.result(decoder)
