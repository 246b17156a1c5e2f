"""Calibration certificates and verifications as the app and the CLI hand them in.

``store.certificates`` of a :class:`~station.store.Store`; the SQL is in the backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from calibration.certificate import (
    Certificate,
    CertificateError,
    load_certificate,
    parse_certificate,
)
from firmware_bridge.files import MAX_CERTIFICATE_BYTES, check_regular
from station.store import validate
from station.store.errors import NotFoundError
from station.store.models import CertificateRecord, TestRecord, Verification
from station.store.parts import Service


class Certificates(Service):
    """Certificates kept whole, and the one-mass verifications made with them."""

    def add(
        self,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str],
        *,
        by: str | None = None,
    ) -> CertificateRecord:
        """Keep a certificate whole (a file path, a parsed one or its JSON object)."""
        cert = as_certificate(certificate)
        record = self.backend.get_certificate(
            self.backend.add_certificate(cert.to_dict(), self._who(by))
        )
        assert record is not None
        return record

    def get(self, certificate_id: int) -> CertificateRecord:
        record = self.backend.get_certificate(int(certificate_id))
        if record is None:
            raise NotFoundError(f"no calibration certificate {certificate_id}")
        return record

    def find(self, device_serial: str | None = None) -> list[CertificateRecord]:
        return self.backend.list_certificates(device_serial)

    # The name calibration.choice's CertificateStore asks for: ``choose(store.certificates, ...)``.
    list_certificates = find

    def add_verification(
        self,
        data: Mapping[str, Any],
        *,
        certificate_id: int | None = None,
        device_serial: str | None = None,
        passed: bool | None = None,
        operator: str | None = None,
        performed_at: str | datetime | None = None,
        by: str | None = None,
    ) -> Verification:
        """Keep a one-mass verification (calibration.md) beside its certificate."""
        when = (
            validate.parse_instant(performed_at, "verification time")
            if performed_at
            else validate.now_utc()
        )
        verification_id = self.backend.add_verification(
            certificate_id,
            validate.text_field(device_serial, "device serial"),
            when,
            validate.text_field(operator, "operator"),
            passed,
            dict(data),
            self._who(by),
        )
        return next(
            v for v in self.backend.verifications(certificate_id) if v.id == verification_id
        )

    def verifications(self, certificate_id: int | None = None) -> list[Verification]:
        return self.backend.verifications(certificate_id)

    def of_test(self, test: TestRecord) -> Certificate | None:
        if test.certificate_id is None:
            return None
        return parse_certificate(
            self.get(test.certificate_id).data, f"certificate {test.certificate_id}"
        )


def as_certificate(value: Certificate | Mapping[str, Any] | str | os.PathLike[str]) -> Certificate:
    if isinstance(value, Certificate):
        return value
    if isinstance(value, Mapping):
        return parse_certificate(dict(value))
    path = Path(value)
    try:
        info = path.stat()
    except OSError:
        return load_certificate(path)  # it says what is wrong with the path
    check_regular(path, info, MAX_CERTIFICATE_BYTES, CertificateError)
    return load_certificate(path)
