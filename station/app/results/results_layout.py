"""The Results screen's widgets and their layout (the behaviour is in results_view).

The figures that lead (cards, imbalance, change, the athlete's reference lines)
come first; the reps table, the rep curves and, folded away, the technical
details follow.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from station.app.live.live_plot import set_force_axis
from station.app.results.results_table import RepsTableModel
from station.app.results.rfd_table import TITLE as RFD_TITLE
from station.app.results.rfd_table import RfdTableModel
from station.app.results.summary_cards import REFERENCES_MAX_HEIGHT, FittingScroll, LegCard
from station.app.shell import theme
from station.app.shell.widgets import BandLabel, Banner, ElidedLabel, screen_title
from station.present.formulas import DEFAULT_FORMULA, band_note, formula_label, formula_text

BAND_HELP = "Bands: < 10 % green · 10–15 % amber · ≥ 15 % red (Bourne et al. 2015)"


class ResultsLayout:
    """Builds the Results screen's widgets on ``self`` (a QWidget: the screen)."""

    unit: str

    def _show_formula(self: Any, formula: str) -> None:
        """Name the formula the shown test's imbalance was analysed in (metrics.md)."""
        text = formula_text(formula)
        self.formula_label.setText(f"Formula: {formula_label(formula)} = {text}")
        bands = " ".join(part for part in (BAND_HELP + ".", band_note(formula)) if part)
        self.formula_label.setToolTip(bands)
        self.imbalance_caption.setToolTip(
            f"Imbalance = {text} ({formula_label(formula)}, metrics.md). {bands}"
        )

    # -- layout ----------------------------------------------------------------------
    def _build(self: Any) -> None:
        self.heading = ElidedLabel("No test yet")
        self.heading.setFont(theme.font(18, bold=True))
        self.subheading = QLabel("")
        self.subheading.setObjectName("caption")
        self.subheading.setWordWrap(True)
        self.subheading.setTextFormat(Qt.TextFormat.RichText)
        self.new_test_button = QPushButton("New test  →")
        self.new_test_button.setObjectName("primary")
        self.new_test_button.clicked.connect(lambda: self.context.navigate.emit("test"))
        self.void_button = QPushButton("Void test…")
        self.void_button.setToolTip(
            "A test started by mistake or on the wrong athlete: it leaves history, trends, "
            "the team view and reports; its recording and audit trail are kept."
        )
        self.void_button.clicked.connect(self.ask_void)
        self.void_banner = Banner()
        self.calibration_banner = Banner()
        self.flags_banner = Banner()

        self.left_card = LegCard("left", theme.LEFT_COLOUR)
        self.right_card = LegCard("right", theme.RIGHT_COLOUR)
        self.imbalance_max = BandLabel(point_size=20)
        self.imbalance_avg = BandLabel(point_size=14)
        self.ratio_label = QLabel("")
        self.ratio_label.setFont(theme.font(12))
        self.ratio_label.setToolTip("L:R ratio = left ÷ right (for researchers who use it)")
        self.ratio_label.setWordWrap(True)
        imbalance_box = QVBoxLayout()
        self.imbalance_caption = QLabel("Imbalance on max force")
        self.imbalance_caption.setFont(theme.font(12, bold=True))
        imbalance_box.addWidget(self.imbalance_caption)
        imbalance_box.addWidget(self.imbalance_max)
        caption_avg = QLabel("Imbalance on avg force")
        caption_avg.setFont(theme.font(12, bold=True))
        imbalance_box.addWidget(caption_avg)
        imbalance_box.addWidget(self.imbalance_avg)
        self.formula_label = QLabel("")
        self.formula_label.setObjectName("caption")
        self.formula_label.setWordWrap(True)
        imbalance_box.addWidget(self.formula_label)
        self._show_formula(DEFAULT_FORMULA)
        imbalance_widget = QWidget()
        imbalance_widget.setLayout(imbalance_box)
        imbalance_widget.setMaximumWidth(360)

        self.references_box = QVBoxLayout()
        self.change_title = QLabel("Change since the previous valid test")
        self.change_title.setFont(theme.font(12, bold=True))
        self.change_title.setWordWrap(True)
        self.change_text = QLabel("")
        self.change_text.setFont(theme.font(14, bold=True))
        self.change_text.setTextFormat(Qt.TextFormat.RichText)
        self.change_text.setWordWrap(True)
        references_title = QLabel("Reference lines for this athlete")
        references_title.setToolTip("Hover over a line for its source and relative risk")
        references_title.setFont(theme.font(12, bold=True))
        references_list = QWidget()
        references_list.setObjectName("referencesList")
        references_list.setStyleSheet("#referencesList { background: transparent; }")
        list_layout = QVBoxLayout(references_list)
        list_layout.setContentsMargins(0, 0, 4, 0)
        list_layout.addLayout(self.references_box)
        list_layout.addStretch(1)
        # The lines scroll rather than overlap, or make the summary row taller than
        # REFERENCES_MAX_HEIGHT, when the window is narrow or the unit makes them longer.
        self.references_scroll = FittingScroll(REFERENCES_MAX_HEIGHT)
        self.references_scroll.setWidget(references_list)
        self.references_scroll.setMinimumWidth(240)
        references_widget = QWidget()
        references_layout = QVBoxLayout(references_widget)
        references_layout.setContentsMargins(0, 0, 0, 0)
        references_layout.addWidget(self.change_title)
        references_layout.addWidget(self.change_text)
        references_layout.addWidget(references_title)
        references_layout.addWidget(self.references_scroll, 1)
        self.standing_label = QLabel("")
        self.standing_label.setObjectName("caption")
        self.standing_label.setWordWrap(True)
        self.standing_label.setToolTip(
            "Percentile within this clinic's own athletes of the same protocol and knee angle, "
            "sport, sex and age band (shown from 20 athletes on), and published norm tables "
            "that apply (docs/analysis.md)"
        )
        references_layout.addWidget(self.standing_label)

        summary = QGridLayout()
        summary.addWidget(self.left_card, 0, 0)
        summary.addWidget(self.right_card, 0, 1)
        summary.addWidget(imbalance_widget, 0, 2)
        summary.addWidget(references_widget, 0, 3)
        summary.setColumnStretch(3, 1)

        self.model = RepsTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(32)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setMinimumHeight(52)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.exclude_button = QPushButton("Exclude rep…")
        self.include_button = QPushButton("Include rep again")
        self.exclude_button.clicked.connect(self.exclude_selected)
        self.include_button.clicked.connect(self.include_selected)
        table_buttons = QHBoxLayout()
        table_buttons.addWidget(self.exclude_button)
        table_buttons.addWidget(self.include_button)
        table_buttons.addStretch(1)

        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes on this test (saved with it)")
        self.notes.setMinimumHeight(80)
        self.save_notes_button = QPushButton("Save notes")
        self.save_notes_button.clicked.connect(self.save_notes)

        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        set_force_axis(item, self.unit, **{"font-size": "12pt"})
        item.setLabel("bottom", "Time from rep onset", units="s", **{"font-size": "12pt"})
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
            item.getAxis(axis).setTickFont(theme.font(10))
        item.setTitle("Each rep's left and right curves, overlaid", size="12pt")
        # One row across the top: the legend never covers the curves in a low window.
        self.legend = item.addLegend(offset=(10, 2), labelTextSize="9pt", colCount=8)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.details_button = QToolButton()
        self.details_button.setText("Technical details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details = QLabel("")
        self.details.setObjectName("caption")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        self.details_button.toggled.connect(self._toggle_details)
        side_layout.addWidget(self.details_button)
        side_layout.addWidget(self.details)
        side_layout.addLayout(table_buttons)
        notes_caption = QLabel("Notes")
        notes_caption.setFont(theme.font(12, bold=True))
        side_layout.addWidget(notes_caption)
        side_layout.addWidget(self.notes, 1)
        side_layout.addWidget(self.save_notes_button, 0, Qt.AlignmentFlag.AlignRight)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.plot)
        bottom.addWidget(side)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 1)

        self.rfd_model = RfdTableModel()
        self.rfd_table = QTableView()
        self.rfd_table.setModel(self.rfd_model)
        self.rfd_table.verticalHeader().hide()
        self.rfd_table.verticalHeader().setDefaultSectionSize(28)
        self.rfd_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in range(3):  # rep, leg, onset: as narrow as they can be
            self.rfd_table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        self.rfd_table.horizontalHeader().setMinimumHeight(52)
        self.tables = QTabWidget()
        self.tables.addTab(self.table, "Reps")
        self.tables.addTab(self.rfd_table, RFD_TITLE)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tables)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)

        header = QHBoxLayout()
        header.addWidget(screen_title("Results"))
        header.addSpacing(24)
        titles = QVBoxLayout()
        titles.addWidget(self.heading)
        titles.addWidget(self.subheading)
        header.addLayout(titles, 1)
        header.addWidget(self.void_button)
        header.addWidget(self.new_test_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(header)
        layout.addWidget(self.void_banner)
        layout.addWidget(self.calibration_banner)
        layout.addWidget(self.flags_banner)
        layout.addLayout(summary)
        layout.addWidget(splitter, 1)
        self._selection_changed()
