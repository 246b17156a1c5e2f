"""``sync --recordings [--athlete A] [--test ID]...``: the raw recordings a joined station
pulled without their bytes, fetched from the server now.

A pull brings results, curves and each recording's checksum, never its
megabytes: replay, raw exports and a recompute need the bytes, which this
fetches (checked against their SHA-256) after the sync itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from firmware_bridge.errors import InputError
from station.store.sync.recordings import FetchReport, fetch_recordings


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recordings",
        action="store_true",
        help="also fetch the raw recordings pulled without their bytes (all, or those below)",
    )
    parser.add_argument(
        "--athlete",
        metavar="A",
        help="with --recordings: only this athlete's (id or external id)",
    )
    parser.add_argument(
        "--test",
        metavar="ID",
        type=int,
        action="append",
        dest="test_ids",
        help="with --recordings: only this test's (repeat for more)",
    )


def check(args: argparse.Namespace) -> None:
    """Refuse combinations that cannot mean anything, before the sync starts."""
    narrowed = args.athlete is not None or args.test_ids
    if narrowed and not args.recordings:
        raise InputError("--athlete and --test choose recordings to fetch: add --recordings")
    if args.recordings and args.push_only:
        raise InputError("--push-only fetches nothing: leave out --recordings")


def fetch(args: argparse.Namespace, folder: Path) -> FetchReport | None:
    """The fetch ``args`` ask for (None when they ask for none)."""
    if not args.recordings:
        return None
    athlete_id = None
    if args.athlete is not None:
        from station.store.store import Store

        with Store.open(folder, database=str(folder)) as store:  # the station's own file
            athlete_id = store.athletes.resolve(args.athlete).id
    return fetch_recordings(folder, args.test_ids, athlete_id=athlete_id)
