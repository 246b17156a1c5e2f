"""The errors of a server store that cannot be reached, or that refuses the login."""

from __future__ import annotations

import re

from station.store.errors import LoginRefusedError, ServerUnreachableError

__all__ = ["LoginRefusedError", "ServerUnreachableError", "connect_error"]

LOGIN_REFUSED = ("password authentication failed", "no password supplied", "role ")
_SERVER_PREFIX = re.compile(r"^connection to server (at|on socket) .*? failed: ")


def connect_error(server: str, exc: BaseException) -> ServerUnreachableError:
    """The error for a failed connection: libpq's first line names the cause (the later
    ones are advice), without the server's address (the message names it already)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    detail = lines[0].removeprefix("connection failed: ") if lines else "no answer"
    detail = _SERVER_PREFIX.sub("", detail).removeprefix("FATAL:").strip()
    if any(sign in detail for sign in LOGIN_REFUSED):
        return LoginRefusedError(server, detail)
    return ServerUnreachableError(server, detail)
