"""PDF reports of a test and of a history: what they say (from the document they are painted
from, and from the PDF itself with pdftotext when poppler-utils is installed)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from station.app.reports.report_pdf import (
    history_report_document,
    report_document_for_test,
    write_history_report,
    write_test_report,
)
from station.present.preferences import Preferences
from station.store import open_store
from tests.app.stored_athletes import populated_copy

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture
def filled(qapp: Any, template: Path, tmp_path: Path) -> Any:
    made = populated_copy(template, tmp_path / "data")
    with open_store(tmp_path / "data", actor="Dr Who") as store:
        yield store, made


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's own text is not checked")
    out = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    # One line per paragraph, ligatures ("ﬀ") as letters: what a reader sees.
    return " ".join(unicodedata.normalize("NFKC", out).split())


def test_test_report_says_everything_a_clinician_needs(filled: Any, tmp_path: Path) -> None:
    store, made = filled
    test_id = made.tests[made.ada.id][-1]
    store.runs.exclude_rep(test_id, 2, "heel lifted off the pad")
    store.tests.update(test_id, notes="Felt a twinge on the left at rep 3.")
    test = store.tests.get(test_id)
    summary = test.result.summary
    text = report_document_for_test(store, test_id, Preferences()).toPlainText()
    for expected in (
        "Ada Lovelace (S01)",
        "2026-06-15 09:00 UTC",
        "NR-SIM-0001, 80 Hz",
        f"#{test.certificate_id} for rig NR-SIM-0001",
        "valid until 2027-01-01",
        f"{summary['left']['max_force_n']:.0f}",
        f"{summary['right']['avg_force_n']:.0f}",
        f"Imbalance on max force: {summary['imbalance_max_pct']:.1f} % (left stronger)",
        "EXCLUDED by Dr Who: heel lifted off the pad",
        "Timmins et al. 2016, Br J Sports Med",
        "avg force < 337 N",
        "never a diagnosis",
        "reps excluded",
        "Felt a twinge on the left at rep 3.",
        "low-pass 10.0 Hz",
    ):
        assert expected in text, expected
    pages = write_test_report(store, test_id, tmp_path / "test.pdf", Preferences())
    assert pages >= 1
    printed = pdf_text(tmp_path / "test.pdf")
    assert "Nordic hamstring strength test" in printed
    assert "EXCLUDED by Dr Who: heel lifted off the pad" in printed
    assert "Timmins et al. 2016" in printed


def test_report_in_kilograms_force(filled: Any) -> None:
    store, made = filled
    test_id = made.tests[made.ada.id][0]
    left = store.tests.get(test_id).result.summary["left"]["max_force_n"]
    text = report_document_for_test(store, test_id, Preferences(display_unit="kgf")).toPlainText()
    assert "kilograms-force (kgf)" in text and "Max (kgf)" in text
    assert f"{left / 9.80665:.1f}" in text
    assert "avg force < 34.4 kgf (337 N)" in text  # the source's own line stays visible


def test_history_report(filled: Any, tmp_path: Path) -> None:
    store, made = filled
    text = history_report_document(store, made.ada.id, Preferences()).toPlainText()
    for expected in (
        "Nordic hamstring strength: history",
        "6 tests",
        "real change",
        "within MDC",
        "2026-03-30: left leg — hamstring strain, grade 1",
        "minimal detectable change in use, 60 N",
        "Timmins et al. 2016, Br J Sports Med",
        "Stronger side and imbalance noise",
        "Stronger side: switched 2 times in 6 tests (left 5, right 1) · last imbalance change",
        "toward the left: within its own noise (±",
        "percentage difference (pct_difference)",
        "(Hopkins 2000)",
        "Imbalance (%) of the max force in the table: percentage difference (pct_difference)",
    ):
        assert expected in text, expected
    by_index = Preferences(asymmetry_formula="symmetry_index")
    assert "symmetry index (symmetry_index)" in (
        history_report_document(store, made.ada.id, by_index).toPlainText()
    )
    assert write_history_report(store, made.ada.id, tmp_path / "h.pdf", Preferences()) >= 1
    assert "hamstring strain" in pdf_text(tmp_path / "h.pdf")


def test_report_to_a_missing_folder_fails_in_one_line(filled: Any, tmp_path: Path) -> None:
    store, made = filled
    with pytest.raises(OSError, match="does not exist"):
        write_test_report(
            store, made.tests[made.ada.id][0], tmp_path / "no" / "r.pdf", Preferences()
        )


def test_report_from_the_history_screen(
    made_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, made = made_window
    screen = window.screens["history"]
    window.show_screen("history")
    screen.show_athlete(made.ada.id)
    screen.select_tests([made.tests[made.ada.id][1]])
    target = tmp_path / "picked.pdf"
    monkeypatch.setattr(
        "station.app.history.history_view.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(target), "PDF (*.pdf)"),
    )
    screen.ask_test_report()
    assert target.stat().st_size > 10_000
    assert "Report saved" in window.statusBar().currentMessage()


@pytest.fixture
def made_window(template: Path, data_dir: Path, make_window: Any) -> Any:
    made = populated_copy(template, data_dir)
    return make_window(), made


def test_a_reference_line_near_the_top_keeps_room_for_its_label(
    qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cut-off just above the strongest rep (337 N over a 321 N peak) was drawn at the very
    top of the rep plot, its label above it cut off by the plot's edge."""
    import numpy as np

    from station.app.reports import plot_images

    drawn: list[Any] = []
    render = plot_images.render

    def keep(view: Any, width: int, height: int, scale: float = 3.0) -> Any:
        drawn.append(view)  # kept, to read the range it was drawn with
        return render(view, width, height, scale)

    monkeypatch.setattr(plot_images, "render", keep)
    time_s = np.arange(0, 4, 0.01)
    force = 321.0 * np.sin(np.pi * time_s / 4)
    curves = {"time_s": time_s, "left_n": force, "right_n": force * 0.9}
    metrics = {"reps": [{"number": 1, "start_s": 0.0, "end_s": 3.99}]}
    plot_images.rep_curves_image(metrics, curves, "N", [(337.0, "Timmins et al. 2016")])
    low, high = drawn[0].ci.getItem(2, 0).viewRange()[1]
    assert low <= 0.0
    assert high >= 337.0 * 1.15  # the label (about a tenth of the plot's height) fits above
