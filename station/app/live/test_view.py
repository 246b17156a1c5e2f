"""The live test screen: tare, start, stop; live traces, big numbers, reps as they end.

Data path: the acquisition drains the Link's queue and emits one batch per
wake-up; this screen feeds it to the :class:`LiveSession` (NumPy per block, no
per-sample Python) and asks the plot for a frame.  The plot's display clock
draws the bounded buffer on the next pass of the event loop, at most once per
10 ms frame: a burst of batches is one redraw, and a batch after a quiet spell
is drawn at once (so the plot moves as often as the rig sends: every 50 ms at
80 Hz, every 15 ms at 2 kHz).  The big numbers change at a readable pace (~8
per second).

Keyboard: Space starts or stops the test, T tares.  Buttons take no focus so
Space always means start/stop on this screen.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

from station.analysis import AnalysisSettings, LiveRep
from station.app.live import test_run as tr
from station.app.live.live_session import LiveSession, NotStill
from station.app.live.run_controls import show_run_state
from station.app.live.test_layout import TestScreenLayout
from station.app.live.test_run import TestRun
from station.app.rig import acquisition as acq
from station.app.rig.acquisition import BlockBatch
from station.app.shell import dialogs, theme
from station.app.shell import settings as keys
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.present.formulas import band_percent, is_signed
from station.present.numbers import format_number
from station.present.preferences import Preferences
from station.present.references import NO_CUT_OFF
from station.present.team_data import short_source
from station.present.units import force_unit, format_force, format_value, from_newtons
from station.store.errors import ValidationError

NUMBERS_INTERVAL_MS = 120
DEFAULT_PLOT_SECONDS = 12.0
# A second press within this time of Start is a double-click, not a Stop.
DOUBLE_PRESS_S = 1.0
# A test shorter than this, or with no reps, is asked about at Stop: discard or keep?
SHORT_TEST_S = 5.0
DISCARD = "discard"  # what dialogs.ask_keep_or_discard answers for discard


@register_screen(order=30)
class TestScreen(TestScreenLayout, Screen):
    """Live test: connect first, then Tare, Start, Stop."""

    key = "test"
    title = "Test"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.acquisition = context.acquisition
        if context.test_run is None:
            context.test_run = TestRun(
                context.store, self.acquisition, context.operator, context.analysis_settings
            )
        self.run = context.test_run
        self.session: LiveSession | None = None
        # The clinic's display unit and analysis rules (Settings); forces stay in N until shown.
        self.unit = "N"
        self.analysis: AnalysisSettings | None = None
        self.plot_seconds = context.settings.get_float(keys.KEY_PLOT_SECONDS, DEFAULT_PLOT_SECONDS)
        # Paint instrumentation (read by tests and bench/bench_app.py).
        self.frames_drawn = 0
        self.last_batch_arrival = 0.0
        # The test on screen: its peaks and reps, counted from Start only (a new test
        # starts from a clean screen).  The clock is injectable for tests.
        self.clock = time.monotonic
        self.start_pressed_at = -math.inf
        self.test_peaks: tuple[float, float] | None = None
        self.test_reps: list[LiveRep] = []
        self._build()
        self._connect_signals()
        self.apply_preferences()
        self._numbers_timer = QTimer(self)
        self._numbers_timer.setInterval(NUMBERS_INTERVAL_MS)
        self._numbers_timer.timeout.connect(self._update_numbers)
        self._numbers_timer.start()
        self._update_controls()

    def _connect_signals(self) -> None:
        a = self.acquisition
        a.samples_arrived.connect(self._on_samples)
        a.state_changed.connect(self._on_state)
        a.info_changed.connect(lambda _info: self._reset_session())
        a.calibration_changed.connect(self._on_calibration)
        a.error.connect(self._on_link_error)
        a.source_finished.connect(self._on_source_finished)
        a.stream_restarted.connect(self._on_stream_restarted)
        self.tare_button.clicked.connect(self.tare)
        self.start_button.clicked.connect(self.toggle_test)
        self.retry_button.clicked.connect(self.run.retry_save)
        self.run.state_changed.connect(lambda _s: self._update_controls())
        self.run.started.connect(self._on_test_started)
        self.run.saved.connect(self._on_saved)
        self.run.discarded.connect(self._on_discarded)
        self.run.failed.connect(self._on_failed)
        self.context.athlete_changed.connect(self._on_athlete)
        self.context.preferences_changed.connect(self.apply_preferences)
        self.protocol_choice.changed.connect(lambda: self.apply_preferences())

    # -- screen life -----------------------------------------------------------------
    def activated(self) -> None:
        self.apply_preferences()
        self._on_athlete(self.context.athlete)
        if self.session is not None:
            self.plot.refresh(self.session.buffer)  # samples that came while hidden
        self._update_controls()
        self.setFocus()

    def can_leave(self) -> bool:
        if self.run.active:
            self.context.show_status(
                "A test is running: stop it (Space) before leaving this screen"
            )
            return False
        return True

    def shutdown(self) -> None:
        self._numbers_timer.stop()

    # -- preferences ---------------------------------------------------------------------
    def apply_preferences(self, prefs: Preferences | None = None) -> None:
        """Show forces in the display unit; new live sessions use the analysis rules.

        A session already counting keeps its rules while a test runs; when idle it is
        rebuilt with the new ones (keeping its zero), so the live reps are found as the
        stored result will find them.
        """
        prefs = prefs if isinstance(prefs, Preferences) else self.context.preferences()
        try:
            analysis: AnalysisSettings | None = prefs.analysis_settings()
        except ValueError:
            analysis = None  # refused at Start with the reason (TestRun)
        analysis = self.protocol_choice.settings(analysis)  # isometric: reps per leg
        self._show_formula(
            analysis.asymmetry_formula if analysis is not None else prefs.asymmetry_formula
        )
        unit = force_unit(prefs.display_unit)
        if unit.symbol != self.unit:
            self.unit = unit.symbol
            for number in (self.left_now, self.right_now, self.left_peak, self.right_peak):
                number.set_unit(unit.symbol, unit.decimals)
            self.plot.set_unit(unit.symbol)
            self._set_reps_headers()
            self._refill_reps()
            self._update_numbers()
        self._show_reference(self.context.athlete)
        if analysis != self.analysis:
            self.analysis = analysis
            session = self.session
            if session is not None and not self.run.active:
                zeros, tared = session.zeros, session.tared
                self.session = None
                self._reset_session(zeros)
                if self.session is not None:
                    self.session.tared = tared

    def _set_reps_headers(self) -> None:
        self.reps_table.setHorizontalHeaderLabels(
            ["Rep", f"Left peak ({self.unit})", f"Right peak ({self.unit})", "Imbalance (%)"]
        )

    def _refill_reps(self) -> None:
        self.reps_table.setRowCount(0)
        for rep in self.test_reps:
            self._add_rep(rep)

    # -- actions -----------------------------------------------------------------------
    def toggle_test(self) -> None:
        """Space: start when ready, stop when running (a second press within a second of
        Start is a double-click and is ignored)."""
        if self.run.state == tr.RUNNING:
            if self.clock() - self.start_pressed_at < DOUBLE_PRESS_S:
                self.context.show_status("Started a moment ago: press again to stop", 3000)
                return
            self.stop_test()
        elif self.run.state == tr.IDLE:
            self.start_test()

    def stop_test(self) -> None:
        """Stop; a test with no reps or only a few seconds long is asked about first."""
        reps = len(self.test_reps)
        seconds = self.session.elapsed_s if self.session is not None else 0.0
        if reps and seconds >= SHORT_TEST_S:
            self.run.stop()
            return
        why = "has no reps" if not reps else f"lasted only {format_number(seconds)} s"
        choice = dialogs.ask_keep_or_discard(
            self,
            "Keep this test?",
            f"This test {why}. Discard it (it is not saved; its recording is set aside), "
            "or keep it (saved and marked as kept on purpose)?",
        )
        if choice is None or self.run.state != tr.RUNNING:
            return  # cancelled: the test goes on
        if choice == DISCARD:
            self.run.stop(keep=False)
        else:
            self.run.stop(flag=f"Kept on purpose although it {why}.")

    def start_test(self) -> None:
        athlete = self.context.athlete
        if athlete is None:
            dialogs.show_warning(
                self, "Choose an athlete", "Choose the athlete to test first (Athletes screen)."
            )
            self.context.navigate.emit("athletes")
            return
        if not self.acquisition.is_connected:
            dialogs.show_warning(self, "No rig", "Connect a rig (or the virtual rig) first.")
            self.context.navigate.emit("connect")
            return
        try:
            kind = self.protocol_choice.selection()
        except ValidationError as exc:
            dialogs.show_warning(self, "Knee angle", f"{user_message(exc)}.")
            return
        self.banner.clear_message()
        self.start_pressed_at = self.clock()
        self._clear_test_display()
        self.run.start(athlete, kind)

    def _clear_test_display(self) -> None:
        """A new test starts from a clean screen: no peaks, reps or time of the last one."""
        self.test_peaks = None
        self.test_reps = []
        if self.session is not None:
            self.session.begin_test()
        self.reps_table.setRowCount(0)
        self.imbalance_label.set_imbalance(None)
        self.elapsed_label.setText("0:00")
        self._update_numbers()

    def tare(self) -> None:
        """T: zero both legs on the last second (the athlete must be still, not pulling)."""
        if self.session is None or self.session.samples == 0:
            self.context.show_status("Nothing to tare yet: wait for live force")
            return
        if self.run.state != tr.IDLE:
            self.context.show_status("Tare before starting the test (the test keeps its zero)")
            return
        try:
            zeros = self.session.tare()
        except NotStill as exc:
            self.context.show_status(f"Not tared: {exc}", 8000)
            self.banner.show_message(f"Not tared: {exc}.", "warning")
            QTimer.singleShot(6000, self._clear_warning_banner)
            return
        if zeros is not None:
            self.context.show_status("Tared: both legs read zero now", 3000)
            self.plot.refresh(self.session.buffer)
            self._update_numbers()

    # -- data --------------------------------------------------------------------------
    def _reset_session(self, zeros: tuple[float, float] | None = None) -> None:
        """A new rate or rig: fresh live state with the calibration in use (``zeros``: keep
        a tare already taken)."""
        old = self.session
        self.session = LiveSession.renewed(
            old,
            self.acquisition.sample_rate_hz(),
            self.acquisition.calibration,
            zeros,
            self.plot_seconds,
            self.analysis,
        )
        if self.session is None or self.session is old:
            return
        self.plot.clear_traces()
        self.reps_table.setRowCount(0)

    def _on_calibration(self, _choice: Any) -> None:
        self.session = None
        self._reset_session()
        self._show_calibration()

    def _on_samples(self, batch: BlockBatch) -> None:
        if self.session is None:
            self._reset_session()
            if self.session is None:
                return
        completed = self.session.feed(batch.blocks)
        self.last_batch_arrival = batch.arrived
        if self.isVisible():
            marker = (self.session.segments, self.session.last_device_index)
            self.plot.show_latest(self.session.buffer, marker)
        if self.run.state in (tr.STARTING, tr.RUNNING):  # reps count from Start only
            for rep in completed:
                self.test_reps.append(rep)
                self._add_rep(rep)

    def _painted(self) -> None:
        self.frames_drawn += 1

    def _add_rep(self, rep: LiveRep) -> None:
        row = self.reps_table.rowCount()
        self.reps_table.insertRow(row)
        pct = rep.imbalance.pct
        values = [
            str(rep.number),
            format_value(rep.left_peak_n, self.unit),
            format_value(rep.right_peak_n, self.unit),
            format_number(pct, 1, signed=is_signed(rep.imbalance.formula)),
        ]
        # the band is judged on the percentage difference, whatever the formula (metrics.md)
        band = band_percent(pct, rep.imbalance.formula, rep.left_peak_n, rep.right_peak_n)
        colours = [None, theme.LEFT_COLOUR, theme.RIGHT_COLOUR, theme.imbalance_band(band).colour]
        for column, (text, colour) in enumerate(zip(values, colours, strict=True)):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if colour:
                item.setForeground(QBrush(QColor(colour)))
            self.reps_table.setItem(row, column, item)
        self.reps_table.scrollToBottom()
        self.imbalance_label.set_imbalance(
            pct, rep.imbalance.stronger, band=band, signed=is_signed(rep.imbalance.formula)
        )
        self.rep_counter.set_value(len(self.test_reps))

    def _update_numbers(self) -> None:
        session = self.session
        if session is None:
            for widget in (self.left_now, self.right_now, self.left_peak, self.right_peak):
                widget.set_value(None)
            return
        unit = self.unit
        self.left_now.set_value(from_newtons(session.current_n[0], unit))
        self.right_now.set_value(from_newtons(session.current_n[1], unit))
        if self.run.state == tr.RUNNING:
            self.test_peaks = session.peak_n  # kept on screen after Stop, until the next Start
        peaks = self.test_peaks or (math.nan, math.nan)
        self.left_peak.set_value(from_newtons(peaks[0], unit))
        self.right_peak.set_value(from_newtons(peaks[1], unit))
        self._show_per_kg(peaks)
        self.rep_counter.set_value(len(self.test_reps))
        if self.run.state == tr.RUNNING:
            seconds = int(session.elapsed_s)
            self.elapsed_label.setText(f"{seconds // 60}:{seconds % 60:02d}")

    # -- test life -----------------------------------------------------------------------
    def _on_stream_restarted(self) -> None:
        """The stream starts at sample 0: the live trace starts afresh; a test starting now
        also clears its time, reps and peaks (after Stop the last test's stay shown)."""
        if self.session is not None:
            self.session.begin_test()
        self.plot.clear_traces()
        if self.run.state in (tr.STARTING, tr.RUNNING):
            self._clear_test_display()

    def _on_test_started(self) -> None:
        self.test_started_at = time.monotonic()
        self.context.show_status("Recording: the athlete may start", 3000)

    def _on_saved(self, test: Any) -> None:
        self.retry_button.hide()
        self.context.current_test_id = int(test.id)
        self.context.test_saved.emit(int(test.id))
        self.context.show_status(
            f"Test saved for {getattr(self.context.athlete, 'name', '')}", 5000
        )
        self.context.navigate.emit("results")

    def _on_discarded(self, moved: Any) -> None:
        self._clear_test_display()
        self.context.show_status(
            "Test discarded: nothing was saved"
            + (" (its recording is kept in the discarded folder)" if moved else ""),
            6000,
        )

    def _on_failed(self, message: str) -> None:
        self.retry_button.setVisible(self.run.state == tr.SAVE_FAILED)
        self.banner.show_message(message, "error")
        dialogs.show_error(self, "Test", message)

    def _on_source_finished(self) -> None:
        if self.run.state == tr.RUNNING:
            self.context.show_status("The recording has played to its end: saving the test", 5000)
            self.run.stop()

    def _on_state(self, state: str) -> None:
        if state == acq.RECONNECTING:
            kept = " The test goes on: its recording is kept." if self.run.active else ""
            self.banner.show_message(
                f"The rig is unplugged or not answering: reconnecting…{kept}", "error"
            )
        elif state in (acq.STREAMING, acq.CONNECTED, acq.READY):
            lost_shown = self.banner.isVisible() and getattr(self.banner, "level", "") == "error"
            if lost_shown and self.run.state != tr.SAVE_FAILED:
                self.banner.show_message("The rig is back.", "info")
                QTimer.singleShot(4000, self._clear_info_banner)
        elif state == acq.LOST:
            self.banner.show_message(
                "The rig was lost. Reconnect it on the Connect screen.", "error"
            )
            if self.run.state == tr.RUNNING:
                self.run.stop()
        self._update_controls()

    def _clear_warning_banner(self) -> None:
        if getattr(self.banner, "level", "") == "warning":
            self.banner.clear_message()

    def _clear_info_banner(self) -> None:
        if getattr(self.banner, "level", "") == "info":
            self.banner.clear_message()

    def _on_link_error(self, kind: str, message: str, fatal: bool = False) -> None:
        if (
            fatal
            or kind in ("recording", "foreign_rig", "internal")
            or (kind == "command" and self.run.active)
        ):
            self.banner.show_message(message, "error")
        self.context.show_status(message, 8000)

    def _show_per_kg(self, peaks: tuple[float, float]) -> None:
        mass = getattr(self.context.athlete, "body_mass_kg", None)
        if not mass:
            self.per_kg_label.setText("N/kg: no body mass recorded")
            return
        left, right = (format_number(p / mass, 2) for p in peaks)
        self.per_kg_label.setText(f"Peak per body mass  L {left} · R {right} N/kg")

    def _show_reference(self, athlete: Any) -> None:
        """The athlete's own force line (their sport and sex) on the live plot."""
        lines = [] if athlete is None else self.context.preferences().lines_for(athlete)
        force = next((line for line in lines if line.measure == "force_n"), None)
        if force is None:
            self.plot.set_reference(None)
            self.reference_text = NO_CUT_OFF if athlete is not None else ""
            return
        self.reference_text = (
            f"{short_source(force)}: {force.compared_with} < {format_force(force.value, self.unit)}"
        )
        self.plot.set_reference(force.value, self.reference_text)

    def _on_athlete(self, athlete: Any) -> None:
        self._show_reference(athlete)
        if athlete is None:
            self.athlete_label.setText("No athlete chosen")
            return
        details = [p for p in (athlete.team, athlete.sport) if p]
        self.athlete_label.setText(athlete.name + (f"  ({', '.join(details)})" if details else ""))

    def _show_calibration(self) -> None:
        choice = self.acquisition.calibration
        if choice is None:
            self.calibration_banner.clear_message()
        elif choice.uncalibrated:
            self.calibration_banner.show_message(
                "UNCALIBRATED: no certificate for this rig, forces use a nominal gain and are not "
                "true newtons. Calibrate the rig or import its certificate.",
                "error",
            )
        elif choice.findings:
            self.calibration_banner.show_message(
                "Calibration warning: " + "; ".join(f.message for f in choice.findings), "warning"
            )
        else:
            self.calibration_banner.clear_message()

    def _update_controls(self) -> None:
        state = self.run.state
        connected = self.acquisition.is_connected
        replay = self.acquisition.is_replay
        show_run_state(
            self.start_button,
            self.state_label,
            state,
            connected,
            {
                tr.IDLE: "Ready: tare, then start" if connected else "Connect a rig to begin",
                tr.STARTING: "Starting…",
                tr.RUNNING: "● Recording",
                tr.STOPPING: "Stopping…",
                tr.SAVING: "Analysing and saving…",
                tr.SAVE_FAILED: "Not saved",
            },
        )
        self.tare_button.setEnabled(connected and not replay and state == tr.IDLE)
        self.protocol_choice.setEnabled(state == tr.IDLE)
        self.retry_button.setVisible(state == tr.SAVE_FAILED)
        if replay:
            self.source_label.setText("Replaying a recording (press Start to play it)")
        elif self.acquisition.url:
            self.source_label.setText(
                f"Rig: {self.acquisition.serial_number or self.acquisition.url}"
            )
        else:
            self.source_label.setText("")
