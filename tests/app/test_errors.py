"""Failures end in a dialog or a status message, the window stays alive and nothing
recorded is dropped."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import serial
from PySide6.QtCore import Qt

from station.app.live import test_run as tr
from station.app.live.test_view import DOUBLE_PRESS_S
from station.app.rig import acquisition as acq
from station.app.shell.dialogs import install_excepthook
from station.store import StoreError
from tests.app.conftest import FAST_ATHLETE, wait_for

pytestmark = pytest.mark.gui


def test_missing_port_is_a_dialog(qtbot: Any, window: Any, messages: Any) -> None:
    window.screens["connect"].connect_to("/dev/nordic-station-no-such-port")
    wait_for(qtbot, lambda: messages.shown)
    kind, title, text = messages.shown[0]
    assert kind == "critical" and title == "Cannot connect"
    assert "no such device" in text and "plugged in" in text
    assert window.isVisible() and window.context.acquisition.state == acq.DISCONNECTED
    assert "no such device" in window.screens["connect"].banner.text()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_busy_port_is_a_dialog(qtbot: Any, window: Any, messages: Any) -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)  # another program has the port
    try:
        window.screens["connect"].connect_to(path)
        wait_for(qtbot, lambda: messages.shown)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert "busy" in messages.shown[0][2]
    assert window.isVisible() and window.context.acquisition.state == acq.DISCONNECTED


def test_bad_recording_is_a_dialog(qtbot: Any, window: Any, tmp_path: Path, messages: Any) -> None:
    bad = tmp_path / "not-a-recording.nsrec"
    bad.write_bytes(b"this is a shopping list, not a recording\n" * 3)
    window.screens["connect"].replay(str(bad), "max")
    wait_for(qtbot, lambda: messages.shown)
    assert messages.shown[0][1] == "Cannot connect"
    assert str(bad) in messages.shown[0][2]
    assert window.isVisible() and window.context.acquisition.state == acq.DISCONNECTED


def test_failed_save_keeps_the_recording_and_can_retry(
    qtbot: Any, window: Any, rig_name: str, monkeypatch: pytest.MonkeyPatch, messages: Any
) -> None:
    context = window.context
    store = context.store
    context.set_athlete(store.athletes.add("Di Diskfull"))
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200&{FAST_ATHLETE}")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    test_screen = window.screens["test"]
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: test_screen.run.state == tr.RUNNING)
    # Past the double-click guard, so the next Space is a Stop.
    wait_for(qtbot, lambda: test_screen.clock() - test_screen.start_pressed_at > DOUBLE_PRESS_S)

    real_finish = store.live.finish

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("database or disk is full")

    monkeypatch.setattr(store.live, "finish", disk_full)
    qtbot.keyClick(test_screen, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: test_screen.run.state == tr.SAVE_FAILED)
    assert "disk is full" in messages.texts() and "recording is kept" in messages.texts()
    assert test_screen.retry_button.isVisible()
    pending = store.recovery.pending()
    assert len(pending) == 1 and pending[0].size and pending[0].size > 0
    assert context.current_test_id is None

    monkeypatch.setattr(store.live, "finish", real_finish)
    qtbot.mouseClick(test_screen.retry_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: context.current_test_id is not None, 20)
    assert store.recovery.pending() == []
    assert store.tests.get(context.current_test_id).athlete_id == context.athlete.id


def test_start_without_athlete_or_rig_explains(qtbot: Any, window: Any, messages: Any) -> None:
    test_screen = window.screens["test"]
    window.show_screen("test")
    test_screen.start_test()
    assert messages.shown[-1][1] == "Choose an athlete"
    assert window.current_screen().key == "athletes"
    window.context.set_athlete(window.context.store.athletes.add("Ed Early"))
    test_screen.start_test()
    assert messages.shown[-1][1] == "No rig"
    assert window.current_screen().key == "connect"


def test_excepthook_shows_a_dialog_and_keeps_the_window(
    qtbot: Any, window: Any, messages: Any
) -> None:
    previous = install_excepthook(lambda: window)
    try:
        try:
            raise RuntimeError("a bug in a slot")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        wait_for(qtbot, lambda: messages.shown)
    finally:
        sys.excepthook = previous
    kind, title, text = messages.shown[0]
    assert title == "Unexpected error" and "a bug in a slot" in text
    assert window.isVisible()
