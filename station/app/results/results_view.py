"""Results of one stored test: reps table, session numbers, reference lines, rep curves.

Everything shown comes from the store: the current analysis run's metrics
(the ``nordic-station analyze`` JSON) and its curves.  Excluding a rep goes
through ``store.runs.exclude_rep`` (kept with who and why), which adds a new
analysis run; the screen then reloads, so every figure is recomputed without
the rep.  Any stored test can be shown: history (part 2) calls
:meth:`ResultsScreen.show_test` or sets ``context.current_test_id``.  Forces
are shown in the clinic's display unit (Settings); the store keeps newtons.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
)

from calibration.choice import UNCALIBRATED_KEY
from station.app.live.live_plot import leg_name, set_force_axis
from station.app.results.absent_recording import RecordingFetcher
from station.app.results.results_layout import ResultsLayout
from station.app.results.summary_cards import (
    reference_text,
    technical_details,
)
from station.app.shell import dialogs, theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.present.decision import change_for_test
from station.present.formulas import band_percent, is_signed, stored_formula
from station.present.norms import applicable, load_all, norm_lines
from station.present.numbers import count, format_number
from station.present.percentiles import standing, standing_text
from station.present.protocols import key_of, label_of
from station.present.references import NO_CUT_OFF, applicable_entries, group_text
from station.present.times import when_text
from station.present.units import format_force
from station.store import RecordingAbsentError

REP_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)


@register_screen(order=40)
class ResultsScreen(ResultsLayout, Screen):
    """The test just saved (or any stored test)."""

    key = "results"
    title = "Results"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.store = context.store
        self.test: Any = None
        self.metrics: dict[str, Any] = {}
        self.curves: dict[str, np.ndarray] | None = None
        self.test_id: int | None = None
        self.unit = context.display_unit()
        self._athlete: Any = None
        self._build()
        self.fetcher = RecordingFetcher(self, getattr(self.store, "folder", None))
        context.test_saved.connect(self.show_test)
        context.preferences_changed.connect(lambda _prefs: self._unit_may_have_changed())

    # -- showing a test ----------------------------------------------------------------
    def activated(self) -> None:
        wanted = self.context.current_test_id
        if wanted is not None and wanted != self.test_id:
            self.show_test(wanted)
        else:
            self._unit_may_have_changed()

    def _unit_may_have_changed(self) -> None:
        """Settings may have switched the display unit: show the same test in the new one."""
        unit = self.context.display_unit()
        if unit != self.unit:
            self.unit = unit
            set_force_axis(self.plot.getPlotItem(), unit, **{"font-size": "12pt"})
            if self.test is not None and self._athlete is not None:
                self._fill(self._athlete)

    def show_test(self, test_id: int) -> None:
        """Load a stored test and show its current result."""
        try:
            test = self.store.tests.get(test_id)
            curves = self.store.tests.curves(test_id, raw=False)  # plots filtered forces
            athlete = self.store.athletes.get(test.athlete_id)
        except Exception as exc:  # noqa: BLE001 - a dialog, never a dead screen
            dialogs.show_error(self, "Results", f"Cannot load test {test_id}: {user_message(exc)}")
            return
        self.test_id = int(test_id)
        self.context.current_test_id = self.test_id
        self.test = test
        self.curves = curves
        self.metrics = dict(test.result.metrics) if test.result is not None else {}
        self._athlete = athlete
        unit = self.context.display_unit()
        if unit != self.unit:
            self.unit = unit
            set_force_axis(self.plot.getPlotItem(), unit, **{"font-size": "12pt"})
        self._fill(athlete)

    def _fill(self, athlete: Any) -> None:
        test, metrics = self.test, self.metrics
        protocol = label_of(test)
        self.heading.setText(f"{athlete.name} — {when_text(test.recorded_at)}")
        self.heading.setToolTip(f"{self.heading.text()} ({protocol})")
        parts = [f"<b>{escape(protocol)}</b>", count(len(metrics.get("reps") or []), "rep")]
        if test.body_mass_kg:
            parts.append(f"body mass {test.body_mass_kg:g} kg")
        if test.lever_arm_m:
            parts.append(f"lever arm {test.lever_arm_m:g} m")
        if test.recovered:
            parts.append("recovered: the station stopped during this test")
        self.subheading.setText(" · ".join(parts))
        self.notes.setPlainText(test.notes or "")
        self._fill_banners()
        summary = metrics.get("summary") or {}
        for card, leg in ((self.left_card, "left"), (self.right_card, "right")):
            card.set_summary(summary.get(leg) or {}, self.unit)
            legs = summary.get(leg) or {}
            if test.protocol == "isometric":  # reps holding this leg (one may have none)
                card.title.setText(
                    f"{leg.capitalize()} leg · {count(legs.get('reps') or 0, 'rep')}"
                )
            else:
                card.title.setText(f"{leg.capitalize()} leg")
        formula = stored_formula(test.result.settings if test.result is not None else None)
        self._show_formula(formula)
        for label, kind in ((self.imbalance_max, "max"), (self.imbalance_avg, "avg")):
            value = summary.get(f"imbalance_{kind}_pct")
            left = (summary.get("left") or {}).get(f"{kind}_force_n")
            right = (summary.get("right") or {}).get(f"{kind}_force_n")
            label.set_imbalance(  # banded on the percentage difference of the same legs
                value,
                summary.get(f"stronger_{kind}"),
                band=band_percent(value, formula, left, right),
                signed=is_signed(formula),
            )
        self.ratio_label.setText(
            f"L:R ratio {format_number(summary.get('l_r_ratio_max'), 2)} (max), "
            f"{format_number(summary.get('l_r_ratio_avg'), 2)} (avg)"
        )
        self._fill_change()
        self.details.setText(technical_details(self.store, test, metrics))
        self._fill_references(
            applicable_entries(metrics.get("references") or [], self.prefs().lines_for(athlete)),
            group_text(athlete.sport, athlete.sex),
        )
        self.model.set_reps(metrics.get("reps") or [], self.unit, formula)
        self.rfd_model.set_result(metrics)
        self._fill_standing(athlete)
        self._fit_table()
        self._plot_curves()
        self._selection_changed()

    def _fit_table(self) -> None:
        """Tall enough for a few reps; a longer set scrolls (1366×768 keeps the curves)."""
        rows = min(max(self.model.rowCount(), 2), 4)  # more rows scroll: the plot keeps room
        header = self.table.horizontalHeader().height() or 52
        height = header + rows * self.table.verticalHeader().defaultSectionSize() + 24
        self.table.setMinimumHeight(height)

    def _fill_banners(self) -> None:
        voided = bool(getattr(self.test, "voided", False))
        self.void_button.setText("Undo void…" if voided else "Void test…")
        if voided:
            self.void_banner.show_message(
                f"VOIDED: {self.test.void_reason}. This test is left out of history, trends, "
                "the team view and reports; its recording is kept.",
                "error",
            )
        else:
            self.void_banner.clear_message()
        certificate = None
        try:
            certificate = self.store.certificates.of_test(self.test)
        except Exception:  # noqa: BLE001 - a missing certificate is said below
            certificate = None
        if certificate is not None and certificate.data.get(UNCALIBRATED_KEY):
            self.calibration_banner.show_message(
                "UNCALIBRATED: this test used a nominal gain, not a calibration certificate. "
                "Its forces are not true newtons.",
                "error",
            )
        else:
            self.calibration_banner.clear_message()
        descriptions = self.metrics.get("flag_descriptions") or {}
        lines = [
            f"{text[:1].upper()}{text[1:]}."
            for flag, text in descriptions.items()
            if flag != "reps_excluded"
        ]
        lines += [w for w in self.metrics.get("warnings") or [] if w not in lines]
        if lines:
            self.flags_banner.show_message("\n".join(f"• {line}" for line in lines), "warning")
        else:
            self.flags_banner.clear_message()

    def prefs(self) -> Any:
        return self.context.preferences()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _fill_change(self) -> None:
        """The change since the previous valid test, with its MDC verdict."""
        mdc = self.prefs().mdc_n
        try:
            change = change_for_test(self.store, self.test, mdc)
        except Exception as exc:  # noqa: BLE001 - the rest of the result still shows
            self.change_title.setText("Change since the previous valid test")
            self.change_text.setText(f"Cannot read the earlier tests: {user_message(exc)}")
            return
        self.change_title.setText(change.heading() if change.previous else "Change")
        if change.previous is None:
            self.change_text.setText(change.reason)
            return
        parts = []
        for leg, c in change.changes.items():
            colour = theme.LEFT_COLOUR if leg == "left" else theme.RIGHT_COLOUR
            verdict = c.label.upper() if c.real else c.label
            parts.append(
                f"<span style='color:{colour}'>{leg.capitalize()} "
                f"{format_force(c.delta_n, self.unit, signed=True)}: {verdict}</span>"
            )
        self.change_text.setText(
            "<br>".join(parts) + "<br><span style='font-weight:normal; font-size:11pt'>"
            f"a change is real beyond the MDC of {format_force(mdc, self.unit)}</span>"
        )

    def _fill_references(self, references: list[dict[str, Any]], group: str = "") -> None:
        while self.references_box.count():
            widget = self.references_box.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        if not references and getattr(self.test, "protocol", "") == "isometric":
            label = QLabel("The published cut-offs are Nordic figures: none applies here.")
            label.setWordWrap(True)
            self.references_box.addWidget(label)
        elif not references:
            label = QLabel(f"{NO_CUT_OFF} ({group}).")
            label.setWordWrap(True)
            label.setToolTip(
                "Published cut-offs apply to the sport and sex they were measured in; "
                "another group's line is not shown."
            )
            self.references_box.addWidget(label)
        for entry in references:
            text, tooltip, crossed = reference_text(entry, self.unit)
            label = QLabel(("⚠ " if crossed else "✓ ") + text)
            label.setWordWrap(True)
            label.setToolTip(tooltip)
            label.setStyleSheet(f"color: {theme.DANGER};" if crossed else f"color: {theme.GOOD};")
            self.references_box.addWidget(label)
        self.references_scroll.content_changed()

    def _fill_standing(self, athlete: Any) -> None:
        """Percentile within the clinic's own data, and the published norms that apply."""
        if self.test.result is None:
            self.standing_label.setText("")
            return
        try:
            lines = [standing_text(standing(self.store, self.test))]
            tables = load_all(getattr(self.store, "folder", None))
            lines += norm_lines(
                applicable(tables.tables, key_of(self.test), athlete.sport, athlete.sex),
                self.metrics.get("summary") or {},
            )
            lines += [f"Norm table skipped: {p}" for p in tables.problems]
        except Exception as exc:  # noqa: BLE001 - the rest of the result still shows
            lines = [f"Cannot place this result: {user_message(exc)}"]
        self.standing_label.setText("\n".join(lines))

    def _plot_curves(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        curves = self.curves
        reps = self.metrics.get("reps") or []
        if not curves or not reps or "time_s" not in curves:
            return
        time_s = np.asarray(curves["time_s"], dtype=np.float64)
        top = bottom = 0.0
        for i, rep in enumerate(reps):
            start, end = rep.get("start_s"), rep.get("end_s")
            if start is None or end is None:
                continue
            lo, hi = np.searchsorted(time_s, [start, end + 1e-9])
            x = time_s[lo:hi] - start
            style = REP_STYLES[i % len(REP_STYLES)]
            excluded = bool(rep.get("excluded"))
            for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
                if "legs" in rep and rep.get(leg) is None:
                    continue  # the leg was not in this rep: no curve, never a line at 0
                y = np.asarray(curves.get(f"{leg}_n", []), dtype=np.float64)[lo:hi]
                if len(y) != len(x):
                    continue
                pen = pg.mkPen("#9AA0A6" if excluded else colour, width=2, style=style)
                item.plot(x, y, pen=pen, connect="finite")
                if np.isfinite(y).any():
                    top = max(top, float(np.nanmax(y)))
                    bottom = min(bottom, float(np.nanmin(y)))
            # One legend line per rep (its dash pattern), and one per leg (its colour).
            label = f"Rep {rep['number']}" + (" (excluded)" if excluded else "")
            self.legend.addItem(
                pg.PlotDataItem(pen=pg.mkPen("#3C4043", width=2, style=style)), label
            )
        for leg, colour in (("Left", theme.LEFT_COLOUR), ("Right", theme.RIGHT_COLOUR)):
            self.legend.addItem(
                pg.PlotDataItem(pen=pg.mkPen(colour, width=3)), leg_name(leg, self.unit)
            )
        lines = applicable_entries(
            self.metrics.get("references") or [], self.prefs().lines_for(self._athlete)
        )
        forces = sorted(
            (e for e in lines if e.get("measure") == "force_n"), key=lambda e: float(e["value"])
        )
        if top > 0:  # room above the curves for the legend's row (a plateau reaches the top)
            highest = max([top, *(float(e["value"]) for e in forces)])
            item.setYRange(bottom - 0.04 * highest, highest * 1.35, padding=0)
        for i, entry in enumerate(forces):
            _, tooltip, _ = reference_text(entry, self.unit)
            value_n = float(entry["value"])
            shown = format_force(value_n, self.unit)
            line = pg.InfiniteLine(
                pos=value_n,
                angle=0,
                pen=pg.mkPen(theme.REFERENCE_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                label=f"{shown} ({entry.get('source', '').split(' et al')[0]})",
                # Labels take turns left and right, above and below: they never meet.
                # (right of the legend, which runs along the top left)
                labelOpts={
                    "position": 0.97 if i % 2 == 0 else 0.6,
                    "color": theme.REFERENCE_COLOUR,
                    "anchors": [(1, 0), (1, 0)] if i % 2 == 0 else [(1, 1), (1, 1)],
                },
            )
            line.setToolTip(tooltip)
            item.addItem(line)

    # -- exclusions and notes ------------------------------------------------------------
    def selected_rep(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rep(rows[0].row())

    def _selection_changed(self) -> None:
        rep = self.selected_rep()
        self.exclude_button.setEnabled(rep is not None and not rep.get("excluded"))
        self.include_button.setEnabled(rep is not None and bool(rep.get("excluded")))

    def select_rep(self, number: int) -> None:
        for row in range(self.model.rowCount()):
            if self.model.rep(row).get("number") == number:
                self.table.selectRow(row)
                return

    def exclude_selected(self) -> None:
        rep = self.selected_rep()
        if rep is None or self.test_id is None:
            return
        reason = dialogs.ask_reason(
            self,
            f"Exclude rep {rep['number']}",
            f"Why is rep {rep['number']} excluded? (kept with the test, with your name)",
        )
        if reason:
            self.exclude_rep(int(rep["number"]), reason)

    def exclude_rep(self, number: int, reason: str) -> None:
        """Exclude a rep with a reason; every figure is recomputed without it."""
        self._change_rep(lambda: self.store.runs.exclude_rep(self.test_id, number, reason), number)

    def include_selected(self) -> None:
        rep = self.selected_rep()
        if rep is not None and self.test_id is not None:
            number = int(rep["number"])
            self._change_rep(lambda: self.store.runs.include_rep(self.test_id, number), number)

    def _change_rep(self, action: Any, number: int) -> None:
        try:
            action()
        except RecordingAbsentError as exc:  # the analysis runs again on the raw bytes
            again = lambda: self._change_rep(action, number)  # noqa: E731
            self.fetcher.offer(exc, "Excluding or including a rep", again)
            return
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Results", user_message(exc))
            return
        assert self.test_id is not None
        self.show_test(self.test_id)
        self.select_rep(number)
        self.context.test_changed.emit(self.test_id)

    def ask_void(self) -> None:
        """Void the test on screen with a reason, or undo its void."""
        if self.test is None:
            return
        if self.test.voided:
            reason = dialogs.ask_reason(
                self, "Undo the void", "Why does this test count again? (kept in the audit trail)"
            )
        else:
            reason = dialogs.ask_reason(
                self,
                "Void this test",
                "Why is this test void (started by mistake, wrong athlete…)? It leaves history, "
                "trends, the team view and reports; its recording and audit trail are kept, "
                "and the void can be undone.",
            )
        if reason:
            self.set_voided(not self.test.voided, reason)

    def set_voided(self, voided: bool, reason: str) -> bool:
        """Void (or unvoid) the test on screen; False with a dialog when the store refuses."""
        assert self.test_id is not None
        try:
            if voided:
                self.store.tests.void(self.test_id, reason, self.context.operator or None)
            else:
                self.store.tests.unvoid(self.test_id, reason, self.context.operator or None)
        except Exception as exc:  # noqa: BLE001 - a dialog, never a dead screen
            dialogs.show_error(self, "Results", user_message(exc))
            return False
        self.show_test(self.test_id)
        self.context.test_changed.emit(self.test_id)
        self.context.show_status("Test voided" if voided else "Void undone: the test counts", 4000)
        return True

    def save_notes(self) -> None:
        if self.test_id is None:
            return
        try:
            self.store.tests.update(self.test_id, notes=self.notes.toPlainText().strip())
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Results", f"The notes were not saved: {user_message(exc)}")
            return
        self.context.show_status("Notes saved", 3000)
        self.context.test_changed.emit(self.test_id)

    def shutdown(self) -> None:
        self.fetcher.shutdown()


__all__ = ["ResultsScreen", "reference_text"]
