"""History: trend, MDC verdicts, injuries, reference lines, comparing two tests, opening one,
and the CSV exports (off the GUI thread, as the store defines them)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.app.settings import preferences
from station.present.history_data import (
    WITHIN_MDC,
    TrendPoint,
    change_between,
    last_change,
    trend_points,
)
from station.present.preferences import Preferences
from station.present.side_switches import side_switches
from station.present.units import format_force
from tests.app.conftest import wait_for
from tests.app.stored_athletes import ADA_TESTS, populated_copy

pytestmark = pytest.mark.gui


def point(test_id: int, left: float, right: float, day: int = 1) -> TrendPoint:
    return TrendPoint(
        test_id,
        dt.datetime(2026, 1, day, tzinfo=dt.UTC),
        left,
        right,
        left,
        right,
        10.0,
        10.0,
        "left",
        1.1,
        3,
        0,
    )


def test_a_change_is_real_only_beyond_the_mdc() -> None:
    changes = change_between(point(1, 300, 300), point(2, 360.1, 240.0, 2), 60.1)
    assert changes["left"].label == WITHIN_MDC  # exactly the MDC is not a change
    assert changes["right"].label == WITHIN_MDC
    assert changes["right"].delta_n == pytest.approx(-60.0)
    assert change_between(point(1, 300, 300), point(2, 300, 239.8), 60.1)["right"].real
    assert last_change([point(1, 300, 300)], 60.1) == {}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history-screen")


@pytest.fixture
def made(template: Path, data_dir: Path) -> Any:
    """The populated store, copied into this test's data folder before the window opens it."""
    return populated_copy(template, data_dir)


@pytest.fixture
def history(made: Any, window: Any) -> tuple[Any, Any]:
    screen = window.screens["history"]
    window.show_screen("history")
    screen.show_athlete(made.ada.id)
    return screen, made


def test_trend_shows_tests_lines_injuries_and_the_last_change(history: tuple[Any, Any]) -> None:
    screen, made = history
    store = screen.store
    assert screen.model.rowCount() == len(ADA_TESTS)
    expected = trend_points(store.tests.of_athlete(made.ada.id))
    assert [p.test_id for p in screen.trend.points] == [p.test_id for p in expected]
    labels = "\n".join(screen.trend.labels)
    # Ada plays soccer: Timmins' line with its source, her dated injury, the MDC band.
    assert "Timmins et al. 2016 (soccer): avg < 337 N" in labels
    assert "Injury, left leg (2026-03-30)" in labels
    assert "± MDC 60 N around the previous max" in labels
    last = last_change(expected, 60.1)
    assert last["left"].real and not last["right"].real
    left = format_force(last["left"].delta_n, "N", signed=True)
    right = format_force(last["right"].delta_n, "N", signed=True)
    assert left.startswith("+6")  # the virtual athlete's left leg gained about 67 N
    assert f"left {left}: REAL CHANGE" in screen.change_label.text()
    assert f"right {right}: within MDC" in screen.change_label.text()
    # The newest test is the first row, with its change judged in words.
    assert screen.model.index(0, 8).data() == f"L {left} (real change), R {right} (within MDC)"
    assert screen.model.index(len(ADA_TESTS) - 1, 8).data() == "first test with a result"


def test_display_unit_applies_to_plot_table_and_change(history: tuple[Any, Any]) -> None:
    screen, _ = history
    preferences.save(screen.context.settings, Preferences(display_unit="kgf", mdc_n=65.0))
    screen.activated()
    assert screen.model.headers()[2] == "Left max\n(kgf)"
    newest = screen.model.point(0)
    assert screen.model.index(0, 2).data() == f"{newest.left_max_n / 9.80665:.1f}"
    assert "MDC 6.6 kgf" in screen.change_label.text()
    assert screen.trend.force_plot.getAxis("left").labelText == "Force (kgf)"


