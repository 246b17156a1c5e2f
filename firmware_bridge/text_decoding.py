"""The text dialect of the decoder (protocol.md): one sample per line.

:class:`TextDecoding` is a part of
:class:`~firmware_bridge.decoder.StreamDecoder`, which owns the state.  A
line's fate never depends on how the stream was chunked: one longer than
MAX_TEXT_LINE bytes is one corrupt line, whatever it holds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge.counters import Counters
from firmware_bridge.index_tracker import IndexTracker
from firmware_bridge.messages import INDEX_MODULO, Message, SampleBlock

MAX_TEXT_LINE = 4096


def looks_like_text(data: bytes) -> bool:
    """Text dialect: printable ASCII lines with no NUL; binary frames always hold 0x00."""
    if not data or b"\x00" in data:
        return False
    return not data.translate(None, _PRINTABLE)


_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\r\n"
_SPLIT = re.compile(rb"[,\t ]+")
_RATE = re.compile(rb"^#\s*rate\s*=\s*([0-9.]+)", re.IGNORECASE)
_SERIAL = re.compile(rb"^#\s*serial\s*=\s*(\S+)", re.IGNORECASE)


class TextDecoding:
    """The text half of :class:`~firmware_bridge.decoder.StreamDecoder`."""

    counters: Counters
    text_rate_hz: float | None
    text_serial: str | None
    _pending: bytearray
    _overlong: bool
    _index: IndexTracker

    if TYPE_CHECKING:

        def _count_saturation(self, counts: np.ndarray, flags: np.ndarray) -> None: ...

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
                counts = np.array(values, dtype=np.int64)
                flags = np.zeros(len(values), dtype=np.uint8)  # text lines carry no flags
                block = SampleBlock(run_first, counts, flags, run_segment)
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
