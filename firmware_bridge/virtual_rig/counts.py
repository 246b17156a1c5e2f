"""Newtons to raw ADC counts, as an HX711-style load-cell amplifier reports them.

Why it is separate from the force model: the counts are what the wire
carries, and the calibration the station applies must undo exactly this
conversion.  Per channel::

    counts = offset_counts + round(force_N / gain_N_per_count)

clipped to the signed ``adc_bits`` range (+2^23-1 / -2^23 for 24 bits).  A
sample at either limit is saturated; the rig sets the SAMPLES flags bit of
that channel for the whole frame.  The default gains and offsets differ per
channel (like the example in calibration.md), so a test catches a left/right
mix-up.  :meth:`LoadCellAdc.certificate` gives the matching calibration
certificate, so analysis tests convert with the true gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.messages import SampleFlag
from firmware_bridge.virtual_rig.model import CHANNELS, leg_pair

# The certificate format of calibration.md (firmware_bridge does not import calibration).
CERTIFICATE_FORMAT = "nordic-station.calibration/1"


@dataclass(frozen=True)
class LoadCellAdc:
    """Two load cells and their ADC: gain (N per count), zero offset (counts), resolution."""

    gain_n_per_count: float | tuple[float, float] = (0.000477, 0.000502)
    offset_counts: int | tuple[int, int] = (80_000, -40_000)
    adc_bits: int = 24

    def __post_init__(self) -> None:
        gain = leg_pair(self.gain_n_per_count, "gain")
        if 0.0 in gain:
            raise InputError("gain must not be zero (N per count)")
        offset = leg_pair(self.offset_counts, "offset")
        if any(v != int(v) for v in offset):
            raise InputError(f"offset must be whole counts, not {self.offset_counts!r}")
        if isinstance(self.adc_bits, bool) or self.adc_bits not in range(8, 33):
            raise InputError(f"adc bits must be 8..32, not {self.adc_bits!r}")
        object.__setattr__(self, "gain_n_per_count", gain)
        object.__setattr__(self, "offset_counts", (int(offset[0]), int(offset[1])))
        for value in offset:
            if not self.min_count < value < self.max_count:
                raise InputError(f"offset {int(value)} is outside the {self.adc_bits}-bit range")

    @property
    def gains(self) -> np.ndarray:
        return np.asarray(self.gain_n_per_count, dtype=np.float64)

    @property
    def offsets(self) -> np.ndarray:
        return np.asarray(self.offset_counts, dtype=np.int64)

    @property
    def max_count(self) -> int:
        return (1 << (self.adc_bits - 1)) - 1

    @property
    def min_count(self) -> int:
        return -(1 << (self.adc_bits - 1))

    def counts(self, force_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 2) forces -> (counts int32 (n, 2), saturated bool (n, 2))."""
        force = np.asarray(force_n, dtype=np.float64).reshape(-1, 2)
        raw = self.offsets[None, :] + np.rint(force / self.gains[None, :])
        saturated = (raw >= self.max_count) | (raw <= self.min_count)
        counts = np.clip(raw, self.min_count, self.max_count).astype(np.int32)
        return counts, saturated

    def force(self, counts: np.ndarray) -> np.ndarray:
        """Counts back to newtons (the calibration the station should apply)."""
        counts = np.asarray(counts, dtype=np.float64).reshape(-1, 2)
        return (counts - self.offsets[None, :]) * self.gains[None, :]

    def max_force_n(self) -> tuple[float, float]:
        """The force that saturates each channel (in the direction of its gain)."""
        g = self.gains
        o = self.offsets
        top = np.where(g > 0, self.max_count - o, self.min_count - o) * g
        return float(top[0]), float(top[1])

    @staticmethod
    def frame_flags(saturated: np.ndarray) -> int:
        """SAMPLES flags for a block: a channel's bit if any of its samples saturated."""
        flags = 0
        if saturated[:, 0].any():
            flags |= SampleFlag.LEFT_SATURATED
        if saturated[:, 1].any():
            flags |= SampleFlag.RIGHT_SATURATED
        return int(flags)

    def certificate(
        self, device_serial: str, created: datetime | str | None = None, valid_days: int = 365
    ) -> dict[str, Any]:
        """The calibration certificate (calibration.md format) that undoes this conversion."""
        if created is None:
            when = datetime.now(UTC).replace(microsecond=0)
        elif isinstance(created, str):
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
        else:
            when = created
        channels: dict[str, Any] = {}
        for k, name in enumerate(CHANNELS):
            channels[name] = {
                "gain_n_per_count": float(self.gains[k]),
                "offset_counts": int(self.offsets[k]),
                "max_force_n": round(abs(self.max_force_n()[k]), 1),
                "nonlinearity_pct": 0.0,
                "hysteresis_pct": 0.0,
                "residual_max_n": 0.0,
            }
        return {
            "format": CERTIFICATE_FORMAT,
            "device_serial": device_serial,
            "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_until": (when + timedelta(days=valid_days)).date().isoformat(),
            "operator": "virtual rig (true gain)",
            "channels": channels,
        }
