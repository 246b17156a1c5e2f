"""``nordic-station analyze`` additions: several PATHs (JSON Lines), --protocol, --asymmetry,
--set (analyze-cli.md, "Additions")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
from station.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scripting")
    nordic_model = NordicModel(Athlete(), seed=1, rate_hz=80.0)
    nordic = VirtualRig(nordic_model, rate_hz=80.0)
    (folder / "nordic.bin").write_bytes(nordic.capture_bytes(nordic_model.session_duration_s()))
    (folder / "cal.json").write_text(json.dumps(nordic.calibration_certificate()))
    ramps = (
        RampContraction("left", 6.0, 1000.0, 400.0),
        RampContraction("right", 14.0, 900.0, 300.0),
    )
    model = RampModel(ramps, seed=2, rate_hz=400.0)
    iso = VirtualRig(model, rate_hz=400.0, seed=2)  # same default ADC: the same certificate
    (folder / "iso.bin").write_bytes(iso.capture_bytes(model.session_duration_s()))
    (folder / "empty.bin").write_bytes(b"")
    return {p.name: p for p in folder.iterdir()} | {"missing.bin": folder / "missing.bin"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_several_paths_give_json_lines_and_a_failing_file_does_not_stop_the_rest(
    files, capsys
) -> None:
    paths = [str(files[n]) for n in ("nordic.bin", "empty.bin", "missing.bin", "iso.bin")]
    code, out, err = _run(capsys, *paths, "--calibration", str(files["cal.json"]), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2  # at the end, after every file was tried
    assert [line["path"] for line in lines] == paths
    assert lines[0]["schema"] == "nordic-station.analysis/1" and len(lines[0]["reps"]) == 3
    assert set(lines[1]) == {"path", "error"} and "empty" in lines[1]["error"]
    assert set(lines[2]) == {"path", "error"} and "no such file" in lines[2]["error"]
    assert lines[3]["schema"] == "nordic-station.analysis/1"
    errors = [e for e in err.splitlines() if "error" in e]
    assert len(errors) == 2 and all(e.startswith("nordic-station: error: ") for e in errors)


def test_several_good_paths_exit_0_and_the_table_names_each(files, capsys) -> None:
    paths = [str(files["nordic.bin"]), str(files["iso.bin"])]
    code, out, _ = _run(capsys, *paths, "--calibration", str(files["cal.json"]))
    assert code == 0
    assert out.count("== ") == 2 and all(f"== {p}" in out for p in paths)


def test_protocol_isometric_finds_each_leg_s_reps(files, capsys) -> None:
    code, out, err = _run(
        capsys, str(files["iso.bin"]), "--calibration", str(files["cal.json"]), "--json",
        "--protocol", "isometric", "--set", "knee_angle_deg=30", "--set", "position=prone",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert [r["legs"] for r in doc["reps"]] == [["left"], ["right"]]
    assert doc["reps"][0]["right"] is None and doc["reps"][0]["imbalance_pct"] is None
    assert doc["reps"][0]["left"]["rfd_window_n_per_s"]["0-100ms"] == pytest.approx(1000, rel=0.05)
    assert doc["protocol"] == {"name": "isometric", "knee_angle_deg": 30.0, "position": "prone"}
    assert doc["summary"]["imbalance_max_pct"] == pytest.approx(25.0, abs=1.0)


def test_an_isometric_test_without_an_angle_is_warned_about(files, capsys) -> None:
    code, _, err = _run(
        capsys, str(files["iso.bin"]), "--calibration", str(files["cal.json"]),
        "--protocol", "isometric",
    )  # fmt: skip
    assert code == 0 and "knee angle" in err


def test_nordic_reps_carry_both_legs_and_the_default_formula(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["nordic.bin"]), "--calibration", str(files["cal.json"]), "--json"
    )
    doc = json.loads(out)
    assert code == 0
    assert all(r["legs"] == ["left", "right"] for r in doc["reps"])
    assert doc["summary"]["asymmetry_formula"] == "pct_difference"
    assert doc["protocol"]["name"] == "nordic"


def test_asymmetry_and_set_show_in_the_result(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["nordic.bin"]), "--calibration", str(files["cal.json"]), "--json",
        "--asymmetry", "symmetry_index", "--set", "cutoff_hz=8", "--set", "rep_threshold_n=25",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    assert doc["summary"]["asymmetry_formula"] == "symmetry_index"
    assert doc["settings"]["cutoff_hz"] == 8.0 and doc["settings"]["rep_threshold_n"] == 25.0
    assert doc["settings"]["asymmetry_formula"] == "symmetry_index"
    assert doc["filter"]["cutoff_hz"] == 8.0


def test_the_table_names_the_formula_and_shows_the_windows(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["nordic.bin"]), "--calibration", str(files["cal.json"]),
        "--asymmetry", "signed_pct",
    )  # fmt: skip
    assert code == 0
    assert "(signed_pct)" in out and "0-250ms" in out and "Onset s" in out


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--set", "nonsense=3"], "unknown analysis setting 'nonsense'"),
        (["--set", "cutoff_hz"], "NAME=VALUE"),
        (["--set", "cutoff_hz=-1"], "must be positive"),
        (["--protocol", "squat"], "invalid choice"),
        (["--asymmetry", "ratio"], "invalid choice"),
    ],
)
def test_bad_settings_are_a_usage_error_before_any_file(files, capsys, option, words) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse's own choices
        if option[0] != "--set":
            _run(capsys, str(files["nordic.bin"]), *option)
        else:
            raise SystemExit(main(["analyze", str(files["missing.bin"]), *option]))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_isometric_table_shows_one_leg_reps_and_the_angle(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["iso.bin"]), "--calibration", str(files["cal.json"]),
        "--protocol", "isometric", "--set", "knee_angle_deg=60", "--set", "position=prone",
    )  # fmt: skip
    assert code == 0
    assert "isometric, knee angle 60 deg, prone" in out
    assert "over 1 rep(s)" in out  # each leg's max and avg over its own reps
    assert "Reference lines" not in out  # Nordic lines are not applied
    rep_rows = [line.split() for line in out.splitlines() if line.startswith(("1 ", "2 "))]
    assert rep_rows[0][3] != "-" and rep_rows[0][4] == "-"  # rep 1: left only
    assert rep_rows[1][3] == "-" and rep_rows[1][4] != "-"  # rep 2: right only
