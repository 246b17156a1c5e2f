"""Reading station recordings: everything intact, in time linear in the file's size.

The reader returns everything intact: a damaged header or record is skipped
up to the next record whose sync bytes and CRC check, a cut-off last record
is dropped, and each such event becomes a warning string, never an
exception.  Only a file that is no recording at all (or one built to break
readers, such as a header nested 100,000 deep) raises :class:`RecordingError`.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.files import MAX_CAPTURE_BYTES, read_regular
from firmware_bridge.recording_format import (
    CRC,
    HEADER_LENGTH,
    MAGIC,
    MAGIC_PREFIX,
    MAX_HEADER,
    MAX_JSON_DEPTH,
    MAX_RECORD,
    RECORD_HEAD,
    RECORD_OVERHEAD,
    SYNC,
    VERSION,
    RecordingError,
    RecordType,
)

log = logging.getLogger(__name__)

_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


@dataclass
class Recording:
    """What a recording holds, as far as it is intact.

    ``data`` is every DATA byte joined; chunk ``i`` is
    ``data[chunk_ends[i-1]:chunk_ends[i]]`` and arrived ``chunk_times[i]``
    seconds after the start.  ``header`` is the file header with every
    UPDATE applied.
    """

    header: dict[str, Any]
    data: bytes
    chunk_times: np.ndarray
    chunk_ends: np.ndarray
    sent: list[tuple[float, bytes]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0
    unknown_records: int = 0
    damaged_bytes: int = 0

    @property
    def info(self) -> dict | None:
        value = self.header.get("info")
        return value if isinstance(value, dict) else None

    @property
    def calibration(self) -> dict | None:
        value = self.header.get("calibration")
        return value if isinstance(value, dict) else None

    @property
    def duration_s(self) -> float:
        """Seconds from the start to the last received chunk."""
        return float(self.chunk_times[-1]) if len(self.chunk_times) else 0.0


def read_file_bytes(path: str | os.PathLike[str], error: type[InputError]) -> bytes:
    """A whole capture file; a missing, unreadable, empty, oversized or non-regular one
    (a device such as /dev/zero, a FIFO) raises ``error`` in one line."""
    return read_regular(path, MAX_CAPTURE_BYTES, error)


def is_recording(blob: bytes) -> bool:
    """True for a station recording, even one whose magic or header is damaged."""
    if blob.startswith(MAGIC_PREFIX):
        return True
    return _find_record(blob, 0, limit=1 << 16) >= 0


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording file (see the module docstring for what damage does)."""
    return parse_recording(read_file_bytes(path, RecordingError), str(path))


def parse_recording(blob: bytes, source: str = "recording") -> Recording:
    """Parse a recording held in memory; only a non-recording raises."""
    warnings: list[str] = []
    header: dict[str, Any] = {}
    if blob.startswith(MAGIC_PREFIX) and not blob.startswith(MAGIC):
        version = blob[len(MAGIC_PREFIX) : len(MAGIC)].rstrip(b"\n")
        if version.isdigit() and int(version) > VERSION:
            raise RecordingError(
                f"{source} is a version {int(version)} recording; this station reads version "
                f"{VERSION}: update Nordic Station"
            )
    if blob.startswith(MAGIC):
        header, pos, problem = _parse_header(blob, source)
        if problem:
            warnings.append(f"the recording header is damaged ({problem}); its fields are lost")
            found = _find_record(blob, len(MAGIC))
            pos = found if found >= 0 else len(blob)
    else:
        pos = _find_record(blob, 0)
        if pos < 0:
            raise RecordingError(f"{source} is not a station recording")
        warnings.append("the recording's magic and header are damaged; its fields are lost")
    recording = _parse_records(blob, pos, header, warnings)
    for warning in recording.warnings:
        log.warning("%s: %s", source, warning)
    return recording


def _parse_header(blob: bytes, source: str) -> tuple[dict[str, Any], int, str | None]:
    start = len(MAGIC)
    if len(blob) < start + HEADER_LENGTH.size:
        return {}, len(blob), "cut off"
    (n,) = HEADER_LENGTH.unpack_from(blob, start)
    text_start = start + HEADER_LENGTH.size
    end = text_start + n
    if n > MAX_HEADER or end + CRC.size > len(blob):
        return {}, start, "bad length or cut off"
    text = blob[text_start:end]
    if zlib.crc32(text) != CRC.unpack_from(blob, end)[0]:
        return {}, start, "checksum mismatch"
    if _nesting(text) > MAX_JSON_DEPTH:
        # Not damage (its checksum is right): a file made to break readers.
        raise RecordingError(
            f"{source}: the recording header nests deeper than {MAX_JSON_DEPTH} levels, "
            "which no station writes: not read"
        )
    header = _json_object(text)
    if header is None:
        return {}, start, "not a JSON object"
    return header, end + CRC.size, None


