"""The training screen's widgets and their layout (the behaviour is in training_view)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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
from station.app.shell import theme
from station.app.shell.widgets import Banner, ElidedLabel, screen_title

MODE_NEWTONS = "N"
MODE_PERCENT = "%"
SIDE_WIDTH = 400
SESSION_COLUMNS = ["Date", "Zone", "Left leg", "Right leg"]


class LegPanel(QFrame):
    """One leg's zone state and its figures: reps, time and impulse in zone."""

    def __init__(self, leg: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.setObjectName("legPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"#legPanel {{ border: 2px solid {colour}; border-radius: 8px; background: #FFFFFF; }}"
        )
        title = QLabel(f"{leg} leg")
        title.setFont(theme.font(14, bold=True))
        title.setStyleSheet(f"color: {colour};")
        self.state = QLabel("")
        self.state.setFont(theme.font(12, bold=True))
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state.setMinimumWidth(120)
        self.reps = QLabel("–")
        self.time = QLabel("–")
        self.impulse = QLabel("–")
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        for row, (caption, value, tip) in enumerate(
            (
                ("Reps in zone", self.reps, "Reps whose force entered the zone, of all reps"),
                ("Time in zone", self.time, "Seconds spent in the zone"),
                ("Impulse in zone", self.impulse, "Force × time while in the zone"),
            )
        ):
            label = QLabel(caption)
            label.setFont(theme.font(12))
            label.setToolTip(tip)
            value.setFont(theme.font(20, bold=True))
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(tip)
            grid.addWidget(label, row, 0)
            grid.addWidget(value, row, 1)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.state)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addLayout(grid)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_state(None)

    def set_state(self, in_zone: bool | None) -> None:
        """The badge: IN ZONE (green), out of zone (grey), or no zone set."""
        if in_zone is None:
            text, colour = "no zone set", theme.NEUTRAL
        elif in_zone:
            text, colour = "IN ZONE", theme.GOOD
        else:
            text, colour = "out of zone", theme.NEUTRAL
        self.state.setText(text)
        self.state.setStyleSheet(
            f"color: white; background: {colour}; border-radius: 6px; padding: 2px 8px;"
        )
        self.in_zone = in_zone


class TrainingLayout:
    """Builds the training screen's widgets on ``self`` (a QWidget: the screen)."""

    plot_seconds: float

    def _build(self: Any) -> None:
        self.athlete_label = ElidedLabel("No athlete chosen")
        self.athlete_label.setFont(theme.font(18, bold=True))
        self.source_label = QLabel("")
        self.source_label.setObjectName("caption")
        self.banner = Banner()

        # The zone: N, or % of the athlete's last max per leg.
        self.mode = QComboBox()
        self.mode.addItem("N", MODE_NEWTONS)
        self.mode.addItem("% of last max", MODE_PERCENT)
        self.mode.setToolTip("Set the zone in newtons, or as % of each leg's last Nordic max")
        self.low = QDoubleSpinBox()
        self.high = QDoubleSpinBox()
        for box, value in ((self.low, 150.0), (self.high, 200.0)):
            box.setRange(0.0, 5000.0)
            box.setDecimals(0)
            box.setValue(value)
            box.setMinimumWidth(90)
            box.setKeyboardTracking(False)
        self.set_zone_button = QPushButton("Set zone")
        self.set_zone_button.setObjectName("primary")
        self.last_max_label = QLabel("")
        self.last_max_label.setObjectName("caption")
        self.last_max_label.setWordWrap(True)
        zone_row = QHBoxLayout()
        zone_label = QLabel("Target zone")
        zone_label.setFont(theme.font(13, bold=True))
        zone_row.addWidget(zone_label)
        zone_row.addWidget(self.low)
        zone_row.addWidget(QLabel("to"))
        zone_row.addWidget(self.high)
        zone_row.addWidget(self.mode)
        zone_row.addWidget(self.set_zone_button)
        zone_row.addSpacing(12)
        zone_row.addWidget(self.last_max_label, 1)

        self.tare_button = QPushButton("Tare  (T)")
        self.tare_button.setObjectName("primary")
        self.tare_button.setStyleSheet("background: #5F6368;")
        self.start_button = QPushButton("Start  (Space)")
        self.start_button.setObjectName("primary")
        for button in (self.tare_button, self.start_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(46)
        self.retry_button = QPushButton("Try saving again")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.retry_button.hide()
        self.sound_box = QCheckBox("Sound")
        self.sound_box.setToolTip("A high tone on entering the zone, a low one on leaving it")
        self.sound_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.state_label = QLabel("")
        self.state_label.setFont(theme.font(13, bold=True))
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setFont(theme.font(22, bold=True))
        self.elapsed_label.setToolTip("Session time (minutes:seconds)")
        controls = QHBoxLayout()
        controls.addWidget(self.tare_button)
        controls.addWidget(self.start_button)
        controls.addWidget(self.retry_button)
        controls.addSpacing(12)
        controls.addWidget(self.sound_box)
        controls.addSpacing(12)
        controls.addWidget(self.state_label)
        controls.addStretch(1)
        controls.addWidget(QLabel("Time"))
        controls.addWidget(self.elapsed_label)

        self.plot = LivePlot(self.plot_seconds)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.left_panel = LegPanel("Left", theme.LEFT_COLOUR)
        self.right_panel = LegPanel("Right", theme.RIGHT_COLOUR)
        self.zone_text = QLabel("")
        self.zone_text.setFont(theme.font(12, bold=True))
        self.zone_text.setWordWrap(True)
        sessions_caption = QLabel("Training sessions (not tests: not in history or trends)")
        sessions_caption.setObjectName("caption")
        sessions_caption.setWordWrap(True)
        self.sessions_table = QTableWidget(0, len(SESSION_COLUMNS))
        self.sessions_table.setHorizontalHeaderLabels(SESSION_COLUMNS)
        self.sessions_table.verticalHeader().hide()
        self.sessions_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sessions_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sessions_table.setWordWrap(True)
        self.sessions_table.setFont(theme.font(11))
        header = self.sessions_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in (0, 1):  # date and zone: as wide as their lines
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.zone_text)
        side.addWidget(self.left_panel)
        side.addWidget(self.right_panel)
        side.addWidget(sessions_caption)
        side.addWidget(self.sessions_table, 1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(SIDE_WIDTH)

        middle = QHBoxLayout()
        middle.addWidget(self.plot, 1)
        middle.addWidget(side_widget)

        head = QHBoxLayout()
        head.addWidget(screen_title("Training"))
        head.addSpacing(24)
        head.addWidget(self.athlete_label, 1)
        head.addWidget(self.source_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.banner)
        layout.addLayout(zone_row)
        layout.addLayout(controls)
        layout.addLayout(middle, 1)

        self.start_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.start_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.start_shortcut.activated.connect(self.toggle_session)
        self.tare_shortcut = QShortcut(QKeySequence(Qt.Key.Key_T), self)
        self.tare_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.tare_shortcut.activated.connect(self.tare)
