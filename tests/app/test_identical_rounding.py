"""The same stored value reads the same on every screen and in every report (issue 11 §2).

6.55 % is the awkward case: the binary float is a hair below 6.55, so Python's
own ``f"{6.55:.1f}"`` writes 6.5 while a value computed another way writes 6.6.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from station.app.history.tests_table import TestsTableModel
from station.app.shell.widgets import BandLabel
from station.app.team.team_view import IMBALANCE, TeamTableModel
from station.present.history_data import TrendPoint
from station.present.numbers import MINUS
from station.present.report_content import summary_table
from station.present.team_data import TeamRow, concerns

pytestmark = pytest.mark.gui

HALF_WAY = 6.55
SUMMARY: dict[str, Any] = {
    "left": {"max_force_n": 312.5, "avg_force_n": 300.25},
    "right": {"max_force_n": 292.03, "avg_force_n": 280.0},
    "imbalance_max_pct": HALF_WAY,
    "imbalance_avg_pct": HALF_WAY,
    "stronger_max": "left",
}


def point(test_id: int, left: float, imbalance: float, day: int) -> TrendPoint:
    return TrendPoint(
        test_id, dt.datetime(2026, 5, day, 9, tzinfo=dt.UTC), left, 292.03, 300.25, 280.0,
        imbalance, imbalance, "left", None, 3, 0,
    )  # fmt: skip


def test_one_value_one_figure_everywhere(qtbot: Any) -> None:
    band = BandLabel(caption="Imbalance")
    qtbot.addWidget(band)
    band.set_imbalance(HALF_WAY, "left")
    assert "6.6 %" in band.plain_text

    history = TestsTableModel()
    history.set_points([point(1, 312.5, 3.0, 1), point(2, 312.2, HALF_WAY, 8)], "N", 60.1)
    newest = [history.index(0, c).data() for c in range(history.columnCount())]
    assert newest[6] == "6.6"
    assert history.index(1, 2).data() == "313"  # 312.5 N rounds half away from zero
    assert f"L {MINUS}0.3 N" in newest[8]  # a small change reads −0.3 N, never +0 N

    team = TeamTableModel()
    athlete = SimpleNamespace(name="Ada", sport="soccer")
    team.set_rows([TeamRow(athlete, point(2, 312.5, HALF_WAY, 8))], None, 5.0, "N")
    assert team.index(0, IMBALANCE).data() == "6.6"
    assert "imbalance 6.6 %" in concerns(point(2, 312.5, HALF_WAY, 8), None, 5.0)[0]

    report = summary_table(SUMMARY, "N")
    assert "6.6 %" in report and "6.5 %" not in report
    assert "313" in report
