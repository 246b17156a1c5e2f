"""``nordic-station analyze``: the analyze-cli.md contract, happy paths and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.analysis import describe_flag
from station.cli import main


def _rig(athlete: Athlete | None = None, rate: float = 80.0, serial: str = "NR-0001") -> VirtualRig:
    athlete = athlete if athlete is not None else Athlete().with_rest_distractors()
    return VirtualRig(
        NordicModel(athlete, seed=1, rate_hz=rate), rate_hz=rate, serial_number=serial
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("analyze")
    rig = _rig()
    capture = folder / "capture.bin"
    capture.write_bytes(rig.capture_bytes(60.0))
    cal = folder / "cal.json"
    cal.write_text(json.dumps(rig.calibration_certificate()))
    other = folder / "other.json"
    other.write_text(json.dumps(_rig(serial="NR-9999").calibration_certificate()))
    expired = folder / "expired.json"
    expired.write_text(json.dumps(rig.calibration_certificate(created="2020-01-01T00:00:00Z")))
    quiet = folder / "quiet.bin"
    quiet.write_bytes(_rig(Athlete(reps=0)).capture_bytes(10.0))
    # A text-dialect capture of the same samples, without and with a rate line.
    from firmware_bridge.decoder import decode_bytes

    stream = decode_bytes(capture.read_bytes())
    lines = "".join(f"{a},{b}\n" for a, b in stream.counts.tolist())
    (folder / "norate.txt").write_text(lines)
    (folder / "text.txt").write_text("# rate=80\n# serial=NR-0001\n" + lines)
    (folder / "empty.bin").write_bytes(b"")
    (folder / "random.bin").write_bytes(np.random.default_rng(0).bytes(5000).replace(b"\x00", b""))
    (folder / "notjson.json").write_text("{nope")
    (folder / "wrong.json").write_text(json.dumps({"format": "something else"}))
    for name, calibration in (("rec.nsrec", rig.calibration_certificate()), ("nocal.nsrec", None)):
        with RecordingWriter(folder / name, calibration=calibration, info=rig.info) as writer:
            writer.write(capture.read_bytes(), 0.0)
    return {p.name: p for p in folder.iterdir()}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_json_follows_the_schema(files, capsys) -> None:
    code, out, err = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["cal.json"]), "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "nordic-station.analysis/1"
    assert doc["stream"]["sample_rate_hz"] == 80.0
    assert doc["stream"]["device_serial"] == "NR-0001"
    assert doc["stream"]["frames_ok"] > 0 and doc["stream"]["frames_corrupt"] == 0
    assert len(doc["reps"]) == 3
    assert doc["summary"]["stronger"] == "left"
    assert "pulls_ignored" in doc["flags"]
    assert err == ""


def test_body_mass_and_lever_arm_add_relative_force_and_torque(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["cal.json"]),
        "--body-mass", "80", "--lever-arm", "0.4", "--json",
    )  # fmt: skip
    leg = json.loads(out)["reps"][0]["left"]
    assert code == 0
    assert leg["relative_peak_force_n_per_kg"] == pytest.approx(leg["peak_force_n"] / 80, abs=1e-3)
    assert leg["peak_torque_nm"] == pytest.approx(leg["peak_force_n"] * 0.4, abs=0.01)


def test_the_table_shows_the_same_content_and_explains_every_flag(files, capsys) -> None:
    code, out, _ = _run(capsys, str(files["capture.bin"]), "--calibration", str(files["cal.json"]))
    assert code == 0
    _, doc_out, _ = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["cal.json"]), "--json"
    )
    doc = json.loads(doc_out)
    for rep in doc["reps"]:
        assert f"{rep['left']['peak_force_n']:.1f}" in out
        assert f"{rep['right']['peak_force_n']:.1f}" in out
    assert f"{doc['summary']['imbalance_max_pct']:.1f} %" in out
    for flag in doc["flags"]:
        assert f"{flag}: {describe_flag(flag)}" in out
    assert "one leg only (left)" in out


def test_a_capture_without_reps_is_valid_json_with_a_flag(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["quiet.bin"]), "--calibration", str(files["cal.json"]), "--json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["reps"] == [] and "no_reps" in doc["flags"]
    assert doc["summary"]["left"]["max_force_n"] is None


def test_another_rigs_certificate_is_a_warning_and_a_flag(files, capsys) -> None:
    code, out, err = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["other.json"]), "--json"
    )
    assert code == 0
    assert "certificate_serial_mismatch" in json.loads(out)["flags"]
    assert "warning" in err and "NR-9999" in err and "NR-0001" in err


def test_an_expired_certificate_is_a_warning_and_a_flag(files, capsys) -> None:
    code, out, err = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["expired.json"]), "--json"
    )
    assert code == 0
    assert "certificate_expired" in json.loads(out)["flags"]
    assert "expired on 2020-12-31" in err


def test_a_station_recording_uses_the_calibration_it_recorded(files, capsys) -> None:
    code, out, _ = _run(capsys, str(files["rec.nsrec"]), "--json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["reps"]) == 3 and doc["source"]["kind"] == "recording"
    code, out2, _ = _run(
        capsys, str(files["capture.bin"]), "--calibration", str(files["cal.json"]), "--json"
    )
    assert json.loads(out2)["summary"] == doc["summary"]


def test_a_text_capture_with_its_rate_line_or_with_rate(files, capsys) -> None:
    code, out, _ = _run(
        capsys, str(files["text.txt"]), "--calibration", str(files["cal.json"]), "--json"
    )
    assert code == 0 and len(json.loads(out)["reps"]) == 3
    code, out, _ = _run(
        capsys,
        str(files["norate.txt"]),
        "--calibration",
        str(files["cal.json"]),
        "--rate",
        "80",
        "--json",
    )
    assert code == 0 and json.loads(out)["stream"]["sample_rate_hz"] == 80.0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["empty.bin", "--calibration", "cal.json"], ["empty.bin"]),
        (["random.bin", "--calibration", "cal.json"], ["no samples"]),
        (["missing.bin", "--calibration", "cal.json"], ["missing.bin"]),
        (["capture.bin", "--calibration", "nothere.json"], ["nothere.json", "not found"]),
        (["capture.bin", "--calibration", "notjson.json"], ["notjson.json", "not valid JSON"]),
        (["capture.bin", "--calibration", "wrong.json"], ["not a calibration certificate"]),
        (["norate.txt", "--calibration", "cal.json"], ["--rate HZ"]),
        (["capture.bin"], ["raw capture", "--calibration CAL.json"]),
        (["nocal.nsrec"], ["no calibration", "--calibration CAL.json"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(files, capsys, tmp_path, argv, words) -> None:
    def where(arg: str) -> str:
        if arg.startswith("--"):
            return arg
        return str(files.get(arg, tmp_path / arg))

    code, out, err = _run(capsys, *[where(a) for a in argv])
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nordic-station: error: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--body-mass", "abc"), ("--body-mass", "-70"), ("--body-mass", "0"), ("--lever-arm", "nan"),
     ("--rate", "-80")],
)  # fmt: skip
def test_bad_numbers_are_usage_errors(files, capsys, option, value) -> None:
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "analyze",
                str(files["capture.bin"]),
                "--calibration",
                str(files["cal.json"]),
                option,
                value,
            ]
        )
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "positive number" in err[0]
