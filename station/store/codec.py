"""How curves become bytes and back (no SQL here).

Curves are derived data (the raw recording, kept byte for byte, is what any
curve can be recomputed from), but they are what plots and exports read, so
they are stored compactly and decoded exactly:

- forces (float): little-endian float32.  A tenth of a micronewton at 300 N,
  far below any load cell's noise; NaN (a break in the curve) is kept.
- a time axis: on the device's clock every time is index / rate, so it is
  stored as runs of consecutive indices plus the rate; rows that are not of
  that form within a nanosecond (the midpoint rows the analysis puts at breaks)
  are kept whole as float64 exceptions.  Megabytes become a few bytes.
- integers and flags: differences, in the narrowest integer type that holds
  them, zlib-compressed (a sample-position column is almost all ones).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

TIME_TOLERANCE_S = 1e-9
_COUNTS = struct.Struct("<QQ")
_INT_TYPES = ("<i1", "<i2", "<i4", "<i8")


@dataclass(frozen=True)
class Encoded:
    name: str
    codec: str
    length: int
    param: float | None
    data: bytes


def is_time_axis(name: str) -> bool:
    return name == "time_s" or name.endswith("_time_s")


def encode(name: str, values: np.ndarray, rate_hz: float | None) -> Encoded:
    """One curve as bytes (see the module docstring for the codecs)."""
    array = np.asarray(values).reshape(-1)
    n = len(array)
    if is_time_axis(name) and array.dtype.kind == "f":
        if rate_hz and n:
            return Encoded(name, "time_index", n, float(rate_hz), _encode_time(array, rate_hz))
        return Encoded(name, "f8", n, None, array.astype("<f8").tobytes())
    if array.dtype.kind in "iub":
        return Encoded(name, "zdelta", n, None, _encode_ints(array))
    return Encoded(name, "f4", n, None, array.astype("<f4").tobytes())


def decode(codec: str, length: int, param: float | None, data: bytes) -> np.ndarray:
    if codec == "f4":
        out = np.frombuffer(data, dtype="<f4")
    elif codec == "f8":
        out = np.frombuffer(data, dtype="<f8")
    elif codec == "zdelta":
        out = _decode_ints(data)
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
    t = times.astype(np.float64)
    with np.errstate(invalid="ignore"):
        index = np.rint(t * rate_hz)
        regular = np.isfinite(index) & (np.abs(index / rate_hz - t) <= TIME_TOLERANCE_S)
    exceptions = np.flatnonzero(~regular)
    index = index[regular].astype(np.int64)
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
    if n_runs:
        counts = runs[:, 1]
        # Expand runs with one cumsum: each run restarts at its own first index.
        steps = np.ones(int(counts.sum()), np.int64)
        heads = np.concatenate(([0], np.cumsum(counts)[:-1]))
        steps[heads] = runs[:, 0] - np.concatenate(([0], runs[:-1, 0] + runs[:-1, 1] - 1))
        regular = np.cumsum(steps) / rate_hz
    else:
        regular = np.empty(0)
    out = np.empty(length, np.float64)
    mask = np.ones(length, bool)
    mask[where] = False
    out[mask] = regular
    out[where] = values
    return out


def _encode_ints(values: np.ndarray) -> bytes:
    v = values.astype(np.int64)
    delta = np.diff(v, prepend=np.int64(0))
    code = 3
    if len(delta):
        low, high = int(delta.min()), int(delta.max())
        for i, kind in enumerate(_INT_TYPES):
            info = np.iinfo(np.dtype(kind))
            if info.min <= low and high <= info.max:
                code = i
                break
    kind = values.dtype.str.encode("ascii").ljust(4)
    return bytes([code]) + kind + zlib.compress(delta.astype(_INT_TYPES[code]).tobytes(), 1)


def _decode_ints(data: bytes) -> np.ndarray:
    """Back to the original integer type (bool included)."""
    kind = np.dtype(data[1:5].rstrip(b" ").decode("ascii"))
    delta = np.frombuffer(zlib.decompress(data[5:]), _INT_TYPES[data[0]]).astype(np.int64)
    return np.cumsum(delta).astype(kind)
