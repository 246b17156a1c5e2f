"""Station recordings: every byte a rig sent, with the time it arrived.

A recording keeps the raw bytes rather than decoded samples so that any result
can be recomputed by a later (better) decoder, and the arrival times so that a
replay reproduces the live pacing.  It is written while the rig streams, so
the format is append-only and self-checking: a crash, a kill or a cut copy
loses at most the last moments, never what came before.

Format, version 1 (all integers little-endian; docs/recording-format.md says
the same at more length)::

    file    = magic header record*
    magic   = "NSREC1\\n"                       7 bytes; the digit is the version
    header  = u32 n, n bytes of UTF-8 JSON (an object), u32 crc32(JSON)
    record  = sync "\\xa5\\x5a", u8 type, u8 flags (0), u32 length, f64 t,
              length bytes of payload, u32 crc32(type .. end of payload)

``crc32`` is zlib's (IEEE 802.3).  ``t`` is seconds after the header's
``start_monotonic`` on the host's monotonic clock.  Record types:

- 1 DATA: bytes received from the rig, exactly as read, in order;
- 2 SENT: bytes the host sent to the rig (commands);
- 3 UPDATE: a JSON object whose keys replace the header's, in file order
  (how an INFO learned after the file was opened gets into the header);
- 4 NOTE: a JSON object logging a link event (``{"event": "disconnected", ...}``);
- other types are skipped and counted, so later versions can add some.

Header keys: ``format`` ("nordic-station.recording/1"), ``port``,
``started_utc`` (ISO 8601), ``start_monotonic``, ``station_version``,
``info`` (the rig's INFO as a dict, or null), ``calibration`` (a calibration
certificate as a dict, or null) and ``metadata`` (free object).  Unknown keys
are kept.

The writer sends buffered records to the operating system at least every
0.5 s (a background thread, so it holds even when no further write comes) and
on close, when it also fsyncs.  The reader returns everything intact: a
damaged header or record is skipped up to the next record whose sync bytes and
CRC check, a cut-off last record is dropped, and each such event becomes a
warning string, never an exception.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import firmware_bridge
from firmware_bridge.errors import NordicError, storage_error
from firmware_bridge.messages import Info

# The format and the reader live in their own modules; callers import them from here too.
from firmware_bridge.recording_format import (
    CRC,
    FLUSH_INTERVAL_S,
    FORMAT,
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
    encode_header,
    encode_record,
)
from firmware_bridge.recording_reader import (
    Recording,
    is_recording,
    parse_recording,
    read_file_bytes,
    read_recording,
)

__all__ = [
    "CRC",
    "FLUSH_INTERVAL_S",
    "FORMAT",
    "HEADER_LENGTH",
    "MAGIC",
    "MAGIC_PREFIX",
    "MAX_HEADER",
    "MAX_JSON_DEPTH",
    "MAX_RECORD",
    "RECORD_HEAD",
    "RECORD_OVERHEAD",
    "SYNC",
    "VERSION",
    "Recording",
    "RecordingError",
    "RecordingWriter",
    "RecordType",
    "encode_header",
    "encode_record",
    "is_recording",
    "parse_recording",
    "read_file_bytes",
    "read_recording",
]

log = logging.getLogger(__name__)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _jsonable(info: Info | dict | None) -> dict | None:
    if info is None:
        return None
    if isinstance(info, Info):
        return info.to_dict()
    return dict(info)


class RecordingWriter:
    """Append a rig's bytes to a recording file, crash-safely.

    ``write`` is cheap (it buffers); a background thread hands the buffer to
    the OS when its oldest record is ``flush_interval`` old, so a killed
    process loses at most that much.  A failed disk write is raised by the
    next ``write``/``flush``/``close``, never lost: a full disk as
    :class:`~firmware_bridge.errors.DiskFullError`, a forbidden folder as
    :class:`~firmware_bridge.errors.StoragePermissionError`, anything else as
    :class:`RecordingError`.
    The file is created with mode 0o600 (raw data of people) and, unless
    ``overwrite``, must not exist yet.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        port: str | None = None,
        info: Info | dict | None = None,
        calibration: dict | None = None,
        metadata: dict | None = None,
        station_version: str | None = None,
        overwrite: bool = False,
        flush_interval: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self._clock = clock  # the clock of ``t`` (the link's); flushing runs on real time
        self.start_monotonic = clock()
        self.header: dict[str, Any] = {
            "format": FORMAT,
            "port": port,
            "started_utc": _utc_now(),
            "start_monotonic": self.start_monotonic,
            "station_version": station_version or firmware_bridge.__version__,
            "info": _jsonable(info),
            "calibration": dict(calibration) if calibration is not None else None,
            "metadata": dict(metadata or {}),
        }
        head = encode_header(self.header)
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        flags |= os.O_TRUNC if overwrite else os.O_EXCL
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except FileExistsError:
            raise RecordingError(f"{self.path} already exists") from None
        except OSError as exc:
            raise _write_error(exc, self.path, "cannot create") from None
        self.bytes_written = 0  # DATA payload bytes accepted
        self.records = 0
        self._buf = bytearray()
        self._pending_since: float | None = None
        self._error: OSError | None = None
        self._closing = False
        self._closed = False
        self._cond = threading.Condition(threading.Lock())
        self._io_lock = threading.Lock()
        try:
            _write_all(self._fd, head)
        except OSError as exc:
            os.close(self._fd)
            with contextlib.suppress(OSError):
                self.path.unlink()  # a file without its header is no recording: none is left
            raise _write_error(exc, self.path, "cannot write") from None
        self._thread = threading.Thread(target=self._flusher, name="recording-flush", daemon=True)
        self._thread.start()

    # -- writing -------------------------------------------------------------
    def write(self, data: bytes, t: float | None = None) -> None:
        """Bytes received from the rig; ``t`` is seconds since ``start_monotonic``."""
        if not data:
            return
        self._append(RecordType.DATA, bytes(data), t)
        self.bytes_written += len(data)

    def write_sent(self, data: bytes, t: float | None = None) -> None:
        """Bytes the host sent to the rig."""
        if data:
            self._append(RecordType.SENT, bytes(data), t)

    def update_header(self, t: float | None = None, **fields: Any) -> None:
        """Replace header keys from now on (e.g. ``info=...`` once INFO has arrived)."""
        if "info" in fields:
            fields["info"] = _jsonable(fields["info"])
        self.header.update(fields)
        self._append(RecordType.UPDATE, json.dumps(fields).encode("utf-8"), t)

    def set_info(self, info: Info | dict, t: float | None = None) -> None:
        self.update_header(t, info=info)

    def note(self, event: str, t: float | None = None, **fields: Any) -> None:
        """Log a link event (disconnect, reconnect, error) in the file."""
        payload = json.dumps({"event": event, **fields}, default=str).encode("utf-8")
        self._append(RecordType.NOTE, payload, t)

    def _append(self, kind: int, payload: bytes, t: float | None) -> None:
        now = time.monotonic()
        if t is None:
            t = self._clock() - self.start_monotonic
        if len(payload) <= MAX_RECORD:
            record = encode_record(kind, payload, t)
        else:
            record = b"".join(
                encode_record(kind, payload[i : i + MAX_RECORD], t)
                for i in range(0, len(payload), MAX_RECORD)
            )
        with self._cond:
            self._raise_if_failed()
            if self._closing:
                raise RecordingError(f"recording {self.path} is closed")
            self._buf += record
            self.records += 1
            if self._pending_since is None:
                self._pending_since = now
                self._cond.notify()

    # -- flushing ------------------------------------------------------------
    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise _write_error(self._error, self.path, "cannot write recording")

    def _flusher(self) -> None:
        while True:
            with self._cond:
                while not self._closing and self._pending_since is None:
                    self._cond.wait()
                since = self._pending_since
                if self._closing or since is None:
                    return
                deadline = since + self.flush_interval
                while not self._closing and (remaining := deadline - time.monotonic()) > 0:
                    self._cond.wait(remaining)
                if self._closing:
                    return
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        with self._io_lock:
            with self._cond:
                if self._error is not None:
                    # A failed writer stays failed: every later call raises.
                    self._buf.clear()
                if not self._buf:
                    self._pending_since = None
                    return
                chunk = bytes(self._buf)
                self._buf.clear()
                self._pending_since = None
            try:
                _write_all(self._fd, chunk)
            except OSError as exc:
                log.error("writing recording %s failed: %s", self.path, exc)
                with self._cond:
                    self._error = exc

    def flush(self, sync: bool = False) -> None:
        """Hand everything written so far to the OS (and to the disk with ``sync``)."""
        self._flush_buffer()
        self._raise_if_failed()
        if sync:
            with self._io_lock:
                os.fsync(self._fd)

    def close(self) -> None:
        """Flush, fsync and close; safe to call twice."""
        if self._closed:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        self._flush_buffer()
        self._closed = True
        try:
            if self._error is None:
                with contextlib.suppress(OSError):
                    os.fsync(self._fd)
        finally:
            os.close(self._fd)
        self._raise_if_failed()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_error(exc: OSError, path: Path, doing: str) -> NordicError:
    """A full disk or a forbidden folder says so (:class:`~firmware_bridge.errors.StorageError`);
    anything else is a :class:`RecordingError`."""
    error = storage_error(exc, f"recording {path}")
    if isinstance(error, NordicError):
        return error
    return RecordingError(f"{doing} {path}: {exc.strerror or exc}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[written:]
