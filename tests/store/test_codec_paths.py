"""Curve encoding round trips exactly; the data folder is resolved in the documented order."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import InputError
from station import paths
from station.store import codec
from station.store.locks import FileLock, is_locked


def _round_trip(
    name: str, values: np.ndarray, rate: float | None = 1000.0
) -> tuple[np.ndarray, int]:
    encoded = codec.encode(name, values, rate)
    return codec.decode(encoded.codec, encoded.length, encoded.param, encoded.data), len(
        encoded.data
    )


def test_a_time_axis_with_gaps_and_break_rows_is_exact_and_tiny() -> None:
    index = np.concatenate([np.arange(0, 300_000), np.arange(300_050, 600_000)])
    time = index / 1000.0
    time = np.insert(time, 300_000, (time[299_999] + time[300_000]) / 2)  # the NaN row's time
    decoded, size = _round_trip("time_s", time)
    np.testing.assert_array_equal(decoded, time)
    assert size < 100


def test_an_irregular_time_axis_is_kept_whole() -> None:
    time = np.cumsum(np.random.default_rng(1).uniform(0.001, 0.002, 1000))
    decoded, _ = _round_trip("time_s", time)
    np.testing.assert_array_equal(decoded, time)
    decoded, _ = _round_trip("time_s", time, rate=None)
    np.testing.assert_array_equal(decoded, time)


def test_forces_are_float32_and_keep_nan() -> None:
    forces = np.array([1.5, np.nan, 300.123456, -2.0], np.float64)
    decoded, size = _round_trip("left_n", forces)
    assert decoded.dtype == np.float32 and size == 16
    np.testing.assert_array_equal(decoded, forces.astype(np.float32))


@pytest.mark.parametrize(
    "values",
    [
        np.arange(-1, 100_000, dtype=np.int64),
        np.zeros(100_000, np.uint8),
        np.array([0, 3, 1, 2, 0], np.uint8),
        np.array([True, False, True]),
        np.array([2**40, -(2**40), 0], np.int64),
        np.empty(0, np.int64),
    ],
)
def test_integer_columns_round_trip_with_their_type(values: np.ndarray) -> None:
    decoded, _ = _round_trip("sample", values)
    assert decoded.dtype == values.dtype
    np.testing.assert_array_equal(decoded, values)


def test_data_folder_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "env"))
    assert paths.data_dir(tmp_path / "flag") == tmp_path / "flag"  # --data-dir wins
    assert paths.data_dir(None) == tmp_path / "env"
    monkeypatch.delenv(paths.ENV_VAR)
    monkeypatch.setattr(
        paths.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "platform")
    )
    assert paths.data_dir() == tmp_path / "platform"


def test_data_folder_is_created_private(tmp_path: Path) -> None:
    folder = paths.ensure_data_dir(tmp_path / "a" / "b")
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="not a folder"):
        paths.ensure_data_dir(blocker)


def test_file_lock_tells_live_from_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    assert not is_locked(path)
    lock = FileLock(path)
    assert lock.acquire() and is_locked(path)
    assert not FileLock(path).acquire()  # a second holder, even in the same process
    lock.release(remove=True)
    assert not path.exists() and not is_locked(path)
