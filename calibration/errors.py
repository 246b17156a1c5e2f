"""Errors of the calibration package.

Everything here is bad input a user can fix (a mass list, a points file, a
reading that cannot be fitted), so it derives from :class:`InputError`: the
CLI prints the one-line message and exits 2, and no certificate is written.
"""

from firmware_bridge.errors import InputError


class CalibrationError(InputError):
    """Calibration input that cannot give a trustworthy certificate."""
