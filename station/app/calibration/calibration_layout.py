"""The calibration screen's pages and widgets (the procedure is in calibration_wizard).

Four pages: set up (masses, hooks, certificates), running (what to hang, the
reading, its stability), the result (fits and acceptance figures) and a
verification's verdict.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from station.app.calibration.calibration_plots import FitPlots, ReadingPlot
from station.app.shell import theme
from station.app.shell.widgets import Banner, screen_title


def _panel(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    box = QVBoxLayout(frame)
    label = QLabel(title)
    label.setFont(theme.font(14, bold=True))
    box.addWidget(label)
    return frame, box


class CalibrationLayout:
    """Builds the calibration screen's pages on ``self`` (a QWidget: the screen)."""

    # -- layout -----------------------------------------------------------------------------
    def _build(self: Any) -> None:
        self.rig_label = QLabel("")
        self.rig_label.setFont(theme.font(13))
        self.rig_label.setWordWrap(True)
        self.banner = Banner()
        self.pages = QStackedWidget()
        self.pages.addWidget(self._setup_page())
        self.pages.addWidget(self._running_page())
        self.pages.addWidget(self._result_page())
        self.pages.addWidget(self._verified_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        header = QHBoxLayout()
        header.addWidget(screen_title("Calibration"))
        header.addSpacing(24)
        header.addWidget(self.rig_label, 1)
        self.bench_button = QPushButton("Try it on the virtual bench")
        self.bench_button.setToolTip(
            "Connect the virtual rig with nobody pulling on it: the wizard hangs each mass "
            "for you, so the whole procedure can be tried without a rig"
        )
        self.bench_button.clicked.connect(self.use_virtual_bench)
        header.addWidget(self.bench_button)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        shortcut.activated.connect(self.primary_action)

    def _setup_page(self: Any) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        frame, box = _panel("Calibrate with known masses")
        form = QFormLayout()
        self.masses = QLineEdit("0, 10, 20, 30, 40")
        self.masses.setToolTip("Weigh the plates first: the fit is only as true as the masses.")
        self.channels = QComboBox()
        self.channels.addItem("both hooks (left, then right)", "left,right")
        self.channels.addItem("left hook only", "left")
        self.channels.addItem("right hook only", "right")
        self.descending = QCheckBox("descending too (for hysteresis)")
        self.descending.setChecked(True)
        self.repeat = QCheckBox("repeat the series (for repeatability)")
        self.operator = QLineEdit(self.context.operator)
        form.addRow("Masses (kg)", self.masses)
        form.addRow("Hooks", self.channels)
        form.addRow("", self.descending)
        form.addRow("", self.repeat)
        form.addRow("Operator", self.operator)
        box.addLayout(form)
        note = QLabel(
            "Each step says which mass to hang. Hang it, let it stop swinging, then press "
            "Measure (or Space): the reading is taken once it is steady for about a second. "
            "A one-hook calibration keeps the other hook from the certificate in use."
        )
        note.setWordWrap(True)
        note.setObjectName("caption")
        box.addWidget(note)
        self.start_button = QPushButton("Start calibration")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start_calibration)
        box.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignRight)
        box.addStretch(1)

        vframe, vbox = _panel("Quick verification")
        vform = QFormLayout()
        self.verify_channel = QComboBox()
        self.verify_channel.addItem("left hook", "left")
        self.verify_channel.addItem("right hook", "right")
        self.verify_mass = QDoubleSpinBox()
        self.verify_mass.setRange(0.5, 200.0)
        self.verify_mass.setValue(20.0)
        self.verify_mass.setSuffix(" kg")
        self.verify_limit = QDoubleSpinBox()
        self.verify_limit.setRange(0.1, 10.0)
        self.verify_limit.setValue(1.0)
        self.verify_limit.setSuffix(" %")
        vform.addRow("Hook", self.verify_channel)
        vform.addRow("Known mass", self.verify_mass)
        vform.addRow("Pass if within", self.verify_limit)
        vbox.addLayout(vform)
        vnote = QLabel(
            "One known mass, quick enough for every clinic day. Empty the hook, measure; hang "
            "the mass, measure. The certificate's force is compared with mass × 9.80665 and "
            "the result kept with the certificate."
        )
        vnote.setWordWrap(True)
        vnote.setObjectName("caption")
        vbox.addWidget(vnote)
        self.verify_button = QPushButton("Start verification")
        self.verify_button.clicked.connect(self.start_verification)
        vbox.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignRight)
        vbox.addStretch(1)

        cframe, cbox = _panel("Certificates stored for this rig")
        self.certificates = QListWidget()
        self.certificates.setFont(theme.font(11))
        cbox.addWidget(self.certificates)
        self.use_button = QPushButton("Use the selected certificate")
        self.use_button.clicked.connect(self.use_selected_certificate)
        cbox.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignRight)

        grid.addWidget(frame, 0, 0)
        grid.addWidget(vframe, 0, 1)
        grid.addWidget(cframe, 1, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        return page

    def _running_page(self: Any) -> QWidget:
        page = QWidget()
        self.step_label = QLabel("")
        self.step_label.setFont(theme.font(13, bold=True))
        self.instruction = QLabel("")
        self.instruction.setFont(theme.font(24, bold=True))
        self.instruction.setWordWrap(True)
        self.reading = QLabel("")
        self.reading.setFont(theme.font(16))
        self.stability = QLabel("")
        self.stability.setFont(theme.font(16, bold=True))
        self.stability.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stability.setMinimumWidth(260)
        self.reading_plot = ReadingPlot()
        self.reading_plot.setMinimumHeight(220)
        self.measure_button = QPushButton("Measure")
        self.measure_button.setToolTip("The load is set and still: take the reading (Space)")
        self.measure_button.setObjectName("primary")
        self.accept_button = QPushButton("Accept anyway")
        self.retry_button = QPushButton("Retry")
        self.skip_button = QPushButton("Skip step")
        self.abort_button = QPushButton("Abort")
        self.hang_button = QPushButton("Hang it (virtual rig)")
        self.hang_button.setToolTip(
            "On the virtual rig: put the mass this step asks for on the hook, as you would at "
            "a real bench"
        )
        self.hang_button.clicked.connect(self.hang_on_virtual_rig)
        self.measure_button.clicked.connect(lambda: self.act("accept"))
        self.accept_button.clicked.connect(lambda: self.act("accept"))
        self.retry_button.clicked.connect(lambda: self.act("retry"))
        self.skip_button.clicked.connect(lambda: self.act("skip"))
        self.abort_button.clicked.connect(lambda: self.act("abort"))
        self.log = QListWidget()
        self.log.setFont(theme.font(11))
        buttons = QHBoxLayout()
        buttons.addWidget(self.hang_button)
        buttons.addWidget(self.measure_button)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(self.abort_button)
        reading_row = QHBoxLayout()
        reading_row.addWidget(self.reading, 1)
        reading_row.addWidget(self.stability)
        layout = QVBoxLayout(page)
        layout.addWidget(self.step_label)
        layout.addWidget(self.instruction)
        layout.addLayout(reading_row)
        layout.addWidget(self.reading_plot, 2)
        layout.addLayout(buttons)
        caption = QLabel("What happened")
        caption.setFont(theme.font(12, bold=True))
        layout.addWidget(caption)
        layout.addWidget(self.log, 1)
        return page

    def _result_page(self: Any) -> QWidget:
        page = QWidget()
        self.verdict = QLabel("")
        self.verdict.setFont(theme.font(18, bold=True))
        self.verdict.setWordWrap(True)
        self.fit_plots = FitPlots()
        self.figures = QTableWidget(0, 4)
        self.figures.verticalHeader().hide()
        self.figures.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.figures.verticalHeader().setDefaultSectionSize(28)
        self.validity = QLabel("")
        self.validity.setFont(theme.font(12))
        self.save_button = QPushButton("Save and use this certificate")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save_and_use)
        self.export_button = QPushButton("Save a copy to a file…")
        self.export_button.clicked.connect(self.ask_export_certificate)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.back_to_setup)
        buttons = QHBoxLayout()
        buttons.addWidget(self.validity, 1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.save_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.figures, 1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.verdict)
        layout.addWidget(self.fit_plots, 3)
        layout.addLayout(bottom, 2)
        layout.addLayout(buttons)
        return page

    def _verified_page(self: Any) -> QWidget:
        page = QWidget()
        self.verified_text = QLabel("")
        self.verified_text.setFont(theme.font(18, bold=True))
        self.verified_text.setWordWrap(True)
        self.verified_detail = QLabel("")
        self.verified_detail.setFont(theme.font(13))
        self.verified_detail.setWordWrap(True)
        done = QPushButton("Done")
        done.setObjectName("primary")
        done.clicked.connect(self.back_to_setup)
        layout = QVBoxLayout(page)
        layout.addWidget(self.verified_text)
        layout.addWidget(self.verified_detail)
        layout.addStretch(1)
        layout.addWidget(done, 0, Qt.AlignmentFlag.AlignRight)
        return page
