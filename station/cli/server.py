"""``nordic-station server``: set up a clinic's PostgreSQL server and its logins.

``init`` and ``migrate`` lay the roles, row-level security, researchers' views and
the audit over the store's schema (station/store/postgres/server); ``user add``,
``user list`` and ``user remove`` manage the people.  The administrator's URL
is never printed with its password; a new login's password is printed once."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from station.cli import EXIT_OK, CliError
from station.store.errors import StoreError

ROLES = ("clinician", "researcher", "admin")


def _url(text: str) -> str:
    if not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError(
            "expected a PostgreSQL URL such as postgresql://admin@host:5432/clinic"
        )
    return text


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    p = subparsers.add_parser(
        "server",
        parents=parents,
        help="set up a clinic's PostgreSQL server: roles, security, logins",
        description="Set up a PostgreSQL server shared by several stations: the schema, the "
        "roles clinician/researcher/admin enforced by the database, the audit, and the "
        "people's logins.  Give an administrator's URL; its password comes from the URL, "
        "PGPASSWORD or ~/.pgpass and is never printed.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    for name, func, text in (
        ("init", run_init, "create the schema, roles, row-level security, views and audit"),
        ("migrate", run_migrate, "upgrade the schema and re-apply security and views"),
    ):
        sub = actions.add_parser(
            name,
            parents=parents,
            help=text,
            description=text[0].upper()
            + text[1:]
            + " (idempotent: running it again changes nothing).",
        )
        sub.add_argument("url", metavar="URL", type=_url, help="the administrator's URL")
        sub.set_defaults(func=func)
    user = actions.add_parser(
        "user", parents=parents, help="add, list or remove logins", description="Logins."
    )
    users = user.add_subparsers(dest="user_action", metavar="ACTION", parser_class=type(p))
    add = users.add_parser(
        "add",
        parents=parents,
        help="make a login and print its generated password once",
        description="Make a login for one person in the group role of ROLE, with the teams "
        "they may see; prints a generated password once (it is stored only as a SCRAM hash).",
    )
    add.add_argument("url", metavar="URL", type=_url)
    add.add_argument("name", metavar="NAME", help="login name: lower-case letters, digits, _")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--team", action="append", default=[], metavar="TEAM", help="a team (repeatable)"
    )
    add.set_defaults(func=run_user_add)
    listing = users.add_parser(
        "list", parents=parents, help="logins with role and teams (never passwords)"
    )
    listing.add_argument("url", metavar="URL", type=_url)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_user_list)
    remove = users.add_parser("remove", parents=parents, help="drop a login (its audit rows stay)")
    remove.add_argument("url", metavar="URL", type=_url)
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=run_user_remove)
    user.set_defaults(func=lambda args: user.error("say what to do: add, list or remove"))
    p.set_defaults(func=lambda args: p.error("say what to do, e.g. 'server init URL'"))


def _guarded(action: Callable[[], Any], url: str) -> Any:
    """Run ``action``; a database error becomes one line without the URL's password."""
    try:
        import psycopg
    except ModuleNotFoundError:
        raise CliError(
            "the server commands need psycopg",
            hint="install it: pip install 'psycopg[binary]'",
        ) from None
    from station.store.database_choice import masked

    try:
        return action()
    except StoreError:
        raise
    except psycopg.Error as exc:
        message = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
        raise CliError(
            f"the database at {masked(url)} refused: {masked(message.strip())}"
        ) from None


def run_init(args: argparse.Namespace) -> int:
    from station.store.database_choice import masked
    from station.store.postgres.server.setup import init_server

    version = _guarded(lambda: init_server(args.url), args.url)
    print(
        f"server ready at {masked(args.url)} (security layer v{version}); "
        "add people with 'nordic-station server user add'"
    )
    return EXIT_OK


def run_migrate(args: argparse.Namespace) -> int:
    from station.store.database_choice import masked
    from station.store.postgres.server.setup import migrate_server

    version = _guarded(lambda: migrate_server(args.url), args.url)
    print(f"server at {masked(args.url)} is up to date (security layer v{version})")
    return EXIT_OK


def run_user_add(args: argparse.Namespace) -> int:
    from station.store.postgres.server.connection import connect
    from station.store.postgres.server.roles import add_user

    def add() -> str:
        with connect(args.url) as conn:
            return add_user(conn, args.name, args.role, args.team)

    password = _guarded(add, args.url)
    teams = ", ".join(sorted(set(args.team))) or "all (admin)"
    print(f"added {args.name} as {args.role}; teams: {teams}")
    print(f"password (shown only now; give it to {args.name} privately): {password}")
    return EXIT_OK


def run_user_list(args: argparse.Namespace) -> int:
    from station.store.postgres.server.connection import connect
    from station.store.postgres.server.roles import User, list_users

    def listing() -> list[User]:
        with connect(args.url) as conn:
            return list_users(conn)

    users: list[User] = _guarded(listing, args.url)
    if args.json:
        print(json.dumps([{"name": u.name, "role": u.role, "teams": list(u.teams)} for u in users]))
        return EXIT_OK
    if not users:
        print("no logins yet: add one with 'nordic-station server user add'")
        return EXIT_OK
    width = max(len(u.name) for u in users)
    print(f"{'NAME':<{width}}  {'ROLE':<10}  TEAMS")
    for u in users:
        teams = ", ".join(u.teams) or ("all" if u.role == "admin" else "-")
        print(f"{u.name:<{width}}  {u.role:<10}  {teams}")
    return EXIT_OK


def run_user_remove(args: argparse.Namespace) -> int:
    from station.store.postgres.server.connection import connect
    from station.store.postgres.server.roles import remove_user

    def remove() -> str:
        with connect(args.url) as conn:
            return remove_user(conn, args.name)

    role = _guarded(remove, args.url)
    print(f"removed {args.name} ({role}); their audit rows stay")
    return EXIT_OK
