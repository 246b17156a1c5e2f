"""The Start/Stop button and state line of a live run, one look on every screen that
records (Test, Training): the button turns red while recording and the line says what
the run is doing in the screen's own words."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QLabel, QPushButton

from station.app.live import test_run as tr
from station.app.shell import theme


def show_run_state(
    button: QPushButton, label: QLabel, state: str, connected: bool, words: Mapping[str, str]
) -> None:
    """Restyle ``button`` and ``label`` for the run's ``state`` (``words``: what each
    state is called on this screen; an unnamed state shows as itself)."""
    running = state == tr.RUNNING
    button.setText("Stop  (Space)" if running else "Start  (Space)")
    button.setObjectName("danger" if running else "primary")
    button.style().unpolish(button)
    button.style().polish(button)
    button.setEnabled(connected and state in (tr.IDLE, tr.RUNNING))
    label.setText(words.get(state, state))
    label.setStyleSheet(f"color: {theme.DANGER};" if running else "")
