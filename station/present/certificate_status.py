"""What the screens say about a calibration certificate before trusting its newtons.

One function for every screen (part 1's test screen may call it too):
``certificate_warning(cert, serial)`` is None when the certificate is fine
for this rig today, else one sentence built from calibration.checks
(expired, another rig's serial number, failed acceptance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from calibration.certificate import Certificate, parse_certificate
from calibration.checks import check_certificate
from calibration.choice import UNCALIBRATED_KEY  # how a nominal gain is marked
from station.present.numbers import count


def as_certificate(value: Certificate | dict[str, Any] | None) -> Certificate | None:
    """A Certificate from a parsed one or its JSON object (None stays None)."""
    if value is None or isinstance(value, Certificate):
        return value
    return parse_certificate(dict(value), "stored certificate")


def certificate_warning(
    certificate: Certificate | dict[str, Any] | None,
    device_serial: str | None,
    when: dt.date | dt.datetime | None = None,
) -> str | None:
    """None if ``certificate`` may be trusted for rig ``device_serial`` on ``when`` (today),
    else one line saying what is wrong and what to do."""
    cert = as_certificate(certificate)
    if cert is None:
        return (
            "No calibration certificate: forces are not calibrated newtons. "
            "Calibrate the rig (Calibration screen) or import its certificate."
        )
    if cert.data.get(UNCALIBRATED_KEY):
        return (
            "UNCALIBRATED: a nominal gain is in use, so forces are not true newtons. "
            "Calibrate the rig (Calibration screen)."
        )
    findings = check_certificate(cert, device_serial, when)
    if not findings:
        return None
    text = "; ".join(f.message for f in findings)
    return text[:1].upper() + text[1:] + "."


def validity_text(certificate: Certificate | None, today: dt.date | None = None) -> str:
    """ "valid until 2027-05-19 (172 days left)" or "EXPIRED ...", for headers and reports."""
    if certificate is None or certificate.valid_until is None:
        return "validity not stated"
    today = today or dt.datetime.now(dt.UTC).date()
    days = (certificate.valid_until - today).days
    if days < 0:
        return f"EXPIRED on {certificate.valid_until.isoformat()} ({count(-days, 'day')} ago)"
    return f"valid until {certificate.valid_until.isoformat()} ({count(days, 'day')} left)"
