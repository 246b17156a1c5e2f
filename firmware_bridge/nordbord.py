"""Force traces exported by the commercial NordBord rig, read as a capture.

Clinics switching systems bring years of history as NordBord CSV trace
exports: a time column and the left and right force (headers seen as
``Time,Left Force,Right Force`` and ``Time,LeftForce,RightForce``).  The
trace is turned into the text dialect of protocol.md, ``index,left,right``
with each value as an integer count of 1/1000 of its unit and a ``# rate=``
line, so the one decoder and the one analysis read it like any other
capture.  What a count means in newtons is calibration's business
(:func:`calibration.choice.imported_trace_certificate`).  The file itself is
what the store keeps, byte for byte.

Rules (each broken one is refused with the line that breaks it):
- headers are matched case-, space- and underscore-insensitively, with any
  unit in brackets set aside (``Time (s)``, ``Left Force [N]``); time is in
  seconds unless its unit says ms;
- the delimiter is a comma, a semicolon or a tab; numbers use a decimal point;
- time increases from line to line; the rate is one over the median step,
  and every time must sit on that grid (a missing sample is a dropped sample,
  counted as such, never smeared);
- the rate must lie between 1 Hz and 100 kHz.
"""

from __future__ import annotations

import math
import re

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.messages import RATE_RANGE, rate_ok

KIND = "nordbord"
ORIGIN = "imported NordBord trace"
COUNTS_PER_UNIT = 1000  # three decimals kept: 0.001 resolution, ±2,147,483 range
GRID_TOLERANCE = 0.25  # of a sample period
SERIAL = "NordBord"

_UNIT = re.compile(r"[\(\[]([^\)\]]*)[\)\]]")
_TIME = ("time",)
_LEFT = ("leftforce", "left", "forceleft", "leftforcen")
_RIGHT = ("rightforce", "right", "forceright", "rightforcen")


class NordBordError(InputError):
    """A NordBord trace that cannot be read; the message names the line."""


def _key(header: str) -> tuple[str, str]:
    """(normalised name, unit) of one header cell."""
    unit_match = _UNIT.search(header)
    unit = unit_match.group(1).strip().lower() if unit_match else ""
    name = re.sub(r"[\s_\-]+", "", _UNIT.sub("", header)).lower()
    return name, unit


def _split(line: str, delimiter: str) -> list[str]:
    return [cell.strip().strip('"') for cell in line.split(delimiter)]


def _header(text: str) -> tuple[str, dict[str, tuple[int, str]]] | None:
    """The delimiter and the columns of a NordBord header line, or None."""
    first = text.split("\n", 1)[0].lstrip("\ufeff").strip()
    for delimiter in (",", ";", "\t"):
        cells = _split(first, delimiter)
        if len(cells) < 2:
            continue
        keys = [_key(cell) for cell in cells]
        found: dict[str, tuple[int, str]] = {}
        for role, names in (("time", _TIME), ("left", _LEFT), ("right", _RIGHT)):
            for column, (name, unit) in enumerate(keys):
                if name in names:
                    found[role] = (column, unit)
                    break
        if "time" in found and ("left" in found or "right" in found):
            return delimiter, found
    return None


def is_trace(blob: bytes) -> bool:
    """Whether the bytes start like a NordBord trace export (a header naming time and force)."""
    head = blob[:512]
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        return False
    return _header(text) is not None


def _number(cell: str, what: str, line: int, source: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise NordBordError(
            f"{source}: line {line}: {what} {cell!r} is not a number",
            hint="Numbers in the trace must use a decimal point.",
        ) from None
    if not math.isfinite(value):
        raise NordBordError(f"{source}: line {line}: {what} {cell!r} is not a finite number")
    return value


def to_text_dialect(blob: bytes, source: str) -> tuple[bytes, float]:
    """The trace as protocol.md's text dialect (``index,left,right`` in thousandths) and its
    rate."""
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NordBordError(
            f"{source}: byte {exc.start} is not text: not a NordBord CSV trace"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header = _header(text)
    if header is None:
        raise NordBordError(
            f"{source}: line 1: no Time, Left Force and Right Force columns",
            hint="Export the trace from NordBord as CSV with its time and force columns.",
        )
    delimiter, columns = header
    missing = [role for role in ("left", "right") if role not in columns]
    if missing:
        raise NordBordError(f"{source}: line 1: no {missing[0]} force column")
    time_col, time_unit = columns["time"]
    scale = 1e-3 if time_unit in ("ms", "msec", "millisecond", "milliseconds") else 1.0
    need = max(col for col, _ in columns.values()) + 1
    times: list[float] = []
    forces: list[tuple[float, float]] = []
    lines: list[int] = []
    for number, line in enumerate(text.split("\n")[1:], start=2):
        if not line.strip():
            continue
        cells = _split(line, delimiter)
        if len(cells) < need:
            raise NordBordError(
                f"{source}: line {number}: {len(cells)} columns where the header has {need}"
            )
        t = _number(cells[time_col], "time", number, source) * scale
        left = _number(cells[columns["left"][0]], "left force", number, source)
        right = _number(cells[columns["right"][0]], "right force", number, source)
        if times and t <= times[-1]:
            raise NordBordError(
                f"{source}: line {number}: time {cells[time_col]} is not after the line before "
                "(the time column must increase)"
            )
        times.append(t)
        forces.append((left, right))
        lines.append(number)
    if len(times) < 2:
        raise NordBordError(f"{source}: fewer than two samples: nothing to analyse")
    stamps = np.asarray(times)
    period = float(np.median(np.diff(stamps)))
    rate = float(f"{1.0 / period:.6g}")  # 50 Hz, not 49.99999999999996
    if not rate_ok(rate):
        raise NordBordError(
            f"{source}: the time column gives {rate:.6g} Hz; allowed is {RATE_RANGE}",
            hint="Check that the time column is in seconds (or says (ms)).",
        )
    position = (stamps - stamps[0]) / period
    index = np.rint(position).astype(np.int64)
    off = np.abs(position - index) > GRID_TOLERANCE
    if off.any():
        where = int(np.argmax(off))
        raise NordBordError(
            f"{source}: line {lines[where]}: time {times[where]:g} s is off the "
            f"{rate:.6g} Hz grid of the rest of the trace"
        )
    counts = np.rint(np.asarray(forces) * COUNTS_PER_UNIT).astype(np.int64)
    if np.abs(counts).max() >= 2**31:
        where = int(np.argmax(np.abs(counts).max(axis=1) >= 2**31))
        raise NordBordError(f"{source}: line {lines[where]}: a force beyond ±2,147,483")
    out = [f"# rate={rate!r}", f"# serial={SERIAL}"]
    out += [f"{i},{a},{b}" for i, (a, b) in zip(index.tolist(), counts.tolist(), strict=True)]
    return ("\n".join(out) + "\n").encode("ascii"), rate
