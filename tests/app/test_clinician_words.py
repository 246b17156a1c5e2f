"""Words a clinician uses (issue 11 §4): no protocol terms in dialogs, plurals right, a
deliberate close is not a crash, and Connect prefers a USB port to a built-in one."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_bridge.errors import PortError
from station.app.live import test_run as tr
from station.app.rig import acquisition as acq
from station.app.rig.ports import PortChoice
from station.app.shell import settings as keys
from station.app.shell.dialogs import show_error, user_message
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui

PROTOCOL_TERMS = ("INFO", "passive", "segment", "ACK", "--")


def test_no_protocol_terms_in_dialogs(qtbot: Any, messages: Any) -> None:
    exc = PortError(
        "no INFO from /dev/ttyUSB0 after 3 requests (12 bytes heard): is it a Nordic rig?",
        hint="Check that this is the rig's port.",
        cli_hint="check the port; a text-dialect rig needs passive mode (--passive)",
    )
    shown = user_message(exc)
    assert "no answer from /dev/ttyUSB0" in shown and "Check that this is the rig's port" in shown
    show_error(None, "Cannot connect", "connected to /dev/ttyUSB0 (passive), new segment")
    for text in (shown, messages.texts()):
        assert not [t for t in PROTOCOL_TERMS if t in text], text


def test_status_bar_details_in_plain_words(window: Any) -> None:
    window.status.set_detail("the rig restarted: it sent INFO as at power-on; new segment")
    tip = window.status.state_label.toolTip()
    assert "INFO" not in tip and "segment" not in tip and "started afresh" in tip


def test_a_deliberate_close_saves_the_test_and_is_not_a_crash(
    qtbot: Any, make_window: Any, rig_name: str, messages: Any
) -> None:
    window = make_window()
    store = window.context.store
    athlete = store.athletes.add("Cy Closing")
    window.context.set_athlete(athlete)
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200&quiet=600&reps=0")
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    screen = window.screens["test"]
    screen.start_test()
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING)
    wait_for(qtbot, lambda: screen.session is not None and screen.session.samples > 100)
    window.close()  # the fixture answers Yes to "Close anyway?"
    assert messages.kinds() == ["question"] and "saved" in messages.shown[0][2]
    assert "recovery" not in messages.shown[0][2]
    assert store.recovery.pending() == []
    (summary,) = store.tests.of_athlete(athlete.id)
    test = store.tests.get(summary.id)
    assert not test.recovered and "closed during this test" in test.notes
    assert "crash" not in test.notes


def test_connect_prefers_a_usb_port(window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import station.app.rig.connect_view as connect_view

    ports = [
        PortChoice("/dev/ttyUSB0", "/dev/ttyUSB0 — Nordic rig — USB 2e8a:000a", "serial"),
        PortChoice("/dev/ttyS0", "/dev/ttyS0", "serial", usb=False),
    ]
    monkeypatch.setattr(connect_view, "serial_ports", lambda: ports)
    window.context.settings.set(keys.KEY_LAST_PORT, "/dev/ttyS0")  # an earlier mistake
    screen = window.screens["connect"]
    screen.refresh_ports()
    assert screen.ports.currentItem().text().startswith("/dev/ttyUSB0")
    assert "built-in port" in screen.ports.item(1).text()
    assert screen.connect_button.objectName() == "primary"
    # With no USB port at all, the last port used is still chosen.
    monkeypatch.setattr(connect_view, "serial_ports", lambda: ports[1:])
    screen.refresh_ports()
    assert screen.ports.currentItem().text().startswith("/dev/ttyS0")
