"""Load anything a rig's bytes were saved in: a station recording, a raw binary
capture (``cat /dev/ttyACM0 > file``) or a text-dialect capture.

The kind is recognised from the content, never the file name, so a renamed
file still loads.  Whatever the container, the rig's bytes go through the one
decoder (:mod:`firmware_bridge.decoder`), so the same bytes give the same
samples whether they were recorded by the station or captured by hand.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from firmware_bridge import nordbord
from firmware_bridge.decoder import DecodedStream, decode_bytes
from firmware_bridge.errors import InputError
from firmware_bridge.messages import (
    MAX_ADC_BITS,
    MIN_ADC_BITS,
    RATE_RANGE,
    Info,
    rate_ok,
    show_rate,
)
from firmware_bridge.recording_reader import (
    Recording,
    is_recording,
    parse_recording,
    read_file_bytes,
)

DECODE_CHUNK = 1 << 20


class CaptureError(InputError):
    """A capture that cannot be used; the message says why and what to do."""


@dataclass
class Capture:
    """A loaded capture.

    ``kind`` is "recording", "binary", "text" or "nordbord" (a NordBord CSV
    trace, see :mod:`firmware_bridge.nordbord`).  ``data`` is the rig's byte
    stream (a recording's DATA bytes, the whole raw file, or a NordBord trace
    as the text dialect).  For a
    recording, ``recording`` has the arrival time of each chunk.
    """

    path: str
    kind: str
    header: dict[str, Any] | None
    stream: DecodedStream
    data: bytes
    warnings: list[str] = field(default_factory=list)
    calibration: dict[str, Any] | None = None
    recording: Recording | None = None

    @property
    def info(self) -> Info | None:
        return self.stream.info


def load_capture(
    path: str | os.PathLike[str],
    rate_hz: float | None = None,
    *,
    require_samples: bool = True,
    require_rate: bool = True,
) -> Capture:
    """Read and decode a capture file.

    ``rate_hz`` is used only when the capture carries no rate (no INFO, no
    ``# rate=`` line, no INFO in the recording header).  With the default
    ``require_*`` a capture without samples or without any rate is a
    :class:`CaptureError`; ``inspect`` turns them off to show what there is.
    """
    source = str(path)
    check_user_rate(rate_hz)
    blob = read_file_bytes(path, CaptureError)
    return load_capture_bytes(
        blob, source, rate_hz, require_samples=require_samples, require_rate=require_rate
    )


def load_capture_bytes(
    blob: bytes,
    source: str,
    rate_hz: float | None = None,
    *,
    require_samples: bool = True,
    require_rate: bool = True,
) -> Capture:
    """:func:`load_capture` for bytes already in memory (a stored test), by the same rules.

    ``source`` names the bytes in messages.
    """
    check_user_rate(rate_hz)
    if not blob:
        raise CaptureError(f"{source} is empty: it holds no capture")
    header: dict[str, Any] | None = None
    recording: Recording | None = None
    warnings: list[str] = []
    header_info: Info | None = None
    imported: str | None = None
    if is_recording(blob):
        recording = parse_recording(blob, source)
        header = recording.header
        warnings += recording.warnings
        data = recording.data
        header_info = _header_info(header, warnings, source)
    elif nordbord.is_trace(blob):
        data, _ = nordbord.to_text_dialect(blob, source)
        imported = nordbord.KIND
    else:
        data = blob
    stream = decode_stream(data, rate_hz, header_info)
    _check_stream(stream, source)
    kind = "recording" if recording is not None else (imported or stream.mode or "binary")
    if stream.samples == 0 and require_samples:
        if recording is not None:
            raise CaptureError(f"{source}: the recording holds no samples (the rig never streamed)")
        raise CaptureError(f"{source}: no samples found (not a rig capture?)")
    if stream.samples and stream.sample_rate_hz is None and require_rate:
        raise CaptureError(
            f"{source}: the capture carries no sample rate",
            hint="Enter the rig's sample rate in Hz to read this capture.",
            cli_hint="pass --rate HZ",
        )
    calibration = recording.calibration if recording is not None else None
    if imported == nordbord.KIND:
        warnings.append(f"{nordbord.ORIGIN}: forces as exported, 3 decimals kept")
    return Capture(
        path=source,
        kind=kind,
        header=header,
        stream=stream,
        data=data,
        warnings=warnings,
        calibration=calibration,
        recording=recording,
    )


def decode_stream(
    data: bytes, rate_hz: float | None = None, info: Info | None = None
) -> DecodedStream:
    """Decode a whole byte stream; ``info`` (from a recording header) stands in
    until the stream's own INFO arrives (see :func:`~firmware_bridge.decoder.decode_bytes`)."""
    return decode_bytes(data, rate_hz, DECODE_CHUNK, info)


def check_user_rate(rate_hz: float | None) -> None:
    """A rate given by the user must be one a rig can have."""
    if rate_hz is not None and not rate_ok(rate_hz):
        raise CaptureError(
            f"the sample rate must be from {RATE_RANGE}, not {show_rate(rate_hz)}",
            hint=f"Enter the rig's sample rate in Hz ({RATE_RANGE}).",
            cli_hint=f"pass --rate HZ ({RATE_RANGE})",
        )


def _check_stream(stream: DecodedStream, source: str) -> None:
    """Refuse a capture whose own rate or ADC width no rig has (broken or hostile)."""
    info = stream.info
    if info is not None and not MIN_ADC_BITS <= info.adc_bits <= MAX_ADC_BITS:
        raise CaptureError(
            f"{source}: the rig's INFO gives a {info.adc_bits}-bit ADC; a rig's ADC has "
            f"{MIN_ADC_BITS} to {MAX_ADC_BITS} bits, so this capture cannot be read"
        )
    if info is not None and info.sample_rate_mhz > 0 and not rate_ok(info.sample_rate_mhz / 1000):
        raise CaptureError(
            f"{source}: the rig's INFO gives a sample rate of "
            f"{show_rate(info.sample_rate_mhz / 1000)}, outside {RATE_RANGE}"
        )
    if stream.sample_rate_hz is not None and not rate_ok(stream.sample_rate_hz):
        raise CaptureError(
            f"{source}: the capture gives a sample rate of {show_rate(stream.sample_rate_hz)}, "
            f"outside {RATE_RANGE}"
        )


def _header_info(header: dict[str, Any], warnings: list[str], source: str) -> Info | None:
    value = header.get("info")
    if not isinstance(value, dict):
        return None
    try:
        info = Info.from_dict(value)
    except (KeyError, TypeError, ValueError, OverflowError):
        warnings.append("the recording header's INFO is malformed; ignored")
        return None
    if info.sample_rate_mhz <= 0:
        return None
    big = info.sample_rate_mhz >= 10**300  # too large even to divide as a float
    if big or not rate_ok(info.sample_rate_mhz / 1000):
        rate = show_rate(math.inf if big else info.sample_rate_mhz / 1000)
        raise CaptureError(
            f"{source}: the recording header gives a sample rate of {rate}, outside {RATE_RANGE}"
        )
    return info
