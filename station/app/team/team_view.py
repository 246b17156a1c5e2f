"""Team: the latest result of every athlete in a team, sortable, with concerns standing out.

An athlete stands out when a leg is below the chosen reference line or the
imbalance on max force is at or above the chosen percentage: the row is
tinted, its status cell carries a warning icon and says why in words, so
colour is never the only cue.  Sorting (any column, by value) goes through
a QSortFilterProxyModel; double-clicking an athlete opens their history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
)

from station.analysis import DEFAULT_REFERENCES, ReferenceLine
from station.app.reports import export_jobs
from station.app.shell import dialogs, theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import StoredDataScreen, register_screen
from station.app.shell.widgets import Banner, screen_title
from station.present.formulas import band_note, formula_label, formula_text, point_band
from station.present.numbers import count, format_number
from station.present.team_data import (
    ALL_TEAMS,
    TeamRow,
    concerns,
    latest_results,
    short_source,
    teams,
)
from station.present.times import day_text
from station.present.units import force_unit, format_force, format_value

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ATHLETE_WIDTH = 240  # px: the athlete column, whatever the length of a name
DEFAULT_IMBALANCE_PCT = 15.0  # Bourne et al. 2015


# Columns, in order; forces are shown in the display unit.
ATHLETE, SPORT, LAST_TEST, LEFT_MAX, RIGHT_MAX, LEFT_AVG, RIGHT_AVG, IMBALANCE, STRONGER, STATUS = (
    range(10)
)
FORCE_COLUMNS = (LEFT_MAX, RIGHT_MAX, LEFT_AVG, RIGHT_AVG)


class TeamTableModel(QAbstractTableModel):
    """One row per athlete: name (with a warning icon if they stand out), the latest test's
    figures, and the status in words (last column, so it can take the width it needs)."""

    COLUMNS = (
        "Athlete",
        "Sport",
        "Last test",
        "Left max",
        "Right max",
        "Left avg",
        "Right avg",
        "Imbalance\nmax (%)",
        "Stronger",
        "Status",
    )

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TeamRow] = []
        self.reasons: list[list[str]] = []
        self.unit = "N"
        self.warning_icon: Any = None
        self.line_note = ""

    def set_rows(
        self,
        rows: list[TeamRow],
        line: ReferenceLine | None,
        imbalance_pct: float | None,
        unit: str,
    ) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.unit = force_unit(unit).symbol
        self.reasons = [concerns(r.latest, line, imbalance_pct) for r in self.rows]
        self.line_note = (
            f"\nForce line: {line.source} ({line.population}), a group cut-off, never a diagnosis"
            if line is not None
            else ""
        )
        self.endResetModel()

    def status_text(self, row: int) -> str:
        if self.rows[row].latest is None:
            return "no test yet"
        reasons = self.reasons[row]
        return "⚠ " + " · ".join(reasons) if reasons else "✓ no concern"

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        name = self.COLUMNS[section]
        return f"{name}\n({self.unit})" if section in FORCE_COLUMNS else name

    def _values(self, row: int) -> list[Any]:
        r = self.rows[row]
        p = r.latest
        figures: list[Any] = [None] * 6
        if p is not None:
            figures = [
                p.when,
                p.left_max_n,
                p.right_max_n,
                p.left_avg_n,
                p.right_avg_n,
                p.imbalance_max_pct,
            ]
        return [
            r.athlete.name,
            r.athlete.sport or "–",
            *figures,
            p.stronger_max if p is not None else None,
            self.status_text(row),
        ]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        value = self._values(row)[column]
        flagged = bool(self.reasons[row])
        latest = self.rows[row].latest
        if role == Qt.ItemDataRole.DisplayRole:
            if column == LAST_TEST:
                return day_text(value) if value is not None else "–"
            if column in FORCE_COLUMNS:
                return format_value(value, self.unit)
            if column == IMBALANCE:
                return format_number(value, 1)
            return value if value is not None else "–"
        if role == SORT_ROLE:
            if column == STATUS:
                return (len(self.reasons[row]), -1 if self.rows[row].latest is None else 0)
            if column == LAST_TEST:
                return value.timestamp() if value is not None else -1.0
            if column in (ATHLETE, SPORT, STRONGER):
                return str(value or "").lower()
            return -1.0 if value is None else float(value)
        if role == Qt.ItemDataRole.DecorationRole and column == ATHLETE and flagged:
            return self.warning_icon
        if role == Qt.ItemDataRole.BackgroundRole and flagged:
            return QBrush(QColor(theme.ERROR_BACKGROUND))
        if role == Qt.ItemDataRole.ForegroundRole:
            if column in (ATHLETE, STATUS) and flagged:
                return QBrush(QColor(theme.DANGER))
            if column == IMBALANCE and value is not None and latest is not None:
                # banded on the percentage difference, whatever the test's formula
                return QBrush(QColor(theme.imbalance_band(point_band(latest)).colour))
            if column in (LEFT_MAX, LEFT_AVG):
                return QBrush(QColor(theme.LEFT_COLOUR))
            if column in (RIGHT_MAX, RIGHT_AVG):
                return QBrush(QColor(theme.RIGHT_COLOUR))
        if role == Qt.ItemDataRole.FontRole:
            return theme.font(12, bold=column == ATHLETE or (column == STATUS and flagged))
        if role == Qt.ItemDataRole.TextAlignmentRole and LEFT_MAX <= column <= IMBALANCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == IMBALANCE and latest is not None:
            formula = latest.asymmetry_formula  # the one the test was analysed in
            note = band_note(formula)
            return f"Imbalance as {formula_label(formula)} = {formula_text(formula)}" + (
                f".\n{note}" if note else ""
            )
        if role == Qt.ItemDataRole.ToolTipRole and column in (ATHLETE, STATUS):
            name = f"{self.rows[row].athlete.name}\n" if column == ATHLETE else ""
            return name + self.status_text(row) + self.line_note
        return None


class NumericSortProxy(QSortFilterProxyModel):
    """Sorts on SORT_ROLE (numbers and dates as numbers, missing values first)."""

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802 (Qt API)
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


FORCE_LINES = [line for line in DEFAULT_REFERENCES if line.measure == "force_n"]


@register_screen(order=55)
class TeamScreen(StoredDataScreen):
    """Latest results of a team."""

    key = "team"
    title = "Team"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.team_box = QComboBox()
        # A long name is cut short in the box (its list shows it whole): the window never widens.
        self.team_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.team_box.setMinimumContentsLength(22)
        self.team_box.setMinimumWidth(200)
        self.line_box = QComboBox()
        self.line_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.line_box.setMinimumContentsLength(30)
        self.line_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.line_box.setMaximumWidth(620)
        self.line_box.addItem("no force line", None)
        for line in FORCE_LINES:
            context_text = f", {line.context}" if line.context else ""
            self.line_box.addItem(
                f"{short_source(line)} ({line.population}{context_text}): "
                f"{line.compared_with} < {line.value:g} N",
                line.id,
            )
        self.imbalance = QDoubleSpinBox()
        self.imbalance.setRange(0.0, 100.0)
        self.imbalance.setDecimals(1)
        self.imbalance.setSuffix(" %")
        self.imbalance.setSpecialValueText("off")
        self.imbalance.setValue(
            context.settings.get_float("team/imbalance_pct", DEFAULT_IMBALANCE_PCT)
        )
        self.banner = Banner()
        self.summary = QLabel("")
        self.summary.setFont(theme.font(13, bold=True))
        self.summary.setWordWrap(True)
        self.model = TeamTableModel()
        self.model.warning_icon = self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        self.proxy = NumericSortProxy()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(STATUS, Qt.SortOrder.DescendingOrder)  # concerns first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setWordWrap(False)  # one line a row: long names and reasons end in "…"
        self.table.verticalHeader().setMinimumSectionSize(34)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # A long name ends in "…" (whole in the tooltip): the figures stay in view.
        header.setSectionResizeMode(ATHLETE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(ATHLETE, ATHLETE_WIDTH)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setStretchLastSection(True)
        header.setMinimumHeight(48)
        self.table.doubleClicked.connect(self.open_history)
        self.export_button = QPushButton("Export team summary (CSV)…")
        self.export_button.clicked.connect(self.ask_export)
        self.history_button = QPushButton("Open history")
        self.history_button.clicked.connect(lambda: self.open_history(self.table.currentIndex()))

        filters = QHBoxLayout()
        filters.addWidget(screen_title("Team"))
        filters.addSpacing(24)
        filters.addWidget(QLabel("Team"))
        filters.addWidget(self.team_box)
        filters.addStretch(1)
        lines = QHBoxLayout()
        lines.addWidget(QLabel("Stand out below"))
        lines.addWidget(self.line_box, 4)
        lines.addSpacing(16)
        lines.addWidget(QLabel("or imbalance on max at or above"))
        lines.addWidget(self.imbalance)
        lines.addStretch(1)
        legend = QLabel(
            "An athlete stands out (warning icon, tinted row, the reason in words) when a leg "
            "is below the chosen line (compared with the session's avg or max, as its source "
            "did) or the imbalance on max force is at or above the chosen percentage. Reference "
            "lines are group cut-offs, never a diagnosis. Click a header to sort; double-click "
            "an athlete for their history."
        )
        legend.setWordWrap(True)
        legend.setObjectName("caption")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.history_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(filters)
        layout.addLayout(lines)
        layout.addWidget(legend)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self.team_box.currentIndexChanged.connect(lambda _i: self.refresh())
        self.line_box.currentIndexChanged.connect(lambda _i: self.refresh())
        self.imbalance.valueChanged.connect(lambda _v: self.refresh())
        context.test_saved.connect(lambda _id: self.refresh())
        context.test_changed.connect(lambda _id: self.refresh())
        context.athletes_changed.connect(self.reload_teams)
        self.reload_teams()

    def reload_teams(self) -> None:
        keep = self.team_box.currentData()
        if keep is None:
            keep = self.context.settings.get_str("team/last", ALL_TEAMS)
        self.team_box.blockSignals(True)
        self.team_box.clear()
        self.team_box.addItem("All athletes", ALL_TEAMS)
        try:
            for name in teams(self.store):
                self.team_box.addItem(name, name)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_message(f"Cannot list teams: {user_message(exc)}", "error")
        self.team_box.setCurrentIndex(max(0, self.team_box.findData(keep)))
        self.team_box.blockSignals(False)
        self._default_line()
        self.refresh()

    def _default_line(self) -> None:
        """The first force line for the team's sport (by the Settings' reference choice)."""
        wanted = self.context.settings.get_str("team/line", "")
        if not wanted:
            sports = [
                a.sport for a in self.store.athletes.find(team=self.team() or None) if a.sport
            ]
            sport = max(set(sports), key=sports.count) if sports else None
            lines = [x for x in self.prefs.reference_lines(sport) if x.measure == "force_n"]
            wanted = lines[0].id if lines else ""
        self.line_box.blockSignals(True)
        self.line_box.setCurrentIndex(max(0, self.line_box.findData(wanted or None)))
        self.line_box.blockSignals(False)

    def team(self) -> str:
        return self.team_box.currentData() or ALL_TEAMS

    def force_line(self) -> ReferenceLine | None:
        wanted = self.line_box.currentData()
        return next((line for line in FORCE_LINES if line.id == wanted), None)

    def imbalance_pct(self) -> float | None:
        value = self.imbalance.value()
        return value if value > 0 else None

    def refresh(self, force: bool = False) -> None:
        """Read every athlete's latest test again and re-sort (when shown; hidden, it only
        notes that it is out of date)."""
        if self.defer(force):
            return
        settings = self.context.settings
        settings.set("team/last", self.team())
        settings.set("team/line", self.line_box.currentData() or "")
        settings.set("team/imbalance_pct", self.imbalance.value())
        try:
            rows = latest_results(self.store, self.team())
        except Exception as exc:  # noqa: BLE001
            self.banner.show_message(f"Cannot load the team: {user_message(exc)}", "error")
            return
        self.banner.clear_message()
        self.model.set_rows(rows, self.force_line(), self.imbalance_pct(), self.prefs.display_unit)
        self.table.resizeRowsToContents()
        flagged = sum(1 for r in self.model.reasons if r)
        tested = sum(1 for r in rows if r.latest is not None)
        line = self.force_line()
        line_text = f", line {format_force(line.value, self.prefs.display_unit)}" if line else ""
        self.summary.setText(
            f"{count(len(rows), 'athlete')}, {tested} tested: "
            f"{flagged} stand{'s' if flagged == 1 else ''} out{line_text}"
        )

    def row_texts(self) -> list[list[str]]:
        """What the table shows, in view order (tests and accessibility)."""
        return [
            [str(self.proxy.index(r, c).data()) for c in range(self.proxy.columnCount())]
            for r in range(self.proxy.rowCount())
        ]

    def open_history(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        row = self.model.rows[self.proxy.mapToSource(index).row()]  # any column of the row
        self.context.set_athlete(row.athlete)
        self.context.navigate.emit("history")

    def ask_export(self) -> None:
        name = (self.team() or "all-athletes").replace(" ", "-").lower()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the team summary", str(Path.home() / f"{name}-summary.csv"), "CSV (*.csv)"
        )
        if not path:
            return
        replace = export_jobs.confirm_summary_target(self, Path(path))
        if replace is not None:
            self.export_summary(Path(path), force=replace)

    def export_summary(self, path: Path, force: bool = False) -> export_jobs.ExportJob:
        """Every test of the team (summary CSV + sidecar), off the GUI thread."""
        steps = export_jobs.summary_steps(self.store, path, team=self.team() or None, force=force)

        def done(files: list[Path]) -> None:
            self.context.show_status(f"Exported {path}", 8000)

        def failed(message: str) -> None:
            dialogs.show_error(self, "Export", message)

        self.job = export_jobs.run_with_progress(
            self, "Exporting the team summary", steps, done, failed
        )
        return self.job
