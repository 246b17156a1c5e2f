"""Whole-buffer helpers of the binary decoder: COBS, CRC and samples over arrays of frames.

A capture of minutes holds tens of thousands of frames; a Python loop per
frame (or worse, per byte) would make decoding slower than reading the file.
Here every step works on all frames at once:

- COBS is decoded **in place**: a frame decodes to its own bytes after the
  first, with each code byte turned into 0.  The code chains of all frames
  are walked in lockstep (one NumPy step per code, about 60 for a full
  sample frame), a few NumPy calls a step.
- CRC-16/CCITT-FALSE (protocol.md) is computed over frames of equal length
  as columns, two bytes a step through a 65,536-entry table; a length shared
  by few frames uses :func:`binascii.crc_hqx` per frame.
- Sample payloads of frames with the same sample count are cut out as rows
  of a sliding window, with no index array as large as the data.

Each function returns exactly what the frame-by-frame path computes for the
same bytes (tests/firmware_bridge/test_bulk_frames.py holds them to it).
"""

from __future__ import annotations

import binascii

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from firmware_bridge.framing import MAX_ENCODED

POLY = 0x1021
CRC_INIT = 0xFFFF
MIN_VECTOR_CRC = 48  # frames of one length: fewer are cheaper one by one


def _shifted(register: np.ndarray, steps: int) -> np.ndarray:
    """The CRC register after ``steps`` one-bit shifts with no message bits."""
    for _ in range(steps):
        register = np.where(register & 0x8000, (register << 1) ^ POLY, register << 1) & 0xFFFF
    return register


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """The byte table of CRC-16/CCITT-FALSE and the 16-bit table built from it.

    ``t16[v]`` is the register after 16 shifts of ``v`` with no input, so two
    message bytes ``a, b`` step the register as ``t16[crc ^ (a << 8 | b)]``.
    Shifting is linear, so ``t16[a << 8 | b]`` is ``t16[a << 8] ^ t16[b]``: two
    tables of 256 make the 65,536 entries in one step.
    """
    byte = np.arange(256, dtype=np.uint32)
    t8 = _shifted(byte << 8, 8)
    t16 = _shifted(byte << 8, 16)[:, None] ^ _shifted(byte, 16)[None, :]
    return t8.astype(np.uint16), t16.ravel().astype(np.uint16)


_T8: np.ndarray | None = None
_T16: np.ndarray | None = None


def _crc_tables() -> tuple[np.ndarray, np.ndarray]:
    global _T8, _T16
    if _T8 is None or _T16 is None:
        _T8, _T16 = _tables()
    return _T8, _T16


def cobs_decode_frames(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """COBS-decode the frames ``buf[starts[i]:ends[i]]`` (each followed by a 0x00).

    Returns the decoded bytes, each frame's start and length in them, and
    which frames were valid COBS (at most :data:`MAX_ENCODED` bytes, a code
    chain that ends exactly at the frame's end).  Frames are non-empty and
    hold no 0x00; ``buf[ends[i]]`` is 0.

    A frame decodes in place: its bytes after the first, each code byte turned
    into 0.  That holds for every frame that can be valid: a 255 code adds no
    zero, but in a frame of at most :data:`MAX_ENCODED` bytes a 255 code can
    only be the first and last (it spans the whole frame).
    """
    lengths = ends - starts
    valid = lengths <= MAX_ENCODED
    # The walk: each frame's current code position, the codes' sum so far, and
    # the frame's delimiter, where the code reads 0 and the frame stays.  A jump
    # past the delimiter is cut short there; the sum then exceeds the length.
    pos = np.where(valid, starts, ends)
    stop = ends
    total = np.zeros(len(starts), dtype=np.int64)
    finished: np.ndarray | None = None  # the sums, once the walking frames are fewer
    rows = np.arange(len(starts))
    values = buf.copy()
    while True:
        code = buf.take(pos)
        moving = np.count_nonzero(code)
        if moving == 0:
            break
        if moving * 2 < len(pos):  # most frames are done: walk only the rest
            keep = code != 0
            if finished is None:
                finished = total.copy()
            else:
                finished[rows] = total
            pos, stop, rows = pos[keep], stop[keep], rows[keep]
            code, total = code[keep], total[keep]
        values[pos] = 0
        total += code
        pos += code
        np.minimum(pos, stop, out=pos)
    if finished is not None:
        finished[rows] = total
        total = finished
    valid &= total == lengths
    return values, starts + 1, lengths - 1, valid


def crc16_frames(dec: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of each ``dec[start[i]:start[i]+length[i]]``, as int64."""
    out = np.empty(len(start), dtype=np.int64)
    if len(start) == 0:
        return out
    order = np.argsort(length, kind="stable")
    sorted_len = length[order]
    bounds = np.flatnonzero(np.diff(sorted_len)) + 1
    raw: bytes | None = None
    for group in np.split(order, bounds):
        size = int(length[group[0]])
        if len(group) >= MIN_VECTOR_CRC and size > 0:
            out[group] = _crc_columns(sliding_window_view(dec, size)[start[group]])
            continue
        if raw is None:
            raw = dec.tobytes()
        firsts = start[group].tolist()
        crc_hqx = binascii.crc_hqx
        out[group] = [crc_hqx(raw[a : a + size], CRC_INIT) for a in firsts]
    return out


def _crc_columns(rows: np.ndarray) -> np.ndarray:
    """CRC of each row of a (frames, bytes) uint8 array, two bytes a step.

    The rows' byte pairs are read as big-endian words and laid out word by
    word (one contiguous array per step, made in one copy), so each step is
    two NumPy calls.
    """
    t8, t16 = _crc_tables()
    count, size = rows.shape
    crc: np.ndarray = np.full(count, CRC_INIT, dtype=np.uint16)
    pairs = size // 2
    if pairs:
        words = rows[:, : 2 * pairs].view(">u2").T.astype(np.uint16, order="C")
        for k in range(pairs):
            np.bitwise_xor(crc, words[k], out=crc)
            np.take(t16, crc, out=crc)
    if size % 2:
        crc = ((crc << 8) & 0xFFFF) ^ t8[(crc >> 8) ^ rows[:, -1]]
    return crc.astype(np.int64)


def gather_samples(
    dec: np.ndarray, data_start: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Counts (n, 2) int32 of every sample frame in order, and each sample's frame flags.

    Frame ``i`` holds ``count[i]`` pairs of little-endian i32 from
    ``dec[data_start[i]]``; its flags byte is the one before.
    """
    if len(count) == 0:
        return np.empty((0, 2), np.int32), np.empty(0, np.uint8)
    flags = np.repeat(dec[data_start - 1], count)
    # np.unique would import numpy.ma (7 ms of a command's start-up).
    if count.min() == count.max():
        c = int(count[0])
        rows = sliding_window_view(dec, 8 * c)[data_start]
        return rows.view("<i4").reshape(-1, 2).astype(np.int32, copy=False), flags
    counts = np.empty((int(count.sum()), 2), dtype=np.int32)
    offset = np.concatenate(([0], np.cumsum(count)[:-1]))
    for c in np.flatnonzero(np.bincount(count)).tolist():
        frames = np.flatnonzero(count == c)
        rows = sliding_window_view(dec, 8 * c)[data_start[frames]]
        where = (offset[frames][:, None] + np.arange(c)).ravel()
        counts[where] = rows.view("<i4").reshape(-1, 2)
    return counts, flags
