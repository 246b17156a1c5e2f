"""Tester tools: the virtual rig's faults switched on from the app, and the menu's visibility."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_bridge.decoder import decode_bytes
from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig, register_device
from station.app.rig import acquisition as acq
from station.app.rig import rig_faults
from station.app.rig.tester_tools import MENU_NAME, FaultsMenu, connected_rig
from station.app.settings import preferences
from station.present import preferences as present_preferences
from station.present.preferences import Preferences
from tests.app.conftest import wait_for


def rig() -> VirtualRig:
    return VirtualRig(NordicModel(Athlete(reps=1, rest_s=1.0), seed=4), rate_hz=80)


def test_presets_switch_faults_on_and_off() -> None:
    device = rig()
    said = rig_faults.apply(device, rig_faults.Preset("drop", "drop:0.05"))
    assert said == "fault on: drop:0.05"
    assert rig_faults.active_faults(device) == ["drop:0.05"]
    counters = decode_bytes(device.capture_bytes(10.0)).counters
    assert counters.dropped_samples > 0
    assert rig_faults.clear(device) == "all faults off"
    assert rig_faults.active_faults(device) == []
    assert decode_bytes(device.capture_bytes(10.0)).counters.dropped_samples == 0


def test_unplug_button_and_bad_custom_fault() -> None:
    device = rig()
    device.poll(0.0)
    assert rig_faults.apply(device, rig_faults.PRESETS[0]) == "virtual rig unplugged for 3 s"
    assert not device.connected
    with pytest.raises(InputError, match="unknown kind"):
        rig_faults.apply(device, "meltdown:0.5")


@pytest.mark.gui
def test_menu_visibility_follows_the_setting(
    window: Any, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    monkeypatch.delenv(present_preferences.DEBUG_ENV, raising=False)
    # The Settings screen installs the menu once the window exists.
    wait_for(qtbot, lambda: window.findChild(FaultsMenu, MENU_NAME) is not None, 5)
    menu = window.findChild(FaultsMenu, MENU_NAME)
    assert not menu.menuAction().isVisible()
    settings = window.screens["settings"]
    settings.tester_tools.setChecked(True)
    assert settings.save()
    assert menu.menuAction().isVisible() and window.menuBar().isVisible()
    preferences.save(window.context.settings, Preferences())
    monkeypatch.setenv(present_preferences.DEBUG_ENV, "1")
    settings.load()
    assert settings.save()
    assert menu.menuAction().isVisible()


@pytest.mark.gui
def test_menu_drops_frames_on_the_connected_virtual_rig(
    qtbot: Any, window: Any, rig_name: str, messages: Any
) -> None:
    wait_for(qtbot, lambda: window.findChild(FaultsMenu, MENU_NAME) is not None, 5)
    menu = window.findChild(FaultsMenu, MENU_NAME)
    assert menu.apply("drop:0.2") is None  # nothing connected yet: said, not done
    assert messages.kinds() == ["warning"]
    device = register_device(rig_name, rig())
    context = window.context
    context.acquisition.connect_to(f"virtual://{rig_name}")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    assert connected_rig(context) is device
    assert menu.apply("drop:0.2") == "fault on: drop:0.2"
    menu.refresh()
    assert menu.status.text() == "Faults on: drop:0.2"
    wait_for(qtbot, lambda: context.acquisition.counters.get("dropped_samples", 0) > 0)
    menu.clear()
    assert rig_faults.active_faults(device) == []
