"""The live test screen's widgets and their layout (the behaviour is in test_view).

Kept apart so the screen's logic reads on its own: this mixin only builds the
widgets :class:`~station.app.live.test_view.TestScreen` uses.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from station.app.live.live_plot import LivePlot
from station.app.live.protocol_choice import ProtocolChoice
from station.app.shell import theme
from station.app.shell.widgets import BandLabel, Banner, BigNumber, ElidedLabel, screen_title
from station.present.formulas import DEFAULT_FORMULA, band_note, formula_label, formula_text


class TestScreenLayout:
    """Builds the test screen's widgets on ``self`` (a QWidget: the screen)."""

    __test__ = False  # not a pytest class
    plot_seconds: float

    # -- layout --------------------------------------------------------------------
    def _show_formula(self: Any, formula: str) -> None:
        """Name the formula the live reps' imbalance is computed in (the preference)."""
        note = band_note(formula)
        self.imbalance_label.setToolTip(
            f"Imbalance of the last rep as {formula_label(formula)} = {formula_text(formula)}.\n"
            "Bands: < 10 % green, 10–15 % amber, ≥ 15 % red (Bourne et al. 2015, AJSM)."
            + (f"\n{note}" if note else "")
        )

    def _build(self: Any) -> None:
        self.athlete_label = ElidedLabel("No athlete chosen")
        self.athlete_label.setFont(theme.font(20, bold=True))
        self.source_label = QLabel("")
        self.source_label.setObjectName("caption")
        self.banner = Banner()
        self.calibration_banner = Banner()

        self.tare_button = QPushButton("Tare  (T)")
        self.start_button = QPushButton("Start  (Space)")
        self.start_button.setObjectName("primary")
        self.tare_button.setObjectName("primary")
        self.tare_button.setStyleSheet("background: #5F6368;")
        for button in (self.tare_button, self.start_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(52)
        self.retry_button = QPushButton("Try saving again")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.retry_button.hide()
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setFont(theme.font(24, bold=True))
        self.elapsed_label.setToolTip("Test time (minutes:seconds)")
        self.state_label = QLabel("")
        self.state_label.setFont(theme.font(14, bold=True))

        self.protocol_choice = ProtocolChoice()

        controls = QHBoxLayout()
        controls.addWidget(self.tare_button)
        controls.addWidget(self.start_button)
        controls.addWidget(self.retry_button)
        controls.addSpacing(16)
        controls.addWidget(self.state_label)
        controls.addStretch(1)
        controls.addWidget(QLabel("Time"))
        controls.addWidget(self.elapsed_label)

        self.plot = LivePlot(self.plot_seconds)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.paint_listener = self._painted

        self.left_now = BigNumber("Left now", "N", theme.LEFT_COLOUR)
        self.left_peak = BigNumber("Left peak", "N", theme.LEFT_COLOUR)
        self.right_now = BigNumber("Right now", "N", theme.RIGHT_COLOUR)
        self.right_peak = BigNumber("Right peak", "N", theme.RIGHT_COLOUR)
        self.rep_counter = BigNumber("Reps", "", "#1F1F1F")
        self.imbalance_label = BandLabel(point_size=16)
        self._show_formula(DEFAULT_FORMULA)

        imbalance_box = QFrame()
        imbalance_box.setFrameShape(QFrame.Shape.StyledPanel)
        imbalance_layout = QVBoxLayout(imbalance_box)
        imbalance_layout.setContentsMargins(8, 6, 8, 6)
        imbalance_caption = QLabel("Last rep imbalance")
        imbalance_caption.setFont(theme.font(13, bold=True))
        imbalance_layout.addWidget(imbalance_caption)
        imbalance_layout.addWidget(self.imbalance_label, 1)

        numbers = QGridLayout()
        numbers.addWidget(self.left_now, 0, 0)
        numbers.addWidget(self.right_now, 0, 1)
        numbers.addWidget(self.left_peak, 1, 0)
        numbers.addWidget(self.right_peak, 1, 1)
        numbers.addWidget(self.rep_counter, 2, 0)
        numbers.addWidget(imbalance_box, 2, 1)
        self.per_kg_label = QLabel("")
        self.per_kg_label.setFont(theme.font(13, bold=True))
        self.per_kg_label.setWordWrap(True)
        self.per_kg_label.setToolTip("Peak force ÷ the athlete's body mass")
        numbers.addWidget(self.per_kg_label, 3, 0, 1, 2)

        self.reps_table = QTableWidget(0, 4)
        self._set_reps_headers()
        self.reps_table.verticalHeader().hide()
        self.reps_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.reps_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reps_table.setFont(theme.font(13))
        self.reps_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # "Rep" needs little room: the force columns get it, so "Right peak (kgf)" fits.
        self.reps_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.reps_table.verticalHeader().setDefaultSectionSize(34)
        reps_caption = QLabel("Reps so far (live estimate; the saved result is recomputed)")
        reps_caption.setObjectName("caption")
        reps_caption.setWordWrap(True)

        side = QVBoxLayout()
        side.addLayout(numbers)
        side.addWidget(reps_caption)
        side.addWidget(self.reps_table, 1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(460)

        middle = QHBoxLayout()
        middle.addWidget(self.plot, 1)
        middle.addWidget(side_widget)

        header = QHBoxLayout()
        title = screen_title("Test")
        header.addWidget(title)
        header.addSpacing(24)
        header.addWidget(self.athlete_label, 1)
        header.addWidget(self.source_label)
        self.training_button = QPushButton("Training mode")
        self.training_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.training_button.setToolTip("Train against a target zone (not a test)")
        self.training_button.clicked.connect(lambda: self.context.navigate.emit("training"))
        header.addWidget(self.training_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(header)
        layout.addWidget(self.calibration_banner)
        layout.addWidget(self.banner)
        layout.addWidget(self.protocol_choice)
        layout.addLayout(controls)
        layout.addLayout(middle, 1)

        self.start_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.start_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.start_shortcut.activated.connect(self.toggle_test)
        self.tare_shortcut = QShortcut(QKeySequence(Qt.Key.Key_T), self)
        self.tare_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.tare_shortcut.activated.connect(self.tare)
