"""Checks the analysis and the app run before trusting forces from a certificate.

Each check returns plain :class:`CheckResult` objects: a stable machine word
(``flag``, for JSON outputs and the store) and a sentence for people
(``message``).  Nothing raises: a problem is a flag to show, not a crash.

Flags:

- ``certificate_expired``: the test (or now) is after the certificate's ``valid_until``
  (valid through that whole day, UTC).
- ``certificate_serial_mismatch``: the certificate was made on another rig.
- ``beyond_calibrated_range``: a channel's peak force is above the highest
  force calibrated on it (``max_force_n``); the fit says nothing about forces
  it never saw.
- ``certificate_failed_acceptance``: the certificate records that its figures
  failed the acceptance limits (kept with ``--keep-failed``).

A certificate without ``valid_until``, ``device_serial`` or ``max_force_n``
(an imported minimal one) cannot be checked on that point and raises no flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from calibration.certificate import CHANNELS, Certificate, utc_now

CERTIFICATE_EXPIRED = "certificate_expired"
CERTIFICATE_SERIAL_MISMATCH = "certificate_serial_mismatch"
BEYOND_CALIBRATED_RANGE = "beyond_calibrated_range"
CERTIFICATE_FAILED_ACCEPTANCE = "certificate_failed_acceptance"


@dataclass(frozen=True)
class CheckResult:
    """One finding: ``flag`` for machines, ``message`` for people, ``channel`` if per leg."""

    flag: str
    message: str
    channel: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def __str__(self) -> str:
        return self.message


def _day(when: dt.datetime | dt.date | None) -> dt.date:
    if when is None:
        return utc_now().date()
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).date()
    return when


def check_expiry(
    certificate: Certificate, when: dt.datetime | dt.date | None = None
) -> CheckResult | None:
    """Flag a certificate past its ``valid_until`` at ``when`` (the test's time; default now)."""
    valid_until = certificate.valid_until
    if valid_until is None:
        return None
    day = _day(when)
    if day <= valid_until:
        return None
    days = (day - valid_until).days
    return CheckResult(
        CERTIFICATE_EXPIRED,
        f"the calibration certificate expired on {valid_until.isoformat()} "
        f"({days} day{'s' if days != 1 else ''} before {day.isoformat()}): recalibrate the rig",
    )


def check_serial(certificate: Certificate, device_serial: str | None) -> CheckResult | None:
    """Flag a certificate made for another rig than ``device_serial``."""
    return check_serials(certificate.device_serial, device_serial)


def check_serials(certificate_serial: str | None, device_serial: str | None) -> CheckResult | None:
    """:func:`check_serial` from the certificate's serial alone (when only that was kept)."""
    mine = (certificate_serial or "").strip()
    theirs = (device_serial or "").strip()
    if not mine or not theirs or mine == theirs:
        return None
    return CheckResult(
        CERTIFICATE_SERIAL_MISMATCH,
        f"the calibration certificate is for rig {mine}, but the data come from rig {theirs}: "
        "its forces are not trustworthy; use this rig's certificate",
    )


def check_range(
    certificate: Certificate, peak_force_n: Mapping[str, float | None], margin_pct: float = 0.0
) -> list[CheckResult]:
    """Flag each channel whose peak force is above its highest calibrated force."""
    out = []
    for channel in CHANNELS:
        peak = peak_force_n.get(channel)
        if peak is None or channel not in certificate.channels:
            continue
        top = certificate.max_force_n(channel)
        if top is None or peak <= top * (1 + margin_pct / 100.0):
            continue
        out.append(
            CheckResult(
                BEYOND_CALIBRATED_RANGE,
                f"{channel} peak force {peak:.1f} N is beyond the highest force calibrated "
                f"({top:.1f} N): calibrate with heavier masses to cover it",
                channel,
            )
        )
    return out


def check_acceptance(certificate: Certificate) -> CheckResult | None:
    """Flag a certificate that records failed acceptance figures."""
    if certificate.passed is not False:
        return None
    return CheckResult(
        CERTIFICATE_FAILED_ACCEPTANCE,
        "the calibration certificate failed its acceptance limits: its forces may be off; "
        "recalibrate the rig",
    )


def check_certificate(
    certificate: Certificate,
    device_serial: str | None = None,
    when: dt.datetime | dt.date | None = None,
) -> list[CheckResult]:
    """Everything that can be said about a certificate before any force is measured."""
    found = [
        check_expiry(certificate, when),
        check_serial(certificate, device_serial),
        check_acceptance(certificate),
    ]
    return [r for r in found if r is not None]


def check_test(
    certificate: Certificate,
    peak_force_n: Mapping[str, float | None],
    device_serial: str | None = None,
    when: dt.datetime | dt.date | None = None,
) -> list[CheckResult]:
    """The checks for one test: the certificate's, then each leg's peak against the range."""
    return check_certificate(certificate, device_serial, when) + check_range(
        certificate, peak_force_n
    )
