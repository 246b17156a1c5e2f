"""Streaming decoder: bytes in chunks of any size -> messages and counters.

It implements "How a receiver reads the stream" and the text dialect of
protocol.md.  No byte sequence makes it raise: every defect becomes a counter.
Binary frames are COBS-decoded in bulk with NumPy, so a whole capture decodes
at well over the wire's speed, and a live chunk costs a few NumPy calls.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field, fields

import numpy as np

from firmware_bridge.framing import MAX_ENCODED, decode_frame
from firmware_bridge.messages import (
    DEVICE_TYPES,
    HOST_TYPES,
    INDEX_MODULO,
    MAX_SAMPLES_PER_FRAME,
    Ack,
    AckStatus,
    Event,
    EventCode,
    Heartbeat,
    Info,
    Message,
    MsgType,
    SampleBlock,
    SampleFlag,
    parse_body,
)
from firmware_bridge.segment_clock import SegmentClock

HALF_RANGE = INDEX_MODULO // 2
DETECT_BYTES = 64
MAX_TEXT_LINE = 4096
FEW_FRAMES = 8  # up to this many delimiters in a read: decode frame by frame
_SAMPLES = int(MsgType.SAMPLES)
DEFAULT_ADC_BITS = 24


@dataclass
class Counters:
    """Everything protocol.md asks a receiver to count, plus totals.

    These names are the ones exports and screens use; each has one meaning.
    """

    bytes_total: int = 0
    frames_ok: int = 0
    frames_corrupt: int = 0
    frames_unknown: int = 0
    lead_in_bytes: int = 0
    tail_bytes: int = 0
    samples: int = 0
    # Gaps in the index, including those closed by EVENT STOPPED's index at the end.
    dropped_samples: int = 0
    # Reboots of the rig during a test: an index going backwards without a
    # START, or an INFO nobody asked for (or a HEARTBEAT) followed by STARTED.
    # A START the host sent is a new segment, not a restart.
    device_restarts: int = 0
    overrun_events: int = 0
    saturated_left: int = 0
    saturated_right: int = 0
    lines_ok: int = 0
    lines_corrupt: int = 0  # text lines that are not samples, or over 4,096 bytes

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def copy(self) -> Counters:
        return Counters(**self.to_dict())


def looks_like_text(data: bytes) -> bool:
    """Text dialect: printable ASCII lines with no NUL; binary frames always hold 0x00."""
    if not data or b"\x00" in data:
        return False
    return not data.translate(None, _PRINTABLE)


_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\r\n"
_SPLIT = re.compile(rb"[,\t ]+")
_RATE = re.compile(rb"^#\s*rate\s*=\s*([0-9.]+)", re.IGNORECASE)
_SERIAL = re.compile(rb"^#\s*serial\s*=\s*(\S+)", re.IGNORECASE)


@dataclass
class _IndexTracker:
    """Turns wrapped device indices into unwrapped ones, counting gaps and restarts.

    ``bases`` holds where each segment's index starts: the STARTED event's
    index, or the first index seen when a stream starts mid-test or restarts.
    ``streaming`` says a test is under way (STARTED or samples seen, no
    STOPPED since); ``suspect_reboot`` that an INFO nobody asked for arrived
    during it, which the next STARTED confirms as a reboot of the rig (and
    continuing samples clear: the host merely reopened the port).
    """

    expected: int | None = None  # next raw (wrapped) index
    next_unwrapped: int = 0
    segment: int = 0
    seen_in_segment: bool = False
    streaming: bool = False
    suspect_reboot: bool = False
    bases: dict[int, int] = field(default_factory=dict)

    def new_segment(self, start_index: int, counters: Counters) -> None:
        """A STARTED: samples count from ``start_index``; any lost before the first are a gap."""
        if self.suspect_reboot:
            self.reboot(counters)
        if self.seen_in_segment:
            self.segment += 1
        self.expected = start_index % INDEX_MODULO
        self.next_unwrapped = start_index
        self.seen_in_segment = False
        self.streaming = True
        self.bases[self.segment] = start_index

    def stop(self, stop_index: int, counters: Counters) -> None:
        """A STOPPED: its index is where the test ended, so samples lost at the end count."""
        if self.streaming and self.expected is not None:
            gap = (stop_index - self.expected) % INDEX_MODULO
            if gap < HALF_RANGE:
                counters.dropped_samples += gap
                self.next_unwrapped += gap
                self.expected = stop_index % INDEX_MODULO
        self.streaming = False
        self.suspect_reboot = False

    def unasked_info(self) -> None:
        """An INFO as at power-on: during a test, the rig may have rebooted."""
        if self.streaming:
            self.suspect_reboot = True

    def heartbeat(self, counters: Counters) -> None:
        """A rig sends heartbeats only when not streaming: during a test, it rebooted."""
        if self.streaming:
            self.reboot(counters)

    def reboot(self, counters: Counters) -> None:
        """The rig restarted under a running test: count it; what follows is a new segment."""
        counters.device_restarts += 1
        if self.seen_in_segment:
            self.segment += 1
        self.seen_in_segment = False
        self.expected = None
        self.streaming = False
        self.suspect_reboot = False

    def place(self, raw: int, count: int, counters: Counters) -> tuple[int, bool]:
        """Unwrapped first index of a run of ``count`` samples, and whether it continues."""
        contiguous = False
        if self.expected is None:
            unwrapped = raw
            self.bases.setdefault(self.segment, raw)
        else:
            gap = (raw - self.expected) % INDEX_MODULO
            if gap == 0:
                unwrapped = self.next_unwrapped
                contiguous = self.seen_in_segment
            elif gap < HALF_RANGE:
                counters.dropped_samples += gap
                unwrapped = self.next_unwrapped + gap
            else:
                counters.device_restarts += 1
                self.segment += 1
                unwrapped = raw
                self.bases[self.segment] = raw
        self.seen_in_segment = True
        self.streaming = True
        self.suspect_reboot = False
        self.expected = (raw + count) % INDEX_MODULO
        self.next_unwrapped = unwrapped + count
        return unwrapped, contiguous


class StreamDecoder:
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
        self._index = _IndexTracker()
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

    # -- binary --------------------------------------------------------------
    def _feed_binary(self, data: bytes) -> list[Message]:
        out: list[Message] = []
        if not self._seen_delimiter:
            zero = data.find(b"\x00")
            if zero < 0:
                self._hold(data, lead_in=True)
                return out
            run = bytes(self._pending) + data[:zero]
            self._pending.clear()
            self._seen_delimiter = True
            if self._overlong:
                self.counters.lead_in_bytes += len(run)
                self._overlong = False
            elif run and decode_frame(run) is not None:
                out += self._decode_region(run + b"\x00")
            else:
                self.counters.lead_in_bytes += len(run)
            data = data[zero + 1 :]
        last = data.rfind(b"\x00")
        if last < 0:
            self._hold(data, lead_in=False)
            return out
        if self._overlong:
            # The frame that overflowed ends at the first delimiter: one corrupt frame.
            first = data.find(b"\x00")
            self.counters.frames_corrupt += 1
            self._overlong = False
            self._overlong_bytes = 0
            self._pending.clear()
            data = data[first + 1 :]
            last -= first + 1
        if last >= 0:
            region = bytes(self._pending) + data[: last + 1] if self._pending else data[: last + 1]
            self._pending.clear()
            out += self._decode_region(region)
        self._hold(data[last + 1 :], lead_in=False)
        return out

    def _hold(self, data: bytes, lead_in: bool) -> None:
        """Keep a partial frame; one longer than any frame can be is dropped early."""
        if self._overlong:
            if lead_in:
                self.counters.lead_in_bytes += len(data)
            else:
                self._overlong_bytes += len(data)
            return
        self._pending += data
        if len(self._pending) > MAX_ENCODED:
            if lead_in:
                self.counters.lead_in_bytes += len(self._pending)
            else:
                self._overlong_bytes = len(self._pending)
            self._pending.clear()
            self._overlong = True

    def _decode_region(self, region: bytes) -> list[Message]:
        """Decode whole frames: ``region`` ends with a delimiter."""
        if region.count(b"\x00") <= FEW_FRAMES:
            # A live read holds a frame or two: plain Python beats NumPy's per-call cost.
            runs = [run for run in region.split(b"\x00")[:-1] if run]
            return self._interpret_few([decode_frame(run) for run in runs])
        buf = np.frombuffer(region, dtype=np.uint8)
        is_delim = buf == 0
        delims = np.flatnonzero(is_delim)
        starts = np.empty_like(delims)
        starts[0] = 0
        starts[1:] = delims[:-1] + 1
        nonempty = delims > starts
        starts, ends = starts[nonempty], delims[nonempty]
        if len(starts) == 0:
            return []
        decoded, out_start, out_len, valid = _cobs_decode_bulk(buf, is_delim, starts, ends)
        return self._interpret(decoded, out_start, out_len, valid)

    def _interpret_few(self, bodies: list[bytes | None]) -> list[Message]:
        """:meth:`_interpret` frame by frame, for a handful of frames (same rules).

        ``bodies`` are :func:`~firmware_bridge.framing.decode_frame` results
        (None: bad COBS, length or CRC).
        """
        counters = self.counters
        tracker = self._index
        out: list[Message] = []
        for body in bodies:
            if body is None:
                counters.frames_corrupt += 1
                continue
            kind = body[0]
            if not self._accepted[kind]:
                counters.frames_unknown += 1
                continue
            if kind != _SAMPLES:
                message = parse_body(body)
                if message is None:
                    counters.frames_corrupt += 1
                    continue
                counters.frames_ok += 1
                self._note(message)
                out.append(message)
                continue
            count = body[5] if len(body) >= 7 else 0
            if not 1 <= count <= MAX_SAMPLES_PER_FRAME or len(body) != 7 + 8 * count:
                counters.frames_corrupt += 1
                continue
            counters.frames_ok += 1
            counts = np.frombuffer(body, dtype="<i4", offset=7).reshape(-1, 2).astype(np.int32)
            flags = np.full(count, body[6], dtype=np.uint8)
            self._count_saturation(counts, flags)
            counters.samples += count
            raw = int.from_bytes(body[1:5], "little")
            first, contiguous = tracker.place(raw, count, counters)
            last = out[-1] if out else None
            if (
                contiguous
                and isinstance(last, SampleBlock)
                and last.segment == tracker.segment
                and last.end_index == first
            ):
                last.counts = np.concatenate((last.counts, counts))
                last.flags = np.concatenate((last.flags, flags))
            else:
                out.append(SampleBlock(first, counts, flags, tracker.segment))
        return out

    def _interpret(
        self, dec: np.ndarray, start: np.ndarray, length: np.ndarray, valid: np.ndarray
    ) -> list[Message]:
        """Check CRCs, sort frames by type, and turn sample frames into merged blocks."""
        counters = self.counters
        valid &= length >= 3
        candidates = np.flatnonzero(valid)
        raw = dec.tobytes()
        crc_hqx = binascii.crc_hqx
        ends = (start + length).tolist()
        firsts = start.tolist()
        computed = np.fromiter(
            (crc_hqx(raw[firsts[i] : ends[i] - 2], 0xFFFF) for i in candidates.tolist()),
            dtype=np.int64,
            count=len(candidates),
        )
        tail = start[candidates] + length[candidates]
        stored = dec[tail - 2].astype(np.int64) | (dec[tail - 1].astype(np.int64) << 8)
        good = candidates[computed == stored]
        counters.frames_corrupt += len(start) - len(good)
        if len(good) == 0:
            return []
        kinds = dec[start[good]]
        accepted = self._accepted[kinds]
        counters.frames_unknown += int(np.count_nonzero(~accepted))
        good, kinds = good[accepted], kinds[accepted]
        body_len = length[good] - 2

        # SAMPLES frames: checked and parsed all at once.
        is_samples = kinds == MsgType.SAMPLES
        s_frames = good[is_samples]
        s_start = start[s_frames]
        s_len = body_len[is_samples]
        last = len(dec) - 1
        count = np.where(s_len >= 7, dec[np.minimum(s_start + 5, last)], 0).astype(np.int64)
        ok = (count >= 1) & (count <= MAX_SAMPLES_PER_FRAME) & (s_len == 7 + 8 * count)
        counters.frames_corrupt += int(np.count_nonzero(~ok))
        s_frames, s_start, count = s_frames[ok], s_start[ok], count[ok]
        first_raw = np.zeros(len(s_start), dtype=np.int64)
        for byte in range(4):
            first_raw |= dec[s_start + 1 + byte].astype(np.int64) << (8 * byte)
        counters.frames_ok += len(s_frames)

        # Everything else: few frames, parsed one by one.
        others: list[tuple[int, Message]] = []
        for frame in good[~is_samples].tolist():
            body = raw[firsts[frame] : ends[frame] - 2]
            message = parse_body(body)
            if message is None:
                counters.frames_corrupt += 1
                continue
            counters.frames_ok += 1
            others.append((frame, message))

        counts, flags = _gather_samples(dec, s_start + 7, count)
        counters.samples += len(counts)
        sample_offset = np.concatenate(([0], np.cumsum(count)))
        expected = (first_raw + count) % INDEX_MODULO
        continues = np.zeros(len(s_frames), dtype=bool)
        continues[1:] = first_raw[1:] == expected[:-1]

        out: list[Message] = []
        split_at = np.searchsorted(s_frames, [frame for frame, _ in others]).tolist()
        lo = 0
        for hi, (_, message) in zip(
            [*split_at, len(s_frames)], [*others, (None, None)], strict=True
        ):
            self._emit_runs(out, lo, hi, first_raw, count, continues, sample_offset, counts, flags)
            lo = hi
            if message is not None:
                self._note(message)
                out.append(message)
        return out

    def _emit_runs(
        self,
        out: list[Message],
        lo: int,
        hi: int,
        first_raw: np.ndarray,
        count: np.ndarray,
        continues: np.ndarray,
        sample_offset: np.ndarray,
        counts: np.ndarray,
        flags: np.ndarray,
    ) -> None:
        """Sample frames lo..hi (no other message between them) as contiguous blocks."""
        if hi <= lo:
            return
        breaks = (np.flatnonzero(~continues[lo + 1 : hi]) + lo + 1).tolist()
        tracker = self._index
        for a, b in zip([lo, *breaks], [*breaks, hi], strict=True):
            s0, s1 = int(sample_offset[a]), int(sample_offset[b])
            first, _ = tracker.place(int(first_raw[a]), s1 - s0, self.counters)
            # Counted here, in stream order, so an INFO changes the ADC width
            # only for the samples after it, as in a frame-by-frame read.
            self._count_saturation(counts[s0:s1], flags[s0:s1])
            out.append(SampleBlock(first, counts[s0:s1], flags[s0:s1], tracker.segment))

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
        for column, bit, name in (
            (0, SampleFlag.LEFT_SATURATED, "saturated_left"),
            (1, SampleFlag.RIGHT_SATURATED, "saturated_right"),
        ):
            values = counts[:, column]
            hit = ((flags & bit) != 0) | (values >= top) | (values <= bottom)
            setattr(self.counters, name, getattr(self.counters, name) + int(np.count_nonzero(hit)))

    # -- text ----------------------------------------------------------------
    def _feed_text(self, data: bytes) -> list[Message]:
        """Whole lines go to :meth:`_text_lines`; a partial one waits for its end.

        A line longer than MAX_TEXT_LINE bytes (its end of line not counted) is
        one corrupt line whatever it holds, decided as soon as it is too long,
        so the answer never depends on how the stream was chunked.
        """
        out: list[Message] = []
        while data:
            if self._overlong:
                newline = data.find(b"\n")
                if newline < 0:
                    return out
                self._overlong = False
                data = data[newline + 1 :]
                continue
            last = data.rfind(b"\n")
            if last < 0:
                self._pending += data
                if len(self._pending) > MAX_TEXT_LINE:
                    self.counters.lines_corrupt += 1
                    self._pending.clear()
                    self._overlong = True
                return out
            lines = (bytes(self._pending) + data[:last]).split(b"\n")
            self._pending.clear()
            out += self._text_lines(lines)
            data = data[last + 1 :]
        return out

    def _text_lines(self, lines: list[bytes]) -> list[Message]:
        counters = self.counters
        tracker = self._index
        out: list[Message] = []
        values: list[tuple[int, int]] = []
        run_first = 0
        run_segment = 0

        def close_run() -> None:
            if values:
                block = SampleBlock(run_first, np.array(values, dtype=np.int64), None, run_segment)
                self._count_saturation(block.counts, block.flags)
                counters.samples += len(block)
                out.append(block)
                values.clear()

        for raw_line in lines:
            if len(raw_line) > MAX_TEXT_LINE:
                counters.lines_corrupt += 1
                continue
            line = raw_line.strip()
            if not line:
                continue
            if line.startswith(b"#"):
                rate = _RATE.match(line)
                serial = _SERIAL.match(line)
                if rate:
                    try:
                        value = float(rate.group(1))
                    except ValueError:
                        value = 0.0
                    if value > 0:
                        self.text_rate_hz = value
                elif serial:
                    self.text_serial = serial.group(1).decode("ascii", "replace")
                continue
            parts = _SPLIT.split(line)
            try:
                numbers = [int(p) for p in parts]
            except ValueError:
                counters.lines_corrupt += 1
                continue
            if len(numbers) == 2:
                raw = tracker.expected if tracker.expected is not None else 0
                left, right = numbers
            elif len(numbers) == 3 and numbers[0] >= 0:
                raw, left, right = numbers
                raw %= INDEX_MODULO
            else:
                counters.lines_corrupt += 1
                continue
            if not (-(2**31) <= left < 2**31 and -(2**31) <= right < 2**31):
                counters.lines_corrupt += 1
                continue
            counters.lines_ok += 1
            unwrapped, contiguous = tracker.place(raw, 1, counters)
            if not (contiguous and values and run_segment == tracker.segment):
                close_run()
                run_first, run_segment = unwrapped, tracker.segment
            values.append((left, right))
        close_run()
        return out


def _cobs_decode_bulk(
    buf: np.ndarray, is_delim: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """COBS-decode many frames at once by walking all code chains in lockstep.

    Returns the decoded bytes of all frames back to back, each frame's start
    and length in them, and which frames were valid COBS.
    """
    lengths = ends - starts
    valid = lengths <= MAX_ENCODED
    is_code = np.zeros(len(buf), dtype=bool)
    insert_zero = np.zeros(len(buf), dtype=bool)
    frame = np.flatnonzero(valid)
    pos = starts[frame]
    end = ends[frame]
    while pos.size:
        is_code[pos] = True
        code = buf[pos]
        nxt = pos + code
        over = nxt > end
        if over.any():
            valid[frame[over]] = False
        more = nxt < end
        pos, end, frame = nxt[more], end[more], frame[more]
        insert_zero[pos] = code[more] != 255
    keep = (~is_code | insert_zero) & ~is_delim
    values = np.where(is_code, np.uint8(0), buf)
    # Each frame's decoded length: the bytes it keeps (frames never touch, so
    # a cumulative count read at the frame boundaries gives them all at once).
    kept = np.cumsum(keep, dtype=np.int64)
    out_end = kept[ends - 1]
    out_start = np.concatenate(([0], out_end[:-1]))
    return values[keep], out_start, out_end - out_start, valid


def _gather_samples(
    dec: np.ndarray, data_start: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Counts (n, 2) int32 of every sample frame, and their frame flags per sample."""
    if len(count) == 0:
        return np.empty((0, 2), np.int32), np.empty(0, np.uint8)
    marks = np.zeros(len(dec) + 1, dtype=np.int8)
    marks[data_start] = 1
    marks[data_start + 8 * count] -= 1
    inside = np.cumsum(marks[:-1], dtype=np.int8).astype(bool)
    counts = dec[inside].view("<i4").reshape(-1, 2).astype(np.int32)
    flags = np.repeat(dec[data_start - 1], count)
    return counts, flags


