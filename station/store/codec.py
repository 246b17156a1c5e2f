"""How curves become bytes and back (no SQL here).

Curves are derived data (the raw recording, kept byte for byte, is what any
curve can be recomputed from), but they are what plots and exports read, so
they are stored compactly and decoded exactly:

- forces (float): float32 (a tenth of a micronewton at 300 N, far below any
  load cell's noise; NaN, a break in the curve, is kept).  Long curves are
  stored as ``f4dz``: the differences of consecutive float32 bit patterns
  (modulo 2**32, so exact for any value, NaN included), their bytes regrouped
  by significance, the top group (mostly 0 or 255 on a smooth curve)
  zlib-compressed; the lower ones are mostly the sensor's noise, where zlib
  would spend time for little.  A quarter
  smaller than plain ``f4`` at 1 kHz for ~4 ms a 10-minute curve.  Short
  curves or ones that do not shrink stay plain ``f4``; both decode the same.
- a time axis: on the device's clock every time is index / rate, so it is
  stored as runs of consecutive indices plus the rate; rows that are not of
  that form within a nanosecond (the midpoint rows the analysis puts at breaks)
  are kept whole as float64 exceptions.  Megabytes become a few bytes.
- integers and flags: mostly-zero flags as the positions of the others; a
  counter (the row-to-sample map) as runs of consecutive values; anything
  else as differences in the narrowest integer type, zlib-compressed.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

TIME_TOLERANCE_S = 1e-9
_COUNTS = struct.Struct("<QQ")
_INT_TYPES = ("<i1", "<i2", "<i4", "<i8")
F4DZ_MIN_VALUES = 256  # below this zlib's header costs more than it saves
_F4DZ_HEAD = struct.Struct("<BIIII")
# (byte plane, zlib strategy): run-length on the top plane.  Huffman codes on the next
# would save 6 % more at 1 kHz for 6 ms a curve: not worth it on the save path.
_F4DZ_PACKED = ((3, zlib.Z_RLE),)


@dataclass(frozen=True)
class Encoded:
    name: str
    codec: str
    length: int
    param: float | None
    data: bytes | memoryview  # a view where no copy is needed (SQLite binds either)

    def __reduce__(self) -> tuple[type[Encoded], tuple[Any, ...]]:
        """Pickled as bytes (a view cannot be): a recompute worker sends runs back."""
        return (Encoded, (self.name, self.codec, self.length, self.param, bytes(self.data)))


def is_time_axis(name: str) -> bool:
    return name == "time_s" or name.endswith("_time_s")


def encode(
    name: str, values: np.ndarray, rate_hz: float | None, *, compress: bool = True
) -> Encoded:
    """One curve as bytes (see the module docstring for the codecs); without ``compress``
    force curves stay plain f4 (a server's save: cheaper to send than to pack)."""
    array = np.asarray(values).reshape(-1)
    n = len(array)
    if is_time_axis(name) and array.dtype.kind == "f":
        if rate_hz and n:
            data = _encode_time(array, rate_hz)
            if len(data) < 8 * n:  # else the axis is irregular: plain float64 is smaller
                return Encoded(name, "time_index", n, float(rate_hz), data)
        return Encoded(name, "f8", n, None, array.astype("<f8").tobytes())
    if array.dtype.kind in "iub":
        return _encode_integers(name, array)
    floats = np.ascontiguousarray(array, dtype="<f4")
    if compress and n >= F4DZ_MIN_VALUES:
        packed = _encode_f4dz(floats)
        if len(packed) < 4 * n:
            return Encoded(name, "f4dz", n, None, packed)
    return Encoded(name, "f4", n, None, memoryview(floats.data).cast("B"))


def decode(codec: str, length: int, param: float | None, data: bytes) -> np.ndarray:
    if codec == "f4":
        out = np.frombuffer(data, dtype="<f4")
    elif codec == "f4dz":
        out = _decode_f4dz(data, length)
    elif codec == "f8":
        out = np.frombuffer(data, dtype="<f8")
    elif codec == "zdelta":
        out = _decode_ints(data)
    elif codec == "sparse":
        kind = np.dtype(data[:4].rstrip(b" ").decode("ascii"))
        count = _COUNTS.unpack_from(data, 4)[0]
        pos = 4 + _COUNTS.size
        where = np.frombuffer(data, "<i8", count, pos)
        values = np.frombuffer(data, kind.newbyteorder("<"), count, pos + 8 * count)
        out = np.zeros(length, kind)
        out[where] = values
    elif codec == "int_runs":
        runs = np.frombuffer(data, "<i8").reshape(-1, 2)
        out = _expand_runs(runs)
    elif codec == "time_index":
        if not param:
            raise ValueError("time curve stored without its sample rate")
        out = _decode_time(data, length, float(param))
    else:
        raise ValueError(f"unknown curve codec {codec!r}")
    if len(out) != length:
        raise ValueError(f"stored curve has {len(out)} values, expected {length}")
    return out


def _encode_time(times: np.ndarray, rate_hz: float) -> bytes:
    t = np.asarray(times, dtype=np.float64)
    # In place where possible: a 10-minute 1 kHz axis is 4.8 MB per temporary.
    with np.errstate(invalid="ignore"):
        x = t * rate_hz
        x += 0.5
        index = x.astype(np.int64)  # round half up for t >= 0; anything else fails the check
        back = np.divide(index, rate_hz, out=x)
        np.subtract(back, t, out=back)
        np.abs(back, out=back)
        regular = back <= TIME_TOLERANCE_S  # False for NaN and infinities too
    if regular.all():
        exceptions = np.empty(0, np.int64)
    else:
        exceptions = np.flatnonzero(~regular)
        index = index[regular]
    if len(index):
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(index)]))
        runs = np.column_stack((index[starts], ends - starts)).astype("<i8")
    else:
        runs = np.empty((0, 2), "<i8")
    return (
        _COUNTS.pack(len(runs), len(exceptions))
        + runs.tobytes()
        + exceptions.astype("<i8").tobytes()
        + t[exceptions].astype("<f8").tobytes()
    )


