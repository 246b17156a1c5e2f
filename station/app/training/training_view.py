"""Training mode: a live target zone per leg, reps, time and impulse in zone, saved as a
training session (a test with protocol ``training``, kept out of history and trends).

The zone is set in N, or as % of each leg's max in the athlete's latest Nordic
test.  It is drawn as a band on the live plot; a leg's trace glows green where
the leg is in the zone (a halo behind the trace, which keeps its leg's colour;
drawn from a second plot buffer once per frame, never per sample), and an
optional tone marks entering and leaving it.  The figures come
from :class:`~station.analysis.training.ZoneTracker` on the live view's
filtered force; definitions in docs/analysis.md (Training).

Keyboard: Space starts or stops the session, T tares.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

from station.analysis import AnalysisSettings, LiveUpdate
from station.analysis.training import TargetZone, ZoneError, ZoneTracker
from station.app.live import test_run as tr
from station.app.live.live_session import LiveSession, NotStill
from station.app.live.plot_buffer import PlotBuffer
from station.app.live.run_controls import show_run_state
from station.app.rig import acquisition as acq
from station.app.rig.acquisition import BlockBatch
from station.app.shell import dialogs, theme
from station.app.shell import settings as keys
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.app.training import sessions, sound
from station.app.training.training_layout import MODE_PERCENT, TrainingLayout
from station.app.training.training_run import training_run
from station.present.numbers import format_number
from station.present.times import time_text

log = logging.getLogger(__name__)

NUMBERS_INTERVAL_MS = 120
DEFAULT_PLOT_SECONDS = 12.0
DOUBLE_PRESS_S = 1.0
IN_ZONE_COLOUR = theme.GOOD
LEGS = ("left", "right")


def leg_text(figures: dict[str, Any]) -> str:
    """ "2/3 reps · 4.2 s · 812 N·s" for a leg's stored or live figures."""
    if not figures:
        return "–"
    return (
        f"{figures.get('reps_in_zone', 0)}/{figures.get('reps', 0)} reps · "
        f"{format_number(figures.get('time_in_zone_s'), 1)} s · "
        f"{format_number(figures.get('impulse_in_zone_ns'), 0)} N·s"
    )


