"""Certificates: the calibration.md format from a fit, unknown keys kept, dates, fingerprints."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from calibration.acceptance import AcceptanceLimits, evaluate
from calibration.certificate import (
    FORMAT,
    CertificateError,
    build_certificate,
    load_certificate,
    parse_certificate,
    save_certificate,
)
from calibration.certify import certify
from calibration.fit import fit_points
from calibration.points import CalPoint

G = 9.80665
CREATED = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=dt.UTC)


def points():
    out = []
    for channel, offset, per_n in (("left", 81234.0, 2096.0), ("right", -40211.0, 1992.0)):
        for direction, masses in (("up", [0, 10, 20, 30, 40]), ("down", [30, 20, 10, 0])):
            for m in masses:
                out.append(CalPoint(channel, float(m), offset + m * G * per_n, 9.1, direction))
    return out


def certificate(**kwargs):
    fits = fit_points(points())
    limits = AcceptanceLimits()
    acceptance = {name: evaluate(fit, limits) for name, fit in fits.items()}
    return build_certificate(
        fits,
        "NR-0001",
        operator="Jane Doe",
        created=CREATED,
        acceptance=acceptance,
        limits=limits,
        **kwargs,
    )


def test_built_certificate_has_the_contract_fields():
    data = certificate().data
    assert data["format"] == FORMAT == "nordic-station.calibration/1"
    assert data["device_serial"] == "NR-0001"
    assert data["created"] == "2026-11-20T10:00:00Z"
    assert data["valid_until"] == "2027-05-19"  # 180 days later, as in calibration.md
    assert data["operator"] == "Jane Doe"
    left = data["channels"]["left"]
    for key in (
        "gain_n_per_count",
        "offset_counts",
        "points",
        "max_force_n",
        "nonlinearity_pct",
        "hysteresis_pct",
        "residual_max_n",
    ):
        assert key in left, key
    assert left["max_force_n"] == pytest.approx(40 * G)
    assert left["points"][0] == {
        "mass_kg": 0.0,
        "counts": 81234.0,
        "spread_counts": 9.1,
        "direction": "up",
        "run": 1,
        "force_n": 0.0,
        "residual_n": pytest.approx(0.0, abs=1e-9),
    }
    assert left["acceptance"]["passed"] is True
    assert left["acceptance"]["figures"]["nonlinearity_pct"]["limit"] == 0.5
    assert data["acceptance"] == {"passed": True, "limits": AcceptanceLimits().to_dict()}


def test_validity_days_and_a_naive_created_time():
    data = certificate(valid_days=30).data
    assert data["valid_until"] == "2026-12-20"
    cert = certificate()
    assert cert.created == CREATED
    assert cert.valid_until == dt.date(2027, 5, 19)


def test_unknown_keys_survive_reading_and_writing(tmp_path):
    data = certificate().to_dict()
    data["lab"] = {"room": "B12", "plates": ["IWF 10 kg #3"]}
    data["channels"]["left"]["cell_model"] = "S-beam 200 kg"
    data["channels"]["left"]["points"][0]["note"] = "hook empty"
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(data))
    loaded = load_certificate(path)
    save_certificate(loaded, tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again == data
    assert again["lab"]["plates"] == ["IWF 10 kg #3"]
    assert again["channels"]["left"]["points"][0]["note"] == "hook empty"


def test_minimal_certificate_from_calibration_md_reads():
    cert = parse_certificate(
        {
            "format": FORMAT,
            "channels": {
                "left": {"gain_n_per_count": 0.000477},
                "right": {"gain_n_per_count": 0.0005},
            },
        }
    )
    assert cert.gain("left") == 0.000477
    assert cert.valid_until is None and cert.created is None and cert.passed is None
    with pytest.raises(CertificateError, match="no offset_counts"):
        cert.force_n("left", 1000.0)
    assert cert.force_n("left", 1000.0, zero_counts=0.0) == pytest.approx(0.477)


def test_force_from_the_offset():
    cert = certificate()
    counts = 81234.0 + 20 * G * 2096.0
    assert cert.force_n("left", counts) == pytest.approx(20 * G, rel=1e-9)


def test_malformed_dates_are_refused():
    data = certificate().to_dict()
    data["valid_until"] = "next spring"
    with pytest.raises(CertificateError, match="valid_until 'next spring' is not a date"):
        parse_certificate(data)


def test_fingerprint_changes_with_any_content_and_not_with_key_order():
    cert = certificate()
    reordered = parse_certificate(dict(reversed(list(cert.to_dict().items()))))
    assert reordered.fingerprint() == cert.fingerprint()
    changed = cert.to_dict()
    changed["operator"] = "Someone Else"
    assert parse_certificate(changed).fingerprint() != cert.fingerprint()


def test_a_missing_channel_comes_from_the_base_certificate():
    base = certificate()
    fits = fit_points([p for p in points() if p.channel == "left"])
    later = CREATED + dt.timedelta(days=100)
    cert = build_certificate(fits, "NR-0001", created=later, base=base)
    right = cert.channel("right")
    assert right["gain_n_per_count"] == base.gain("right")
    assert right["copied_from"] == {
        "created": "2026-11-20T10:00:00Z",
        "fingerprint": base.fingerprint(),
    }
    assert cert.valid_until == base.valid_until  # no longer than the older channel
    with pytest.raises(CertificateError, match="no calibration for channel 'right'"):
        build_certificate(fits, "NR-0001", created=later)


def test_failed_acceptance_is_recorded():
    cert = certificate()
    bumped = [
        CalPoint(
            p.channel, p.mass_kg, p.counts + (5000 if p.mass_kg == 20 else 0), 9.1, p.direction
        )
        for p in points()
    ]
    fits = fit_points(bumped)
    limits = AcceptanceLimits(nonlinearity_pct=0.1)
    verdicts = {n: evaluate(f, limits) for n, f in fits.items()}
    failed = build_certificate(fits, "NR-0001", created=CREATED, acceptance=verdicts, limits=limits)
    assert cert.passed is True
    assert failed.passed is False
    assert failed.channel("left")["acceptance"]["figures"]["nonlinearity_pct"]["passed"] is False


def test_certify_fits_judges_and_records_the_method():
    cert, verdicts = certify(
        points(), "NR-0001", operator="Jo", created=CREATED, method={"source": "points file"}
    )
    assert set(verdicts) == {"left", "right"} and all(v.passed for v in verdicts.values())
    assert cert.passed is True
    assert cert.data["method"]["source"] == "points file"
    assert cert.data["method"]["gravity_m_per_s2"] == G
    assert cert.data["software"]["name"] == "nordic-station"
    assert cert.data["created"] == "2026-11-20T10:00:00Z"
