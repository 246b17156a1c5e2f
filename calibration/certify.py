"""From points to a judged certificate in one call, for the CLI and the app's wizard alike.

Fit every channel, judge each against the acceptance limits, and build the
certificate (with the method and software recorded), so both front ends write
the same certificate from the same points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from calibration.acceptance import AcceptanceLimits, ChannelAcceptance, evaluate
from calibration.certificate import (
    DEFAULT_VALID_DAYS,
    STANDARD_GRAVITY,
    Certificate,
    build_certificate,
)
from calibration.fit import fit_points
from calibration.points import CalPoint

FIT_METHOD = "least squares of force on counts: force = gain x (counts - offset)"


def _version() -> str:
    """The installed package's version (calibration must not import station)."""
    try:
        return metadata.version("nordic-station")
    except metadata.PackageNotFoundError:
        return "unknown"


def certify(
    points: Sequence[CalPoint],
    device_serial: str | None,
    *,
    operator: str | None = None,
    limits: AcceptanceLimits | None = None,
    valid_days: int = DEFAULT_VALID_DAYS,
    base: Certificate | None = None,
    method: Mapping[str, Any] | None = None,
    created: dt.datetime | None = None,
) -> tuple[Certificate, dict[str, ChannelAcceptance]]:
    """The certificate for ``points`` and each channel's verdict.

    Raises CalibrationError (bad points) or CertificateError (a channel with
    no points and no ``base`` to take it from); nothing is written here.
    ``certificate.passed`` says whether every channel met ``limits``.
    """
    limits = limits or AcceptanceLimits()
    fits = fit_points(points)
    acceptance = {name: evaluate(fit, limits) for name, fit in fits.items()}
    extra = {
        "method": {**(method or {}), "fit": FIT_METHOD, "gravity_m_per_s2": STANDARD_GRAVITY},
        "software": {"name": "nordic-station", "version": _version()},
    }
    certificate = build_certificate(
        fits,
        device_serial,
        operator=operator,
        created=created,
        valid_days=valid_days,
        acceptance=acceptance,
        limits=limits,
        base=base,
        extra=extra,
    )
    return certificate, acceptance
