"""The status bar: is the rig there, which rig, how fast, which calibration, any loss.

A clinician must see at once when the rig is unplugged (red, in words) and
whether the newtons on screen are calibrated; the counters of corrupt frames
and dropped samples say whether the data can be trusted.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from station.app.shell import theme
from station.app.shell.context import AppContext
from station.app.shell.sync_status import SyncIndicator
from station.present.words import plain_words

STATE_STYLE = {
    "disconnected": (theme.NEUTRAL, "Not connected"),
    "connecting": (theme.CAUTION, "Connecting…"),
    "connected": (theme.GOOD, "Connected"),
    "streaming": (theme.GOOD, "Streaming"),
    "silent": (theme.CAUTION, "Rig silent"),
    "reconnecting": (theme.DANGER, "Rig unplugged: reconnecting…"),
    "lost": (theme.DANGER, "Rig lost"),
    "finished": (theme.NEUTRAL, "Replay finished"),
}


DETAIL_TIMEOUT_MS = 10_000  # long enough to read a reconnect or a restart


class ConnectionStatusBar(QStatusBar):
    """Connection state, rig serial, rate, certificate, and loss counters."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.state_label = QLabel()
        self.rig_label = QLabel("Rig: –")
        self.rate_label = QLabel("Rate: –")
        self.certificate_label = QLabel("Calibration: –")
        self.corrupt_label = QLabel("Corrupt frames: 0")
        self.dropped_label = QLabel("Dropped samples: 0")
        self.sync_label = SyncIndicator(context.data_dir)  # shown only on a joined station
        for label in (
            self.state_label,
            self.rig_label,
            self.rate_label,
            self.certificate_label,
            self.corrupt_label,
            self.dropped_label,
            self.sync_label,
        ):
            self.addPermanentWidget(label)
        self.corrupt_label.setToolTip("Frames that failed their checksum since connecting")
        self.dropped_label.setToolTip(
            "Samples the rig numbered but that never arrived (gaps on the time axis)"
        )
        acquisition = context.acquisition
        acquisition.state_changed.connect(self.set_state)
        acquisition.state_detail.connect(self.set_detail)
        acquisition.info_changed.connect(self.set_info)
        acquisition.counters_changed.connect(self.set_counters)
        acquisition.calibration_changed.connect(self.set_calibration)
        context.status_message.connect(self.showMessage)
        self.set_state("disconnected")

    def set_state(self, state: str) -> None:
        colour, text = STATE_STYLE.get(state, (theme.NEUTRAL, state))
        self.state = state
        self.state_label.setText(f"● {text}")
        self.state_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def set_detail(self, detail: str) -> None:
        """The link says why its state changed: shown for a while, and kept as a tooltip."""
        detail = plain_words(detail)
        self.state_label.setToolTip(detail)
        self.showMessage(detail, DETAIL_TIMEOUT_MS)

    def set_info(self, info: object) -> None:
        serial = getattr(info, "serial_number", None)
        rate = getattr(info, "sample_rate_hz", None)
        self.rig_label.setText(f"Rig: {serial or '–'}")
        self.rate_label.setText(f"Rate: {rate:g} Hz" if rate else "Rate: –")

    def set_counters(self, counters: dict) -> None:
        corrupt = int(counters.get("frames_corrupt", 0)) + int(counters.get("lines_corrupt", 0))
        dropped = int(counters.get("dropped_samples", 0))
        self.corrupt_label.setText(f"Corrupt frames: {corrupt}")
        self.dropped_label.setText(f"Dropped samples: {dropped}")
        for label, value in ((self.corrupt_label, corrupt), (self.dropped_label, dropped)):
            label.setStyleSheet(f"color: {theme.CAUTION}; font-weight: bold;" if value else "")

    def set_calibration(self, status: object) -> None:
        """``status`` is a :class:`~.calibration_choice.CalibrationChoice`."""
        text = getattr(status, "short_text", "Calibration: –")
        level = getattr(status, "level", "info")
        self.certificate_label.setText(text)
        self.certificate_label.setToolTip(getattr(status, "long_text", ""))
        colour = {"warning": theme.CAUTION, "error": theme.DANGER}.get(level)
        self.certificate_label.setStyleSheet(
            f"color: {colour}; font-weight: bold;" if colour else ""
        )