def _json_object(text: bytes) -> dict[str, Any] | None:
    """A JSON object from a header or record, or None for anything else.

    Nesting deeper than any station writes is refused before parsing (a
    hostile file nesting 100,000 deep would otherwise exhaust the stack), as
    are numbers too long to convert.
    """
    if _nesting(text) > MAX_JSON_DEPTH:
        return None
    try:
        value = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _nesting(text: bytes) -> int:
    """Deepest bracket nesting of a JSON text (brackets inside strings may over-count,
    which only makes the check stricter for texts no station writes)."""
    opens = np.frombuffer(text, dtype=np.uint8)
    step = np.isin(opens, _OPEN).astype(np.int64) - np.isin(opens, _CLOSE).astype(np.int64)
    return int(np.cumsum(step).max(initial=0))


class _Records:
    """Every place a record could start, found once, and which of them are intact.

    Reading stays linear in the file's size whatever it holds: the sync
    marks are found in one NumPy pass, each candidate's CRC is computed at
    most once (and only when asked), and the bytes checksummed while looking
    for the next intact record after damage are capped at a few times the
    file's size (a file built to defeat that is reported as damaged from
    there on, never read for minutes).
    """

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.size = size = len(blob)
        buf = np.frombuffer(blob, dtype=np.uint8)
        cand = np.flatnonzero((buf[: size - 1] == SYNC[0]) & (buf[1:size] == SYNC[1]))
        self.cand = cand = cand[cand + RECORD_OVERHEAD <= size]
        lengths = _gather(buf, cand + 4, 4, "<u4").astype(np.int64)
        self.after = cand + RECORD_OVERHEAD + lengths
        self.fits = (lengths <= MAX_RECORD) & (self.after <= size)
        self.fitting = np.flatnonzero(self.fits)
        self.fitting_at = cand[self.fitting]
        self._crc: dict[int, bool] = {}
        self.budget = 8 * size + (1 << 20)  # bytes checksummed while searching
        self.exhausted = False

    def index(self, pos: int) -> int:
        """Candidate number of a record starting at ``pos``, or -1."""
        k = int(np.searchsorted(self.cand, pos))
        return k if k < len(self.cand) and int(self.cand[k]) == pos else -1

    def intact(self, k: int) -> bool:
        """Whether candidate ``k`` fits in the file and its CRC checks."""
        if not self.fits[k]:
            return False
        known = self._crc.get(k)
        if known is None:
            pos, end = int(self.cand[k]), int(self.after[k]) - CRC.size
            self.budget -= end - pos
            stored = CRC.unpack_from(self.blob, end)[0]
            known = zlib.crc32(memoryview(self.blob)[pos + 2 : end]) == stored
            self._crc[k] = known
        return known

    def find(self, start: int, limit: int | None = None) -> int:
        """Offset of the first intact record at or after ``start`` (within ``limit`` bytes)."""
        stop = self.size if limit is None else min(self.size, start + limit)
        i = int(np.searchsorted(self.fitting_at, start))
        while i < len(self.fitting):
            k = int(self.fitting[i])
            if int(self.cand[k]) >= stop:
                return -1
            if self.budget <= 0:
                self.exhausted = True
                return -1
            if self.intact(k):
                return int(self.cand[k])
            i += 1
        return -1

    def run(self, pos: int) -> tuple[list[int], int]:
        """The intact records chained from the intact one at ``pos``, and where the chain ends."""
        out: list[int] = []
        k = self.index(pos)
        while k >= 0 and self.intact(k):
            out.append(pos)
            pos = int(self.after[k])
            k = self.index(pos)
        return out, pos


def _find_record(blob: bytes, start: int, limit: int | None = None) -> int:
    """Offset of the first intact record at or after ``start`` (within ``limit`` bytes).

    With a ``limit`` (recognising a file) only that window is searched, and
    without indexing the whole file, so a large raw capture is told apart fast.
    """
    if limit is None:
        return _Records(blob).find(start)
    stop = min(len(blob), start + limit)
    budget = 8 * limit + (1 << 20)  # bytes checksummed, as in _Records
    view = memoryview(blob)
    pos = blob.find(SYNC, start, stop)
    while pos >= 0 and budget > 0:
        if len(blob) - pos >= RECORD_OVERHEAD:
            (length,) = HEADER_LENGTH.unpack_from(blob, pos + 4)
            end = pos + RECORD_HEAD.size + length
            if length <= MAX_RECORD and end + CRC.size <= len(blob):
                budget -= end - pos
                if zlib.crc32(view[pos + 2 : end]) == CRC.unpack_from(blob, end)[0]:
                    return pos
        pos = blob.find(SYNC, pos + 1, stop)
    return -1