@register_screen(order=95)  # last: Ctrl+1..9 of the other screens stay as they were
class TrainingScreen(TrainingLayout, Screen):
    """Live training against a target zone: set the zone, tare, start, stop."""

    key = "training"
    title = "Training"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.acquisition = context.acquisition
        self.plot_seconds = context.settings.get_float(keys.KEY_PLOT_SECONDS, DEFAULT_PLOT_SECONDS)
        self.session: LiveSession | None = None
        # Each leg's force while in the zone (NaN elsewhere): the plot's green halo.
        self.zone_buffer: PlotBuffer | None = None
        self.zone: TargetZone | None = None
        self.tracker: ZoneTracker | None = None
        self.last_max: sessions.LastMax | None = None
        self.sound: sound.ZoneSound | None = None
        self.listed: list[sessions.TrainingSession] = []
        self.session_figures: dict[str, Any] | None = None  # frozen at Stop
        self.clock = time.monotonic
        self.start_pressed_at = -1e9
        self.run = training_run(
            context.store,
            self.acquisition,
            self._figures,
            context.operator,
            context.analysis_settings,
        )
        self._build()
        self._connect_signals()
        self._numbers_timer = QTimer(self)
        self._numbers_timer.setInterval(NUMBERS_INTERVAL_MS)
        self._numbers_timer.timeout.connect(self._update_numbers)
        self._numbers_timer.start()
        self._show_zone()
        self._update_controls()

    def _connect_signals(self) -> None:
        a = self.acquisition
        a.samples_arrived.connect(self._on_samples)
        a.state_changed.connect(lambda _s: self._update_controls())
        a.info_changed.connect(lambda _info: self._reset_session())
        a.calibration_changed.connect(self._on_calibration)
        a.stream_restarted.connect(self._on_stream_restarted)
        a.source_finished.connect(self._on_source_finished)
        a.state_changed.connect(self._on_link_state)
        self.set_zone_button.clicked.connect(self.set_zone)
        self.mode.currentIndexChanged.connect(self._on_mode)
        self.tare_button.clicked.connect(self.tare)
        self.start_button.clicked.connect(self.toggle_session)
        self.retry_button.clicked.connect(self.run.retry_save)
        self.sound_box.toggled.connect(self._on_sound_box)
        self.run.state_changed.connect(lambda _s: self._update_controls())
        self.run.saved.connect(self._on_saved)
        self.run.discarded.connect(lambda _m: self.context.show_status("Session discarded", 5000))
        self.run.failed.connect(self._on_failed)
        self.context.athlete_changed.connect(self._on_athlete)

    # -- screen life -----------------------------------------------------------------
    def activated(self) -> None:
        self._ensure_sound()
        self._on_athlete(self.context.athlete)
        if self.session is not None:
            self.plot.refresh(self.session.buffer)
        self._update_controls()
        self.setFocus()

    def can_leave(self) -> bool:
        if self.run.active:
            self.context.show_status("A training session is running: stop it (Space) first")
            return False
        return True

    def shutdown(self) -> None:
        self._numbers_timer.stop()
        if self.run.state == tr.RUNNING and self.tracker is not None:
            self.session_figures = self.tracker.summary()
        self.run.shutdown()

    def _ensure_sound(self) -> None:
        """Load the tones once, on first use of the screen (QtMultimedia is optional)."""
        if self.sound is not None:
            return
        self.sound = sound.ZoneSound(self.context.data_dir / "cache", sound.load_sound_effect)
        if not self.sound.available:
            self.sound_box.setChecked(False)
            self.sound_box.setEnabled(False)
            self.sound_box.setText("No sound (silent)")
            self.sound_box.setToolTip(self.sound.reason)

    def _on_sound_box(self, on: bool) -> None:
        if self.sound is not None:
            self.sound.enabled = on and self.sound.available

    # -- the zone --------------------------------------------------------------------
    def _analysis(self) -> AnalysisSettings | None:
        try:
            return self.context.analysis_settings()
        except ValueError:
            return None

    def _on_mode(self, _index: int = 0) -> None:
        percent = self.mode.currentData() == MODE_PERCENT
        for box in (self.low, self.high):
            box.setRange(0.0, 200.0 if percent else 5000.0)
        low, high = (60.0, 80.0) if percent else (150.0, 200.0)
        self.low.setValue(low)
        self.high.setValue(high)
        self._show_last_max()

    def set_zone(self) -> bool:
        """Check the entered band and use it (a dialog says what is wrong, and the old zone
        stays)."""
        if self.run.active:
            self.context.show_status("Stop the session before changing the zone", 5000)
            return False
        low, high = self.low.value(), self.high.value()
        settings = self._analysis()
        try:
            if self.mode.currentData() == MODE_PERCENT:
                legs = self.last_max.legs if self.last_max is not None else None
                zone = TargetZone.in_percent(low, high, legs, settings)
            else:
                zone = TargetZone.in_newtons(low, high, settings)
        except ZoneError as exc:
            message = f"The zone is not set: {exc}" + (f"; {exc.hint}." if exc.hint else ".")
            self.banner.show_message(message, "warning")
            dialogs.show_warning(self, "Target zone", message)
            return False
        self.banner.clear_message()
        self.zone = zone
        self.tracker = None
        self._ensure_tracker()
        self._show_zone()
        self.context.show_status(f"Target zone: {zone.describe()}", 4000)
        return True

    def _ensure_tracker(self) -> None:
        if self.zone is not None and self.session is not None and self.tracker is None:
            self.tracker = ZoneTracker(self.zone, self.session.rate_hz, self._analysis())

    def _show_zone(self) -> None:
        zone = self.zone
        if zone is None:
            self.plot.set_bands([])
            self.zone_text.setText("Set a target zone to start training.")
            for panel in (self.left_panel, self.right_panel):
                panel.set_state(None)
            return
        if zone.low_n[0] == zone.low_n[1] and zone.high_n[0] == zone.high_n[1]:
            self.plot.set_bands([(zone.low_n[0], zone.high_n[0], IN_ZONE_COLOUR)])
        else:
            self.plot.set_bands(
                [
                    (zone.low_n[0], zone.high_n[0], theme.LEFT_COLOUR),
                    (zone.low_n[1], zone.high_n[1], theme.RIGHT_COLOUR),
                ]
            )
        self.zone_text.setText("Zone: " + zone.describe().replace(" (", "\n(", 1))
        for panel in (self.left_panel, self.right_panel):
            panel.set_state(False)

    def _show_last_max(self) -> None:
        last = self.last_max
        if self.context.athlete is None:
            self.last_max_label.setText("")
        elif last is None:
            self.last_max_label.setText("No Nordic test yet for this athlete: set the zone in N.")
        else:
            self.last_max_label.setText(
                f"Last max (test of {time_text(last.when)[:10]}): L {last.left_n:.0f} N · "
                f"R {last.right_n:.0f} N"
            )

    # -- athlete and list ------------------------------------------------------------------
    def _on_athlete(self, athlete: Any) -> None:
        if athlete is None:
            self.athlete_label.setText("No athlete chosen")
            self.last_max = None
        else:
            self.athlete_label.setText(athlete.name)
            try:
                self.last_max = sessions.last_max(self.context.store, athlete.id)
            except Exception as exc:  # noqa: BLE001 - the screen keeps working
                self.last_max = None
                self.banner.show_message(f"Cannot read the last max: {user_message(exc)}", "error")
        self._show_last_max()
        self.refresh_sessions()

    def refresh_sessions(self) -> None:
        """The athlete's training sessions, newest first."""
        athlete = self.context.athlete
        try:
            store = self.context.store
            self.listed = [] if athlete is None else sessions.training_sessions(store, athlete.id)
        except Exception as exc:  # noqa: BLE001
            self.banner.show_message(f"Cannot list training sessions: {user_message(exc)}", "error")
            self.listed = []
        table = self.sessions_table
        table.setRowCount(0)
        for row, item in enumerate(self.listed):
            table.insertRow(row)
            values = [
                time_text(item.when).replace(" ", "\n"),
                item.zone.replace(" (", "\n").replace(")", "").replace(" · ", "\n"),
                leg_text(item.figures.get("left") or {}),
                leg_text(item.figures.get("right") or {}),
            ]
            colours = [None, None, theme.LEFT_COLOUR, theme.RIGHT_COLOUR]
            for column, (text, colour) in enumerate(zip(values, colours, strict=True)):
                cell = QTableWidgetItem(text.replace(" · ", "\n") if column >= 2 else text)
                if colour:
                    cell.setForeground(QBrush(QColor(colour)))
                table.setItem(row, column, cell)
        table.resizeRowsToContents()

    # -- actions ---------------------------------------------------------------------------
    def toggle_session(self) -> None:
        if self.run.state == tr.RUNNING:
            if self.clock() - self.start_pressed_at < DOUBLE_PRESS_S:
                return
            self.stop_session()
        elif self.run.state == tr.IDLE:
            self.start_session()

    def start_session(self) -> None:
        athlete = self.context.athlete
        if athlete is None:
            dialogs.show_warning(self, "Choose an athlete", "Choose the athlete first (Athletes).")
            return
        if not self.acquisition.is_connected:
            dialogs.show_warning(self, "No rig", "Connect a rig (or the virtual rig) first.")
            return
        if self.zone is None and not self.set_zone():
            return
        self.start_pressed_at = self.clock()
        self.session_figures = None
        self._begin_counting()
        self.run.start(athlete)

    def _begin_counting(self) -> None:
        if self.session is not None:
            self.session.begin_test()
        if self.tracker is not None:
            self.tracker.reset()
        self._clear_highlight()
        self.plot.clear_traces()
        self._show_zone()
        self._update_numbers()

    def tare(self) -> None:
        if self.session is None or self.session.samples == 0:
            self.context.show_status("Nothing to tare yet: wait for live force")
            return
        if self.run.state != tr.IDLE:
            self.context.show_status("Tare before starting (the session keeps its zero)")
            return
        try:
            self.session.tare()
        except NotStill as exc:
            self.banner.show_message(f"Not tared: {exc}.", "warning")
            return
        self._clear_highlight()
        self.context.show_status("Tared: both legs read zero now", 3000)
        self.plot.refresh(self.session.buffer)

    # -- data ---------------------------------------------------------------------------
    def _reset_session(self, zeros: tuple[float, float] | None = None) -> None:
        old = self.session
        self.session = LiveSession.renewed(
            old,
            self.acquisition.sample_rate_hz(),
            self.acquisition.calibration,
            zeros,
            self.plot_seconds,
            self._analysis(),
        )
        if self.session is None or self.session is old:
            return
        self.session.block_listener = self._on_block
        self.zone_buffer = PlotBuffer(self.session.buffer.capacity)
        self.zone_buffer.set_sample_rate(self.session.rate_hz)
        self.plot.set_highlight(self.zone_buffer, IN_ZONE_COLOUR, "In the zone")
        self.tracker = None
        self._ensure_tracker()
        self.plot.clear_traces()

    def _on_calibration(self, _choice: Any) -> None:
        self.session = None
        self._reset_session()

    def _on_samples(self, batch: BlockBatch) -> None:
        if not (self.isVisible() or self.run.active):
            return  # another screen is showing: the test screen does the live work
        if self.session is None:
            self._reset_session()
            if self.session is None:
                return
        self.session.feed(batch.blocks)
        if self.isVisible():
            self.plot.show_latest(self.session.buffer)

    def _on_block(self, update: LiveUpdate) -> None:
        tracker = self.tracker
        if tracker is None:
            return
        before = tracker.state
        zone = tracker.process(update.forces_n, update.first_index)
        if self.zone_buffer is not None:
            self.zone_buffer.append(
                update.first_index, np.where(zone.in_zone, update.forces_n, np.nan)
            )
        after = zone.state
        if after == before:
            return
        for leg in range(2):
            if after[leg] != before[leg]:
                (self.left_panel, self.right_panel)[leg].set_state(after[leg])
        if self.sound is not None:
            entered = any(a and not b for a, b in zip(after, before, strict=True))
            self.sound.play("enter" if entered else "leave")

    def _clear_highlight(self) -> None:
        if self.zone_buffer is not None:
            self.zone_buffer.clear()

    def _figures(self) -> dict[str, Any]:
        """What is saved with the session: the figures frozen at Stop (the store reads them
        on its worker thread, while the live tracker goes on counting in this one)."""
        if self.session_figures is not None:
            return self.session_figures
        return {} if self.tracker is None else self.tracker.summary()

    def stop_session(self) -> None:
        """Stop and save; the session's figures are the ones at this moment."""
        if self.run.state != tr.RUNNING:
            return
        self.session_figures = {} if self.tracker is None else self.tracker.summary()
        self.run.stop()

    def _update_numbers(self) -> None:
        """The running session's figures live; after Stop, the saved session's."""
        if self.run.state == tr.RUNNING and self.tracker is not None:
            shown = [f.to_dict() for f in self.tracker.figures]
        else:
            saved = self.session_figures or {}
            shown = [saved.get(leg) or {} for leg in LEGS]
        for figures, panel in zip(shown, (self.left_panel, self.right_panel), strict=True):
            if not figures:
                panel.reps.setText("–")
                panel.time.setText("–")
                panel.impulse.setText("–")
                continue
            panel.reps.setText(f"{figures['reps_in_zone']} of {figures['reps']}")
            panel.time.setText(f"{format_number(figures['time_in_zone_s'], 1)} s")
            panel.impulse.setText(f"{format_number(figures['impulse_in_zone_ns'], 0)} N·s")
        if self.run.state == tr.RUNNING and self.session is not None:
            seconds = int(self.session.elapsed_s)
            self.elapsed_label.setText(f"{seconds // 60}:{seconds % 60:02d}")

    # -- session life -----------------------------------------------------------------------
    def _on_stream_restarted(self) -> None:
        if self.run.state in (tr.STARTING, tr.RUNNING):
            self._begin_counting()
        elif self.session is not None:
            self.session.begin_test()
            self._clear_highlight()
            self.plot.clear_traces()

    def _on_saved(self, test: Any) -> None:
        self.retry_button.hide()
        figures = self.session_figures or {}
        self.context.show_status("Training session saved", 6000)
        self.banner.show_message(
            "Saved: left "
            + leg_text(figures.get("left") or {})
            + "; right "
            + leg_text(figures.get("right") or {}),
            "info",
        )
        log.info("training session %s saved", getattr(test, "id", "?"))
        self.refresh_sessions()

    def _on_failed(self, message: str) -> None:
        self.retry_button.setVisible(self.run.state == tr.SAVE_FAILED)
        self.banner.show_message(message, "error")
        dialogs.show_error(self, "Training", message)

    def _on_source_finished(self) -> None:
        self.stop_session()

    def _on_link_state(self, state: str) -> None:
        if state == acq.LOST and self.run.state == tr.RUNNING:
            self.banner.show_message("The rig was lost: the session is saved.", "error")
            self.stop_session()

    def _update_controls(self) -> None:
        state = self.run.state
        connected = self.acquisition.is_connected
        show_run_state(
            self.start_button,
            self.state_label,
            state,
            connected,
            {
                tr.IDLE: "Ready: set zone, tare, start" if connected else "Connect a rig",
                tr.STARTING: "Starting…",
                tr.RUNNING: "● Training",
                tr.STOPPING: "Stopping…",
                tr.SAVING: "Saving…",
                tr.SAVE_FAILED: "Not saved",
            },
        )
        self.tare_button.setEnabled(connected and state == tr.IDLE)
        for widget in (self.low, self.high, self.mode, self.set_zone_button):
            widget.setEnabled(not self.run.active)
        self.retry_button.setVisible(state == tr.SAVE_FAILED)
        url = self.acquisition.url
        self.source_label.setText(
            f"Rig: {self.acquisition.serial_number or url}" if connected and url else ""
        )
