"""Settings: "Stream to Lab Streaming Layer" (issue 16 §2, while the app runs).

On, the acquisition's event pump also feeds an
:class:`~station.app.settings.lsl_stream.AppLslStream`: the connected rig's
force (newtons, tared, unfiltered) and events go out as the same two LSL
streams ``nordic-station stream`` publishes (docs/research.md), for
LabRecorder beside EMG or motion capture.  Off, the outlets close.  The
choice is remembered.  Where pylsl (or the liblsl it ships) cannot load, the
box is off and disabled, the reason in its tooltip.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from firmware_bridge.errors import NordicError, describe
from station.app.settings.lsl_stream import AppLslStream
from station.app.shell.context import AppContext
from station.app.shell.widgets import Banner
from station.streaming import lsl
from station.streaming.lsl import DEFAULT_NAME

log = logging.getLogger(__name__)

KEY_LSL = "streaming/lsl"
STATUS_MS = 1000


def lsl_problem() -> str | None:
    """Why LSL cannot be used here (one line), or None when pylsl loads."""
    if importlib.util.find_spec("pylsl") is None:
        return "Lab Streaming Layer is not available here: install pylsl to stream live."
    try:
        lsl.load_pylsl()
    except NordicError as exc:
        return describe(exc, for_cli=False)
    return None


class LslSetting(QWidget):
    """The checkbox, a line on what it does, and what is being published."""

    def __init__(self, context: AppContext, name: str = DEFAULT_NAME) -> None:
        super().__init__()
        self.context = context
        self.name = name
        self.stream: AppLslStream | None = None
        self.checkbox = QCheckBox("Stream to Lab Streaming Layer")
        explain = QLabel(
            f"Publishes the connected rig's force (newtons, left and right) as '{name} force' "
            f"and its events and reps as '{name} events', for LabRecorder or any LSL inlet."
        )
        explain.setWordWrap(True)
        explain.setObjectName("caption")
        self.status = QLabel("")
        self.status.setObjectName("caption")
        self.banner = Banner()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.checkbox)
        layout.addWidget(explain)
        layout.addWidget(self.status)
        layout.addWidget(self.banner)
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_MS)
        self._timer.timeout.connect(self.show_status)
        self.checkbox.toggled.connect(self.set_streaming)
        if context.settings.get_int(KEY_LSL, 0):
            self.checkbox.setChecked(True)

    def set_streaming(self, on: bool) -> None:
        """Attach (on) or detach (off) the LSL publisher to the app's acquisition."""
        acquisition = self.context.acquisition
        if on and self.stream is None:
            problem = lsl_problem()
            if problem is not None:
                self.disable(problem)
                return
            self.stream = AppLslStream(lambda: acquisition.info, self._certificate, name=self.name)
            acquisition.attach_listener(self.stream)
            self._timer.start()
            log.info("LSL streaming on")
        elif not on and self.stream is not None:
            stream, self.stream = self.stream, None
            acquisition.detach_listener(stream)
            stream.close()
            self._timer.stop()
            log.info("LSL streaming off")
        self.context.settings.set(KEY_LSL, int(self.stream is not None))
        self.show_status()

    def disable(self, reason: str) -> None:
        """LSL cannot load: the box is off and greyed, the reason in its tooltip."""
        self.checkbox.blockSignals(True)
        self.checkbox.setChecked(False)
        self.checkbox.blockSignals(False)
        self.checkbox.setEnabled(False)
        self.checkbox.setToolTip(reason)
        self.status.setText(reason)

    def _certificate(self) -> Any:
        choice = self.context.acquisition.calibration
        return None if choice is None else choice.certificate

    def show_status(self) -> None:
        stream = self.stream
        if stream is None:
            if self.checkbox.isEnabled():
                self.status.setText("Not streaming.")
            self.banner.clear_message()
        elif stream.problem:
            self.banner.show_message(f"Nothing is streamed: {stream.problem}", "error")
        elif stream.publishing:
            self.banner.clear_message()
            self.status.setText(f"Streaming: {stream.samples:,} samples published so far.")
        else:
            self.banner.clear_message()
            self.status.setText("On: streaming starts when a rig is connected.")
