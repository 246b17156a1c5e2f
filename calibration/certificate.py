"""Calibration certificates: the JSON interchange format of calibration.md.

Only ``format`` and each channel's ``gain_n_per_count`` are required; every
other key is optional, and unknown keys are kept on read and written back.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_bridge.errors import InputError

FORMAT = "nordic-station.calibration/1"
CHANNELS = ("left", "right")
STANDARD_GRAVITY = 9.80665


class CertificateError(InputError):
    """A certificate file that cannot be used."""


@dataclass
class Certificate:
    """A parsed certificate; ``data`` is the whole JSON object, unknown keys included."""

    data: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @property
    def device_serial(self) -> str | None:
        value = self.data.get("device_serial")
        return str(value) if value is not None else None

    def channel(self, name: str) -> dict[str, Any]:
        return self.data["channels"][name]

    def gain(self, name: str) -> float:
        """Newtons per count for ``left`` or ``right``."""
        return float(self.channel(name)["gain_n_per_count"])

    def offset(self, name: str) -> float | None:
        """Counts at zero load, if the certificate has them."""
        value = self.channel(name).get("offset_counts")
        return None if value is None else float(value)

    def max_force_n(self, name: str) -> float | None:
        value = self.channel(name).get("max_force_n")
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=False) + "\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_certificate(data: Any, source: str | None = None) -> Certificate:
    """Validate a certificate object; raise :class:`CertificateError` naming what is wrong."""
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise CertificateError(f"{where}a certificate must be a JSON object")
    if data.get("format") != FORMAT:
        raise CertificateError(
            f"{where}not a calibration certificate (expected format {FORMAT!r}, "
            f"got {data.get('format')!r})"
        )
    channels = data.get("channels")
    if not isinstance(channels, dict):
        raise CertificateError(f"{where}the certificate has no 'channels' object")
    for name in CHANNELS:
        channel = channels.get(name)
        if not isinstance(channel, dict) or "gain_n_per_count" not in channel:
            raise CertificateError(f"{where}channel {name!r} has no gain_n_per_count")
        gain = channel["gain_n_per_count"]
        if not _is_number(gain):
            raise CertificateError(f"{where}channel {name!r}: gain_n_per_count must be a number")
        if gain == 0:
            raise CertificateError(f"{where}channel {name!r}: gain_n_per_count is zero")
        offset = channel.get("offset_counts")
        if offset is not None and not _is_number(offset):
            raise CertificateError(f"{where}channel {name!r}: offset_counts must be a number")
    return Certificate(copy.deepcopy(data), source)


def load_certificate(path: str | Path) -> Certificate:
    """Read a certificate file; a missing or malformed file is a CertificateError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CertificateError(f"calibration certificate {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CertificateError(f"cannot read calibration certificate {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(
            f"{path} is not valid JSON (line {exc.lineno}): pass a certificate written by "
            "'nordic-station calibrate'"
        ) from None
    return parse_certificate(data, str(path))


def save_certificate(certificate: Certificate, path: str | Path) -> None:
    """Write a certificate (all keys, unknown ones included)."""
    Path(path).write_text(certificate.to_json(), encoding="utf-8")
