"""Team: every athlete's latest result, sortable, with concerns standing out in colour, icon
and words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.analysis import DEFAULT_REFERENCES
from station.app.team.team_view import ATHLETE, IMBALANCE, LEFT_MAX, SORT_ROLE
from station.present.team_data import concerns, latest_results, teams
from tests.app.stored_athletes import ADA_TESTS, TEAM, populated_copy

pytestmark = pytest.mark.gui
OPAR_END = next(line for line in DEFAULT_REFERENCES if line.id == "opar2015_end")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("team-screen")


@pytest.fixture
def made(template: Path, data_dir: Path) -> Any:
    return populated_copy(template, data_dir)


@pytest.fixture
def team(made: Any, window: Any) -> Any:
    screen = window.screens["team"]
    window.show_screen("team")
    screen.team_box.setCurrentIndex(screen.team_box.findData(TEAM))
    return screen


def test_latest_result_per_athlete_adapter(made: Any, window: Any) -> None:
    store = window.context.store
    assert teams(store) == [TEAM]
    rows = {r.athlete.name: r for r in latest_results(store, TEAM)}
    assert set(rows) == {"Ada Lovelace", "Ben Carter", "Cai Duffy", "Dev Evans", "Eli Ford"}
    assert rows["Ada Lovelace"].latest.when.isoformat().startswith(ADA_TESTS[-1][0][:10])
    assert rows["Eli Ford"].latest is None
    ben = rows["Ben Carter"].latest
    assert concerns(ben, OPAR_END, 15.0) == ["left and right avg < 279 N"]
    assert concerns(None, OPAR_END, 15.0) == []


def test_latest_results_cost_two_queries_not_one_per_athlete(made: Any, window: Any) -> None:
    store = window.context.store
    expected = latest_results(store, TEAM)
    statements: list[str] = []
    conn = store.backend._conn
    conn.set_trace_callback(statements.append)
    try:
        rows = latest_results(store, TEAM)
    finally:
        conn.set_trace_callback(None)
    assert rows == expected and len(rows) == 5
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_concerns_stand_out_in_colour_icon_and_words(team: Any) -> None:
    team.line_box.setCurrentIndex(team.line_box.findData("opar2015_end"))
    team.imbalance.setValue(15.0)
    texts = {row[0]: row[-1] for row in team.row_texts()}
    assert texts["Ben Carter"] == "⚠ left and right avg < 279 N"
    assert texts["Cai Duffy"].startswith("⚠ right avg < 279 N · imbalance 23")
    assert texts["Cai Duffy"].endswith("% ≥ 15 %")
    assert texts["Ada Lovelace"].startswith("⚠ imbalance 19")
    assert texts["Dev Evans"] == "✓ no concern"
    assert texts["Eli Ford"] == "no test yet"
    model = team.model
    for row in range(model.rowCount()):
        flagged = bool(model.reasons[row])
        name = model.index(row, ATHLETE)
        assert (name.data(Qt.ItemDataRole.DecorationRole) is not None) == flagged
        assert (name.data(Qt.ItemDataRole.BackgroundRole) is not None) == flagged
    assert team.summary.text().startswith("5 athletes, 4 tested: 3 stand out")
    tip = model.index(0, ATHLETE).data(Qt.ItemDataRole.ToolTipRole)
    assert "Opar et al. 2015, Med Sci Sports Exerc" in tip and "never a diagnosis" in tip
    # Switching the imbalance line off leaves only the force concerns.
    team.imbalance.setValue(0.0)
    texts = {row[0]: row[-1] for row in team.row_texts()}
    assert texts["Ada Lovelace"] == "✓ no concern"
    assert "imbalance" not in texts["Cai Duffy"]


def test_sorting_by_value_through_the_proxy(team: Any) -> None:
    # Concerns first by default (the rugby team's own lines: imbalance only), untested last.
    names = [row[0] for row in team.row_texts()]
    assert set(names[:2]) == {"Ada Lovelace", "Cai Duffy"} and names[-1] == "Eli Ford"
    team.table.sortByColumn(LEFT_MAX, Qt.SortOrder.AscendingOrder)
    names = [row[0] for row in team.row_texts()]
    assert names[0] == "Eli Ford"  # no test sorts first
    values = [
        team.proxy.index(r, LEFT_MAX).data(SORT_ROLE) for r in range(1, team.proxy.rowCount())
    ]
    assert values == sorted(values)
    team.table.sortByColumn(IMBALANCE, Qt.SortOrder.DescendingOrder)
    assert team.row_texts()[0][0] == "Cai Duffy"


def test_double_click_opens_the_athletes_history(team: Any, window: Any, made: Any) -> None:
    rows = range(team.proxy.rowCount())
    row = next(r for r in rows if team.proxy.index(r, ATHLETE).data() == "Dev Evans")
    team.open_history(team.proxy.index(row, ATHLETE))
    assert window.current_screen().key == "history"
    assert window.screens["history"].athlete.name == "Dev Evans"


def test_team_summary_export(qtbot: Any, team: Any, tmp_path: Path) -> None:
    job = team.export_summary(tmp_path / "team.csv")
    qtbot.waitUntil(job.done.is_set, timeout=10000)
    lines = (tmp_path / "team.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(ADA_TESTS) + 3  # header, Ada's tests, one per tested teammate
