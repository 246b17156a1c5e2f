"""The calibration wizard end to end on the virtual rig, driven only through the screen: the
bench button connects a rig nobody pulls on, "Hang it" puts each mass on the hook, and the
certificate made is the virtual rig's true calibration (issue 11 §4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from calibration.procedure import Phase
from calibration.settle import SettleConfig
from firmware_bridge.virtual_rig import forget_device
from firmware_bridge.virtual_rig.static import STANDARD_GRAVITY
from station.app.calibration.calibration_wizard import RESULT, SETUP
from station.app.calibration.virtual_bench import BENCH_NAME
from station.app.rig import acquisition as acq
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui

TRUE_GAIN_LEFT = 0.000477  # the virtual rig's own left gain (N per count)


@pytest.fixture
def fresh_bench() -> Iterator[None]:
    forget_device(BENCH_NAME)
    yield
    forget_device(BENCH_NAME)


def test_calibrate_on_the_virtual_bench_through_the_screen(
    qtbot: Any, window: Any, fresh_bench: None, messages: Any
) -> None:
    screen = window.screens["calibration"]
    screen.settle_config = SettleConfig(window_s=0.5)
    window.show_screen("calibration")
    assert screen.bench_button.isVisible()  # nothing connected: the bench is offered
    qtbot.mouseClick(screen.bench_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    window.show_screen("calibration")
    wait_for(qtbot, lambda: screen.start_button.isEnabled())
    assert not screen.bench_button.isVisible()

    screen.masses.setText("0, 10, 20")
    screen.channels.setCurrentIndex(screen.channels.findData("left"))
    screen.descending.setChecked(False)
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert screen.hang_button.isVisible()
    hung: list[float] = []
    while screen.session is not None:
        session = screen.session
        proc = session.procedure
        if proc.phase is Phase.WAITING and screen.hang_button.isEnabled():
            mass = proc.step.mass_kg
            if not hung or hung[-1] != mass:
                before = session.recent[-1][1] if session.recent else 0.0
                change = (mass - (hung[-1] if hung else 0.0)) * STANDARD_GRAVITY / TRUE_GAIN_LEFT
                qtbot.mouseClick(screen.hang_button, Qt.MouseButton.LeftButton)
                hung.append(mass)
                # The reading follows the mass hung: it moves by mass × g (in counts).
                if change:
                    wait_for(
                        qtbot,
                        lambda s=session, b=before, c=change: (
                            bool(s.recent) and abs(s.recent[-1][1] - b - c) < 0.02 * abs(c) + 3000
                        ),
                        20,
                    )
            qtbot.mouseClick(screen.measure_button, Qt.MouseButton.LeftButton)
        elif proc.phase is Phase.PROBLEM:
            screen.act("retry")
        qtbot.wait(20)
    assert hung == [0.0, 10.0, 20.0]
    assert screen.pages.currentIndex() == RESULT
    assert screen.result.passed
    assert screen.result.fits["left"].gain_n_per_count == pytest.approx(TRUE_GAIN_LEFT, rel=3e-3)
    assert screen.save_and_use() is not None
    assert screen.pages.currentIndex() == SETUP
    assert [m for m in messages.kinds() if m == "critical"] == []
