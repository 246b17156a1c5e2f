"""Group roles and the people's logins.

Three NOLOGIN group roles carry the rights (``ns_clinician``, ``ns_researcher``,
``ns_admin``); one NOLOGIN role ``ns_owner`` owns the views and the audit's
functions, so no person owns what guards them.  A person is a LOGIN role in one
group; the teams they may see are rows of ``ns_private.grants``.  The password is
generated here, shown once, and sent to the server only as a SCRAM verifier
(libpq's PQencryptPasswordConn), so it is in no server log either.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

import psycopg
from psycopg import sql

from station.store.postgres.server.connection import run
from station.store.postgres.server.errors import ServerError

log = logging.getLogger(__name__)

CLINICIAN = "ns_clinician"
RESEARCHER = "ns_researcher"
ADMIN = "ns_admin"
OWNER = "ns_owner"
GROUPS = {"clinician": CLINICIAN, "researcher": RESEARCHER, "admin": ADMIN}

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
MAX_TEAM_LENGTH = 100


@dataclass(frozen=True)
class User:
    name: str
    role: str
    teams: tuple[str, ...]


def check_name(name: str) -> str:
    """A login name: lower-case letters, digits and ``_``, not a reserved prefix."""
    if not _NAME.fullmatch(name):
        raise ServerError(
            f"{name!r} is not a usable login name",
            hint="use 1-63 lower-case letters, digits or '_', starting with a letter or '_'",
        )
    if name.startswith(("pg_", "ns_")) or name in ("postgres", "public"):
        raise ServerError(f"{name!r} is reserved", hint="choose another login name")
    return name


def check_team(team: str) -> str:
    team = team.strip()
    if not team or len(team) > MAX_TEAM_LENGTH or not team.isprintable():
        raise ServerError(
            f"{team!r} is not a usable team name",
            hint=f"give 1-{MAX_TEAM_LENGTH} printable characters",
        )
    return team


def ensure_group_roles(conn: psycopg.Connection) -> None:
    """The group roles and the owner role, created once (NOLOGIN)."""
    for role in (*GROUPS.values(), OWNER):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            log.info("created group role %s", role)


def _role_of(conn: psycopg.Connection, name: str) -> str | None:
    """The station role of login ``name`` (None: not one of ours)."""
    row = conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = %s AND g.rolname = ANY(%s) "
        "AND m.inherit_option ORDER BY g.rolname LIMIT 1",
        (name, list(GROUPS.values())),
    ).fetchone()
    if row is None:
        return None
    return next(k for k, v in GROUPS.items() if v == row[0])


def add_user(conn: psycopg.Connection, name: str, role: str, teams: list[str]) -> str:
    """Create login ``name`` in the group of ``role`` with ``teams``; returns its password."""
    check_name(name)
    if role not in GROUPS:
        raise ServerError(f"unknown role {role!r}", hint="use clinician, researcher or admin")
    teams = sorted({check_team(t) for t in teams})
    if role != "admin" and not teams:
        raise ServerError(f"a {role} needs at least one team", hint="add --team TEAM (repeatable)")
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
        raise ServerError(
            f"a login or role named {name!r} already exists",
            hint="choose another name, or 'server user remove' it first",
        )
    password = secrets.token_urlsafe(18)
    verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
    ident = sql.Identifier(name)
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            ident, sql.Literal(verifier.decode()), sql.Identifier(GROUPS[role])
        )
    )
    if role != "researcher":
        # The audited views come first: the station's unqualified names go through them.
        conn.execute(sql.SQL("ALTER ROLE {} SET search_path = ns_clinic, public").format(ident))
    if role == "admin":
        # Admins manage users: CREATEROLE and the groups' ADMIN option, without
        # taking on the clinician's or researcher's rights themselves.
        conn.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(ident))
        run(conn, "GRANT {} TO {} WITH ADMIN OPTION", ADMIN, ident)
        for group in (CLINICIAN, RESEARCHER):
            conn.execute(
                sql.SQL("GRANT {} TO {} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE").format(
                    sql.Identifier(group), ident
                )
            )
    for team in teams:
        conn.execute("INSERT INTO ns_private.grants (login, team) VALUES (%s, %s)", (name, team))
    conn.execute(
        "SELECT ns_private.audit_event('user add', %s, %s)",
        (name, f"{role}; teams: {', '.join(teams) or '-'}"),
    )
    log.info("added login %s as %s (%d teams)", name, role, len(teams))
    return password


def list_users(conn: psycopg.Connection) -> list[User]:
    """Every login in a station group, with its role and teams (never passwords)."""
    rows = conn.execute(
        "SELECT r.rolname, g.rolname, "
        "COALESCE((SELECT array_agg(team ORDER BY team) FROM ns_private.grants "
        "WHERE login = r.rolname), '{}') "
        "FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid "
        "JOIN pg_roles g ON g.oid = m.roleid "
        "WHERE r.rolcanlogin AND m.inherit_option AND g.rolname = ANY(%s) "
        "ORDER BY r.rolname",
        (list(GROUPS.values()),),
    ).fetchall()
    by_group = {v: k for k, v in GROUPS.items()}
    return [User(name, by_group[group], tuple(teams)) for name, group, teams in rows]


def remove_user(conn: psycopg.Connection, name: str) -> str:
    """Drop login ``name`` (one of ours); the audit keeps its rows.  Returns its role."""
    check_name(name)
    role = _role_of(conn, name)
    if role is None:
        raise ServerError(
            f"no station login named {name!r}", hint="see 'nordic-station server user list URL'"
        )
    conn.execute("DELETE FROM ns_private.grants WHERE login = %s", (name,))
    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    conn.execute("SELECT ns_private.audit_event('user remove', %s, %s)", (name, role))
    log.info("removed login %s (%s)", name, role)
    return role
