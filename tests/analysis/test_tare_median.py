"""The tare's median per channel is np.median's, value for value (it only avoids
loading numpy.ma, which np.median does on its first call)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from station.analysis.tare import _median_rows


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 80), st.integers(1, 3)),
        elements=st.floats(-1e9, 1e9) | st.sampled_from([0.0, -0.0, 1.5, np.nan]),
    )
)
def test_median_rows_is_numpys_median(values: np.ndarray) -> None:
    with np.errstate(all="ignore"):
        expected = np.median(values, axis=0) if len(values) else None
    if expected is None:
        return
    got = _median_rows(values)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
