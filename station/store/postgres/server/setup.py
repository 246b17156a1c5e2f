"""``server init`` and ``server migrate``: the store's schema, then this layer.

Both run in one transaction under an advisory lock, so two administrators at once
cannot interleave, and an error leaves the database as it was.  Everything is
dropped-and-recreated or ``IF NOT EXISTS``: running either twice changes nothing.
"""

from __future__ import annotations

import logging

import psycopg

from station.store.database_choice import masked
from station.store.postgres.errors import ServerUnreachableError
from station.store.postgres.opening import prepare
from station.store.postgres.server.audit import (
    apply_audit,
    apply_change_triggers,
    apply_clinic_views,
    drop_clinic_views,
)
from station.store.postgres.server.connection import LOGIN_HINT, connect, tables
from station.store.postgres.server.errors import ServerError
from station.store.postgres.server.policies import (
    apply_private,
    apply_privileges,
    apply_row_security,
)
from station.store.postgres.server.research_views import (
    apply_research_views,
    drop_research_views,
)
from station.store.postgres.server.roles import ensure_group_roles

log = logging.getLogger(__name__)

LAYER_VERSION = 1
_LOCK = 0x4E53_5345  # "NSSE": one administrator changes the layer at a time
REQUIRED_TABLES = ("athletes", "tests")


def _open_store_schema(url: str) -> None:
    """Create or upgrade the store's own schema, as any station opening it would
    (refusing a database that belongs to another program)."""
    try:
        prepare(url, clinic_layer_ok=True)
    except ServerUnreachableError as exc:
        exc.hint = exc.cli_hint = LOGIN_HINT
        raise


def _layer_version(conn: psycopg.Connection) -> int | None:
    row = conn.execute("SELECT to_regclass('ns_private.layer')").fetchone()
    if row is None or row[0] is None:
        return None
    got = conn.execute("SELECT version FROM ns_private.layer").fetchone()
    return None if got is None else int(got[0])


def _apply(conn: psycopg.Connection) -> None:
    present = tables(conn)
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise ServerError(
            f"the database has no Nordic Station tables ({', '.join(missing)} missing)",
            hint="open it once with a station built with the PostgreSQL store, then run this again",
        )
    ensure_group_roles(conn)
    apply_private(conn)
    apply_audit(conn)
    drop_research_views(conn)
    drop_clinic_views(conn)
    apply_privileges(conn)
    apply_row_security(conn)
    apply_change_triggers(conn)
    apply_clinic_views(conn)
    apply_research_views(conn)
    conn.execute(
        "INSERT INTO ns_private.layer (version) VALUES (%s) "
        "ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
        (LAYER_VERSION,),
    )


def _drop_views(url: str) -> None:
    """The layer's views pin their tables' columns: a schema upgrade needs them gone."""
    with connect(url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        drop_research_views(conn)
        drop_clinic_views(conn)


def init_server(url: str) -> int:
    """Schema, roles, row-level security, views and audit; returns the layer version."""
    _open_store_schema(url)
    return _reapply(url)


def migrate_server(url: str) -> int:
    """Upgrade the store's schema, then re-apply this layer to the tables as they are now."""
    with connect(url) as conn:
        if _layer_version(conn) is None:
            raise ServerError(
                f"{masked(url)} is not set up as a station server yet",
                hint="run 'nordic-station server init URL' first",
            )
    _drop_views(url)
    _open_store_schema(url)
    return _reapply(url)


def _reapply(url: str) -> int:
    try:
        with connect(url) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            _apply(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ServerError(
            f"the login in {masked(url)} may not set up the server ({exc.diag.message_primary})",
            hint="use an administrator's URL (a superuser, or the owner with CREATEROLE)",
        ) from None
    log.info("server layer v%d applied", LAYER_VERSION)
    return LAYER_VERSION
