"""``nordic-station export``: tidy CSV files with JSON sidecars for researchers.

``export summary`` writes one row per test (every metric); ``export test``
writes one test's curves.  ``--anonymise`` replaces athletes by stable
pseudonyms; an existing file is only replaced with ``--force``.
"""

from __future__ import annotations

import argparse

from station.cli.common import store_from_args, usage_of
from station.store.export import export_summary, export_test


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=parents,
        help="CSV exports for researchers",
        description="Tidy CSV files (with a JSON sidecar describing every column) for R or pandas.",
    )
    commands = parser.add_subparsers(dest="export_command", metavar="WHAT")

    summary = commands.add_parser(
        "summary", parents=parents, help="one row per test, every metric (+ FILE.json sidecar)"
    )
    summary.add_argument("--out", metavar="FILE.csv", required=True, help="where to write")
    summary.add_argument("--athlete", metavar="A", help="only this athlete (id or external id)")
    summary.add_argument("--team", metavar="T", help="only this team")
    summary.add_argument("--since", metavar="DATE", help="tests on or after this day (YYYY-MM-DD)")
    summary.add_argument("--until", metavar="DATE", help="tests on or before this day")
    summary.add_argument(
        "--changed-since",
        metavar="TIME",
        help="only tests added or changed (analysis run, exclusion, void, edit) at or after "
        "TIME (YYYY-MM-DDTHH:MM[:SS][Z], local time unless it ends in Z or +HH:MM); voided "
        "ones included; the sidecar's next_changed_since is what to pass next time",
    )
    summary.add_argument(
        "--anonymise",
        "--anonymize",
        action="store_true",
        help="pseudonyms instead of names, ids and birth dates",
    )
    summary.add_argument("--force", action="store_true", help="replace existing files")
    summary.add_argument(
        "--include-voided", action="store_true", help="also voided tests (marked in a column)"
    )
    summary.set_defaults(func=run_summary)

    test = commands.add_parser(
        "test", parents=parents, help="one test's curves: DIR/test-ID.csv and DIR/test-ID.json"
    )
    test.add_argument("test", metavar="TEST", help="test id")
    test.add_argument("--out", metavar="DIR", required=True, help="folder to write into")
    test.add_argument("--anonymise", "--anonymize", action="store_true", help="pseudonym, no names")
    test.add_argument("--force", action="store_true", help="replace existing files")
    test.set_defaults(func=run_test)

    parser.set_defaults(func=usage_of(parser))


def run_summary(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        report = export_summary(
            store,
            args.out,
            athlete=args.athlete,
            team=args.team,
            since=args.since,
            until=args.until,
            anonymise=args.anonymise,
            force=args.force,
            include_voided=args.include_voided,
            changed_since=args.changed_since,
        )
    print(
        f"{report.rows} test(s) written to {report.files[0]} (columns described in "
        f"{report.files[1]})"
    )
    return 0


def run_test(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        report = export_test(store, args.test, args.out, anonymise=args.anonymise, force=args.force)
    print(f"{report.rows} rows written to {report.files[0]} (metadata in {report.files[1]})")
    return 0
