"""Opening the administrator's connection, and what the database holds.

The URL's password never appears in a message: the store's ``masked`` is what we show."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import psycopg
from psycopg import sql

from station.store.postgres.errors import connect_error
from station.store.postgres.opening import CONNECT_TIMEOUT_S
from station.store.postgres.url import server_of

log = logging.getLogger(__name__)

LOGIN_HINT = (
    "check the URL, that the server runs, and the login's password "
    "(in the URL, PGPASSWORD or ~/.pgpass)"
)
# The store's tables live in the connection's default schema.
BASE_SCHEMA = "public"


def connect(url: str) -> psycopg.Connection:
    """A connection for administration (not autocommit: each command is one transaction)."""
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        error = connect_error(server_of(url), exc)
        error.hint = error.cli_hint = LOGIN_HINT
        raise error from None


def tables(conn: psycopg.Connection) -> set[str]:
    """The ordinary tables of the store's schema."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
        (BASE_SCHEMA,),
    ).fetchall()
    return {name for (name,) in rows}


def columns(conn: psycopg.Connection, table: str) -> list[str]:
    """A table's columns in their order."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (BASE_SCHEMA, table),
    ).fetchall()
    return [name for (name,) in rows]


def table(name: str) -> sql.Identifier:
    """The store's table ``name``, schema-qualified."""
    return sql.Identifier(BASE_SCHEMA, name)


def idents(names: Iterable[str]) -> sql.Composed:
    """``a, b, c`` as quoted identifiers."""
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def run(conn: psycopg.Connection, template: str, *parts: str | sql.Composable) -> None:
    """Execute ``template`` with each ``{}`` filled by a quoted identifier (a str) or SQL."""
    filled = [sql.Identifier(p) if isinstance(p, str) else p for p in parts]
    conn.execute(sql.SQL(template).format(*filled))


def names(*roles: str) -> sql.Composed:
    """``"a", "b"``: several roles in one GRANT."""
    return sql.SQL(", ").join(sql.Identifier(r) for r in roles)
