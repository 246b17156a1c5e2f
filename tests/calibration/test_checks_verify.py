"""Checks (expiry, serial, range, acceptance), quick verification records and the summary."""

from __future__ import annotations

import datetime as dt

import pytest

from calibration.certificate import FORMAT, parse_certificate
from calibration.checks import (
    BEYOND_CALIBRATED_RANGE,
    CERTIFICATE_EXPIRED,
    CERTIFICATE_FAILED_ACCEPTANCE,
    CERTIFICATE_SERIAL_MISMATCH,
    check_certificate,
    check_expiry,
    check_range,
    check_serial,
    check_test,
)
from calibration.errors import CalibrationError
from calibration.summary import summarize_certificate
from calibration.verify import (
    append_verification,
    load_verifications,
    verifications_path,
    verify_reading,
)

G = 9.80665
GAIN = 0.0005
OFFSET = 80_000.0


def cert(**top):
    data = {
        "format": FORMAT,
        "device_serial": "NR-0001",
        "created": "2026-11-20T10:00:00Z",
        "valid_until": "2027-05-19",
        "channels": {
            "left": {"gain_n_per_count": GAIN, "offset_counts": OFFSET, "max_force_n": 392.3},
            "right": {"gain_n_per_count": 0.0004, "offset_counts": -40000.0, "max_force_n": 294.2},
        },
    }
    data.update(top)
    return parse_certificate(data)


def at(day):
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def test_expiry_is_inclusive_of_the_last_day():
    assert check_expiry(cert(), at("2027-05-19T23:59:59")) is None
    result = check_expiry(cert(), at("2027-05-21T08:00:00"))
    assert result.flag == CERTIFICATE_EXPIRED == "certificate_expired"
    assert "expired on 2027-05-19 (2 days before 2027-05-21)" in result.message
    assert check_expiry(cert(), dt.date(2027, 5, 20)).flag == CERTIFICATE_EXPIRED
    assert check_expiry(cert(valid_until=None)) is None


def test_serial_mismatch():
    assert check_serial(cert(), "NR-0001") is None
    assert check_serial(cert(), " NR-0001 ") is None
    assert check_serial(cert(), None) is None
    result = check_serial(cert(), "NR-0002")
    assert result.flag == CERTIFICATE_SERIAL_MISMATCH
    assert "for rig NR-0001" in result.message and "rig NR-0002" in result.message


def test_beyond_calibrated_range_per_channel():
    results = check_range(cert(), {"left": 392.3, "right": 300.0})
    assert [(r.flag, r.channel) for r in results] == [(BEYOND_CALIBRATED_RANGE, "right")]
    assert "300.0 N is beyond the highest force calibrated (294.2 N)" in results[0].message
    assert check_range(cert(), {"left": None, "right": 100}) == []
    no_range = parse_certificate(
        {
            "format": FORMAT,
            "channels": {"left": {"gain_n_per_count": 1e-3}, "right": {"gain_n_per_count": 1e-3}},
        }
    )
    assert check_range(no_range, {"left": 1e6}) == []


def test_check_test_collects_everything_with_plain_results():
    failed = cert(device_serial="NR-9", acceptance={"passed": False})
    results = check_test(failed, {"left": 500.0}, "NR-0001", at("2028-01-01T00:00:00"))
    assert [r.flag for r in results] == [
        CERTIFICATE_EXPIRED,
        CERTIFICATE_SERIAL_MISMATCH,
        CERTIFICATE_FAILED_ACCEPTANCE,
        BEYOND_CALIBRATED_RANGE,
    ]
    expired, serial, acceptance, beyond = results
    assert "expired on 2027-05-19 (227 days before 2028-01-01)" in expired.message
    assert "is for rig NR-9, but the data come from rig NR-0001" in serial.message
    assert "failed its acceptance limits" in acceptance.message
    assert beyond.channel == "left" and beyond.message.startswith(
        "left peak force 500.0 N is beyond the highest force calibrated (392.3 N)"
    )
    # Plain results: the message is what str() shows, and to_dict() holds the three fields.
    for r in results:
        assert str(r) == r.message
        assert r.to_dict() == {"flag": r.flag, "message": r.message, "channel": r.channel}
    assert [r.channel for r in results] == [None, None, None, "left"]
    assert check_certificate(cert(), "NR-0001", at("2027-01-01T00:00:00")) == []


