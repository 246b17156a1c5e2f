"""The errors of a server store that cannot be reached, or that refuses the login."""

from __future__ import annotations

import re

from station.store.errors import StoreError

LOGIN_REFUSED = ("password authentication failed", "no password supplied", "role ")
_SERVER_PREFIX = re.compile(r"^connection to server (at|on socket) .*? failed: ")


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


def connect_error(server: str, exc: BaseException) -> ServerUnreachableError:
    """The error for a failed connection: libpq's first line names the cause (the later
    ones are advice), without the server's address (the message names it already)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    detail = lines[0].removeprefix("connection failed: ") if lines else "no answer"
    detail = _SERVER_PREFIX.sub("", detail).removeprefix("FATAL:").strip()
    if any(sign in detail for sign in LOGIN_REFUSED):
        return LoginRefusedError(server, detail)
    return ServerUnreachableError(server, detail)