def _decode_time(data: bytes, length: int, rate_hz: float) -> np.ndarray:
    n_runs, n_exc = _COUNTS.unpack_from(data, 0)
    pos = _COUNTS.size
    runs = np.frombuffer(data, "<i8", 2 * n_runs, pos).reshape(-1, 2)
    pos += 16 * n_runs
    where = np.frombuffer(data, "<i8", n_exc, pos)
    pos += 8 * n_exc
    values = np.frombuffer(data, "<f8", n_exc, pos)
    regular = _expand_runs(runs) / rate_hz
    out = np.empty(length, np.float64)
    mask = np.ones(length, bool)
    mask[where] = False
    out[mask] = regular
    out[where] = values
    return out


def _encode_integers(name: str, values: np.ndarray) -> Encoded:
    """Flags that are mostly zero as positions; counters as runs; else zdelta."""
    n = len(values)
    kind = values.dtype.str.encode("ascii").ljust(4)
    nonzero = np.flatnonzero(values)
    if len(nonzero) <= n // 16:
        data = kind + _COUNTS.pack(len(nonzero), 0) + nonzero.astype("<i8").tobytes()
        return Encoded(
            name,
            "sparse",
            n,
            None,
            data + values[nonzero].astype(values.dtype.newbyteorder("<")).tobytes(),
        )
    if values.dtype.kind == "i" and values.dtype.itemsize == 8:
        steps = np.diff(values) != 1
        if np.count_nonzero(steps) <= n // 16:
            breaks = np.flatnonzero(steps) + 1
            starts = np.concatenate(([0], breaks))
            ends = np.concatenate((breaks, [n]))
            runs = np.column_stack((values[starts], ends - starts)).astype("<i8")
            return Encoded(name, "int_runs", n, None, runs.tobytes())
    return Encoded(name, "zdelta", n, None, _encode_ints(values))