def _scan(blob: bytes, pos: int) -> tuple[list[int], int]:
    """Positions of the run of intact records starting at ``pos``, and where it ends.

    No Python loop over records: every sync mark in the file is a candidate,
    each candidate's length says where the next record must start, and the
    chain from ``pos`` is followed by pointer doubling.  The CRCs are then
    checked in one comprehension, so a long intact recording reads fast.
    """
    size = len(blob)
    buf = np.frombuffer(blob, dtype=np.uint8)
    cand = pos + np.flatnonzero((buf[pos : size - 1] == SYNC[0]) & (buf[pos + 1 : size] == SYNC[1]))
    cand = cand[cand + RECORD_OVERHEAD <= size]
    if len(cand) == 0 or cand[0] != pos:
        return [], pos
    lengths = _gather(buf, cand + 4, 4, "<u4").astype(np.int64)
    after = cand + RECORD_OVERHEAD + lengths
    fits = (lengths <= MAX_RECORD) & (after <= size)
    if not fits[0]:
        return [], pos
    n = len(cand)
    j = np.minimum(np.searchsorted(cand, after), n - 1)
    succ = np.append(np.where(fits & (cand[j] == after), j, n), n)  # n: the end
    on_chain = np.zeros(n + 1, dtype=bool)
    on_chain[0] = True
    members = np.zeros(1, dtype=np.int64)
    jump = succ
    while True:
        reached = jump[members]
        fresh = reached[~on_chain[reached]]
        if len(fresh) == 0:
            break
        on_chain[fresh] = True
        members = np.flatnonzero(on_chain)
        jump = jump[jump]
    chain = np.flatnonzero(on_chain[:n] & fits)
    positions = cand[chain]
    payload_end = positions + RECORD_HEAD.size + lengths[chain]
    stored = _gather(buf, payload_end, 4, "<u4")
    view = memoryview(blob)
    crc32 = zlib.crc32
    starts = positions.tolist()
    computed = np.fromiter(
        (crc32(view[p + 2 : e]) for p, e in zip(starts, payload_end.tolist(), strict=True)),
        dtype=np.uint64,
        count=len(starts),
    )
    bad = np.flatnonzero(computed != stored)
    if len(bad):
        first_bad = int(bad[0])
        return starts[:first_bad], starts[first_bad]
    return starts, int(after[chain[-1]])


def _gather(buf: np.ndarray, offsets: np.ndarray, width: int, dtype: str) -> np.ndarray:
    """Little-endian values of ``width`` bytes at each (unaligned) offset."""
    return buf[offsets[:, None] + np.arange(width)].view(dtype).ravel()


def _parse_records(blob: bytes, pos: int, header: dict[str, Any], warnings: list[str]) -> Recording:
    size = len(blob)
    damaged = 0
    damaged_at: list[int] = []
    # An intact file is one run, read at NumPy speed; after damage, the
    # search for the next intact record goes candidate by candidate, once.
    positions, pos = _scan(blob, pos) if pos < size else ([], pos)
    records = _Records(blob) if pos < size else None
    while records is not None and pos < size:
        found = records.find(pos + 1)
        if found < 0:
            if records.exhausted:
                warnings.append(
                    f"the recording is damaged beyond repair from byte {pos}: the last "
                    f"{size - pos} bytes were not read"
                )
            else:
                warnings.append(
                    f"the recording is cut off: the last {size - pos} bytes (an incomplete "
                    "record) were not read"
                )
            break
        damaged += found - pos
        damaged_at.append(pos)
        run, pos = records.run(found)
        positions += run

    buf = np.frombuffer(blob, dtype=np.uint8)
    at = np.array(positions, dtype=np.int64)
    kinds = buf[at + 2] if len(at) else np.zeros(0, np.uint8)
    lengths = _gather(buf, at + 4, 4, "<u4").astype(np.int64)
    times = _gather(buf, at + 8, 8, "<f8")
    payload = at + RECORD_HEAD.size
    is_data = kinds == RecordType.DATA
    marks = np.zeros(size + 1, dtype=np.int8)
    marks[payload[is_data]] = 1
    np.subtract.at(marks, payload[is_data] + lengths[is_data], 1)
    data = buf[np.cumsum(marks[:-1], dtype=np.int8).astype(bool)].tobytes()

    sent: list[tuple[float, bytes]] = []
    notes: list[dict[str, Any]] = []
    header = dict(header)
    unknown = bad_json = 0
    for i in np.flatnonzero(~is_data).tolist():
        kind, t = int(kinds[i]), float(times[i])
        body = blob[int(payload[i]) : int(payload[i] + lengths[i])]
        if kind == RecordType.SENT:
            sent.append((t, body))
        elif kind in (RecordType.UPDATE, RecordType.NOTE):
            value = _json_object(body)
            if value is None:
                bad_json += 1
            elif kind == RecordType.UPDATE:
                header.update(value)
            else:
                notes.append({"t": t, **value})
        else:
            unknown += 1
    if damaged_at:
        warnings.append(
            f"{len(damaged_at)} damaged stretch(es) of the recording skipped ({damaged} bytes, "
            f"first at byte {damaged_at[0]}); the data around them is kept"
        )
    if unknown:
        warnings.append(f"{unknown} record(s) of unknown type skipped (a newer station?)")
    if bad_json:
        warnings.append(f"{bad_json} header update or note record(s) were not JSON objects")
    return Recording(
        header=header,
        data=data,
        chunk_times=times[is_data].astype(np.float64),
        chunk_ends=np.cumsum(lengths[is_data]),
        sent=sent,
        notes=notes,
        warnings=warnings,
        records=len(positions),
        unknown_records=unknown,
        damaged_bytes=damaged,
    )
