""" "Test connection": whether the station could use a database location, changing nothing.

A server is connected to and let go; a folder or SQLite file is only looked
at (a database is made there at the next start, not by a test).  The answer
is one line, without the password.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from firmware_bridge.errors import NordicError
from station import paths
from station.store import database_choice
from station.store.database_choice import LocationError

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"


def check_database(location: str, data_dir: Path) -> str:
    """One line saying the location can be used; LocationError (one line) when it cannot."""
    chosen = database_choice.parse(location)
    if chosen.kind == "postgresql":
        from station.store.postgres.opening import probe

        try:
            version = probe(location)
        except (NordicError, OSError) as exc:
            message = database_choice.scrub(str(exc), location)
            raise LocationError(f"cannot connect to {chosen.shown}: {message}") from None
        log.info("database checked: %s (schema %s)", chosen.shown, version)
        if version is None:
            return f"Connected to {chosen.shown}: empty, the schema is made at the next start."
        return f"Connected to {chosen.shown} (schema {version})."
    assert chosen.path is not None
    file = paths.database_path(chosen.path) if chosen.kind == "folder" else chosen.path
    if file.exists():
        try:
            with open(file, "rb") as handle:
                head = handle.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise LocationError(f"cannot read {file}: {exc.strerror or exc}") from None
        if head != SQLITE_MAGIC:
            raise LocationError(f"{file} is not a station database: choose another location")
        return f"{file} holds a database: it is used from the next start."
    parent = _existing_parent(file.parent)
    if not os.access(parent, os.W_OK):
        raise LocationError(f"{parent} cannot be written to: choose a folder you can write in")
    return f"No database in {file.parent} yet: one is made there at the next start."


def _existing_parent(folder: Path) -> Path:
    folder = folder.expanduser().absolute()
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder
