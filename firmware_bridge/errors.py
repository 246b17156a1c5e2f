"""Errors a user can act on.  Every package below the CLI raises subclasses of
:class:`InputError` for bad input, so the CLI can print one line and exit 2."""


class InputError(ValueError):
    """Bad input the user can fix; the message names the problem and what to do."""


class PortError(InputError):
    """A serial port is missing, busy, or not a rig."""
