"""Quick verification: hang one known mass, compare the certificate's force with it.

Quick enough for every clinic day, and kept, so the record shows the rig
stayed true between calibrations.  The measured force is
``gain × (counts − zero)``, with ``zero`` the empty-hook reading taken just
before (a tare, as a test uses), or the certificate's offset when no tare is
given; the zero's shift from the certificate's offset is reported too.

A verification record is a plain dict (JSON-ready), the same for the CLI's
JSON-lines file beside the certificate and for the store::

    {
      "format": "nordic-station.verification/1",
      "created": "2026-12-01T08:30:00Z",
      "device_serial": "NR-0001",            # the rig verified (None if unknown)
      "operator": "…",                        # or None
      "channel": "left",
      "mass_kg": 20.0,
      "applied_force_n": 196.133,             # mass × 9.80665
      "counts": 492345.2,                     # settled reading with the mass
      "spread_counts": 35.1,                  # its spread (None if not measured)
      "zero_counts": 81230.1,                 # the tare, or the certificate's offset
      "zero_source": "tare",                  # or "certificate"
      "zero_shift_n": 0.002,                  # tare − certificate offset, in N (None without tare)
      "measured_force_n": 196.01,
      "error_n": -0.12,                       # measured − applied
      "error_pct": -0.06,                     # of the applied force
      "limit_pct": 1.0,
      "passed": true,                         # |error_pct| <= limit_pct
      "certificate": {"fingerprint": "…", "created": "…", "valid_until": "…",
                      "device_serial": "…", "path": "…"},
      "flags": [{"flag": "certificate_expired", "message": "…", "channel": null}]
    }
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from calibration.certificate import (
    CHANNELS,
    STANDARD_GRAVITY,
    Certificate,
    format_timestamp,
    utc_now,
)
from calibration.checks import check_certificate, check_range
from calibration.errors import CalibrationError

VERIFICATION_FORMAT = "nordic-station.verification/1"
DEFAULT_LIMIT_PCT = 1.0


def verify_reading(
    certificate: Certificate,
    channel: str,
    mass_kg: float,
    counts: float,
    *,
    zero_counts: float | None = None,
    spread_counts: float | None = None,
    limit_pct: float = DEFAULT_LIMIT_PCT,
    device_serial: str | None = None,
    operator: str | None = None,
    when: dt.datetime | None = None,
    certificate_path: str | None = None,
) -> dict[str, Any]:
    """Compare one settled reading of a known mass with the certificate (record above)."""
    if channel not in CHANNELS:
        raise CalibrationError(f"channel {channel!r} is not left or right")
    if channel not in certificate.channels:
        raise CalibrationError(f"the certificate has no calibration for channel {channel}")
    if not (math.isfinite(mass_kg) and mass_kg > 0):
        raise CalibrationError(f"verify with a mass above 0 kg, not {mass_kg:g}")
    if not (math.isfinite(limit_pct) and limit_pct > 0):
        raise CalibrationError(f"the verification limit must be above 0 %, not {limit_pct:g}")
    gain = certificate.gain(channel)
    offset = certificate.offset(channel)
    if zero_counts is None:
        if offset is None:
            raise CalibrationError(
                f"the certificate has no offset_counts for {channel}: verify with a tare"
            )
        zero, source = offset, "certificate"
    else:
        zero, source = float(zero_counts), "tare"
    applied = mass_kg * STANDARD_GRAVITY
    measured = certificate.force_n(channel, counts, zero)
    error = measured - applied
    error_pct = 100.0 * error / applied
    flags = check_certificate(certificate, device_serial, when)
    flags += check_range(certificate, {channel: applied})
    return {
        "format": VERIFICATION_FORMAT,
        "created": format_timestamp(when or utc_now()),
        "device_serial": device_serial,
        "operator": operator,
        "channel": channel,
        "mass_kg": float(mass_kg),
        "applied_force_n": applied,
        "counts": float(counts),
        "spread_counts": None if spread_counts is None else float(spread_counts),
        "zero_counts": zero,
        "zero_source": source,
        "zero_shift_n": (
            gain * (zero - offset) if source == "tare" and offset is not None else None
        ),
        "measured_force_n": measured,
        "error_n": error,
        "error_pct": error_pct,
        "limit_pct": float(limit_pct),
        "passed": bool(abs(error_pct) <= limit_pct),
        "certificate": {
            "fingerprint": certificate.fingerprint(),
            "created": certificate.data.get("created"),
            "valid_until": certificate.data.get("valid_until"),
            "device_serial": certificate.device_serial,
            "path": certificate_path or certificate.source,
        },
        "flags": [f.to_dict() for f in flags],
    }


def verifications_path(certificate_path: str | Path) -> Path:
    """Where a certificate's verifications are kept: ``CERT.verifications.jsonl`` beside it."""
    path = Path(certificate_path)
    return path.with_name(f"{path.stem}.verifications.jsonl")


def append_verification(record: dict[str, Any], path: str | Path) -> None:
    """Append one record as a JSON line (an append never rewrites the earlier records)."""
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=False) + "\n")


def load_verifications(path: str | Path) -> list[dict[str, Any]]:
    """The records of a verifications file (none if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise CalibrationError(f"{path} line {number} is not a JSON record") from None
        if not isinstance(record, dict):
            raise CalibrationError(f"{path} line {number} is not a JSON object")
        records.append(record)
    return records
