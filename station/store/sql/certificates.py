"""Calibration certificates (kept whole, content-addressed) and verifications (SQLite)."""

from __future__ import annotations

import json
from typing import Any

from station.store.models import CertificateRecord, JsonDocument, Verification
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import DbConnection, Transactions, new_id
from station.store.sql.rows import Shape, canonical_json, maybe_bool, new_uuid, select, sha256
from station.store.validate import now_utc

CERTIFICATE = Shape(
    CertificateRecord,
    "certificates",
    ["id", "sha256", "device_serial", "created", "valid_until", "data", "imported_at", "uuid"],
    {"data": json.loads},
)
VERIFICATION = Shape(
    Verification,
    "verifications",
    [
        "id",
        "certificate_id",
        "device_serial",
        "performed_at",
        "operator",
        "passed",
        "data",
        "uuid",
    ],
    {"passed": maybe_bool, "data": json.loads},
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def certificate_id(conn: DbConnection, document: JsonDocument, actor: str, at: str) -> int:
    """The id of this certificate, storing it (audited) inside the caller's transaction
    if it is new: the same certificate twice is stored once."""
    data = dict(document)
    digest_hex = sha256(canonical_json(data).encode("utf-8"))
    row = conn.execute("SELECT id FROM certificates WHERE sha256 = ?", (digest_hex,)).fetchone()
    if row is not None:
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO certificates (sha256, device_serial, created, valid_until, data, "
        "imported_at, uuid) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            digest_hex,
            _text(data.get("device_serial")),
            _text(data.get("created")),
            _text(data.get("valid_until")),
            json.dumps(data, ensure_ascii=False),
            at,
            new_uuid(),
        ),
    )
    made = new_id(cursor)
    after = {"sha256": digest_hex, "device_serial": data.get("device_serial")}
    write_audit(conn, actor, at, AuditRecord("certificate", made, "create", None, after))
    return made


class Certificates(Transactions):
    def add_certificate(self, data: JsonDocument, actor: str) -> int:
        """Store a certificate whole (the same certificate twice is stored once)."""
        with self._write() as conn:
            return certificate_id(conn, data, actor, now_utc())

    def get_certificate(self, certificate_id: int) -> CertificateRecord | None:
        row = self._one(CERTIFICATE.sql + "WHERE id = ?", (certificate_id,))
        return None if row is None else CERTIFICATE.make(row)

    def list_certificates(self, device_serial: str | None = None) -> list[CertificateRecord]:
        sql, params = select(
            CERTIFICATE.sql,
            [None if device_serial is None else ("device_serial = ?", (device_serial,))],
            "imported_at, id",
        )
        return CERTIFICATE.many(self._all(sql, params))

    def add_verification(
        self,
        certificate_id: int | None,
        device_serial: str | None,
        performed_at: str,
        operator: str | None,
        passed: bool | None,
        data: JsonDocument,
        actor: str,
    ) -> int:
        at = now_utc()
        with self._write() as conn:
            if certificate_id is not None:
                self._require(conn, "certificates", certificate_id, "certificate")
            cursor = conn.execute(
                "INSERT INTO verifications (certificate_id, device_serial, performed_at, operator, "
                "passed, data, uuid) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    certificate_id,
                    device_serial,
                    performed_at,
                    operator,
                    None if passed is None else int(passed),
                    json.dumps(dict(data), ensure_ascii=False),
                    new_uuid(),
                ),
            )
            verification_id = new_id(cursor)
            after = {"certificate_id": certificate_id, "passed": passed, "data": dict(data)}
            write_audit(
                conn, actor, at, AuditRecord("verification", verification_id, "create", None, after)
            )
        return verification_id

    def verifications(self, certificate_id: int | None = None) -> list[Verification]:
        sql, params = select(
            VERIFICATION.sql,
            [None if certificate_id is None else ("certificate_id = ?", (certificate_id,))],
            "performed_at, id",
        )
        return VERIFICATION.many(self._all(sql, params))