@dataclass
class DecodedStream:
    """A whole capture as arrays: what analysis and the CLI work on.

    ``index`` is each sample's position on the device's time axis in samples:
    unwrapped, with each later segment (a new START or a device restart)
    placed after the one before.  Missing indices are dropped samples.
    """

    mode: str | None
    index: np.ndarray
    counts: np.ndarray
    flags: np.ndarray
    segment: np.ndarray
    counters: Counters
    info: Info | None = None
    sample_rate_hz: float | None = None
    serial_number: str | None = None
    events: list[Event] = field(default_factory=list)
    messages: int = 0

    @property
    def samples(self) -> int:
        return len(self.counts)

    @property
    def segments(self) -> int:
        """Stretches of samples on their own clock (each START or restart begins one)."""
        return int(len(np.unique(self.segment)))

    @property
    def adc_bits(self) -> int:
        if self.info is not None and 2 <= self.info.adc_bits <= 32:
            return self.info.adc_bits
        return DEFAULT_ADC_BITS

    def time_s(self) -> np.ndarray:
        if not self.sample_rate_hz:
            raise ValueError("the capture carries no sample rate")
        return self.index / self.sample_rate_hz

    def duration_s(self) -> float | None:
        if not self.sample_rate_hz or len(self.index) == 0:
            return None
        return float(self.index[-1] - self.index[0] + 1) / self.sample_rate_hz