def _expand_runs(runs: np.ndarray) -> np.ndarray:
    """(start, count) pairs back to the integers, with one cumsum."""
    if len(runs) == 0:
        return np.empty(0, np.int64)
    counts = runs[:, 1]
    steps = np.ones(int(counts.sum()), np.int64)
    heads = np.concatenate(([0], np.cumsum(counts)[:-1]))
    steps[heads] = runs[:, 0] - np.concatenate(([0], runs[:-1, 0] + runs[:-1, 1] - 1))
    return np.cumsum(steps)


def _encode_ints(values: np.ndarray) -> bytes:
    # Differences of n-byte integers fit in 2n bytes, so work no wider than needed.
    work = (
        np.int16
        if values.dtype.itemsize == 1
        else np.int32
        if values.dtype.itemsize == 2
        else np.int64
    )
    v = values.astype(work)
    delta = np.empty_like(v)
    if len(v):
        delta[0] = v[0]
        np.subtract(v[1:], v[:-1], out=delta[1:])
    code = 3
    if len(delta):
        low, high = int(delta.min()), int(delta.max())
        for i, int_type in enumerate(_INT_TYPES):
            info = np.iinfo(np.dtype(int_type))
            if info.min <= low and high <= info.max:
                code = i
                break
    tag = values.dtype.str.encode("ascii").ljust(4)
    return bytes([code]) + tag + zlib.compress(delta.astype(_INT_TYPES[code]).tobytes(), 1)


def _decode_ints(data: bytes) -> np.ndarray:
    """Back to the original integer type (bool included)."""
    kind = np.dtype(data[1:5].rstrip(b" ").decode("ascii"))
    delta = np.frombuffer(zlib.decompress(data[5:]), _INT_TYPES[data[0]]).astype(np.int64)
    return np.cumsum(delta).astype(kind)


def _encode_f4dz(floats: np.ndarray) -> bytes:
    """float32 bit patterns as wrapping differences, split into byte planes; the
    planes of :data:`_F4DZ_PACKED` zlib-compressed when that makes them smaller,
    the others kept as they are.  Layout: a flags byte (bit i: plane i
    compressed), four plane lengths, the planes (any flags decode)."""
    bits = floats.view("<u4")
    delta = np.empty_like(bits)
    delta[0] = bits[0]
    np.subtract(bits[1:], bits[:-1], out=delta[1:])
    planes = [plane.tobytes() for plane in delta.view(np.uint8).reshape(-1, 4).T]
    flags = 0
    for i, strategy in _F4DZ_PACKED:
        packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, strategy)
        packed = packer.compress(planes[i]) + packer.flush()
        if len(packed) < len(planes[i]):
            planes[i] = packed
            flags |= 1 << i
    return _F4DZ_HEAD.pack(flags, *(len(plane) for plane in planes)) + b"".join(planes)


def _decode_f4dz(data: bytes, length: int) -> np.ndarray:
    flags, *sizes = _F4DZ_HEAD.unpack_from(data, 0)
    pos = _F4DZ_HEAD.size
    delta = np.zeros(length, np.uint32)
    view = memoryview(data)
    for i, size in enumerate(sizes):
        chunk = view[pos : pos + size]
        pos += size
        raw = zlib.decompress(chunk) if flags & (1 << i) else chunk
        if len(raw) != length:
            raise ValueError(f"stored curve has {len(raw)} values, expected {length}")
        plane = np.frombuffer(raw, np.uint8).astype(np.uint32)
        if i:
            plane <<= 8 * i
        delta |= plane
    if pos != len(data):
        raise ValueError("stored curve has trailing bytes")
    return np.cumsum(delta, dtype=np.uint32).view("<f4")
