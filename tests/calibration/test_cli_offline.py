"""`calibrate --from-points` and `certificate show`: figures, bad input (exit 2, one line,
no certificate written), unknown keys, and the points CSV round trip."""

from __future__ import annotations

import json

import pytest

from calibration.points import CalPoint, parse_points_csv, points_to_csv
from station.cli import main

G = 9.80665


def good_csv(direction=True):
    rows = ["channel,mass_kg,counts" + (",direction" if direction else "")]
    for ch, offset, per_n in (("left", 81234.0, 2096.0), ("right", -40211.0, 1992.0)):
        series = [(m, "up") for m in (0, 10, 20, 30)]
        if direction:
            series += [(m, "down") for m in (20, 10, 0)]
        for mass, way in series:
            counts = offset + mass * G * per_n + (150 if way == "down" and mass else 0)
            rows.append(f"{ch},{mass},{counts:.1f}" + (f",{way}" if direction else ""))
    return "\n".join(rows) + "\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_from_points_writes_the_certificate_and_prints_figures(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(good_csv())
    out_path = tmp_path / "cert.json"
    code, out, err = run(
        capsys,
        "calibrate",
        "--from-points",
        str(csv),
        "--serial",
        "NR-0007",
        "--out",
        str(out_path),
        "--operator",
        "Jo",
    )
    assert code == 0, err
    assert "non-linearity" in out and "hysteresis" in out and "pass" in out
    assert f"PASS: certificate written to {out_path}" in out
    data = json.loads(out_path.read_text())
    assert data["device_serial"] == "NR-0007" and data["operator"] == "Jo"
    left = data["channels"]["left"]
    assert left["gain_n_per_count"] == pytest.approx(1 / 2096.0, rel=1e-4)
    assert len(left["points"]) == 7
    assert data["method"]["source"] == "points file"
    # the hysteresis figure is the 150-count gap, in % of 30 kg
    assert left["hysteresis_pct"] == pytest.approx(100 * 150 * left["gain_n_per_count"] / (30 * G))