class StreamCollector:
    """Accumulates decoder output into a :class:`DecodedStream`."""

    def __init__(self) -> None:
        self.blocks: list[SampleBlock] = []
        self.events: list[Event] = []
        self.messages = 0

    def add(self, messages: list[Message]) -> None:
        for message in messages:
            self.messages += 1
            if isinstance(message, SampleBlock):
                self.blocks.append(message)
            elif isinstance(message, Event):
                self.events.append(message)

    def result(self, decoder: StreamDecoder) -> DecodedStream:
        if self.blocks:
            counts = np.concatenate([b.counts for b in self.blocks])
            flags = np.concatenate([b.flags for b in self.blocks])
            segment = np.concatenate(
                [np.full(len(b), b.segment, dtype=np.int32) for b in self.blocks]
            )
            index = np.concatenate(
                [np.arange(b.first_index, b.end_index, dtype=np.int64) for b in self.blocks]
            )
            index = _place_segments(index, segment, decoder._index.bases)
        else:
            counts = np.empty((0, 2), np.int32)
            flags = np.empty(0, np.uint8)
            segment = np.empty(0, np.int32)
            index = np.empty(0, np.int64)
        return DecodedStream(
            mode=decoder.mode,
            index=index,
            counts=counts,
            flags=flags,
            segment=segment,
            counters=decoder.counters.copy(),
            info=decoder.info,
            sample_rate_hz=decoder.sample_rate_hz,
            serial_number=decoder.serial_number,
            events=list(self.events),
            messages=self.messages,
        )


def _place_segments(index: np.ndarray, segment: np.ndarray, bases: dict[int, int]) -> np.ndarray:
    """Lay segments one after another on a single axis, each from its own base.

    The one :class:`~firmware_bridge.segment_clock.SegmentClock` the live
    screens use too: within a segment, time counts from its START (or from
    the first sample of a capture that began mid-test); a later segment
    starts where the one before it ended, so the axis never runs backwards.
    """
    if len(index) == 0:
        return index
    out = index.copy()
    clock = SegmentClock()
    boundaries = np.flatnonzero(np.diff(segment)) + 1
    edges = np.concatenate(([0], boundaries, [len(index)]))
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        seg, first = int(segment[lo]), int(index[lo])
        count = int(index[hi - 1]) - first + 1
        start = clock.place(seg, first, count, base=bases.get(seg, first))
        out[lo:hi] = index[lo:hi] - first + start
    return out


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
    for start in range(0, len(data), chunk):
        collector.add(decoder.feed(bytes(view[start : start + chunk])))
    collector.add(decoder.finish())
    return collector.result(decoder)
