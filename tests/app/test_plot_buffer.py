"""The live plot's ring buffer: bounded, contiguous views, gaps as NaN, never a wrong time."""

from __future__ import annotations

import numpy as np
import pytest

from station.app.live.plot_buffer import PlotBuffer


def _block(first: int, n: int) -> np.ndarray:
    values = np.arange(first, first + n, dtype=np.float32)
    return np.stack([values, -values], axis=1)


def test_view_is_the_newest_samples_in_order_across_wraps() -> None:
    buffer = PlotBuffer(capacity=7)
    buffer.set_sample_rate(2.0)
    index = 0
    for n in (3, 5, 1, 6, 2):
        buffer.append(index, _block(index, n))
        index += n
    x, y = buffer.view()
    assert len(x) == 7
    np.testing.assert_array_equal(y[0], np.arange(index - 7, index))
    np.testing.assert_array_equal(y[1], -np.arange(index - 7, index))
    np.testing.assert_allclose(x, np.arange(index - 7, index) / 2.0)
    x3, y3 = buffer.view(3)
    np.testing.assert_array_equal(y3[0], np.arange(index - 3, index))
    assert x3.base is not None  # a view, not a copy


def test_block_longer_than_capacity_keeps_its_tail() -> None:
    buffer = PlotBuffer(capacity=4)
    buffer.append(10, _block(10, 9))
    x, y = buffer.view()
    np.testing.assert_array_equal(y[0], [15, 16, 17, 18])
    np.testing.assert_array_equal(x, [15, 16, 17, 18])


def test_dropped_samples_become_nan_at_their_times() -> None:
    buffer = PlotBuffer(capacity=10)
    buffer.append(0, _block(0, 3))
    buffer.append(5, _block(5, 2))
    x, y = buffer.view()
    np.testing.assert_array_equal(x, np.arange(7))
    assert np.isnan(y[0, 3:5]).all()
    assert buffer.gap_samples == 2
    np.testing.assert_array_equal(y[0, [0, 1, 2, 5, 6]], [0, 1, 2, 5, 6])


def test_huge_gap_clears_the_view_without_unbounded_work() -> None:
    buffer = PlotBuffer(capacity=5)
    buffer.append(0, _block(0, 5))
    buffer.append(10_000_000, _block(10_000_000, 2))
    x, y = buffer.view()
    assert np.isnan(y[0, :3]).all()
    np.testing.assert_array_equal(y[0, 3:], [10_000_000, 10_000_001])
    np.testing.assert_array_equal(x[3:], [10_000_000, 10_000_001])


def test_index_going_backwards_continues_the_time_axis() -> None:
    buffer = PlotBuffer(capacity=10)
    buffer.append(100, _block(0, 3))
    buffer.append(0, _block(3, 2))  # device restarted: indices start again
    x, _ = buffer.view()
    np.testing.assert_array_equal(x, [100, 101, 102, 103, 104])


def test_rate_change_clears_and_rejects_zero_capacity() -> None:
    buffer = PlotBuffer(capacity=4)
    buffer.append(0, _block(0, 2))
    buffer.set_sample_rate(80.0)
    assert len(buffer) == 0 and buffer.last_time_s() is None
    with pytest.raises(ValueError):
        PlotBuffer(capacity=0)
