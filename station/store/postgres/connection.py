"""A small pool of connections to a PostgreSQL server and the transactions made on them.

Every public backend method runs inside :meth:`Connection._write` (one
server-side transaction that first takes the store's write lock, so writers
queue one after another as on SQLite and a check made inside one stays
true until it commits), :meth:`Connection._read` (one repeatable-read
snapshot) or a single autocommitted statement.  The shared statements speak
SQLite's ``?``; :class:`Adapter` hands them to psycopg as ``%s``.  The
server's errors are turned into the store's own here, once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import psycopg_pool

from firmware_bridge.errors import DiskFullError
from station.store.database_choice import masked
from station.store.errors import DatabaseFileError, DuplicateError, StoreError
from station.store.postgres import opening
from station.store.postgres.dialect import POSTGRES
from station.store.postgres.errors import ServerUnreachableError
from station.store.postgres.url import server_of
from station.store.sql.base import Cursor, Transactions

log = logging.getLogger(__name__)

POOL_SIZE = 4
CLIENT_CHECK_MS = 1000
IDLE_IN_TRANSACTION_S = 60
WRITE_LOCK = 0x4E534442  # pg_advisory_xact_lock key: one writer at a time, as on SQLite


@functools.lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _values(params: Sequence[Any]) -> list[Any]:
    # Flags are integer columns on both engines; psycopg would send a bool as boolean.
    return [int(v) if v.__class__ is bool else v for v in params]


class Adapter:
    """A psycopg connection as the shared statements use one (like ``sqlite3.Connection``)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        cursor = self._conn.cursor(binary=True)
        cursor.execute(to_psycopg(sql), _values(parameters))
        return cursor

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Cursor:
        cursor = self._conn.cursor(binary=True)
        rows = [_values(row) for row in seq_of_parameters]
        if rows:
            cursor.executemany(to_psycopg(sql), rows)
        return cursor


class Connection(Transactions):
    """The pool of one :class:`PostgresStore`; safe to share between threads."""

    dialect = POSTGRES

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = masked(url)
        self.path: Path | None = None  # no file: see location
        self.backups = None
        self.backup_path: Path | None = None
        self.migrated_from: int | None = None
        with self._errors():
            self.migrated_from = opening.prepare(url)
            self._pool = psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_SIZE,
                kwargs={"autocommit": True},
                configure=_configure,
                open=False,
                name="nordic-station",
            )
            try:
                self._pool.open(wait=True, timeout=opening.CONNECT_TIMEOUT_S)
            except BaseException:
                self._pool.close()
                raise
        log.info("store opened on %s", self.location)

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None and not pool.closed:
            pool.close()

    def checkpoint(self) -> None:
        """Nothing to do: the server manages its own write-ahead log."""

    def integrity_check(self) -> list[str]:
        """What the server cannot enforce by itself: each raw recording's bytes
        still match their size and checksum; every test has one current run."""
        with self._read() as conn:
            bad = conn.execute(
                "SELECT id FROM recordings WHERE sha256 NOT LIKE 'erased-%' AND absent = 0 "
                "AND (size != length(data) OR encode(sha256(data), 'hex') != sha256) ORDER BY id"
            ).fetchall()
            runless = conn.execute(
                "SELECT t.id FROM tests t WHERE NOT EXISTS (SELECT 1 FROM results r "
                "WHERE r.test_id = t.id AND r.is_current = 1) ORDER BY t.id"
            ).fetchall()
        problems = [f"recording {row[0]} does not match its checksum" for row in bad]
        problems += [f"test {row[0]} has no current analysis run" for row in runless]
        return problems

    @property
    def schema_version(self) -> int:
        return opening.version_of(self._one("SELECT value FROM meta WHERE key = 'schema_version'"))

    def pseudonym_secret(self) -> bytes:
        row = self._one("SELECT value FROM meta WHERE key = 'pseudonym_secret'")
        if row is None:
            raise DatabaseFileError(
                f"the database at {self.location} has no pseudonym secret: restore it from a backup"
            )
        return bytes(row[0])

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "athletes_external_id_key":
                raise DuplicateError(
                    "that external id is already used by another athlete"
                ) from None
            raise StoreError(f"refused by the database: {_first_line(exc)}") from None
        except (psycopg.IntegrityError, psycopg.DataError) as exc:
            raise StoreError(f"refused by the database: {_first_line(exc)}") from None
        except psycopg.errors.DiskFull:
            raise DiskFullError(
                f"the database server at {server_of(self.url)} is out of disk space: this "
                "change was not saved and the database is kept as it was before it"
            ) from None
        except (psycopg.errors.DataCorrupted, psycopg.errors.IndexCorrupted) as exc:
            raise DatabaseFileError(
                f"the database at {self.location} is damaged ({_first_line(exc)}): "
                "restore it from a backup"
            ) from None
        except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
            raise StoreError(
                "the database is busy (another Nordic Station is writing): try again"
            ) from None
        except psycopg_pool.PoolTimeout as exc:
            raise ServerUnreachableError(server_of(self.url), _first_line(exc)) from None
        except psycopg.OperationalError as exc:
            if opening.connection_lost(exc):
                raise ServerUnreachableError(server_of(self.url), _first_line(exc)) from None
            raise StoreError(f"the database server refused this: {_first_line(exc)}") from None

    @contextmanager
    def _write(self) -> Iterator[Adapter]:
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield Adapter(conn)

    @contextmanager
    def _read(self) -> Iterator[Adapter]:
        """A consistent snapshot for reads made of several statements (not READ ONLY:
        on a clinic's server a read of identifiable data writes its audit row)."""
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield Adapter(conn)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._errors(), self._pool.connection() as conn:
            return Adapter(conn).execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors(), self._pool.connection() as conn:
            return Adapter(conn).execute(sql, params).fetchall()


def _configure(conn: psycopg.Connection[Any]) -> None:
    """A station that dies mid-transaction (killed, unplugged) must not keep the write
    lock: the server checks the client is still there while a statement runs, and
    ends a transaction left idle."""
    conn.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_S}s'")
    try:
        conn.execute(f"SET client_connection_check_interval = '{CLIENT_CHECK_MS}ms'")
    except psycopg.errors.UndefinedObject:  # before PostgreSQL 14: idle timeout only
        log.info("the server cannot check for dead clients mid-statement (before PostgreSQL 14)")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
