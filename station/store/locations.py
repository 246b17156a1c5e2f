"""Where the store's data lives: a location opens its backend.

A location is what ``--database``, ``NORDIC_STATION_DATABASE`` or the app's
Settings give, checked by :func:`station.store.database_choice.parse`:

- ``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``): a server
  database, :class:`~station.store.postgres.PostgresStore`; the password
  follows libpq (``PGPASSWORD``, ``~/.pgpass``, or in the address) and is
  never logged: messages show the address masked;
- ``sqlite:///PATH``: that SQLite file; a folder: the SQLite file inside it,
  :class:`~station.store.sqlite.SqliteStore`;
- nothing: the data folder's own SQLite file (the default).
"""

from __future__ import annotations

import os
from pathlib import Path

from station import paths
from station.store import database_choice
from station.store.backend import Backend

ENV_VAR = paths.DATABASE_ENV_VAR


def open_backend(location: str | os.PathLike[str] | None, folder: Path) -> Backend:
    """The backend of ``location`` (see the module's doc); with None, the data folder's."""
    from station.store.sqlite import SqliteStore

    if location is None:
        return SqliteStore(paths.database_path(folder), paths.backups_dir(folder))
    chosen = database_choice.parse(str(location))
    if chosen.kind == "postgresql":
        from station.store.postgres import PostgresStore

        return PostgresStore(chosen.text)
    assert chosen.path is not None
    if chosen.kind == "folder":
        store_folder = paths.ensure_data_dir(chosen.path)
        return SqliteStore(paths.database_path(store_folder), paths.backups_dir(store_folder))
    return SqliteStore(chosen.path, chosen.path.parent / paths.BACKUPS)
