"""Replay: a recording or raw capture played through the live path, with a transport.

The file plays through a :class:`~firmware_bridge.link.Link` on its
``replay://`` URL, opened and pumped by an
:class:`~station.app.replay.playback.PlaybackAcquisition` of the screen's own (the
path a live test reads a rig through, off the GUI thread), into the same
live analysis and plot the test screen uses, at 1×, 4× or as fast as
possible, with pause, a position slider, and the decoder's counters.  What
was played can be saved to an athlete as an imported test: the store
analyses the file itself, so the stored numbers are those of
``nordic-station analyze``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import urllib.parse
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QStyle,
    QVBoxLayout,
)

from calibration import choice as calibration_choice
from firmware_bridge.errors import InputError
from firmware_bridge.link import Link
from firmware_bridge.replay import ControlledReplay, load_replay, playback_opener
from station.app.live.live_plot import LivePlot
from station.app.live.live_session import LiveSession
from station.app.replay.playback import PlaybackAcquisition
from station.app.rig.acquisition import BlockBatch
from station.app.settings import preferences
from station.app.shell import dialogs, theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.app.shell.tasks import TaskRunner
from station.app.shell.widgets import Banner, screen_title
from station.present.certificate_status import certificate_warning
from station.present.units import format_force

log = logging.getLogger(__name__)

SPEEDS = (("1× (as recorded)", 1.0), ("4×", 4.0), ("fastest", math.inf))
RECORDING_FILTER = "Recordings and captures (*.nsrec *.bin *.raw *.txt *.csv);;All files (*)"
FRAME_MS = 33
COUNTERS = (
    ("samples", "Samples"),
    ("frames_ok", "Frames OK"),
    ("frames_corrupt", "Corrupt frames"),
    ("frames_unknown", "Unknown frames"),
    ("dropped_samples", "Dropped samples"),
    ("overrun_events", "Overruns"),
    ("device_restarts", "Rig restarts"),
    ("saturated_left", "Saturated, left"),
    ("saturated_right", "Saturated, right"),
    ("lines_corrupt", "Corrupt text lines"),
    ("bytes_total", "Bytes"),
)
SLIDER_STEPS_PER_S = 10
TARE_AFTER_S = 1.0


def replay_url(path: str | Path) -> str:
    return "replay://" + urllib.parse.quote(str(Path(path).resolve()))


@register_screen(order=80)
class ReplayScreen(Screen):
    """Play back a recording, watch it live, save it to an athlete."""

    key = "replay"
    title = "Replay"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.store = context.store
        self.prefs = preferences.load(context.settings)
        self.path: Path | None = None
        self.capture: Any = None
        self.choice: calibration_choice.CalibrationChoice | None = None
        self.device: ControlledReplay | None = None
        self.session: LiveSession | None = None
        self.counters: dict[str, Any] = {}
        self.finished = False
        self.saved_test_id: int | None = None
        self.tasks = TaskRunner("station-replay", self)
        # The screen's own connection: a replay plays while a rig stays connected.
        self.acquisition = PlaybackAcquisition(store=None)
        self.acquisition.samples_arrived.connect(self._samples_arrived)
        self.acquisition.counters_changed.connect(self._counters_arrived)
        self.acquisition.error.connect(self._link_error)
        self.acquisition.connect_failed.connect(self._open_failed)
        self.acquisition.source_finished.connect(self._finish)
        self._dragging = False
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.refresh)
        context.athletes_changed.connect(self._fill_athletes)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open a recording…")
        self.open_button.clicked.connect(self.ask_open)
        self.file_label = QLabel("No recording open.")
        self.file_label.setWordWrap(True)
        self.speed = QComboBox()
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.currentIndexChanged.connect(lambda _i: self.set_speed(self.speed.currentData()))
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("primary")
        self.play_button.clicked.connect(self.toggle_play)
        self.rewind_button = QPushButton("From the start")
        self.rewind_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward)
        )
        self.rewind_button.clicked.connect(lambda: self.seek(0.0))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(160)
        self.slider.sliderPressed.connect(lambda: setattr(self, "_dragging", True))
        self.slider.sliderReleased.connect(self._slider_released)
        self.position = QLabel("0.0 s of 0.0 s")
        self.position.setFont(theme.font(13, bold=True))
        self.position.setMinimumWidth(150)
        self.banner = Banner()
        self.plot = LivePlot(window_s=10.0)
        self.left_peak = QLabel("–")
        self.right_peak = QLabel("–")
        self.reps = QLabel("0")
        for big, colour in (
            (self.left_peak, theme.LEFT_COLOUR),
            (self.right_peak, theme.RIGHT_COLOUR),
            (self.reps, "#1F1F1F"),
        ):
            big.setFont(theme.font(20, bold=True))
            big.setStyleSheet(f"color: {colour};")
        self.counter_labels: dict[str, QLabel] = {}
        counters = QFormLayout()
        for key, text in COUNTERS:
            cell = QLabel("–")
            cell.setFont(theme.font(12))
            cell.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.counter_labels[key] = cell
            counters.addRow(text, cell)
        self.calibration = QLabel("")
        self.calibration.setWordWrap(True)
        self.calibration.setObjectName("caption")

        side = QFrame()
        side.setFrameShape(QFrame.Shape.StyledPanel)
        side.setFixedWidth(300)
        side_layout = QVBoxLayout(side)
        numbers = QFormLayout()
        numbers.addRow("Reps so far", self.reps)
        numbers.addRow("Left peak", self.left_peak)
        numbers.addRow("Right peak", self.right_peak)
        side_layout.addLayout(numbers)
        caption = QLabel("Counters (the decoder's, as the rig's bytes arrive)")
        caption.setFont(theme.font(12, bold=True))
        caption.setWordWrap(True)
        side_layout.addWidget(caption)
        side_layout.addLayout(counters)
        side_layout.addWidget(self.calibration)
        side_layout.addStretch(1)

        self.athlete_box = QComboBox()
        self.athlete_box.setMinimumWidth(240)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Notes (optional)")
        self.save_button = QPushButton("Save to athlete as an imported test")
        self.save_button.clicked.connect(self.save_to_athlete)
        save_row = QHBoxLayout()
        save_row.addWidget(QLabel("Athlete"))
        save_row.addWidget(self.athlete_box)
        save_row.addWidget(self.notes, 1)
        save_row.addWidget(self.save_button)

        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.rewind_button)
        transport.addWidget(QLabel("Speed"))
        transport.addWidget(self.speed)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.position)
        top = QHBoxLayout()
        top.addWidget(screen_title("Replay"))
        top.addSpacing(24)
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addWidget(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addLayout(transport)
        layout.addLayout(body, 1)
        layout.addLayout(save_row)
        self._fill_athletes()
        self._enable()

    def _fill_athletes(self) -> None:
        keep = self.athlete_box.currentData()
        if keep is None and self.context.athlete is not None:
            keep = self.context.athlete.id
        self.athlete_box.clear()
        with contextlib.suppress(Exception):
            for athlete in self.store.athletes.find():
                self.athlete_box.addItem(athlete.name, athlete.id)
        index = self.athlete_box.findData(keep)
        if index >= 0:
            self.athlete_box.setCurrentIndex(index)

    def _enable(self) -> None:
        loaded = self.capture is not None
        self.play_button.setEnabled(loaded)
        self.rewind_button.setEnabled(loaded)
        self.slider.setEnabled(loaded)
        self.save_button.setEnabled(loaded and self.athlete_box.count() > 0)
        playing = self.device is not None and not self.device.paused and not self.finished
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPause
                if playing
                else QStyle.StandardPixmap.SP_MediaPlay
            )
        )

    def activated(self) -> None:
        self.prefs = preferences.load(self.context.settings)
        self.plot.set_unit(self.prefs.display_unit)  # the peaks beside it use the same unit
        self._fill_athletes()
        self._enable()

    # -- opening --------------------------------------------------------------------------------
    def ask_open(self) -> None:
        start = self.context.settings.get_str("replay/last_folder", str(self.context.data_dir))
        path, _ = QFileDialog.getOpenFileName(self, "Open a recording", start, RECORDING_FILTER)
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> bool:
        """Load a recording or capture (refused here, with one line, if it cannot be played)."""
        self.stop_playback()
        url = replay_url(path)
        try:
            capture = load_replay(url)
            ControlledReplay(capture)  # can it be paced? (a raw capture needs its rate)
        except InputError as exc:
            dialogs.show_error(self, "Replay", user_message(exc))
            return False
        self.context.settings.set("replay/last_folder", str(path.parent))
        self.path, self.capture, self.url = path, capture, url
        self.saved_test_id = None
        info = capture.info
        serial = info.serial_number if info is not None else None
        self.choice = calibration_choice.choose(
            self.store.certificates,
            serial,
            recorded=calibration_choice.carried_calibration(capture),
        )
        rate = capture.stream.sample_rate_hz
        duration = capture.stream.duration_s()
        self.file_label.setText(
            f"{path.name} · {capture.kind} · rig {serial or 'unknown'} · {rate or 0:g} Hz · "
            f"{duration or 0:.1f} s recorded"
        )
        warning = certificate_warning(self.choice.certificate, serial)
        self.calibration.setText(self.choice.short_text + (f"\n{warning}" if warning else ""))
        if warning:
            self.banner.show_message(warning, "error" if self.choice.uncalibrated else "warning")
        else:
            self.banner.clear_message()
        self.start_playback(0.0, paused=True)
        return True

    # -- playing --------------------------------------------------------------------------------
    def start_playback(self, start_s: float = 0.0, paused: bool = False) -> None:
        """A fresh playback from the recording's first byte (fast-forwarded to ``start_s``)."""
        self.stop_playback()
        capture = self.capture
        rate = capture.stream.sample_rate_hz or 80.0
        choice = self.choice
        assert choice is not None
        self.session = LiveSession(
            rate,
            choice.gains(),
            choice.zeros(),
            plot_seconds=12.0,
            settings=self.prefs.analysis_settings(),
        )
        self.plot.clear_traces()
        self.device = ControlledReplay(
            capture, speed=float(self.speed.currentData()), start_s=start_s, paused=paused
        )
        self.finished = False
        self.counters = {}
        self.acquisition.play(self.url, playback_opener(self.device))  # opened off the GUI
        duration = self.device.duration_s
        self.slider.setRange(0, max(1, int(math.ceil(duration * SLIDER_STEPS_PER_S))))
        self.timer.start()
        self._enable()
        self.refresh()

    @property
    def link(self) -> Link | None:
        return self.acquisition.link

    def _open_failed(self, message: str) -> None:
        self.timer.stop()
        self.device = None
        dialogs.show_error(self, "Replay", message)
        self._enable()

    def stop_playback(self) -> None:
        self.timer.stop()
        self.acquisition.close()
        self.device = None

    def toggle_play(self) -> None:
        if self.capture is None:
            return
        if self.finished or self.device is None:
            self.start_playback(0.0)
            return
        now = time.monotonic()
        if self.device.paused:
            self.device.resume(now)
        else:
            self.device.pause(now)
        self._enable()

    def play(self) -> None:
        if self.device is not None and self.device.paused:
            self.toggle_play()

    def set_speed(self, speed: float) -> None:
        index = next((i for i, (_, v) in enumerate(SPEEDS) if v == speed), None)
        if index is not None and self.speed.currentIndex() != index:
            self.speed.setCurrentIndex(index)  # comes back here through the signal
            return
        if self.device is not None:
            self.device.set_speed(float(speed), time.monotonic())

    def seek(self, seconds: float) -> None:
        """Go to ``seconds`` into the recording (back: replay from the start, fast-forwarded)."""
        if self.capture is None:
            return
        device = self.device
        now = time.monotonic()
        if device is not None and not self.finished and seconds >= device.now_s(now):
            device.seek_forward(seconds, now)
            return
        paused = device.paused if device is not None else False
        self.start_playback(seconds, paused=paused)

    def _slider_released(self) -> None:
        self._dragging = False
        self.seek(self.slider.value() / SLIDER_STEPS_PER_S)

    def _samples_arrived(self, batch: BlockBatch) -> None:
        """The pump's blocks into the live analysis (drawn on the next frame)."""
        session = self.session
        if session is not None and self.device is not None:
            session.feed(batch.blocks)
            self._auto_tare(session)

    def _counters_arrived(self, counters: dict[str, Any]) -> None:
        self.counters = dict(counters)

    def _link_error(self, kind: str, message: str, fatal: bool) -> None:
        self.banner.show_message(message, "error" if fatal or kind == "internal" else "warning")

    def refresh(self) -> None:
        """Redraw (once per frame) with the decoder's counters as they are now."""
        link = self.link
        if link is not None and not self.finished:
            self.counters = link.counters()  # the decoder's, now (snapshots lag by 0.5 s)
        self._show()

    def _auto_tare(self, session: LiveSession) -> None:
        """Zero on the first second, as an operator tares before a test (metrics.md: the
        athlete kneels still first).  The stored result takes its own zero offline."""
        if not session.tared and session.samples >= session.rate_hz * TARE_AFTER_S:
            session.tare()

    def _finish(self) -> None:
        """The last byte was played: close the link (its final counters) and say so."""

        def closed() -> None:
            self.finished = True
            self.timer.stop()
            self._show()
            self.context.show_status(
                "Replay finished: save it to an athlete below if you want it kept.", 6000
            )
            self._enable()

        log.debug("replay finished")
        self.acquisition.finish_playback(closed)

    def _show(self) -> None:
        session, device = self.session, self.device
        if session is None:
            return
        self.plot.refresh(session.buffer)
        unit = self.prefs.display_unit
        self.left_peak.setText(format_force(session.peak_n[0], unit))
        self.right_peak.setText(format_force(session.peak_n[1], unit))
        self.reps.setText(str(session.rep_count))
        for key, label in self.counter_labels.items():
            value = self.counters.get(key)
            label.setText("–" if value is None else f"{value:,}".replace(",", " "))
            bad = key in (
                "frames_corrupt",
                "dropped_samples",
                "overrun_events",
                "device_restarts",
                "lines_corrupt",
                "saturated_left",
                "saturated_right",
            )
            label.setStyleSheet(
                f"color: {theme.DANGER}; font-weight: bold;" if bad and value else ""
            )
        if device is not None:
            now_s = device.duration_s if self.finished else device.now_s(time.monotonic())
            if not self._dragging:
                self.slider.blockSignals(True)
                self.slider.setValue(int(now_s * SLIDER_STEPS_PER_S))
                self.slider.blockSignals(False)
            state = " (finished)" if self.finished else " (paused)" if device.paused else ""
            self.position.setText(f"{now_s:.1f} s of {device.duration_s:.1f} s{state}")

    # -- saving ---------------------------------------------------------------------------------
    def save_to_athlete(self) -> None:
        """Import the file for the chosen athlete (analysed by the store, off the GUI thread)."""
        athlete_id = self.athlete_box.currentData()
        if self.path is None or athlete_id is None or self.choice is None:
            return
        path, notes = self.path, self.notes.text().strip()
        certificate = (
            None
            if calibration_choice.carried_calibration(self.capture) is not None
            else self.choice.certificate
        )
        settings = self.prefs.analysis_settings()
        operator = self.context.operator
        self.save_button.setEnabled(False)

        def work() -> Any:
            return self.store.new_tests.import_file(
                int(athlete_id),
                path,
                certificate=certificate,
                notes=notes or None,
                settings=settings,
                operator=operator,
            )

        self.tasks.submit(work, self._saved, self._save_failed)

    def _saved(self, record: Any) -> None:
        self.saved_test_id = int(record.id)
        self._enable()
        self.context.show_status(f"Saved as test {record.id}", 6000)
        self.context.test_saved.emit(int(record.id))
        if self.choice is not None and self.choice.uncalibrated:
            self.banner.show_message(
                "Saved, but UNCALIBRATED: its forces use a nominal gain.", "warning"
            )

    def _save_failed(self, exc: BaseException) -> None:
        self._enable()
        dialogs.show_error(self, "Replay", f"Not saved: {exc}")

    def shutdown(self) -> None:
        self.stop_playback()
        self.acquisition.shutdown()
        self.tasks.shutdown(wait=True)


__all__ = ["ReplayScreen", "replay_url"]
