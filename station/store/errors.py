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


class ServerUnreachableError(StoreError, OSError):
    """No connection to the database server (down, unreachable, wrong address or login)."""

    def __init__(self, server: str, detail: str) -> None:
        super().__init__(
            f"cannot reach the database server at {server}: {detail}",
            hint="start the server or check the address given with --database",
        )
        self.server = server


class LoginRefusedError(ServerUnreachableError):
    """The server answered but refused the login (a wrong or missing password, no such role)."""

    def __init__(self, server: str, detail: str) -> None:
        StoreError.__init__(
            self,
            f"the database server at {server} refused the login: {detail}",
            hint="check the login's password (PGPASSWORD or ~/.pgpass) with the clinic's "
            "administrator",
        )
        self.server = server


class RecordingAbsentError(NotFoundError):
    """A test pulled by a joined station whose raw recording is still on the clinic's
    server: the station fetches those bytes only when they are needed."""

    def __init__(self, test_id: int) -> None:
        super().__init__(
            f"the raw recording of test {test_id} is on the clinic server, not on this station yet",
            hint="fetch it from the clinic server while it is reachable (the Results screen "
            "offers to when it is needed)",
            cli_hint="run 'nordic-station sync --recordings' while the server is reachable",
        )
        self.test_id = test_id
