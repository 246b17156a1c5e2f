"""The app's name for the certificate-choice policy, which lives in :mod:`calibration.choice`.

Kept so the screens' imports stay as they are; the policy itself (and its
tests) are Qt-free, shared with the store.
"""

from __future__ import annotations

from calibration.choice import (
    NOMINAL_GAIN_N_PER_COUNT,
    UNCALIBRATED_KEY,
    CalibrationChoice,
    choose,
    from_dict,
    nominal_certificate,
    stored_for_serial,
)

__all__ = [
    "NOMINAL_GAIN_N_PER_COUNT",
    "UNCALIBRATED_KEY",
    "CalibrationChoice",
    "choose",
    "from_dict",
    "nominal_certificate",
    "stored_for_serial",
]
