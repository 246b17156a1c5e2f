"""Store errors.  All are :class:`InputError` subclasses so the CLI prints one
line and exits 2; the message names the problem and what to do about it."""

from __future__ import annotations

from firmware_bridge.errors import InputError


class StoreError(InputError):
    """Something about stored data the user can act on."""


class ValidationError(StoreError):
    """A value that cannot be true (body mass of 0 kg, a birth date in the future...)."""


class NotFoundError(StoreError):
    """No athlete, test, rep or certificate with that id."""


class DuplicateError(StoreError):
    """A value that must be unique already exists (an athlete's external id)."""


class ConflictError(StoreError):
    """Someone else changed the record between our read and our write: retry."""


class DatabaseFileError(StoreError):
    """The database file is not ours, is damaged, or was written by a newer version.

    Raised before anything is written, so the file is left exactly as found.
    """
