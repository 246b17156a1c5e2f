"""The error of a server store that cannot be reached."""

from __future__ import annotations

from station.store.errors import StoreError


class ServerUnreachableError(StoreError, OSError):
    """No connection to the database server (down, unreachable, wrong address or login)."""

    def __init__(self, server: str, detail: str) -> None:
        super().__init__(
            f"cannot reach the database server at {server}: {detail}",
            hint="start the server or check the address given with --database",
        )
        self.server = server
