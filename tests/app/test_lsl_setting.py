"""Settings' "Stream to Lab Streaming Layer": on, the app's rig is published to LSL
(an inlet receives its force and events); off, the outlets close; where LSL
cannot load, the box is disabled with the reason as its tooltip."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest

import tests.streaming.conftest  # noqa: F401  LSL on loopback only, set before pylsl loads
from firmware_bridge.virtual_rig import get_device
from station.app.rig import acquisition as acq
from station.app.settings import lsl_setting
from station.app.settings.lsl_setting import KEY_LSL, LslSetting
from station.streaming.lsl import StreamingError

pytestmark = pytest.mark.gui


def _setting(window: Any) -> LslSetting:
    setting = window.screens["settings"].findChild(LslSetting)
    assert setting is not None
    return setting


def _inlet(pylsl: Any, name: str) -> Any:
    deadline = time.monotonic() + 20
    found: list[Any] = []
    while not found and time.monotonic() < deadline:
        found = pylsl.resolve_byprop("name", name, timeout=0.5)
    assert found, f"no LSL stream {name!r}"
    inlet = pylsl.StreamInlet(found[0], max_buflen=60, recover=False)
    inlet.open_stream(timeout=5.0)
    return inlet


def test_the_app_streams_its_rig_to_lsl_while_the_box_is_ticked(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    pylsl = pytest.importorskip("pylsl")
    setting = _setting(window)
    setting.name = f"Nordic Station app test {uuid.uuid4().hex[:8]}"  # never another's stream
    assert setting.checkbox.isEnabled() and not setting.checkbox.isChecked()
    setting.checkbox.setChecked(True)
    assert window.context.settings.get_int(KEY_LSL) == 1
    stream = setting.stream
    assert stream is not None

    acquisition = window.context.acquisition
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200")
    qtbot.waitUntil(lambda: acquisition.state == acq.STREAMING, timeout=20_000)
    force = _inlet(pylsl, f"{setting.name} force")
    events = _inlet(pylsl, f"{setting.name} events")
    info = force.info(timeout=5.0)
    assert info.channel_count() == 2 and info.nominal_srate() == 200.0
    rig = info.desc().child("rig")
    assert rig.child_value("serial_number") == acquisition.serial_number

    samples: list[list[float]] = []

    def pulled(enough: int) -> bool:
        data, _ = force.pull_chunk(timeout=0.0)
        samples.extend(data)
        return len(samples) >= enough

    qtbot.waitUntil(lambda: pulled(100), timeout=20_000)
    values = np.asarray(samples)
    assert values.shape[1] == 2 and np.isfinite(values).all()
    assert np.abs(values).max() < 2000  # newtons of a resting virtual athlete, not counts
    qtbot.waitUntil(lambda: stream.samples >= len(samples), timeout=5_000)
    setting.show_status()
    assert setting.status.text().startswith("Streaming:")

    # The rig's events go out as markers (the operator presses the rig's button).
    get_device(rig_name).press_button()
    markers: list[str] = []

    def marked() -> bool:
        texts, _ = events.pull_chunk(timeout=0.0)
        markers.extend(t[0] for t in texts)
        return any(m.startswith("BUTTON index") for m in markers)

    def marked_with(prefix: str) -> bool:
        texts, _ = events.pull_chunk(timeout=0.0)
        markers.extend(t[0] for t in texts)
        return any(m.startswith(prefix) for m in markers)

    qtbot.waitUntil(marked, timeout=10_000)

    # A test restarts the rig's stream (STOP, then START from index 0: a new segment):
    # it goes out too, with the rig's STARTED as a marker and its samples after it.
    link = acquisition.link

    def restart() -> None:
        link.stop()
        link.start()

    acquisition.tasks.submit(restart)
    qtbot.waitUntil(
        lambda: marked_with("STOPPED index") and marked_with("STARTED index 0"), timeout=10_000
    )
    before = len(samples)
    qtbot.waitUntil(lambda: pulled(before + 100), timeout=20_000)

    # Off: the outlets close (the inlet is told), and nothing more is published.
    setting.checkbox.setChecked(False)
    assert setting.stream is None and window.context.settings.get_int(KEY_LSL) == 0

    def lost() -> bool:
        try:
            force.pull_chunk(timeout=0.0)
        except pylsl.util.LostError:
            return True
        return False

    qtbot.waitUntil(lost, timeout=10_000)
    published = stream.samples
    qtbot.wait(300)  # the rig keeps streaming: the detached stream must not count on
    assert stream.samples == published and not stream.publishing


def test_the_box_is_disabled_with_the_reason_when_lsl_cannot_load(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise StreamingError("Lab Streaming Layer is not available here (liblsl: no such file)")

    monkeypatch.setattr(lsl_setting.lsl, "load_pylsl", broken)
    monkeypatch.setattr(lsl_setting.importlib.util, "find_spec", lambda name: object())
    setting = _setting(window)
    setting.checkbox.setChecked(True)
    assert not setting.checkbox.isChecked() and not setting.checkbox.isEnabled()
    assert "liblsl: no such file" in setting.checkbox.toolTip()
    assert setting.stream is None
    assert window.context.settings.get_int(KEY_LSL, 0) == 0
