"""The History screen's stronger-side line: how often the stronger leg switched, and whether
the last change of imbalance is beyond the athlete's own noise (issue 15 §4).

The numbers and words come from :mod:`station.present.side_switches` (the history report
prints the same line); here they only get the theme's colours and a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from station.app.shell import theme
from station.present.history_data import TrendPoint
from station.present.numbers import format_number
from station.present.side_switches import MIN_TESTS, SideSwitches, side_switches


def _tally(result: SideSwitches) -> str:
    left = f"<span style='color:{theme.LEFT_COLOUR}'>left {result.stronger('left')}</span>"
    right = f"<span style='color:{theme.RIGHT_COLOUR}'>right {result.stronger('right')}</span>"
    equal = f", equal {result.stronger('equal')}" if result.stronger("equal") else ""
    return f"({left}, {right}{equal})"


def side_html(result: SideSwitches) -> str:
    """The line of :meth:`SideSwitches.text` with the sides and the verdict in colour."""
    switches = result.switch_text()
    cut = switches.rfind(" (")
    if cut > 0:  # the tally in the legs' colours
        switches = f"{switches[:cut]} {_tally(result)}"
    noise = result.noise
    if noise is None:
        judged = f"<span style='color:{theme.NEUTRAL}'>{result.noise_text()}</span>"
    else:
        colour = theme.CAUTION if noise.beyond else theme.NEUTRAL
        head, _, verdict = result.noise_text().partition(": ")
        weight = "bold" if noise.beyond else "normal"
        judged = f"{head}: <span style='color:{colour}; font-weight:{weight}'>{verdict}</span>"
    return (
        f"Stronger side: {switches} · {judged} "
        f"<span style='color:{theme.NEUTRAL}'>({result.formula_text()})</span>"
    )


class SideLine(QLabel):
    """One line under the change text; empty without an athlete or a test."""

    def __init__(self) -> None:
        super().__init__("")
        self.setObjectName("sideLine")
        self.setFont(theme.font(12))
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.result: SideSwitches | None = None

    def show_points(self, points: Sequence[TrendPoint], formula: str) -> None:
        """Judge ``points`` (one protocol group, oldest first) in ``formula`` and show it."""
        self.result = side_switches(points, formula)
        if self.result is None:
            self.setText("")
            self.setToolTip("")
            return
        self.setText(side_html(self.result))
        self.setToolTip(self._tooltip(self.result))

    def plain_text(self) -> str:
        """The line without colours (tests, screen readers)."""
        return self.result.text() if self.result is not None else ""

    @staticmethod
    def _tooltip(result: SideSwitches) -> str:
        parts = [result.explanation()]
        if result.noise is not None:
            parts.append(
                f"Here: typical error {format_number(result.noise.te_pp, 1)} pp from "
                f"{result.noise.differences} test-to-test differences, so a change must exceed "
                f"{format_number(result.noise.mdc_pp, 1)} pp to be more than noise."
            )
        else:
            parts.append(f"Needs {MIN_TESTS} tests with a result in this protocol.")
        return "\n\n".join(parts)
