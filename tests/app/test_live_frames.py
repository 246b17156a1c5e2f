"""The live plot draws on its display clock, not per batch of sample blocks.

What the live screens rely on (station/app/live/frame_clock.py): a burst of
batches handed over back to back is one redraw showing all of them; a batch
after a quiet spell is drawn on the next pass of the event loop; a request
within one frame interval of the last frame waits for the frame boundary; a
new test forgets a frame asked for before it; a frame repaints the axes (ticks,
labels, grid) only when they change.  Frames are counted, never timed: the
clock is injected where a test places frames in time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from firmware_bridge.messages import SampleBlock
from station.app.live.frame_clock import FRAME_INTERVAL_MS, FrameClock
from station.app.live.live_plot import LivePlot
from station.app.live.live_session import LiveSession
from station.app.live.plot_buffer import PlotBuffer
from station.app.rig.acquisition import BlockBatch
from tests.app.conftest import wait_for

pytestmark = pytest.mark.gui

RATE_HZ = 80.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def painted_at_least(paints: list[int], count: int) -> Callable[[], bool]:
    return lambda: len(paints) >= count


def filled(samples: int, first: int = 0) -> PlotBuffer:
    buffer = PlotBuffer(2000)
    buffer.set_sample_rate(RATE_HZ)
    buffer.append(first, np.column_stack([np.arange(samples), -np.arange(samples)]))
    return buffer


def test_a_burst_of_batches_is_one_redraw_showing_them_all(qtbot: Any) -> None:
    plot = LivePlot(10.0)
    qtbot.addWidget(plot)
    buffer = PlotBuffer(2000)
    buffer.set_sample_rate(RATE_HZ)
    for batch in range(12):  # twelve batches of 4 samples, handed over back to back
        buffer.append(4 * batch, np.full((4, 2), float(batch)))
        plot.show_latest(buffer, marker=(1, 4 * batch + 3))
    assert plot.frames == 0  # nothing is drawn while the batches come in
    wait_for(qtbot, lambda: plot.frame_clock.frames == 1, 5)
    assert plot.frames == 1
    assert plot.frame_clock.requests == 12
    assert not plot.frame_clock.pending  # no second frame is on its way
    x, y = plot.left_curve.getData()
    assert x[-1] == pytest.approx(47 / RATE_HZ)  # the last sample of the last batch
    assert y[-1] == 11.0
    assert plot.shown_marker == (1, 47)


def test_a_batch_after_a_quiet_spell_waits_for_no_frame_boundary(qtbot: Any) -> None:
    clock = FakeClock()
    drawn: list[float] = []
    frames = FrameClock(lambda: drawn.append(clock.now), clock=clock)
    assert frames.delay_ms() == 0  # never drawn: at once
    frames.request()
    wait_for(qtbot, lambda: len(drawn) == 1, 5)
    clock.now += FRAME_INTERVAL_MS / 1000.0 + 0.001  # a quiet spell longer than a frame
    assert frames.delay_ms() == 0
    frames.request()
    wait_for(qtbot, lambda: len(drawn) == 2, 5)
    assert frames.frames == 2


def test_a_request_within_a_frame_waits_for_the_next_boundary(qtbot: Any) -> None:
    clock = FakeClock()
    drawn: list[float] = []
    frames = FrameClock(lambda: drawn.append(clock.now), clock=clock)
    frames.request()
    wait_for(qtbot, lambda: len(drawn) == 1, 5)
    clock.now += 0.005  # 5 ms after the last frame
    assert frames.delay_ms() == FRAME_INTERVAL_MS - 5
    frames.request()
    frames.request()
    assert frames.pending
    wait_for(qtbot, lambda: len(drawn) == 2, 5)
    assert frames.frames == 2 and frames.requests == 3
    assert not frames.pending


def test_a_new_test_forgets_the_frame_asked_for(qtbot: Any) -> None:
    plot = LivePlot(10.0)
    qtbot.addWidget(plot)
    plot.show_latest(filled(400))
    assert plot.frame_clock.pending
    plot.clear_traces()
    assert not plot.frame_clock.pending  # the stopped timer cannot fire
    assert plot.frames == 0
    x, _ = plot.left_curve.getData()
    assert x is None or len(x) == 0


def test_the_test_screen_draws_a_burst_of_batches_once(qtbot: Any, window: Any) -> None:
    screen = window.screens["test"]
    window.context.navigate.emit("test")
    wait_for(qtbot, screen.isVisible, 5)
    screen.session = LiveSession(RATE_HZ, (0.01, 0.01), (0.0, 0.0), 12.0)
    plot = screen.plot
    wait_for(qtbot, lambda: not plot.frame_clock.pending, 5)
    frames, requests = plot.frames, plot.frame_clock.requests
    counts = np.tile(np.arange(40, dtype=np.int32).reshape(-1, 1) * 100, (1, 2))
    acquisition = window.context.acquisition
    for start in range(0, 40, 4):  # ten batches, as a drain after a hold-up hands them over
        block = SampleBlock(start, counts[start : start + 4])
        acquisition.samples_arrived.emit(BlockBatch((block,), 0.0))
    assert plot.frames == frames
    wait_for(qtbot, lambda: plot.frames == frames + 1, 5)
    assert plot.frame_clock.requests == requests + 10
    assert not plot.frame_clock.pending
    assert screen.session.samples == 40  # every sample reached the session and the plot
    x, _ = plot.left_curve.getData()
    assert x[-1] == pytest.approx(39 / RATE_HZ)
    assert plot.shown_marker == (screen.session.segments, 39)


def test_a_frame_redraws_the_axes_only_when_they_change(qtbot: Any) -> None:
    plot = LivePlot(10.0)
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.show()
    qtbot.waitExposed(plot)
    axis = plot.getPlotItem().getAxis("left")
    painted: list[int] = []
    original = axis.paint

    def counting_paint(*args: Any) -> None:
        painted.append(1)
        original(*args)

    axis.paint = counting_paint
    paints: list[int] = []
    plot.paint_listener = lambda: paints.append(1)
    buffer = PlotBuffer(2000)
    buffer.set_sample_rate(RATE_HZ)
    buffer.append(0, np.full((40, 2), 20.0))
    plot.refresh(buffer)
    wait_for(qtbot, lambda: bool(painted) and bool(paints), 5)
    axis_paints, frames = len(painted), len(paints)
    for batch in range(1, 4):  # the traces move, within the same scale
        buffer.append(40 * batch, np.full((40, 2), 20.0 + batch))
        plot.refresh(buffer)
        wait_for(qtbot, painted_at_least(paints, frames + batch), 5)
    assert len(painted) == axis_paints  # three frames, the axis drawn from its cache
    buffer.append(160, np.full((40, 2), 900.0))  # a pull beyond the scale: a new force axis
    plot.refresh(buffer)
    wait_for(qtbot, lambda: len(painted) > axis_paints, 5)
