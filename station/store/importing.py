"""Reading a capture file for the store: once, whole, and unchanged while it was read.

:mod:`station.store.new_tests` turns what is read into a stored test.
"""

from __future__ import annotations

import logging
from pathlib import Path

from firmware_bridge.capture import Capture, CaptureError, load_capture_bytes
from firmware_bridge.errors import InputError
from firmware_bridge.files import MAX_CAPTURE_BYTES, read_regular
from station.store import validate

log = logging.getLogger(__name__)


def capture_started(capture: Capture) -> str | None:
    started = (capture.header or {}).get("started_utc")
    if not started:
        return None
    try:
        return validate.parse_instant(str(started))
    except InputError:
        return None


def read_stable(path: Path, rate_hz: float | None) -> tuple[bytes, Capture]:
    """Read a capture's bytes once and decode them, refusing a file that changed meanwhile."""
    try:
        before = path.stat()
    except FileNotFoundError:
        raise CaptureError(f"{path}: no such file") from None
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    blob = read_regular(path, MAX_CAPTURE_BYTES, CaptureError)
    try:
        after = path.stat()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        blob
    ) != after.st_size:
        raise CaptureError(
            f"{path} changed while it was being imported: try again once it is complete"
        )
    return blob, load_capture_bytes(blob, str(path), rate_hz)


def printable(file_name: str) -> str:
    """A file name as text, whatever bytes it was made of (a name in another
    encoding reaches us with lone surrogates, which the database refuses)."""
    return file_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
