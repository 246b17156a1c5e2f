"""``station join URL``, ``station status`` and ``sync``: a station tied to a server.

Tests are always saved in the data folder first; ``sync`` sends what the
server lacks and fetches what this station lacks, printing what went each
way.  The server's password is never printed nor kept: libpq's
``PGPASSWORD`` or ``~/.pgpass`` give it at each sync.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from station import paths
from station.cli import sync_recordings
from station.cli.common import usage_of
from station.store.database_choice import is_server, masked
from station.store.errors import ServerUnreachableError
from station.store.sync import SyncError, join, sync_now, sync_status


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    station = subparsers.add_parser(
        "station", parents=parents, help="join this data folder to a server; its sync state"
    )
    commands = station.add_subparsers(dest="station_command", metavar="ACTION")
    joining = commands.add_parser(
        "join", parents=parents, help="tie this data folder to a server (postgresql://...)"
    )
    joining.add_argument("url", metavar="URL", help="postgresql://USER@HOST:PORT/DB")
    joining.set_defaults(func=run_join)
    status = commands.add_parser(
        "status", parents=parents, help="synced, n waiting or offline (asks the server)"
    )
    status.set_defaults(func=run_status)
    station.set_defaults(func=usage_of(station))
    syncing = subparsers.add_parser(
        "sync", parents=parents, help="send this station's new records, fetch the server's, now"
    )
    syncing.add_argument(
        "--push-only", action="store_true", help="only send; fetch nothing from the server"
    )
    syncing.add_argument(
        "--full",
        action="store_true",
        help="list every record the server shows, not only those newer than the last sync",
    )
    sync_recordings.add_options(syncing)
    syncing.set_defaults(func=run_sync)


# The store's own hint names --database, which join and sync do not take.
JOIN_HINT = (
    "check the URL, that the server runs, and the login's password (PGPASSWORD or ~/.pgpass)"
)
SYNC_HINT = (
    "everything stays saved here; start the server, or check its address "
    "('nordic-station station status') and the login's password (PGPASSWORD or ~/.pgpass)"
)


def _hinted(exc: ServerUnreachableError, hint: str) -> ServerUnreachableError:
    exc.hint = exc.cli_hint = hint
    return exc


def _folder(args: argparse.Namespace) -> Path:
    return paths.ensure_data_dir(getattr(args, "data_dir", None))


def run_join(args: argparse.Namespace) -> int:
    if not is_server(args.url):
        raise SyncError(
            f"{masked(args.url)} is not a server address",
            hint="give postgresql://USER@HOST:PORT/DB",
        )
    try:
        kept = join(_folder(args), args.url)
    except ServerUnreachableError as exc:
        raise _hinted(exc, JOIN_HINT) from None
    except sqlite3.Error as exc:
        raise SyncError(f"the station's database could not be written: {exc}") from None
    print(f"joined {masked(kept)}")
    if urlsplit(args.url).password:
        print("the password was not kept: give it at each sync with PGPASSWORD or ~/.pgpass")
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = sync_status(_folder(args), probe=True)
    print(status.text)
    if status.joined and not status.online:
        print(f"waiting: {status.waiting} (saved here; sent at the next sync)")
    if status.joined:
        print(f"last sync: {status.last_sync or 'never'}")
        if status.error:
            print(f"last error: {status.error}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    sync_recordings.check(args)
    try:
        report = sync_now(_folder(args), push_only=args.push_only, full=args.full)
        print(report.line())
        fetched = sync_recordings.fetch(args, _folder(args))
    except ServerUnreachableError as exc:
        raise _hinted(exc, SYNC_HINT) from None
    except sqlite3.Error as exc:
        raise SyncError(f"the station's database could not be read or written: {exc}") from None
    if fetched is not None:
        print(fetched.line())
    return 0
