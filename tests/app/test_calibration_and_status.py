"""Which certificate turns counts into newtons, what the UI says about it, and the
status bar's loss counters."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from calibration import choice as cc
from firmware_bridge.virtual_rig import VirtualRig
from station.app.rig import acquisition as acq
from station.app.rig.ports import describe_source, kind_of, replay_url, virtual_url
from station.store import open_store
from tests.app.conftest import wait_for


def certificate(serial: str, valid_until: date, gain: float = 0.0005) -> dict[str, Any]:
    channel = {"gain_n_per_count": gain, "offset_counts": 1000}
    return {
        "format": "nordic-station.calibration/1",
        "device_serial": serial,
        "created": "2026-01-10T09:00:00Z",
        "valid_until": valid_until.isoformat(),
        "channels": {"left": dict(channel), "right": dict(channel)},
    }


def test_choice_order_virtual_recorded_stored_then_nominal(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    try:
        rig = VirtualRig(serial_number="NR-V")
        virtual = cc.choose(
            store.certificates, "NR-V", virtual_certificate=rig.calibration_certificate()
        )
        assert virtual.source == "virtual" and not virtual.uncalibrated and virtual.level == "info"

        later = date.today() + timedelta(days=90)
        recorded = cc.choose(
            store.certificates, "NR-1", recorded=certificate("NR-1", later, 0.0004)
        )
        assert recorded.source == "recording" and recorded.gains() == (0.0004, 0.0004)

        nothing = cc.choose(store.certificates, "NR-1")
        assert nothing.source == "nominal" and nothing.uncalibrated and nothing.level == "error"
        assert "UNCALIBRATED" in nothing.short_text and "NOT calibrated" in nothing.long_text

        store.certificates.add(certificate("NR-1", date.today() - timedelta(days=3), 0.0003))
        stored = cc.choose(store.certificates, "NR-1")
        assert stored.source == "store" and stored.gains() == (0.0003, 0.0003)
        assert stored.level == "warning" and "expired" in stored.long_text
        assert stored.short_text.startswith("⚠")
        assert cc.choose(
            store.certificates, "NR-2"
        ).uncalibrated  # another rig's certificate is not used
    finally:
        store.close()


def test_another_rigs_certificate_is_a_warning() -> None:
    choice = cc.from_dict(
        certificate("NR-9", date.today() + timedelta(days=30)), "recording", "NR-1"
    )
    assert choice.level == "warning" and "NR-9" in choice.long_text


def test_ports_and_urls() -> None:
    assert kind_of("/dev/ttyACM0") == "serial" and kind_of("COM3") == "serial"
    assert kind_of(virtual_url()) == "virtual"
    url = replay_url("/tmp/a b/test.nsrec", "max")
    assert kind_of(url) == "replay" and url.endswith("?speed=max")
    assert describe_source(url) == "a replay of test.nsrec"
    assert describe_source(virtual_url("x", 80, reps=3)) == "the virtual rig"


def test_gui_command_opens_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import station.app.shell.app as app_module
    from station.cli import build_parser
    from station.cli import gui as gui_command

    seen: list[Any] = []
    monkeypatch.setattr(
        app_module,
        "run",
        lambda data_dir=None, database=None: seen.append((data_dir, database)) or 0,
    )
    args = build_parser().parse_args(["--data-dir", "/tmp/x", "gui", "--database", "/srv/ns"])
    assert args.func is gui_command.run
    assert gui_command.run(args) == 0
    assert gui_command.run(argparse.Namespace(data_dir="/tmp/x")) == 0
    assert seen == [("/tmp/x", "/srv/ns"), ("/tmp/x", None)]


@pytest.mark.gui
def test_uncalibrated_rig_is_said_clearly(qtbot: Any, window: Any) -> None:
    context = window.context
    context.acquisition.set_calibration(
        cc.CalibrationChoice(cc.nominal_certificate("NR-X"), "nominal")
    )
    banner = window.screens["test"].calibration_banner
    assert banner.isVisibleTo(window.screens["test"]) and "UNCALIBRATED" in banner.text()
    assert "UNCALIBRATED" in window.status.certificate_label.text()


@pytest.mark.gui
def test_status_bar_counts_corrupt_frames_and_dropped_samples(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    url = f"virtual://{rig_name}?rate=1000&fault=drop:0.2&fault=garbage:0.2"
    window.screens["connect"].connect_to(url)
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    # Counters come every 0.5 s: wait for a snapshot that has both kinds of loss.
    wait_for(
        qtbot,
        lambda: (
            window.context.acquisition.counters.get("dropped_samples", 0) > 0
            and window.context.acquisition.counters.get("frames_corrupt", 0) > 0
        ),
    )
    status = window.status
    assert status.rig_label.text() == "Rig: NR-SIM-0001"
    assert status.rate_label.text() == "Rate: 1000 Hz"
    assert status.state_label.text().endswith("Streaming")
    # The labels show the link's own counters (the same snapshot: no event ran in between).
    counters = window.context.acquisition.counters
    assert status.dropped_label.text() == f"Dropped samples: {counters['dropped_samples']}"
    corrupt = counters["frames_corrupt"] + counters.get("lines_corrupt", 0)
    assert status.corrupt_label.text() == f"Corrupt frames: {corrupt}"
    assert "font-weight: bold" in status.dropped_label.styleSheet()
    assert "font-weight: bold" in status.corrupt_label.styleSheet()


def test_a_rig_that_reboots_mid_stream_is_restarted_and_the_status_bar_says_so(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    from firmware_bridge.virtual_rig import get_device

    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200")
    acquisition = window.context.acquisition
    wait_for(qtbot, lambda: acquisition.state == acq.STREAMING)
    get_device(rig_name).power_cycle()  # the rig reboots; the port stays open
    status = window.status
    wait_for(qtbot, lambda: "restarted" in status.currentMessage())
    assert "restarted" in status.state_label.toolTip()
    wait_for(qtbot, lambda: acquisition.state == acq.STREAMING)
    # Counter snapshots come every 0.5 s: the link counted exactly one restart.
    wait_for(qtbot, lambda: acquisition.counters.get("rig_restarts", 0) >= 1)
    assert acquisition.counters["rig_restarts"] == 1
