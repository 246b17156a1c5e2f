"""Why a port did not open, in one line a user can act on; the link's own error.

Kept apart from the link so that the app and the CLI explain a port that
failed to open the same way (missing, busy, not allowed, not a port).
"""

from __future__ import annotations

import errno
from collections.abc import Callable

import serial

from firmware_bridge.device import open_port
from firmware_bridge.errors import PortError

Opener = Callable[[str, float], serial.SerialBase]


class LinkError(PortError):
    """A command the rig refused or did not answer, or a link that is not connected."""


def describe_open_error(port: str, exc: BaseException) -> str:
    """One line saying why ``port`` did not open and what to do about it."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text:
        return (
            f"cannot open {port}: no such device — is the rig plugged in? "
            "(see 'nordic-station simulate' for a virtual rig)"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return f"cannot open {port}: the port is busy — is another program using it?"
    if code == errno.EACCES or "Permission denied" in text:
        return (
            f"cannot open {port}: permission denied — on Linux add your user to the "
            "'dialout' group and log in again"
        )
    if isinstance(exc, ValueError) and "protocol" in text:
        return f"cannot open {port}: unknown kind of port ({text})"
    detail = text.split(": ", 1)[-1] if text.startswith("[Errno") else text
    return f"cannot open {port}: {detail or type(exc).__name__}"


def default_opener(port: str, timeout: float) -> serial.SerialBase:
    # exclusive: two programs reading one rig would each get half the bytes.
    return open_port(port, timeout=timeout, exclusive=True)
