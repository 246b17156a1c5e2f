"""The certificate-choice policy (calibration.choice): one order for the app and the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from calibration.certificate import FORMAT, CertificateError, parse_certificate
from calibration.checks import CERTIFICATE_SERIAL_MISMATCH
from calibration.choice import (
    UNCALIBRATED_KEY,
    CalibrationChoice,
    RecordedCertificateError,
    choose,
    choose_certificate,
    from_dict,
    nominal_certificate,
)


def certificate(serial: str, gain: float, created: str = "2026-01-01T08:00:00Z") -> dict[str, Any]:
    return {
        "format": FORMAT,
        "device_serial": serial,
        "created": created,
        "channels": {
            "left": {"gain_n_per_count": gain, "offset_counts": 100.0},
            "right": {"gain_n_per_count": gain, "offset_counts": 200.0},
        },
    }


@dataclass
class Record:
    id: int
    data: dict[str, Any]
    created: str | None
    imported_at: str | None = None


class Store:
    def __init__(self, *records: Record) -> None:
        self.records = list(records)

    def list_certificates(self, device_serial: str | None = None) -> list[Record]:
        return [r for r in self.records if r.data.get("device_serial") == device_serial]


def test_the_format_this_test_writes_is_the_packages() -> None:
    assert parse_certificate(certificate("NR-1", 0.0005)).device_serial == "NR-1"


def test_nothing_known_gives_a_nominal_gain_marked_uncalibrated() -> None:
    choice = choose(Store(), "NR-1")
    assert choice.source == "nominal" and choice.uncalibrated and choice.level == "error"
    assert choice.certificate.data[UNCALIBRATED_KEY] is True
    assert choose_certificate(Store(), "NR-1") is None  # the store's way: nothing, not nominal


def test_the_newest_stored_certificate_for_the_serial() -> None:
    store = Store(
        Record(1, certificate("NR-1", 0.0004, "2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z"),
        Record(2, certificate("NR-1", 0.0005, "2026-03-01T00:00:00Z"), "2026-03-01T00:00:00Z"),
        Record(3, certificate("NR-2", 0.0006), "2026-05-01T00:00:00Z"),
        Record(4, {**certificate("NR-1", 0.001), UNCALIBRATED_KEY: True}, "2027-01-01T00:00:00Z"),
    )
    choice = choose(store, "NR-1")
    assert (choice.source, choice.certificate_id) == ("store", 2)
    assert choice.gains() == (0.0005, 0.0005) and choice.zeros() == (100.0, 200.0)


def test_a_recording_s_own_certificate_comes_before_the_store() -> None:
    store = Store(Record(1, certificate("NR-1", 0.0004), "2026-01-01T00:00:00Z"))
    choice = choose(store, "NR-1", recorded=certificate("NR-1", 0.0007))
    assert choice.source == "recording" and choice.gains()[0] == 0.0007


def test_a_damaged_recorded_certificate_falls_through_to_the_store() -> None:
    store = Store(Record(5, certificate("NR-1", 0.0004), "2026-01-01T00:00:00Z"))
    damaged = {"format": "nonsense"}
    assert choose(store, "NR-1", recorded=damaged).certificate_id == 5
    assert choose(None, "NR-1", recorded=damaged).uncalibrated
    assert choose_certificate(store, "NR-1", recorded=damaged, strict=True) is not None


def test_strict_makes_a_damaged_recorded_certificate_an_error_naming_it() -> None:
    with pytest.raises(RecordedCertificateError, match="test 7 .its recorded calibration.: not a"):
        choose_certificate(
            None,
            None,
            recorded={"format": "nonsense"},
            recorded_source="test 7 (its recorded calibration)",
            strict=True,
        )
    assert issubclass(RecordedCertificateError, CertificateError)


def test_a_given_certificate_wins_over_everything() -> None:
    given = parse_certificate(certificate("NR-9", 0.0009))
    choice = choose_certificate(None, None, given=given, recorded=certificate("NR-1", 0.1))
    assert choice is not None and choice.certificate is given and choice.source == "given"
    as_dict = choose_certificate(None, None, given=certificate("NR-9", 0.0009))
    assert as_dict is not None and as_dict.gains() == (0.0009, 0.0009)
    with pytest.raises(CertificateError, match="stored certificate"):
        choose_certificate(None, None, given={"format": "x"})


def test_the_virtual_rig_uses_a_user_made_certificate_not_a_copy_of_its_own() -> None:
    own = certificate("NR-V", 0.0005)
    copy = Record(1, certificate("NR-V", 0.0005, "2026-06-01T00:00:00Z"), "2026-06-01T00:00:00Z")
    assert choose(Store(copy), "NR-V", virtual_certificate=own).source == "virtual"
    made = Record(2, certificate("NR-V", 0.00049, "2026-02-01T00:00:00Z"), "2026-02-01T00:00:00Z")
    choice = choose(Store(copy, made), "NR-V", virtual_certificate=own)
    assert (choice.source, choice.certificate_id) == ("store", 2)


def test_findings_become_warnings_and_texts_say_where_from() -> None:
    choice = from_dict(certificate("NR-1", 0.0005), "store", "NR-2", when=dt.date(2026, 2, 1))
    assert [f.flag for f in choice.findings] == [CERTIFICATE_SERIAL_MISMATCH]
    assert choice.level == "warning" and choice.short_text.startswith("⚠ Calibration: stored")
    assert "Certificate for rig NR-1" in choice.long_text
    nominal = CalibrationChoice(nominal_certificate("NR-X"), "nominal")
    assert nominal.short_text == "UNCALIBRATED (nominal gain)"
    assert "NOT calibrated newtons" in nominal.long_text
