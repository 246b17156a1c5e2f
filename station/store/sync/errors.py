"""Errors of syncing a station with its server."""

from __future__ import annotations

from station.store.errors import StoreError


class SyncError(StoreError):
    """A sync could not finish; what was committed on either side stays, the rest waits."""


class NotJoinedError(SyncError):
    """The data folder is not tied to a server."""

    def __init__(self) -> None:
        super().__init__(
            "this station is not joined to a server",
            hint="run 'nordic-station station join postgresql://USER@HOST/DB' first",
        )
