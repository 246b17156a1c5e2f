"""Small helpers the store's commands share: opening the store from
``--data-dir`` and ``--database`` (both on every command: see
``station.cli.build_parser``), ``--by``, tables, JSON output and a bare
command's usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from station import paths
from station.present.numbers import MINUS, format_number
from station.store import Store, open_store


def store_from_args(args: argparse.Namespace, *, notice: bool = True) -> Store:
    """Open the store (``--database``, else ``NORDIC_STATION_DATABASE``, else the data
    folder's own); mention tests left unfinished by a crash."""
    store = open_store(
        getattr(args, "data_dir", None),
        database=paths.database_location(getattr(args, "database", None)),
        actor=getattr(args, "by", None) or None,
    )
    upgrade = store.upgrade
    if upgrade is not None:
        print(
            f"note: database upgraded from schema {upgrade.from_version}; "
            f"the old file was copied to {upgrade.backup}",
            file=sys.stderr,
        )
    if notice:
        crashed = store.recovery.pending(include_live=False)
        if crashed:
            print(
                f"note: {len(crashed)} unfinished test(s) from an interrupted recording: "
                "see 'nordic-station recover --list'",
                file=sys.stderr,
            )
    return store


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Plain aligned columns (no colours: the output is often piped)."""
    text_rows = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in text_rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def add_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", metavar="NAME", help="who is making the change (default: the logged-in user)"
    )


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure for a table: the app's rounding (``format_number``), a plain hyphen-minus
    so scripts that read the table still parse it, and an empty cell when missing."""
    if value is None:
        return ""
    return format_number(value, digits).replace(MINUS, "-")


def usage_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The ``func`` of a command given without its action: print its help, exit 2."""

    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return usage


def warn(lines: Iterable[str]) -> None:
    """Warnings on stderr, one per line."""
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)
