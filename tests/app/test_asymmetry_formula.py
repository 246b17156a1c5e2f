"""The clinic's asymmetry formula (issue 15 §4, metrics.md "Asymmetry formulas"): a new
test is analysed in the preference, and the live screen, Results (figures, table) and the
test report name the formula the test was analysed in; the colour bands stay on the
percentage difference of the same legs, so a negative signed figure is still red."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.app.live import test_run as tr
from station.app.settings import preferences
from station.app.shell import theme
from station.present.formulas import band_percent, formula_text, point_band, stored_formula
from station.present.history_data import point_from_summary
from station.present.preferences import Preferences
from station.present.report_content import gather_test, report_html_for_test, summary_table
from station.present.team_data import concerns
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui

SIGNED = "100 × (L − R) ÷ max(L, R)"


def _connect(qtbot: Any, window: Any, url: str) -> Any:
    window.screens["connect"].connect_to(url)
    screen = window.screens["test"]
    wait_for(qtbot, lambda: screen.session is not None and screen.session.samples > 100)
    qtbot.keyClick(screen, Qt.Key.Key_T)
    return screen


def test_a_new_test_is_analysed_and_named_in_the_chosen_formula(
    qtbot: Any, window: Any, rig_name: str, messages
) -> None:
    preferences.save(window.context.settings, Preferences(asymmetry_formula="signed_pct"))
    store = window.context.store
    athlete = store.athletes.add("Ada Example")
    window.screens["athletes"].refresh()
    window.screens["athletes"].select(athlete.id)
    url = (
        f"virtual://{rig_name}?rate=200&rest=1.2&rise=0.7&fall=0.3&quiet=3.2&reps=3"
        "&left_peak=300&right_peak=420&speed=4"
    )
    screen = _connect(qtbot, window, url)
    screen.apply_preferences()
    assert screen.analysis is not None and screen.analysis.asymmetry_formula == "signed_pct"
    assert SIGNED in screen.imbalance_label.toolTip()  # the live figure names its formula
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING, 5)
    wait_for(qtbot, lambda: len(screen.test_reps) >= 2, 20)
    live = screen.test_reps[-1]
    assert live.imbalance.formula == "signed_pct" and live.imbalance.pct < -15  # right stronger
    assert screen.imbalance_label.band.colour == theme.DANGER  # judged on |difference|
    assert screen.reps_table.item(0, 3).text().startswith("−")
    screen.clock = lambda: 1e9  # past the double-press guard
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: screen.run.state == tr.IDLE and window.context.current_test_id, 20)

    # The stored result carries the preference; its figures are signed (right stronger).
    test = store.tests.get(window.context.current_test_id)
    assert test.result is not None and test.result.settings["asymmetry_formula"] == "signed_pct"
    summary = test.result.metrics["summary"]
    assert summary["asymmetry_formula"] == "signed_pct"
    assert summary["imbalance_max_pct"] < -15 and summary["stronger_max"] == "right"
    assert summary["imbalance_max_difference_pct"] == pytest.approx(
        -summary["imbalance_max_pct"], abs=0.01
    )

    wait_for(qtbot, lambda: window.current_screen().key == "results", 5)
    results = window.screens["results"]
    assert SIGNED in results.formula_label.text()
    assert "signed percentage (signed_pct)" in results.formula_label.text()
    assert "percentage difference of the same legs" in results.formula_label.toolTip()
    assert results.imbalance_max.plain_text.startswith("−")  # the sign is kept
    assert "right stronger" in results.imbalance_max.plain_text
    assert results.imbalance_max.band.colour == theme.DANGER  # red, never green on a negative
    columns = [c.header for c in results.model.columns()]
    column = columns.index("Imbalance\n(%)")
    tip = results.model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert SIGNED in tip
    cell = results.model.index(0, column)
    assert float(cell.data().replace("−", "-")) < -15
    assert cell.data(Qt.ItemDataRole.ForegroundRole).color().name().upper() == theme.DANGER

    # The test report names the same formula and keeps the sign.
    data = gather_test(store, test.id, window.context.preferences())
    html = report_html_for_test(data)
    assert SIGNED in html and "stronger − weaker" not in html.split("<h2>")[0]
    assert "signed percentage (signed_pct)" in summary_table(summary, "N")
    assert messages.kinds() == []


def test_old_runs_are_named_in_the_default_formula() -> None:
    assert stored_formula({}) == stored_formula(None) == "pct_difference"
    assert stored_formula({"asymmetry_formula": "symmetry_index"}) == "symmetry_index"
    assert formula_text("pct_difference") == "100 × (stronger − weaker) ÷ stronger"
    assert formula_text("symmetry_index").startswith("100 × (L − R) ÷ ((L + R) ÷ 2)")


@pytest.mark.parametrize(
    ("formula", "value", "left", "right", "band"),
    [
        ("pct_difference", 12.0, 440.0, 500.0, 12.0),
        ("signed_pct", -12.0, 440.0, 500.0, 12.0),  # the magnitude, from the legs
        ("signed_pct", -12.0, None, None, 12.0),  # no legs: |signed| is the difference
        ("symmetry_index", -12.765957, 440.0, 500.0, 12.0),  # not |SI|: 12.77 would differ
        ("symmetry_index", -12.765957, None, None, 12.0),  # exact conversion without legs
    ],
)
def test_the_band_is_judged_on_the_percentage_difference(
    formula: str, value: float, left: float | None, right: float | None, band: float
) -> None:
    assert band_percent(value, formula, left, right) == pytest.approx(band, abs=1e-4)
    assert theme.imbalance_band(band_percent(value, formula, left, right)).colour == theme.CAUTION


def test_history_points_band_on_the_difference() -> None:
    summary = {
        "left": {"max_force_n": 300.0, "avg_force_n": 290.0},
        "right": {"max_force_n": 420.0, "avg_force_n": 400.0},
        "imbalance_max_pct": -28.57,
        "imbalance_avg_pct": -27.5,
        "asymmetry_formula": "signed_pct",
    }
    point = point_from_summary(1, "2024-01-10T10:00:00+00:00", summary)
    assert point_band(point) == pytest.approx(28.571, abs=1e-3)
    assert theme.imbalance_band(point_band(point, "avg")).colour == theme.DANGER
    # the team screen flags it at 15 %, though the signed figure is negative
    assert concerns(point, None, 15.0) == ["imbalance 28.6 % ≥ 15 %"]
