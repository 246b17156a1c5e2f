"""History: an athlete's tests over time, any two compared, reports and exports.

The trend (force per leg, imbalance, reference lines, ± MDC band, injuries)
over a table of the tests.  Two selected tests compare side by side; one
selected test opens on the Results screen or becomes a PDF report; the
athlete's whole history becomes a PDF too; and the tests export to CSV as
the store defines them.  Preferences (unit, MDC, lines) are read again each
time the screen is shown, so a change on the Settings screen shows at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station.app.history.protocol_box import ProtocolBox
from station.app.history.side_line import SideLine
from station.app.history.tests_table import TestsTableModel
from station.app.history.trend_plot import TrendPlot
from station.app.reports import export_jobs, report_pdf
from station.app.results.compare_view import CompareView, load_test
from station.app.shell import dialogs, theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import StoredDataScreen, register_screen
from station.app.shell.widgets import Banner, screen_title
from station.present.history_data import (
    TrendPoint,
    dated_injuries,
    is_training,
    last_change,
    no_change_text,
    trend_points,
)
from station.present.numbers import count
from station.present.times import time_text
from station.present.units import format_force


def safe_name(text: str) -> str:
    """A file-name-safe form of an athlete's name."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower() or "athlete"


@register_screen(order=50)
class HistoryScreen(StoredDataScreen):
    """One athlete's tests over time."""

    key = "history"
    title = "History"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.athlete: Any = None
        self.points: list[TrendPoint] = []
        self.injuries: list[Any] = []
        self._build()
        context.test_saved.connect(lambda _id: self.refresh())
        context.test_changed.connect(lambda _id: self.refresh())
        context.athletes_changed.connect(self.reload_athletes)
        context.athlete_changed.connect(self._athlete_chosen_elsewhere)
        self.reload_athletes()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.athlete_box = QComboBox()
        # A long name is cut short in the box (its list shows it whole): the window never widens.
        self.athlete_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.athlete_box.setMinimumContentsLength(22)
        self.athlete_box.setMinimumWidth(280)
        self.athlete_box.setFont(theme.font(13))
        self.athlete_box.currentIndexChanged.connect(self._athlete_index_changed)
        self.info = QLabel("")
        self.info.setObjectName("caption")
        self.change_label = QLabel("")
        self.change_label.setFont(theme.font(13, bold=True))
        self.change_label.setWordWrap(True)
        self.change_label.setTextFormat(Qt.TextFormat.RichText)
        self.side_line = SideLine()  # stronger side's switches and the imbalance's own noise
        self.banner = Banner()

        self.trend = TrendPlot(change_title=False, legend_columns=5)
        self.compare = CompareView()
        self.compare_a = QComboBox()
        self.compare_b = QComboBox()
        for box in (self.compare_a, self.compare_b):
            box.setMinimumWidth(200)
            box.currentIndexChanged.connect(lambda _i: self.show_comparison())
        compare_page = QWidget()
        compare_layout = QVBoxLayout(compare_page)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Test A"))
        pick.addWidget(self.compare_a)
        pick.addSpacing(16)
        pick.addWidget(QLabel("Test B"))
        pick.addWidget(self.compare_b)
        pick.addStretch(1)
        compare_layout.addLayout(pick)
        compare_layout.addWidget(self.compare, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.trend, "Trend")
        self.tabs.addTab(compare_page, "Compare two tests")

        self.model = TestsTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setMinimumHeight(48)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.compare_button = QPushButton("Compare the two selected")
        self.open_button = QPushButton("Open in Results")
        self.report_button = QPushButton("Test report (PDF)…")
        self.history_report_button = QPushButton("History report (PDF)…")
        self.curves_button = QPushButton("Export curves (CSV)…")
        self.summary_button = QPushButton("Export summary (CSV)…")
        self.compare_button.clicked.connect(self.compare_selected)
        self.open_button.clicked.connect(self.open_selected)
        self.report_button.clicked.connect(self.ask_test_report)
        self.history_report_button.clicked.connect(self.ask_history_report)
        self.curves_button.clicked.connect(self.ask_export_curves)
        self.summary_button.clicked.connect(self.ask_export_summary)
        buttons = QGridLayout()
        for column, button in enumerate(
            (self.compare_button, self.open_button, self.report_button)
        ):
            buttons.addWidget(button, 0, column)
        for column, button in enumerate(
            (self.history_report_button, self.curves_button, self.summary_button)
        ):
            buttons.addWidget(button, 1, column)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Tests, newest first (select two to compare; double-click opens one)")
        hint.setFont(theme.font(12, bold=True))
        self.show_voided = QCheckBox("Show voided tests")
        self.show_voided.setToolTip(
            "Voided tests are never in the trend or a change judgement; shown here they can "
            "be opened in Results and their void undone."
        )
        self.show_voided.toggled.connect(lambda _on: self.refresh(force=True))
        self.show_training = QCheckBox("Show training sessions")
        self.show_training.setToolTip(
            "Training sessions are not tests: never in the trend or a change judgement. "
            "Their zone figures are listed on the Training screen."
        )
        self.show_training.toggled.connect(lambda _on: self.refresh(force=True))
        self.protocol_box = ProtocolBox()
        self.protocol_box.currentIndexChanged.connect(lambda _i: self.refresh(force=True))
        hint_row = QHBoxLayout()
        hint_row.addWidget(hint, 1)
        hint_row.addWidget(self.protocol_box)
        hint_row.addWidget(self.show_training)
        hint_row.addWidget(self.show_voided)
        table_layout.addLayout(hint_row)
        table_layout.addWidget(self.table, 1)
        table_layout.addLayout(buttons)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(table_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 300])

        top = QHBoxLayout()
        top.addWidget(screen_title("History"))
        top.addSpacing(24)
        top.addWidget(QLabel("Athlete"))
        top.addWidget(self.athlete_box)
        top.addSpacing(16)
        top.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.change_label)
        layout.addWidget(self.side_line)
        layout.addWidget(splitter, 1)
        self._selection_changed()

    # -- athletes ----------------------------------------------------------------------
    def reload_athletes(self) -> None:
        """Fill the athlete list, keeping the one shown (else the app's current athlete)."""
        keep = self.athlete.id if self.athlete is not None else None
        if keep is None and self.context.athlete is not None:
            keep = self.context.athlete.id
        try:
            athletes = self.store.athletes.find()
        except Exception as exc:  # noqa: BLE001 - a banner, never a dead screen
            self.banner.show_message(f"Cannot list athletes: {user_message(exc)}", "error")
            return
        self.athlete_box.blockSignals(True)
        self.athlete_box.clear()
        for athlete in athletes:
            team = f"  ({athlete.team})" if athlete.team else ""
            self.athlete_box.addItem(f"{athlete.name}{team}", athlete.id)
        index = self.athlete_box.findData(keep) if keep is not None else 0
        self.athlete_box.setCurrentIndex(max(index, 0) if athletes else -1)
        self.athlete_box.blockSignals(False)
        self._athlete_index_changed(self.athlete_box.currentIndex())

    def _athlete_chosen_elsewhere(self, athlete: Any) -> None:
        if athlete is not None and (self.athlete is None or athlete.id != self.athlete.id):
            self.show_athlete(athlete.id)

    def _athlete_index_changed(self, index: int) -> None:
        athlete_id = self.athlete_box.itemData(index) if index >= 0 else None
        if athlete_id is None:
            self.athlete = None
            self.refresh()
        else:
            self.show_athlete(int(athlete_id))

    def show_athlete(self, athlete_id: int) -> None:
        """Show one athlete's history."""
        index = self.athlete_box.findData(athlete_id)
        if index < 0:
            self.reload_athletes()
            index = self.athlete_box.findData(athlete_id)
        if index >= 0 and index != self.athlete_box.currentIndex():
            self.athlete_box.setCurrentIndex(index)  # comes back here through the signal
            return
        try:
            self.athlete = self.store.athletes.get(athlete_id)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_message(
                f"Cannot load athlete {athlete_id}: {user_message(exc)}", "error"
            )
            return
        self.refresh()

    # -- data ---------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Read the athlete's tests and injuries again and redraw everything.

        While the screen is hidden this only notes that it is out of date: it redraws when
        shown (a test saved on another screen costs nothing here until then).
        """
        if self.defer(force):
            return
        self.banner.clear_message()
        if self.athlete is None:
            self.points, self.injuries, listed = [], [], []
            self.info.setText("No athlete yet: add one on the Athletes screen.")
        else:
            try:
                self.athlete = self.store.athletes.get(self.athlete.id)
                tests = self.store.tests.of_athlete(
                    self.athlete.id, include_voided=self.show_voided.isChecked()
                )
                self.protocol_box.fill([t for t in tests if not is_training(t)])
                listed = trend_points(
                    tests,
                    self.protocol_box.key(),
                    include_training=self.show_training.isChecked(),
                )
                self.points = [p for p in listed if not (p.voided or p.training)]
                self.injuries = self.store.athletes.injuries(self.athlete.id)
            except Exception as exc:  # noqa: BLE001
                self.banner.show_message(f"Cannot load the history: {user_message(exc)}", "error")
                return
            self.info.setText(self._athlete_text())
        prefs = self.prefs
        self.trend.show_history(
            self.points,
            self.injuries,
            prefs.lines_for(self.athlete) if self.athlete is not None else [],
            prefs.mdc_n,
            prefs.display_unit,
        )
        self.model.set_points(listed, prefs.display_unit, prefs.mdc_n)
        self.change_label.setText(self._change_text())
        self.side_line.show_points(self.points, prefs.asymmetry_formula)
        _, undated = dated_injuries(self.injuries)
        if undated:
            self.banner.show_message(
                f"{count(undated, 'injury', 'injuries')} without a date: not marked on the "
                "plot (add the date on the Athletes screen).",
                "info",
            )
        self._fill_compare_choices()
        self._selection_changed()

    def _athlete_text(self) -> str:
        a = self.athlete
        parts = [p for p in (a.team, a.sport) if p]
        if a.body_mass_kg:
            parts.append(f"{a.body_mass_kg:g} kg")
        parts.append(count(len(self.points), "test"))
        parts.append(f"MDC {format_force(self.prefs.mdc_n, self.prefs.display_unit)}")
        return " · ".join(parts)

    def _change_text(self) -> str:
        change = last_change(self.points, self.prefs.mdc_n)
        if not change:
            return no_change_text(self.points) if self.athlete is not None else ""
        parts = []
        for leg, c in change.items():
            colour = theme.LEFT_COLOUR if leg == "left" else theme.RIGHT_COLOUR
            verdict = c.label.upper() if c.real else c.label
            parts.append(
                f"<span style='color:{colour}'>{leg} "
                f"{format_force(c.delta_n, self.prefs.display_unit, signed=True)}: {verdict}</span>"
            )
        mdc = format_force(self.prefs.mdc_n, self.prefs.display_unit)
        return (
            f"Last change in max force: {' · '.join(parts)} <span style='font-weight:normal'>"
            f"(MDC {mdc})</span>"
        )

    # -- selection and comparing ------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.point(r).test_id for r in rows]

    def select_tests(self, test_ids: list[int]) -> None:
        """Select the rows of these tests (tests and keyboard users)."""
        selection = self.table.selectionModel()
        selection.clear()
        for row in range(self.model.rowCount()):
            if self.model.point(row).test_id in test_ids:
                selection.select(
                    self.model.index(row, 0),
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )

    def _selection_changed(self) -> None:
        count = len(self.selected_ids())
        self.compare_button.setEnabled(count == 2)
        self.open_button.setEnabled(count == 1)
        self.report_button.setEnabled(count == 1)
        has_tests = bool(self.points)
        self.history_report_button.setEnabled(self.athlete is not None)
        self.curves_button.setEnabled(has_tests)
        self.summary_button.setEnabled(has_tests)

    def _fill_compare_choices(self) -> None:
        for box in (self.compare_a, self.compare_b):
            box.blockSignals(True)
            box.clear()
            for p in reversed(self.points):
                box.addItem(time_text(p.when), p.test_id)
        if len(self.points) >= 2:
            self.compare_a.setCurrentIndex(1)
            self.compare_b.setCurrentIndex(0)
        for box in (self.compare_a, self.compare_b):
            box.blockSignals(False)
        self.show_comparison()

    def compare_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        older, newer = sorted(
            ids, key=lambda i: next(p.when for p in self.points if p.test_id == i)
        )
        self.compare_tests(older, newer)

    def compare_tests(self, a: int, b: int) -> None:
        """Compare test ``a`` (older) with ``b`` on the Compare tab."""
        for box, test_id in ((self.compare_a, a), (self.compare_b, b)):
            box.blockSignals(True)
            box.setCurrentIndex(box.findData(test_id))
            box.blockSignals(False)
        self.tabs.setCurrentIndex(1)
        self.show_comparison()

    def show_comparison(self) -> None:
        a, b = self.compare_a.currentData(), self.compare_b.currentData()
        if a is None or b is None:
            return
        try:
            self.compare.compare(
                load_test(self.store, int(a)),
                load_test(self.store, int(b)),
                self.prefs.display_unit,
                self.prefs.mdc_n,
            )
        except Exception as exc:  # noqa: BLE001
            self.banner.show_message(f"Cannot compare these tests: {user_message(exc)}", "error")

    def open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        self.context.current_test_id = ids[0]
        self.context.navigate.emit("results")

    # -- reports -----------------------------------------------------------------------------
    def _save_path(self, title: str, name: str, pattern: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / name), pattern)
        return Path(path) if path else None

    def ask_test_report(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1 or self.athlete is None:
            return
        point = next(p for p in self.points if p.test_id == ids[0])
        name = f"{safe_name(self.athlete.name)}-{point.when:%Y-%m-%d}-test-{ids[0]}.pdf"
        path = self._save_path("Save the test report", name, "PDF (*.pdf)")
        if path is not None:
            self.save_test_report(ids[0], path)

    def save_test_report(self, test_id: int, path: Path) -> bool:
        try:
            pages = report_pdf.write_test_report(self.store, test_id, path, self.prefs)
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Report", f"The report was not written: {user_message(exc)}")
            return False
        self.context.show_status(f"Report saved: {path} ({pages} pages)", 6000)
        return True

    def ask_history_report(self) -> None:
        if self.athlete is None:
            return
        path = self._save_path(
            "Save the history report", f"{safe_name(self.athlete.name)}-history.pdf", "PDF (*.pdf)"
        )
        if path is not None:
            self.save_history_report(path)

    def save_history_report(self, path: Path) -> bool:
        try:
            pages = report_pdf.write_history_report(
                self.store, self.athlete.id, path, self.prefs, self.protocol_box.key()
            )
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Report", f"The report was not written: {user_message(exc)}")
            return False
        self.context.show_status(f"History report saved: {path} ({pages} pages)", 6000)
        return True

    # -- exports ------------------------------------------------------------------------------
    def ask_export_summary(self) -> None:
        if self.athlete is None:
            return
        path = self._save_path(
            "Export the summary", f"{safe_name(self.athlete.name)}-summary.csv", "CSV (*.csv)"
        )
        if path is None:
            return
        replace = export_jobs.confirm_summary_target(self, path)
        if replace is not None:
            self.export_summary(path, force=replace)

    def export_summary(self, path: Path, force: bool = False) -> export_jobs.ExportJob:
        steps = export_jobs.summary_steps(self.store, path, athlete=self.athlete.id, force=force)
        return self._run("Exporting the summary", steps)

    def ask_export_curves(self) -> None:
        ids = self.selected_ids() or [p.test_id for p in self.points]
        folder = QFileDialog.getExistingDirectory(
            self, "Export curves into folder", str(Path.home())
        )
        if not folder:
            return
        existing = export_jobs.existing_curve_files(ids, Path(folder))
        if existing and not dialogs.ask_yes_no(
            self, "Export", f"{count(len(existing), 'file')} already there in {folder}. Replace?"
        ):
            return
        self.export_curves(ids, Path(folder), force=bool(existing))

    def export_curves(
        self, test_ids: list[int], folder: Path, force: bool = False
    ) -> export_jobs.ExportJob:
        """Each test's curves CSV + JSON sidecar into ``folder`` (selected tests, else all)."""
        steps = export_jobs.curves_steps(self.store, test_ids, folder, force=force)
        return self._run(f"Exporting {count(len(test_ids), 'test')}", steps)

    def _run(self, title: str, steps: list) -> export_jobs.ExportJob:
        def done(files: list[Path]) -> None:
            self.context.show_status(
                f"Exported {count(len(files), 'file')} to {files[0].parent}"
                if files
                else "Nothing exported",
                8000,
            )

        def failed(message: str) -> None:
            dialogs.show_error(self, "Export", message)

        self.job = export_jobs.run_with_progress(self, title, steps, done, failed)
        return self.job
