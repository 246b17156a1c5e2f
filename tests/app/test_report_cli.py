"""``nordic-station report``: the app's PDFs from the command line (issue 11 §3)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from station.cli import main as cli_main
from station.present.preferences import SETTINGS_FILE
from tests.app.stored_athletes import populated_copy

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-cli")


@pytest.fixture
def made(template: Path, tmp_path: Path, qapp: Any) -> tuple[Path, Any]:
    folder = tmp_path / "data"
    done = populated_copy(template, folder)
    return folder, done


def pdf_text(path: Path, *pages: int) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    options = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    out = subprocess.run(
        ["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(unicodedata.normalize("NFKC", out).split())


def test_test_report_page_one_decides_page_two_explains(
    made: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, done = made
    (folder / SETTINGS_FILE).write_text(
        "[preferences]\nclinic_name=Northside Sports Clinic\ndisplay_unit=N\n", encoding="utf-8"
    )
    test_id = done.tests[done.ada.id][-1]
    out = tmp_path / "ada.pdf"
    assert cli_main(["--data-dir", str(folder), "report", str(test_id), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and out.stat().st_size > 10_000
    first = pdf_text(out, 1)
    for expected in (
        "Northside Sports Clinic",
        "Nordic hamstring strength test",
        "Ada Lovelace",
        "N/kg",
        "Imbalance (max)",
        "100 × (stronger − weaker) ÷ stronger",
        "Change since 2026-05-18",
        "real change",
        "Cut-off for this athlete",
        "Timmins et al. 2016",
    ):
        assert expected in first, expected
    assert "Technical appendix" not in first
    second = pdf_text(out, 2)
    assert "Technical appendix" in second and "Fingerprint" in second


def test_history_report_and_refusals(
    made: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, done = made
    out = tmp_path / "history.pdf"
    base = ["--data-dir", str(folder), "report"]
    assert cli_main([*base, "--athlete", "S01", "--history", "--out", str(out)]) == 0
    text = pdf_text(out)
    assert "Nordic hamstring strength: history" in text and "2026-03-30" in text
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True)
    assert len(images.stdout.splitlines()) - 2 >= 2  # the trend and the N/kg trend
    capsys.readouterr()
    # The file exists: refused in one line, exit 2, never a traceback.
    assert cli_main([*base, "--athlete", "S01", "--history", "--out", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert cli_main([*base, "1", "--athlete", "S01", "--out", str(tmp_path / "x.pdf")]) == 2
    assert cli_main([*base, "99999", "--out", str(tmp_path / "y.pdf")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 2
    # A voided test is left out of reports.
    from station.store import open_store

    voided = done.tests[done.ada.id][0]
    with open_store(folder, actor="tester") as store:
        store.tests.void(voided, "wrong athlete")
    assert cli_main([*base, str(voided), "--out", str(tmp_path / "v.pdf")]) == 2
    assert "voided" in capsys.readouterr().err
    assert not (tmp_path / "v.pdf").exists()


def test_a_history_report_is_one_protocol_group(
    made: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ada's six Nordic tests and one isometric 30° test: each report holds one group."""
    from firmware_bridge.virtual_rig import VirtualRig
    from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
    from station.store import open_store
    from tests.app.stored_athletes import RIG_SERIAL, certificate

    folder, done = made
    model = RampModel((RampContraction("left", 4.0, 1200.0, 420.0),), seed=1, rate_hz=100.0)
    capture = tmp_path / "iso.bin"
    rig = VirtualRig(model, rate_hz=100.0, seed=1, serial_number=RIG_SERIAL)
    capture.write_bytes(rig.capture_bytes(model.session_duration_s()))
    with open_store(folder, actor="tester") as store:
        store.new_tests.import_file(
            done.ada, capture, certificate=certificate(), recorded_at="2026-07-01T10:00:00Z",
            protocol="isometric", knee_angle_deg=30,
        )  # fmt: skip
    base = ["--data-dir", str(folder), "report", "--athlete", "S01", "--history"]
    nordic, iso = tmp_path / "nordic.pdf", tmp_path / "iso.pdf"
    assert cli_main([*base, "--out", str(nordic)]) == 0
    assert "Nordic · 6 tests" in pdf_text(nordic)
    iso_args = ["--protocol", "isometric", "--knee-angle", "30", "--out", str(iso)]
    assert cli_main([*base, *iso_args]) == 0
    assert "Isometric 30° · 1 test" in pdf_text(iso)
    capsys.readouterr()
    assert cli_main([*base, "--knee-angle", "30", "--out", str(tmp_path / "z.pdf")]) == 2
    assert "--protocol isometric" in capsys.readouterr().err
