"""The segment clock: one time axis across rig restarts, segments laid end to end."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.messages import SampleBlock
from firmware_bridge.segment_clock import SegmentClock


def block(first: int, n: int, segment: int = 0, value: float = 0.0) -> SampleBlock:
    return SampleBlock(first, np.full((n, 2), value), segment=segment)


def test_first_segment_starts_at_zero_from_its_first_sample() -> None:
    clock = SegmentClock()
    assert clock.place(0, 1000, 5) == 0  # a stream joined mid-test
    assert clock.place(0, 1005, 5) == 5
    assert clock.next_index == 10
    assert (clock.segments, clock.restarts) == (1, 0)


def test_a_restart_continues_where_the_last_segment_ended() -> None:
    clock = SegmentClock()
    clock.place(0, 0, 10)
    assert clock.place(1, 0, 4) == 10  # the rig restarted: indices from 0 again
    assert clock.place(1, 4, 4) == 14
    assert (clock.segments, clock.restarts) == (2, 1)


def test_gap_leaves_empty_samples_between_segments() -> None:
    clock = SegmentClock(gap=1)
    clock.place(0, 0, 10)
    assert clock.place(1, 0, 4) == 11  # one missing sample: the trace breaks there
    assert clock.next_index == 15


def test_dropped_samples_stay_holes_within_a_segment() -> None:
    clock = SegmentClock()
    clock.place(0, 0, 10)
    assert clock.place(0, 15, 5) == 15  # five samples lost on the way
    assert clock.place(1, 3, 2) == 20


def test_base_puts_a_segment_origin_at_its_start_index() -> None:
    """The decoder's case: a segment counts from its START, even if samples were lost."""
    clock = SegmentClock()
    clock.place(0, 0, 10)
    assert clock.place(1, 7, 3, base=5) == 12  # START at 5, first sample seen at 7
    assert clock.next_index == 15


def test_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="gap"):
        SegmentClock(gap=-1)


def test_chunk_keeps_time_running_across_a_restart() -> None:
    clock = SegmentClock()
    t1, _ = clock.chunk(block(0, 5), 10.0)
    t2, _ = clock.chunk(block(5, 5), 10.0)
    t3, counts = clock.chunk(block(0, 3, segment=1, value=1.0), 10.0)  # the rig restarted
    times = np.concatenate([t1, t2, t3])
    assert np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx(1.2)
    assert counts.shape == (3, 2) and counts.dtype == float and np.all(counts == 1.0)


def test_indices_are_integers_one_per_sample() -> None:
    clock = SegmentClock()
    idx = clock.indices(block(40, 3))
    assert idx.dtype == np.int64 and idx.tolist() == [0, 1, 2]


def test_placing_runs_as_the_docstring_says_gives_the_decoders_layout() -> None:
    """What the decoder should call: the clock gives exactly ``_place_segments``' axis."""
    from firmware_bridge.decoder import _place_segments

    rng = np.random.default_rng(7)
    for _ in range(50):
        index_parts, segment_parts, bases = [], [], {}
        for seg in range(int(rng.integers(1, 5))):
            start = int(rng.integers(0, 20))
            first = start + int(rng.integers(0, 5))  # samples lost after START
            n = int(rng.integers(1, 30))
            idx = first + np.sort(rng.choice(np.arange(n * 2), n, replace=False))  # with holes
            if rng.random() < 0.7:
                bases[seg] = start  # the STARTED event's index; else the first sample seen
            index_parts.append(idx)
            segment_parts.append(np.full(n, seg, dtype=np.int32))
        index = np.concatenate(index_parts).astype(np.int64)
        segment = np.concatenate(segment_parts)
        expected = index.copy()
        _place_segments(expected, segment, bases)  # in place

        clock, out = SegmentClock(), index.copy()
        edges = np.concatenate(([0], np.flatnonzero(np.diff(segment)) + 1, [len(index)]))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            seg, first = int(segment[lo]), int(index[lo])
            count = int(index[hi - 1]) - first + 1
            placed = clock.place(seg, first, count, base=bases.get(seg, first))
            out[lo:hi] = index[lo:hi] - first + placed
        assert out.tolist() == expected.tolist()
