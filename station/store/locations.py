"""Where the store's data lives: a location string opens its backend.

A location is what ``--database`` (or ``NORDIC_STATION_DATABASE``) gives:

- ``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``): a server
  database, :class:`~station.store.postgres.PostgresStore`; the password
  follows libpq (``PGPASSWORD``, ``~/.pgpass``, or in the address) and is
  never logged: messages show the address with it masked;
- ``sqlite:///PATH`` or a plain path: an SQLite file (a folder means the
  database file inside it), :class:`~station.store.sqlite.SqliteStore`;
- nothing: the data folder's own SQLite file (the default).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from station import paths
from station.store.backend import Backend
from station.store.errors import StoreError

log = logging.getLogger(__name__)

ENV_VAR = "NORDIC_STATION_DATABASE"
SERVER_SCHEMES = ("postgresql", "postgres")


def is_server(location: str | None) -> bool:
    """Whether ``location`` names a database server (not a file on this computer)."""
    return bool(location) and urlsplit(str(location)).scheme.lower() in SERVER_SCHEMES


def sqlite_file(location: str, folder: Path) -> tuple[Path, Path]:
    """The SQLite file a location names and the folder for its upgrade backups."""
    text = location
    if text.lower().startswith("sqlite:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise StoreError(
                f"{text!r}: an SQLite database is a file on this computer: "
                "write sqlite:///PATH (three slashes)"
            )
        text = unquote(parts.path)
        if not text:
            raise StoreError(
                "sqlite:/// needs a path after it, e.g. sqlite:///data/station.sqlite3"
            )
    path = (
        (folder / Path(text).expanduser())
        if not Path(text).expanduser().is_absolute()
        else (Path(text).expanduser())
    )
    if path.is_dir() or (not path.exists() and not path.suffix):
        return paths.database_path(path), paths.backups_dir(path)
    return path, path.parent / paths.BACKUPS


def open_backend(location: str | os.PathLike[str] | None, folder: Path) -> Backend:
    """The backend of ``location`` (see the module's doc); ``folder`` is the data folder,
    used when no location is given (nor ``NORDIC_STATION_DATABASE``) and for relative paths."""
    text = "" if location is None else str(location).strip()
    if not text:
        text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        from station.store.sqlite import SqliteStore

        return SqliteStore(paths.database_path(folder), paths.backups_dir(folder))
    scheme = urlsplit(text).scheme.lower()
    if scheme in SERVER_SCHEMES:
        from station.store.postgres import PostgresStore

        return PostgresStore(text)
    if scheme not in ("", "sqlite") and len(scheme) > 1:  # one letter: a Windows drive
        raise StoreError(
            f"unknown kind of database {scheme!r}: give postgresql://USER@HOST/DB, "
            "sqlite:///PATH or a folder"
        )
    from station.store.sqlite import SqliteStore

    database, backups = sqlite_file(text, folder)
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return SqliteStore(database, backups)