def test_verification_record_numbers():
    zero = OFFSET + 40.0
    counts = zero + 20 * G / GAIN * 1.004  # reads 0.4 % high
    record = verify_reading(
        cert(),
        "left",
        20.0,
        counts,
        zero_counts=zero,
        spread_counts=30.0,
        limit_pct=1.0,
        device_serial="NR-0001",
        operator="Jo",
        when=at("2027-01-02T08:30:00"),
    )
    applied = 20 * G
    assert record["format"] == "nordic-station.verification/1"
    assert record["created"] == "2027-01-02T08:30:00Z"
    assert record["applied_force_n"] == pytest.approx(applied)
    assert record["measured_force_n"] == pytest.approx(applied * 1.004)
    assert record["error_n"] == pytest.approx(applied * 0.004)
    assert record["error_pct"] == pytest.approx(0.4)
    assert record["passed"] is True
    assert record["zero_source"] == "tare" and record["zero_shift_n"] == pytest.approx(40 * GAIN)
    assert record["certificate"]["fingerprint"] == cert().fingerprint()
    assert record["flags"] == []
    strict = verify_reading(cert(), "left", 20.0, counts, zero_counts=zero, limit_pct=0.3)
    assert strict["passed"] is False


def test_verification_without_tare_uses_the_offset_and_flags_problems():
    counts = OFFSET + 50 * G / GAIN
    record = verify_reading(
        cert(), "left", 50.0, counts, device_serial="NR-7", when=at("2027-01-02T08:30:00")
    )
    assert record["zero_source"] == "certificate" and record["zero_shift_n"] is None
    assert record["error_n"] == pytest.approx(0.0, abs=1e-9)
    assert {f["flag"] for f in record["flags"]} == {
        CERTIFICATE_SERIAL_MISMATCH,
        BEYOND_CALIBRATED_RANGE,  # 490 N > 392.3 N calibrated
    }


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"mass_kg": 0.0}, "above 0 kg"),
        ({"channel": "middle"}, "not left or right"),
        ({"limit_pct": 0.0}, "above 0 %"),
    ],
)
def test_verification_bad_input(kwargs, words):
    args = {"channel": "left", "mass_kg": 20.0, "counts": 1e6, **kwargs}
    with pytest.raises(CalibrationError, match=words):
        verify_reading(cert(), args.pop("channel"), args.pop("mass_kg"), args.pop("counts"), **args)


def test_verifications_file_appends_and_reads_back(tmp_path):
    path = verifications_path(tmp_path / "cert.json")
    assert path == tmp_path / "cert.verifications.jsonl"
    assert load_verifications(path) == []
    first = verify_reading(cert(), "left", 20.0, OFFSET + 20 * G / GAIN)
    second = verify_reading(cert(), "right", 10.0, -40000.0 + 10 * G / 0.0004)
    append_verification(first, path)
    append_verification(second, path)
    assert load_verifications(path) == [first, second]
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(CalibrationError, match="line 3 is not a JSON record"):
        load_verifications(path)


def test_summary_names_figures_warnings_and_verifications():
    record = verify_reading(
        cert(), "left", 20.0, OFFSET + 20 * G / GAIN, when=at("2027-01-02T08:30:00")
    )
    text = summarize_certificate(
        cert(operator="Jane Doe"),
        when=at("2027-06-01T00:00:00"),
        device_serial="NR-0002",
        verifications=[record],
    )
    assert "rig            NR-0001" in text
    assert "by Jane Doe" in text
    assert "2027-05-19  EXPIRED 13 days ago" in text
    assert "left: gain 0.0005 N/count, offset 80000.0 counts, calibrated up to 392.3 N" in text
    assert "certificate_expired:" in text and "certificate_serial_mismatch:" in text
    assert "Verifications (1):" in text and "left  20 kg: error +0.00 N" in text
    assert "hysteresis        not measured" in text
