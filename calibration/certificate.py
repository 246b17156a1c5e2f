"""Calibration certificates: the JSON interchange format of calibration.md.

Only ``format`` and each channel's ``gain_n_per_count`` are required; every
other key is optional, and unknown keys are kept on read and written back.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_bridge.errors import InputError

if TYPE_CHECKING:
    from calibration.acceptance import AcceptanceLimits, ChannelAcceptance
    from calibration.fit import ChannelFit

FORMAT = "nordic-station.calibration/1"
CHANNELS = ("left", "right")
STANDARD_GRAVITY = 9.80665
DEFAULT_VALID_DAYS = 180


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

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(name for name in CHANNELS if name in self.data.get("channels", {}))

    @property
    def created(self) -> dt.datetime | None:
        """When the certificate was made (aware, UTC), if it says."""
        value = self.data.get("created")
        return None if value is None else parse_timestamp(value)

    @property
    def valid_until(self) -> dt.date | None:
        """Last day (UTC) on which the certificate is valid, if it says."""
        value = self.data.get("valid_until")
        return None if value is None else parse_date(value)

    @property
    def operator(self) -> str | None:
        value = self.data.get("operator")
        return None if value is None else str(value)

    @property
    def passed(self) -> bool | None:
        """The acceptance verdict the certificate records (None: it records none)."""
        acceptance = self.data.get("acceptance")
        if isinstance(acceptance, dict) and isinstance(acceptance.get("passed"), bool):
            return acceptance["passed"]
        return None

    def force_n(self, name: str, counts: Any, zero_counts: float | None = None) -> Any:
        """Newtons for ``counts`` on one channel, from ``zero_counts`` (a tare) or the offset."""
        zero = self.offset(name) if zero_counts is None else zero_counts
        if zero is None:
            raise CertificateError(
                f"the certificate has no offset_counts for channel {name!r}: take a tare first"
            )
        return self.gain(name) * (counts - zero)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: names this exact certificate in records."""
        canonical = json.dumps(self.data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        import hashlib  # here: OpenSSL's load is 10-15 ms of every analyze's start

        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

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
    for key, parse in (("created", parse_timestamp), ("valid_until", parse_date)):
        if data.get(key) is not None:
            try:
                parse(data[key])
            except ValueError:
                raise CertificateError(
                    f"{where}{key} {data[key]!r} is not a date (expected e.g. 2027-05-19)"
                ) from None
    return Certificate(copy.deepcopy(data), source)


def parse_timestamp(value: Any) -> dt.datetime:
    """An ISO 8601 time (``Z`` or an offset; a naive one is taken as UTC), as aware UTC."""
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


def parse_date(value: Any) -> dt.date:
    """A date (``2027-05-19``) or a timestamp, whose UTC date is taken."""
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return parse_timestamp(value).date()


def format_timestamp(stamp: dt.datetime) -> str:
    """UTC, whole seconds, with a Z: ``2026-11-20T10:00:00Z``."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_certificate(
    fits: Mapping[str, ChannelFit],
    device_serial: str | None,
    *,
    operator: str | None = None,
    created: dt.datetime | None = None,
    valid_days: int = DEFAULT_VALID_DAYS,
    acceptance: Mapping[str, ChannelAcceptance] | None = None,
    limits: AcceptanceLimits | None = None,
    base: Certificate | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Certificate:
    """A certificate from fitted channels, in the calibration.md format.

    ``valid_until`` is ``valid_days`` after ``created`` (UTC dates).  A channel
    not in ``fits`` is copied from ``base`` (a channel calibrated earlier), and
    the certificate is then valid no longer than ``base`` was.  ``extra`` keys
    are added at the top level (method, software, settle settings...).
    """
    created = (created or utc_now()).astimezone(dt.UTC)
    valid_until = created.date() + dt.timedelta(days=valid_days)
    channels: dict[str, Any] = {}
    copied = []
    for name in CHANNELS:
        if name in fits:
            channel = fits[name].to_dict()
            if acceptance is not None and name in acceptance:
                channel["acceptance"] = acceptance[name].to_dict()
            channels[name] = channel
        elif base is not None and name in base.channels:
            channel = copy.deepcopy(base.channel(name))
            channel["copied_from"] = {
                "created": base.data.get("created"),
                "fingerprint": base.fingerprint(),
            }
            channels[name] = channel
            copied.append(name)
        else:
            raise CertificateError(
                f"no calibration for channel {name!r}: calibrate it too, or pass an earlier "
                "certificate to take it from"
            )
    if copied and base is not None and base.valid_until is not None:
        valid_until = min(valid_until, base.valid_until)
    data: dict[str, Any] = {
        "format": FORMAT,
        "device_serial": device_serial,
        "created": format_timestamp(created),
        "valid_until": valid_until.isoformat(),
        "operator": operator,
        "channels": channels,
    }
    if acceptance is not None:
        verdicts = [channels[n].get("acceptance", {}).get("passed") for n in CHANNELS]
        data["acceptance"] = {
            "passed": all(v is not False for v in verdicts),
            "limits": limits.to_dict() if limits is not None else None,
        }
    data.update(extra or {})
    return parse_certificate(data)


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
