"""The station's errors: one root, a plain message, and separately what to do.

Every error the station raises on purpose is a :class:`NordicError`.  Its
``str()`` is the problem in plain words; ``hint`` says what a clinician can do
about it and ``cli_hint`` says the same with the command line's option names
(the CLI prints that one; the app shows ``hint``).  Errors that are also
operating-system or time-out errors derive from ``OSError``/``TimeoutError``
too, so code that handles those keeps working; only bad *values* are
``ValueError``.
"""

from __future__ import annotations

import errno


class NordicError(Exception):
    """Root of every error the station raises on purpose."""

    default_hint = ""

    def __init__(self, message: str = "", *, hint: str = "", cli_hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.default_hint
        self.cli_hint = cli_hint or self.hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(NordicError, ValueError):
    """Bad input the user can fix; the message names the problem and what to do."""


class PortError(InputError):
    """A serial port is missing, busy, or not a rig."""


class StorageError(NordicError, OSError):
    """Saving to disk failed: the disk is full, or the folder is not ours to write."""


class DiskFullError(StorageError):
    """No space left on the device holding the data."""

    default_hint = "Free some disk space (or choose another data folder), then try again."


class StoragePermissionError(StorageError, PermissionError):
    """The data folder or file cannot be written by this user."""

    default_hint = "Choose a data folder you can write to, or ask IT to fix its permissions."


def storage_error(exc: OSError, what: str) -> OSError:
    """The station's error for an OS error met while saving ``what``.

    Disk-full and permission problems become :class:`DiskFullError` and
    :class:`StoragePermissionError` (plain words, a hint); anything else is
    returned unchanged for the caller to raise.
    """
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"the disk is full while saving {what}")
    if exc.errno == errno.EFBIG:
        return DiskFullError(f"no room for more of {what}: the file reached its size limit")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoragePermissionError(f"not allowed to write {what} ({exc.strerror})")
    return exc


def describe(exc: BaseException, *, for_cli: bool) -> str:
    """One line for a user: the problem, then what to do about it."""
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, NordicError):
        hint = exc.cli_hint if for_cli else exc.hint
        if hint and hint not in message:
            return f"{message}. {hint}" if not message.endswith((".", ":")) else f"{message} {hint}"
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"the disk is full ({message}). " + DiskFullError.default_hint
    return message
