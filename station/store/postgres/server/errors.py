"""Errors of the server's administration: one line for the CLI, exit 2."""

from __future__ import annotations

from station.store.errors import StoreError


class ServerError(StoreError):
    """The server cannot be set up or changed as asked (no connection, no rights, bad name)."""
