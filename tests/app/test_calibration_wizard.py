"""Calibration wizard: the procedure driven from the app's connection to the virtual rig,
its fit and verdict, the certificate saved and used; the quick verification; the warnings."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pytest

from calibration.certificate import parse_certificate
from calibration.procedure import Phase
from calibration.settle import SettleConfig
from firmware_bridge.messages import SampleBlock
from firmware_bridge.virtual_rig import NordicModel, VirtualRig, register_device
from station.app.calibration.calibration_session import Session
from station.app.calibration.calibration_wizard import RESULT, SETUP, VERIFIED
from station.app.rig import acquisition as acq
from station.present.certificate_status import certificate_warning
from tests.app.conftest import spin, wait_for

TRUE_GAIN = {"left": 0.000477, "right": 0.000502}
# A shorter settle window than the clinic's one second keeps the test quick.
FAST = SettleConfig(window_s=0.5)


def certificate(**changes: Any) -> dict[str, Any]:
    data = VirtualRig(serial_number="NR-1").calibration_certificate(created="2026-01-01T08:00:00Z")
    data.update(changes)
    return data


def test_certificate_warning_names_the_problem() -> None:
    good = certificate(valid_until="2026-12-31")
    assert certificate_warning(good, "NR-1", dt.date(2026, 6, 1)) is None
    expired = certificate_warning(good, "NR-1", dt.date(2027, 1, 5))
    assert expired is not None and "expired on 2026-12-31" in expired and "recalibrate" in expired
    other = certificate_warning(good, "NR-2", dt.date(2026, 6, 1))
    assert other is not None and "for rig NR-1" in other and "NR-2" in other
    assert "No calibration certificate" in (certificate_warning(None, "NR-1") or "")
    nominal = certificate_warning({**good, "uncalibrated": True}, "NR-1", dt.date(2026, 6, 1))
    assert nominal is not None and nominal.startswith("UNCALIBRATED")
    assert certificate_warning(parse_certificate(good), "NR-1", dt.date(2026, 6, 1)) is None


def test_session_from_synthetic_readings() -> None:
    """Steady readings fed block by block settle into the points of the plan."""
    session = Session.calibration("0,10,20", "left", 50.0, "NR-1", descending=False, config=FAST)
    index = 0
    rng = np.random.default_rng(1)
    for step in session.procedure.steps:
        session.act("accept")
        level = 80_000 + step.mass_kg * 9.80665 / TRUE_GAIN["left"]
        while session.procedure.step is step:
            counts = np.column_stack([level + rng.normal(0, 20, 10), np.zeros(10)])
            session.feed([SampleBlock(index, counts)])
            index += 10
    assert session.finished and not session.aborted
    assert [p.mass_kg for p in session.procedure.points] == [0.0, 10.0, 20.0]
    base = parse_certificate(certificate())
    result = session.calibration_result(operator="Jo", valid_days=30, base=base)
    assert result.fits["left"].gain_n_per_count == pytest.approx(TRUE_GAIN["left"], rel=1e-3)
    right = result.certificate.channel("right")  # the other hook kept, saying where from
    assert right["gain_n_per_count"] == base.gain("right") == TRUE_GAIN["right"]
    assert right["copied_from"] == {
        "created": "2026-01-01T08:00:00Z",
        "fingerprint": base.fingerprint(),
    }
    assert result.passed


@pytest.fixture
def bench(rig_name: str) -> VirtualRig:
    """A virtual rig with no athlete: a calibration bench with known masses."""
    return register_device(rig_name, VirtualRig(NordicModel(None, seed=11), serial_number="NR-CAL"))


def connect(qtbot: Any, window: Any, rig_name: str) -> Any:
    context = window.context
    context.acquisition.connect_to(f"virtual://{rig_name}")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    screen = window.screens["calibration"]
    screen.settle_config = FAST
    window.show_screen("calibration")
    return screen


def operate(qtbot: Any, screen: Any, rig: VirtualRig, timeout_s: float = 60.0) -> None:
    """Play the operator: hang what each step asks, wait for the swing to die, press Measure."""
    waited = 0.0
    while screen.session is not None and waited < timeout_s:
        proc = screen.session.procedure
        if proc.phase is Phase.WAITING:
            rig.set_static_load(proc.step.channel, proc.step.mass_kg)
            spin(qtbot, 0.3)
            screen.primary_action()
        elif proc.phase is Phase.PROBLEM:
            screen.act("retry")
        spin(qtbot, 0.05)
        waited += 0.05
    assert screen.session is None, "the procedure did not finish"


@pytest.mark.gui
def test_calibrate_one_hook_save_and_use(
    qtbot: Any, window: Any, bench: VirtualRig, rig_name: str
) -> None:
    screen = connect(qtbot, window, rig_name)
    screen.masses.setText("0, 10, 20")
    screen.channels.setCurrentIndex(screen.channels.findData("left"))
    screen.descending.setChecked(False)
    screen.start_calibration()
    assert screen.pages.currentIndex() != SETUP
    assert "Empty the left hook" in screen.instruction.text()
    operate(qtbot, screen, bench)
    assert screen.pages.currentIndex() == RESULT
    result = screen.result
    assert result.passed and "PASS" in screen.verdict.text()
    assert result.fits["left"].gain_n_per_count == pytest.approx(TRUE_GAIN["left"], rel=3e-3)
    assert "Left: force = " in screen.fit_plots.titles[0]
    table = [screen.figures.item(r, 0).text() for r in range(screen.figures.rowCount())]
    assert "Non-linearity" in table and "Hysteresis" in table
    record_id = screen.save_and_use()
    context = window.context
    stored = context.store.certificates.get(record_id)
    assert stored.device_serial == "NR-CAL"
    assert stored.data["channels"]["left"]["acceptance"]["passed"] is True
    # The right hook comes from the certificate in use (the virtual rig's own).
    assert "copied_from" in stored.data["channels"]["right"]
    assert context.acquisition.calibration.certificate_id == record_id
    # The file written is the certificate stored and in use, not merely some JSON.
    assert screen.saved_path is not None and screen.saved_path.name.startswith("NR-CAL-")
    assert json.loads(screen.saved_path.read_text()) == stored.data
    # Valid for the preference's 180 days, but no longer than the copied hook's certificate.
    made = dt.date.fromisoformat(stored.created[:10])
    assert dt.date.fromisoformat(stored.valid_until) <= made + dt.timedelta(days=180)
    assert screen.pages.currentIndex() == SETUP


@pytest.mark.gui
def test_quick_verification_is_kept_with_its_certificate(
    qtbot: Any, window: Any, bench: VirtualRig, rig_name: str
) -> None:
    screen = connect(qtbot, window, rig_name)
    screen.verify_channel.setCurrentIndex(screen.verify_channel.findData("right"))
    screen.verify_mass.setValue(15.0)
    screen.start_verification()
    operate(qtbot, screen, bench)
    assert screen.pages.currentIndex() == VERIFIED
    assert screen.verified_text.text().startswith("✓ PASS: right hook, 15 kg")
    kept = window.context.store.certificates.verifications()
    assert len(kept) == 1 and kept[0].passed and kept[0].device_serial == "NR-CAL"
    assert abs(kept[0].data["error_pct"]) < 0.5


@pytest.mark.gui
def test_abort_and_bad_input(
    qtbot: Any, window: Any, bench: VirtualRig, rig_name: str, messages: Any
) -> None:
    screen = connect(qtbot, window, rig_name)
    screen.masses.setText("0, ten")
    screen.start_calibration()
    assert messages.shown and "'ten' is not a number" in messages.shown[-1][2]
    assert screen.pages.currentIndex() == SETUP
    screen.masses.setText("0, 10, 20")
    screen.start_calibration()
    assert not screen.can_leave()  # a calibration in progress keeps the operator here
    screen.act("abort")
    assert screen.pages.currentIndex() == SETUP and screen.session is None
    assert "Aborted: nothing was saved" in screen.banner.text()
    assert window.context.store.certificates.find() == []


@pytest.mark.gui
def test_no_rig_no_calibration(window: Any, messages: Any) -> None:
    screen = window.screens["calibration"]
    window.show_screen("calibration")
    assert not screen.start_button.isEnabled()
    assert "No rig connected" in screen.rig_label.text()
    screen.start_calibration()
    assert messages.kinds() == ["warning"] and screen.session is None
