"""Long force curves are stored as ``f4dz`` (delta of float32 bits, zlib) and decode
bit for bit; old ``f4`` rows still read; a damaged ``f4dz`` blob is refused."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.store import codec
from tests.store.conftest import RawSql


def _round_trip(values: np.ndarray) -> tuple[codec.Encoded, np.ndarray]:
    encoded = codec.encode("left_n", values, 1000.0)
    data = bytes(encoded.data)
    return encoded, codec.decode(encoded.codec, encoded.length, encoded.param, data)


def _force_curve(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 1000.0
    return 250.0 * np.sin(t) ** 2 + rng.normal(0.0, 0.5, n)


def test_a_long_smooth_curve_is_compressed_and_exact() -> None:
    values = _force_curve(60_000)
    encoded, decoded = _round_trip(values)
    assert encoded.codec == "f4dz"
    assert len(encoded.data) < 0.85 * 4 * len(values)  # the top byte of 60,000 values packed
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded.view("<u4"), values.astype("<f4").view("<u4"))


def test_every_float32_bit_pattern_survives_nan_and_infinities_included() -> None:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2**32, 5_000, dtype=np.uint64).astype(np.uint32)
    bits[:4] = [0x7FC00000, 0x7F800001, 0xFF800000, 0x80000000]  # NaN, sNaN, -inf, -0.0
    values = bits.view("<f4")
    encoded = codec.encode("right_n", values, None)
    decoded = codec.decode(encoded.codec, encoded.length, encoded.param, bytes(encoded.data))
    np.testing.assert_array_equal(decoded.view("<u4"), bits)


def test_short_or_incompressible_curves_stay_plain_float32() -> None:
    short, decoded = _round_trip(np.array([1.5, np.nan, 300.25]))
    assert short.codec == "f4" and len(short.data) == 12
    assert np.isnan(decoded[1]) and decoded[2] == np.float32(300.25)
    noise = np.random.default_rng(9).integers(0, 2**32, 4_096, dtype=np.uint64)
    plain = codec.encode("left_n", noise.astype(np.uint32).view("<f4"), None)
    assert plain.codec == "f4" and len(plain.data) == 4 * 4_096


def test_rows_written_as_plain_f4_still_read() -> None:
    values = _force_curve(1_000).astype("<f4")
    np.testing.assert_array_equal(codec.decode("f4", 1_000, None, values.tobytes()), values)


def _one_value_short(data: bytes) -> bytes:
    """The top plane (compressed, stored last) holds one value fewer."""
    flags, *sizes = struct.unpack_from("<BIIII", data)
    assert flags & 0b1000
    top = zlib.compress(zlib.decompress(data[-sizes[3] :])[:-1])
    return struct.pack("<BIIII", flags, *sizes[:3], len(top)) + data[17 : -sizes[3]] + top


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-7],  # truncated
        lambda data: data + b"\0",  # trailing bytes
        _one_value_short,
    ],
)
def test_a_damaged_f4dz_curve_is_refused(damage: Callable[[bytes], bytes]) -> None:
    encoded, _ = _round_trip(_force_curve(2_000))
    with pytest.raises((ValueError, zlib.error)):
        codec.decode("f4dz", encoded.length, None, damage(bytes(encoded.data)))


def test_force_curves_are_packed_in_a_file_and_plain_on_a_server(
    store: Any, athlete: Any, capture_file: Path, cert_file: Path, raw_sql: RawSql
) -> None:
    """SQLite keeps f4dz (a quarter smaller); a server gets f4, cheaper to send than to
    pack (bench_store: a 10-minute test's save 114-123 ms with f4dz, 60-82 ms without)."""
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    rows = raw_sql.execute("SELECT name, codec, length FROM curves ORDER BY name").fetchall()
    force = {
        name: kind
        for name, kind, length in rows
        if kind in ("f4", "f4dz") and length >= codec.F4DZ_MIN_VALUES
    }
    assert force, rows  # the capture's force curves are long enough to be packed
    expected = "f4dz" if raw_sql.engine == "sqlite" else "f4"
    assert set(force.values()) == {expected}
    curves = store.tests.curves(test.id, raw=False)
    assert curves is not None
    for name in force:  # read back as float32, whatever the codec
        assert curves[name].dtype == np.float32 and np.isfinite(curves[name]).any()