BAD = {
    "too few points": (
        "channel,mass_kg,counts\nleft,0,100\nleft,10,200000\nright,0,100\nright,10,200000\n",
        "too few points",
    ),
    "duplicate masses": (
        "channel,mass_kg,counts\nleft,0,100\nleft,10,200000\nleft,10,200100\nleft,20,400000\n",
        "duplicate mass 10 kg",
    ),
    "negative mass": (
        "channel,mass_kg,counts\nleft,0,100\nleft,-10,200000\nleft,20,400000\n",
        "negative",
    ),
    "reversed cell": (
        "channel,mass_kg,counts\nleft,0,100\nleft,10,-200000\nleft,20,-400000\n",
        "counts do not rise with load",
    ),
    "not a number": (
        "channel,mass_kg,counts\nleft,0,100\nleft,ten,200000\n",
        "line 3: mass_kg 'ten' is not a number",
    ),
    "missing column": ("channel,mass_kg\nleft,0\n", "header lacks counts"),
    "short row": ("channel,mass_kg,counts\nleft,0\n", "line 2: expected 3 fields, found 2"),
    "bad channel": (
        "channel,mass_kg,counts\nmiddle,0,1\n",
        "channel 'middle' is not left or right",
    ),
    "bad direction": (
        "channel,mass_kg,counts,direction\nleft,0,1,sideways\n",
        "direction 'sideways'",
    ),
    "empty": ("", "is empty"),
    "header only": ("channel,mass_kg,counts\n", "no points"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_points_exit_2_with_one_line_and_no_certificate(tmp_path, capsys, case):
    text, words = BAD[case]
    csv = tmp_path / "points.csv"
    csv.write_text(text)
    out_path = tmp_path / "cert.json"
    code, out, err = run(
        capsys, "calibrate", "--from-points", str(csv), "--serial", "S", "--out", str(out_path)
    )
    assert code == 2
    assert words in err
    assert err.count("\n") == 1 and err.startswith("nordic-station: error: ")
    assert "Traceback" not in err
    assert not out_path.exists()


def test_a_channel_missing_from_the_points_is_an_error_without_base(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(
        "\n".join(line for line in good_csv().splitlines() if not line.startswith("right"))
    )
    out_path = tmp_path / "cert.json"
    code, _, err = run(
        capsys, "calibrate", "--from-points", str(csv), "--serial", "S", "--out", str(out_path)
    )
    assert code == 2 and "no calibration for channel 'right'" in err
    assert not out_path.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["calibrate", "--from-points", "x.csv"], "--from-points needs --serial"),
        (["calibrate"], "give the rig's PORT"),
        (["calibrate", "virtual://x"], "give the masses"),
        (["calibrate", "virtual://x", "--masses", "0,10"], "too few masses"),
        (["calibrate", "virtual://x", "--masses", "0,10,10"], "listed twice"),
        (["calibrate", "virtual://x", "--masses", "0,-10,20"], "negative"),
        (
            ["calibrate", "virtual://x", "--masses", "0,10,20", "--channels", "left"],
            "a certificate needs both channels",
        ),
        (["calibrate", "--from-points", "missing.csv", "--serial", "S"], "not found"),
    ],
)
def test_usage_errors(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and words in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_existing_out_is_not_overwritten(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(good_csv())
    out_path = tmp_path / "cert.json"
    out_path.write_text("precious")
    code, _, err = run(
        capsys, "calibrate", "--from-points", str(csv), "--serial", "S", "--out", str(out_path)
    )
    assert code == 2 and "already exists" in err
    assert out_path.read_text() == "precious"


def test_failed_acceptance_writes_nothing_unless_kept(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(good_csv())
    out_path = tmp_path / "cert.json"
    argv = [
        "calibrate",
        "--from-points",
        str(csv),
        "--serial",
        "S",
        "--out",
        str(out_path),
        "--max-hysteresis",
        "0.001",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "FAIL" in out and "hysteresis_pct" in out
    assert not out_path.exists()
    code, out, _ = run(capsys, *argv, "--keep-failed")
    assert code == 1 and "kept, marked as failed" in out
    assert json.loads(out_path.read_text())["acceptance"]["passed"] is False


def test_certificate_show_keeps_unknown_keys_and_lists_checks(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(good_csv())
    path = tmp_path / "cert.json"
    assert (
        run(capsys, "calibrate", "--from-points", str(csv), "--serial", "NR-1", "--out", str(path))[
            0
        ]
        == 0
    )
    data = json.loads(path.read_text())
    data["clinic"] = "Physio North"
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, "certificate", "show", str(path), "--serial", "NR-2")
    assert code == 0
    assert "rig            NR-1" in out and "certificate_serial_mismatch" in out
    code, out, _ = run(capsys, "certificate", "show", str(path), "--json")
    shown = json.loads(out)
    assert shown["certificate"]["clinic"] == "Physio North"
    assert shown["flags"] == []
    code, _, err = run(capsys, "certificate", "show", str(tmp_path / "nope.json"))
    assert code == 2 and "not found" in err


def test_points_csv_round_trip_and_optional_columns():
    points = [
        CalPoint("left", 0.0, 81234.5, 9.1, "up", 1),
        CalPoint("left", 10.0, 286800.25, None, "down", 2),
    ]
    assert parse_points_csv(points_to_csv(points)) == points
    parsed = parse_points_csv("Channel, mass_kg ,counts,direction\nLEFT,5,100,descending\n")
    assert parsed == [CalPoint("left", 5.0, 100.0, None, "down", 1)]


def test_one_channel_with_base_takes_the_other_from_it(tmp_path, capsys):
    csv = tmp_path / "points.csv"
    csv.write_text(good_csv())
    base = tmp_path / "base.json"
    assert (
        run(capsys, "calibrate", "--from-points", str(csv), "--serial", "NR-1", "--out", str(base))[
            0
        ]
        == 0
    )
    left_only = tmp_path / "left.csv"
    left_only.write_text(
        "\n".join(line for line in good_csv().splitlines() if not line.startswith("right"))
    )
    out_path = tmp_path / "cert.json"
    code, out, err = run(
        capsys,
        "calibrate",
        "--from-points",
        str(left_only),
        "--serial",
        "NR-1",
        "--base",
        str(base),
        "--out",
        str(out_path),
    )
    assert code == 0, err
    data = json.loads(out_path.read_text())
    old = json.loads(base.read_text())
    assert (
        data["channels"]["right"]["gain_n_per_count"]
        == old["channels"]["right"]["gain_n_per_count"]
    )
    assert data["channels"]["right"]["copied_from"]["created"] == old["created"]
    assert "(taken from the certificate of" in out
