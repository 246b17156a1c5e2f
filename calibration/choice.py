"""Which certificate turns a rig's counts into newtons: the one policy, for app and store.

Order of choice (calibration.md):

0. a certificate the caller names (``given``: the operator's ``--calibration``,
   or the stored one a test was saved with) is used as it is;
1. the virtual rig: the newest certificate stored for its serial number that
   is not a copy of the rig's own (one the user made with the calibration
   wizard, so calibrating the virtual rig works like calibrating a real one;
   copies of its own certificate are stored with every test it records),
   else its own true certificate (it knows its gains);
2. a replayed station recording: the calibration it recorded (a damaged one
   falls through to the next source, or is an error where none is left:
   ``strict``);
3. a real rig: the newest certificate stored for its serial number;
4. nothing: :func:`choose` gives a *nominal* gain, so the operator still sees
   a force trace, with the certificate marked ``uncalibrated`` so the screen,
   the results and the stored test all say that the newtons are not
   calibrated; :func:`choose_certificate` gives None (the store refuses).

The calibration package's checks (expired, another rig's serial, failed
acceptance) become findings the app shows as warnings.  No Qt and no SQL
here: the store is anything with ``list_certificates(serial)``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from calibration.certificate import FORMAT, Certificate, CertificateError, parse_certificate
from calibration.checks import CheckResult, check_certificate
from firmware_bridge import nordbord

if TYPE_CHECKING:
    from firmware_bridge.capture import Capture

log = logging.getLogger(__name__)

# A typical HX711 + 50 kg load cell: about 0.5 mN per count.  Only used when no
# certificate exists, and always labelled as uncalibrated.
NOMINAL_GAIN_N_PER_COUNT = 0.0005
UNCALIBRATED_KEY = "uncalibrated"


def imported_trace_certificate(kind: str) -> dict[str, Any] | None:
    """The certificate that reads a force trace exported by another system, or None.

    A NordBord trace holds newtons; :mod:`firmware_bridge.nordbord` keeps them as
    integer counts of a thousandth, so 0.001 N per count and no offset read
    them back.  It is the trace's own calibration, as a recording's is its own.
    """
    if kind != nordbord.KIND:
        return None
    channel = {"gain_n_per_count": 1.0 / nordbord.COUNTS_PER_UNIT, "offset_counts": 0}
    return {
        "format": FORMAT,
        "device_serial": nordbord.SERIAL,
        "created": "1970-01-01T00:00:00Z",
        "operator": nordbord.ORIGIN,
        "imported_newtons": True,
        "channels": {"left": dict(channel), "right": dict(channel)},
    }


def carried_calibration(capture: Capture) -> dict[str, Any] | None:
    """The calibration a capture carries: a recording's own, or an imported trace's."""
    return capture.calibration or imported_trace_certificate(capture.kind)


class StoredCertificate(Protocol):
    """A certificate as the store lists it."""

    id: int
    data: dict[str, Any]
    created: str | None
    imported_at: str | None


class CertificateStore(Protocol):
    """Where stored certificates come from (``station.store``'s store, in the app)."""

    def list_certificates(self, device_serial: str | None = None) -> Sequence[Any]: ...


class RecordedCertificateError(CertificateError):
    """A recording's own certificate that cannot be read (and no other source is left)."""


@dataclass(frozen=True)
class CalibrationChoice:
    """The certificate in use, where it came from, and what to tell the operator."""

    certificate: Certificate
    source: str  # "given", "virtual", "recording", "store", "nominal"
    findings: tuple[CheckResult, ...] = field(default_factory=tuple)
    certificate_id: int | None = None

    @property
    def uncalibrated(self) -> bool:
        return bool(self.certificate.data.get(UNCALIBRATED_KEY))

    @property
    def level(self) -> str:
        if self.uncalibrated:
            return "error"
        return "warning" if self.findings else "info"

    @property
    def short_text(self) -> str:
        if self.uncalibrated:
            return "UNCALIBRATED (nominal gain)"
        cert = self.certificate
        until = cert.valid_until
        where = {"virtual": "virtual rig", "recording": "recorded", "store": "stored"}.get(
            self.source, self.source
        )
        text = f"Calibration: {where}"
        text += f", valid to {until.isoformat()}" if until else ""
        if self.findings:
            text = "⚠ " + text
        return text

    @property
    def long_text(self) -> str:
        if self.uncalibrated:
            return (
                "No calibration certificate is known for this rig: forces use a nominal gain and "
                "are NOT calibrated newtons. Calibrate the rig or import its certificate."
            )
        lines = [
            f"Certificate for rig {self.certificate.device_serial or '(no serial)'}",
            f"Source: {self.source}",
        ]
        created = self.certificate.created
        if created is not None:
            lines.append(f"Created {created.date().isoformat()}")
        lines += [f.message for f in self.findings]
        return "\n".join(lines)

    def gains(self) -> tuple[float, float]:
        return (self.certificate.gain("left"), self.certificate.gain("right"))

    def zeros(self) -> tuple[float, float] | None:
        """The certificate's zero-load counts, if it has both."""
        left, right = self.certificate.offset("left"), self.certificate.offset("right")
        return None if left is None or right is None else (left, right)


def nominal_certificate(device_serial: str | None) -> Certificate:
    """A placeholder certificate marked uncalibrated (never mistaken for a real one)."""
    channel = {"gain_n_per_count": NOMINAL_GAIN_N_PER_COUNT}
    data: dict[str, Any] = {
        "format": FORMAT,
        "device_serial": device_serial,
        "operator": "none: nominal gain, not calibrated",
        UNCALIBRATED_KEY: True,
        "channels": {"left": dict(channel), "right": dict(channel)},
    }
    return parse_certificate(data, "nominal (uncalibrated)")


def _checked(
    certificate: Certificate,
    source: str,
    serial: str | None,
    certificate_id: int | None = None,
    when: dt.date | None = None,
) -> CalibrationChoice:
    findings = tuple(check_certificate(certificate, serial, when))
    return CalibrationChoice(certificate, source, findings, certificate_id)


def from_dict(
    data: Mapping[str, Any],
    label: str,
    serial: str | None,
    when: dt.date | None = None,
    *,
    source: str | None = None,
) -> CalibrationChoice:
    """A choice from a certificate's JSON object; ``label`` names it in error messages,
    ``source`` says where it came from (default: the label)."""
    certificate = parse_certificate(dict(data) if isinstance(data, Mapping) else data, label)
    return _checked(certificate, source or label, serial, when=when)


def _gains_and_offsets(data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    channels = data.get("channels") or {}
    return {
        name: (channel.get("gain_n_per_count"), channel.get("offset_counts"))
        for name, channel in channels.items()
        if isinstance(channel, dict)
    }


def stored_for_serial(
    store: CertificateStore, serial: str | None, *, except_like: Mapping[str, Any] | None = None
) -> CalibrationChoice | None:
    """The newest certificate stored for ``serial`` (by its creation time), if any;
    ``except_like``: skip copies of that certificate (the same gains and offsets)."""
    if not serial:
        return None
    records: list[StoredCertificate] = [
        r for r in store.list_certificates(serial) if not r.data.get(UNCALIBRATED_KEY)
    ]
    if except_like is not None:
        own = _gains_and_offsets(dict(except_like))
        records = [r for r in records if _gains_and_offsets(r.data) != own]
    if not records:
        return None
    newest = max(records, key=lambda r: (r.created or "", r.imported_at or "", r.id))
    certificate = parse_certificate(newest.data, f"stored certificate {newest.id}")
    return _checked(certificate, "store", serial, newest.id)


def choose_certificate(
    store: CertificateStore | None,
    serial: str | None,
    *,
    given: Certificate | Mapping[str, Any] | None = None,
    virtual_certificate: Mapping[str, Any] | None = None,
    recorded: Mapping[str, Any] | None = None,
    recorded_source: str = "recording",
    strict: bool = False,
) -> CalibrationChoice | None:
    """The certificate to use by the order in the module docstring; None if there is none.

    ``recorded_source`` names a recorded certificate in its error messages.
    ``strict``: a damaged recorded certificate is a :class:`RecordedCertificateError`
    when no later source (the store) gives one, instead of falling through.
    """
    if isinstance(given, Certificate):
        return _checked(given, "given", serial)
    if given is not None:
        return from_dict(given, "stored certificate", serial, source="given")
    if virtual_certificate is not None:
        stored = (
            stored_for_serial(store, serial, except_like=virtual_certificate)
            if store is not None
            else None
        )
        return stored if stored is not None else from_dict(virtual_certificate, "virtual", serial)
    damaged: ValueError | None = None
    if recorded is not None:
        try:
            return from_dict(recorded, recorded_source, serial, source="recording")
        except ValueError as exc:  # a damaged recorded certificate: try the store
            log.warning("a recorded certificate cannot be read: %s", exc)
            damaged = exc
    stored = stored_for_serial(store, serial) if store is not None else None
    if stored is not None:
        return stored
    if damaged is not None and strict:
        raise RecordedCertificateError(str(damaged)) from None
    return None


def choose(
    store: CertificateStore | None,
    serial: str | None,
    *,
    virtual_certificate: Mapping[str, Any] | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> CalibrationChoice:
    """The calibration to use (see the module docstring), a nominal gain if none is known."""
    choice = choose_certificate(
        store, serial, virtual_certificate=virtual_certificate, recorded=recorded
    )
    if choice is not None:
        return choice
    log.info("no certificate for this rig: forces use a nominal gain")
    return CalibrationChoice(nominal_certificate(serial), "nominal")
