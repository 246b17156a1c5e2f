"""The PostgreSQL backend: one database shared by the stations of a clinic.

:class:`PostgresStore` implements :class:`~station.store.backend.Backend`
with the statements shared with SQLite (:mod:`station.store.sql`) and what
only a server needs: :mod:`.connection` (a small pool, transactions, the
server's errors as the store's), :mod:`.opening` (check, create, upgrade),
:mod:`.schema` (the tables at the current version), :mod:`.dialect` and
:mod:`.erasure`.  Passwords follow libpq (``PGPASSWORD``, ``~/.pgpass`` or
the address) and are never logged: see
:func:`station.store.database_choice.masked`.
"""

from __future__ import annotations

from station.store.postgres.connection import Connection
from station.store.postgres.erasure import Erasure
from station.store.postgres.errors import ServerUnreachableError
from station.store.sql import Statements


class PostgresStore(Erasure, Connection, Statements):
    """Persistence for athletes, tests, analysis runs, certificates and the audit log
    in a PostgreSQL database given by its URL (``postgresql://USER@HOST:PORT/DB``)."""


__all__ = ["PostgresStore", "ServerUnreachableError"]
