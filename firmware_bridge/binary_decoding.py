"""The binary dialect of the decoder: frames found, COBS-decoded and sorted.

A live read holds a frame or two and takes a plain-Python path; a whole
capture is COBS-decoded in bulk with NumPy.  Both give the same messages and
counters for the same bytes (the property tests hold them to it).
:class:`BinaryDecoding` is a part of
:class:`~firmware_bridge.decoder.StreamDecoder`, which owns the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge.bulk_frames import cobs_decode_frames, crc16_frames, gather_samples
from firmware_bridge.counters import Counters
from firmware_bridge.framing import MAX_ENCODED, decode_frame
from firmware_bridge.index_tracker import IndexTracker
from firmware_bridge.messages import (
    INDEX_MODULO,
    MAX_SAMPLES_PER_FRAME,
    Info,
    Message,
    MsgType,
    SampleBlock,
    parse_body,
)

FEW_FRAMES = 8  # up to this many delimiters in a read: decode frame by frame
_SAMPLES = int(MsgType.SAMPLES)


def _few_delimiters(region: bytes) -> bool:
    """At most FEW_FRAMES delimiters, found without counting all of a capture's."""
    at = -1
    for _ in range(FEW_FRAMES + 1):
        at = region.find(b"\x00", at + 1)
        if at < 0:
            return True
    return False


class BinaryDecoding:
    """The binary half of :class:`~firmware_bridge.decoder.StreamDecoder`."""

    counters: Counters
    info: Info | None
    _accepted: np.ndarray
    _pending: bytearray
    _seen_delimiter: bool
    _overlong: bool
    _overlong_bytes: int
    _index: IndexTracker

    if TYPE_CHECKING:

        def _note(self, message: Message) -> None: ...

        def _count_saturation(self, counts: np.ndarray, flags: np.ndarray) -> None: ...

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
        if _few_delimiters(region):
            # A live read holds a frame or two: plain Python beats NumPy's per-call cost.
            runs = [run for run in region.split(b"\x00")[:-1] if run]
            return self._interpret_few([decode_frame(run) for run in runs])
        buf = np.frombuffer(region, dtype=np.uint8)
        delims = np.flatnonzero(buf == 0)
        starts = np.empty_like(delims)
        starts[0] = 0
        starts[1:] = delims[:-1] + 1
        nonempty = delims > starts
        starts, ends = starts[nonempty], delims[nonempty]
        if len(starts) == 0:
            return []
        decoded, out_start, out_len, valid = cobs_decode_frames(buf, starts, ends)
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
        computed = crc16_frames(dec, start[candidates], length[candidates] - 2)
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
            at = int(start[frame])
            body = dec[at : at + int(length[frame]) - 2].tobytes()
            message = parse_body(body)
            if message is None:
                counters.frames_corrupt += 1
                continue
            counters.frames_ok += 1
            others.append((frame, message))

        counts, flags = gather_samples(dec, s_start + 7, count)
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