def test_stronger_side_line_for_a_stored_athlete(history: tuple[Any, Any]) -> None:
    """Ada: left, left, left, right, left, left stronger; her imbalance swings by up to
    ~19 pp from test to test, so the last change (~+15.5 pp) is within its own noise."""
    screen, made = history
    line = screen.side_line.plain_text()
    assert line.startswith("Stronger side: switched 2 times in 6 tests (left 5, right 1) · ")
    assert "last imbalance change +15." in line and "pp toward the left" in line
    points = trend_points(screen.store.tests.of_athlete(made.ada.id))
    signed = [
        100 * (p.left_max_n - p.right_max_n) / max(p.left_max_n, p.right_max_n) for p in points
    ]
    steps = [b - a for a, b in zip(signed, signed[1:], strict=False)]
    mdc = 1.96 * statistics.stdev(steps)  # 1.96 × √2 × (SD ÷ √2)
    assert 25 < mdc < 31  # the hand estimate from the nominal peaks: about 28.8 pp
    assert f"within its own noise (±{mdc:.1f} pp)" in line
    assert f"change {steps[-1]:+.1f} pp" in line
    expected = side_switches(points)
    assert expected is not None and line == expected.text()
    shown = screen.side_line.text()
    assert "percentage difference (pct_difference)" in shown  # the formula is named
    assert "within its own noise" in shown and "TE = SD" in screen.side_line.toolTip()
    header = screen.model.headerData(6, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert header == "Imbalance of the max force: percentage difference (pct_difference)."
    preferences.save(screen.context.settings, Preferences(asymmetry_formula="symmetry_index"))
    screen.activated()
    assert "symmetry index (symmetry_index)" in screen.side_line.text()
    assert screen.side_line.result is not None
    assert screen.side_line.result.formula == "symmetry_index"


def test_stronger_side_line_waits_for_three_tests(made: Any, window: Any) -> None:
    screen = window.screens["history"]
    window.show_screen("history")
    squad = made.squad[0]  # one test only
    screen.show_athlete(squad.id)
    line = screen.side_line.plain_text()
    assert line.startswith("Stronger side: left in the only test · ")
    assert "not enough tests to judge (3 tests needed, 1 so far)" in line
    screen.show_athlete(made.squad[-1].id)  # no test at all: no line
    assert screen.side_line.plain_text() == ""


def test_undated_injury_is_listed_not_plotted(history: tuple[Any, Any]) -> None:
    screen, made = history
    screen.store.athletes.add_injury(made.ada, "right", None, "old tear, date unknown")
    screen.refresh()
    assert "1 injury without a date" in screen.banner.text()
    assert sum("Injury" in label for label in screen.trend.labels) == 1


def test_compare_two_selected_tests(history: tuple[Any, Any]) -> None:
    screen, made = history
    first, last = made.tests[made.ada.id][0], made.tests[made.ada.id][-1]
    screen.select_tests([first, last])
    assert screen.compare_button.isEnabled()
    screen.compare_selected()
    assert screen.tabs.currentIndex() == 1
    rows = {row[0]: row for row in screen.compare.rows}
    a = screen.store.tests.get(first).result.summary
    b = screen.store.tests.get(last).result.summary
    assert rows["Left max force (N)"][1] == f"{a['left']['max_force_n']:.0f}"
    assert rows["Left max force (N)"][2] == f"{b['left']['max_force_n']:.0f}"
    assert rows["Left max force (N)"][4] == "real change"
    assert rows["Imbalance on max (%)"][2] == f"{b['imbalance_max_pct']:.1f}"
    # Both tests' strongest reps are drawn, per leg, from the stored curves.
    items = screen.compare.plot.getPlotItem().listDataItems()
    curves = [c for c in items if c.xData is not None and len(c.xData) > 10]
    assert len(curves) == 4


def test_open_a_test_in_results(history: tuple[Any, Any], window: Any) -> None:
    screen, made = history
    wanted = made.tests[made.ada.id][2]
    screen.select_tests([wanted])
    screen.open_selected()
    assert window.current_screen().key == "results"
    assert window.screens["results"].test_id == wanted


def test_exports_write_the_stores_files(
    qtbot: Any, history: tuple[Any, Any], tmp_path: Path
) -> None:
    screen, made = history
    out = tmp_path / "out"
    out.mkdir()
    job = screen.export_summary(out / "ada.csv")
    wait_for(qtbot, job.done.is_set)
    # The job reports back on the GUI thread: wait for what it says, not for a fixed time.
    wait_for(qtbot, lambda: window_status(screen) == f"Exported 2 files to {out}", 5)
    rows = list(csv.DictReader((out / "ada.csv").open(encoding="utf-8")))
    assert len(rows) == len(ADA_TESTS)
    assert json.loads((out / "ada.json").read_text())["format"] == "nordic-station.summary-export/1"
    ids = made.tests[made.ada.id]
    job = screen.export_curves(ids, out / "curves")
    wait_for(qtbot, job.done.is_set)
    expected = f"Exported {2 * len(ids)} files to {out / 'curves'}"
    wait_for(qtbot, lambda: window_status(screen) == expected, 5)
    assert len(ids) == len(ADA_TESTS)
    for test_id in ids:
        header = (out / "curves" / f"test-{test_id}.csv").read_text().splitlines()[0]
        assert header.startswith("time_s,left_force_n,right_force_n")
        sidecar = json.loads((out / "curves" / f"test-{test_id}.json").read_text())
        assert sidecar["test"]["id"] == test_id


def window_status(screen: Any) -> str:
    return screen.window().statusBar().currentMessage()


def test_export_failure_is_one_dialog(
    qtbot: Any, history: tuple[Any, Any], tmp_path: Path, messages: Any
) -> None:
    screen, _ = history
    job = screen.export_summary(tmp_path / "missing" / "ada.csv")
    wait_for(qtbot, job.done.is_set)
    wait_for(qtbot, lambda: messages.shown)
    assert messages.shown[0][0] == "critical"
    assert "does not exist: create it first" in messages.shown[0][2]
