"""``nordic-station db copy FROM TO``: a whole store copied to another, verified."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from station.cli.common import print_table, usage_of
from station.store.copying import (
    CopyError,
    Dumpable,
    TableCheck,
    copy_store,
    open_location,
    rows_left_out,
    sqlite_location,
)

LOCATIONS = (
    "A location is what --database takes: a data folder, sqlite:///FILE (relative; "
    "sqlite:////FILE absolute), or postgresql://USER@HOST:PORT/DB (passwords from "
    "PGPASSWORD or ~/.pgpass)"
)


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser(
        "db", parents=parents, help="whole-store operations: copy a store to another"
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION")
    db.set_defaults(func=usage_of(db))
    copy = actions.add_parser(
        "copy",
        parents=parents,
        help="copy a whole store (SQLite <-> PostgreSQL), verified, resumable",
        description=(
            "Copy every athlete, test, recording, analysis run and audit entry from FROM to "
            "TO, keeping their ids, then check row counts and checksums of every table. "
            "TO must be empty, or hold a copy stopped earlier (it is then finished). "
            + LOCATIONS
            + "."
        ),
    )
    copy.add_argument("source", metavar="FROM", help="the store to copy")
    copy.add_argument("target", metavar="TO", help="an empty store, or a copy stopped earlier")
    copy.add_argument(
        "--batch-rows",
        type=int,
        metavar="N",
        default=None,
        help="at most N rows per transaction (default: per table, a few MB at most)",
    )
    copy.add_argument("--quiet", action="store_true", help="no progress on stderr")
    copy.set_defaults(func=run_copy)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _show(checks: list[TableCheck]) -> None:
    print_table(
        ("table", "source rows", "target rows", "checksum"),
        [
            (
                c.table,
                f"{c.source_rows:,}",
                f"{c.target_rows:,}",
                "same" if c.ok else "DIFFERENT",
            )
            for c in checks
        ],
    )


def run_copy(args: argparse.Namespace) -> int:
    if args.batch_rows is not None and args.batch_rows < 1:
        raise CopyError("--batch-rows must be 1 or more")
    same = sqlite_location(args.source), sqlite_location(args.target)
    if args.source.strip() == args.target.strip() or (
        None not in same and same[0].resolve() == same[1].resolve()  # type: ignore[union-attr]
    ):
        raise CopyError("FROM and TO are the same store: name another target")
    source = open_location(args.source, create=False)
    try:
        target: Dumpable = open_location(args.target, create=True)
        try:
            left_out = rows_left_out(source)
            try:
                checks = copy_store(
                    source,
                    target,
                    batch_rows=args.batch_rows,
                    progress=None if args.quiet else _progress,
                )
            except CopyError as exc:
                if exc.checks:
                    _show(exc.checks)
                raise
        finally:
            target.close()
    finally:
        source.close()
    _show(checks)
    for table, n in left_out.items():
        print(
            f"note: {n} row(s) of {table} (tests in progress) were not copied: "
            "recover or discard them at their station (nordic-station recover --list)",
            file=sys.stderr,
        )
    return 0
