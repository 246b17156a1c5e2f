"""Counts to newtons: ``force = gain × (counts − zero)`` per channel (metrics.md).

The gain comes from the rig's calibration certificate; the zero from the tare
(see ``tare.py``), falling back to the certificate's ``offset_counts``.  This
module holds the per-channel numbers the analysis needs, so the analysis can
run from a certificate or from plain arrays (live view, tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.certificate import CHANNELS, Certificate
from firmware_bridge.errors import InputError


@dataclass(frozen=True)
class ChannelCalibration:
    """Gain (N/count) per channel, and what the certificate says besides."""

    gains: tuple[float, float]
    zeros: tuple[float, float] | None = None  # certificate offset_counts, if both given
    device_serial: str | None = None
    max_force_n: tuple[float | None, float | None] = (None, None)

    def __post_init__(self) -> None:
        gains = tuple(float(g) for g in self.gains)
        if len(gains) != 2 or not all(np.isfinite(gains)) or 0.0 in gains:
            raise InputError("a calibration needs a finite, non-zero gain for left and right")
        object.__setattr__(self, "gains", gains)
        if self.zeros is not None:
            object.__setattr__(self, "zeros", tuple(float(z) for z in self.zeros))

    @classmethod
    def from_certificate(cls, certificate: Certificate) -> ChannelCalibration:
        offsets = [certificate.offset(name) for name in CHANNELS]
        zeros = None if any(o is None for o in offsets) else (offsets[0], offsets[1])
        return cls(
            gains=(certificate.gain("left"), certificate.gain("right")),
            zeros=zeros,  # type: ignore[arg-type]
            device_serial=certificate.device_serial,
            max_force_n=(certificate.max_force_n("left"), certificate.max_force_n("right")),
        )

    def to_dict(self) -> dict:
        return {
            "gain_n_per_count": {"left": self.gains[0], "right": self.gains[1]},
            "offset_counts": None
            if self.zeros is None
            else {"left": self.zeros[0], "right": self.zeros[1]},
            "device_serial": self.device_serial,
            "max_force_n": {"left": self.max_force_n[0], "right": self.max_force_n[1]},
        }


def counts_to_newtons(counts: np.ndarray, gains: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """(n, 2) counts to (n, 2) float64 newtons."""
    gains = np.asarray(gains, np.float64)
    zeros = np.asarray(zeros, np.float64)
    return (np.asarray(counts, np.float64) - zeros) * gains
