"""``nordic-station report``: the same PDF reports as the app, from the command line.

``report TEST_ID --out FILE.pdf`` writes one test's report (page 1 the decision,
page 2 the technical appendix); ``report --athlete ID --history --out FILE.pdf``
an athlete's history.  The clinic's preferences (unit, MDC, reference lines,
clinic name and logo) are read from the data folder's settings file, as the app
saves them.  Qt draws the pages: it is imported only when the command runs, on
the offscreen platform when there is no display.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from station.cli import CliError
from station.cli.common import store_from_args
from station.cli.gui import has_display
from station.present.numbers import count
from station.present.preferences import SETTINGS_FILE, read_settings_file
from station.present.protocols import protocol_key
from station.store.protocols import resolve

log = logging.getLogger(__name__)

EXAMPLES = """examples:
  nordic-station report 42 --out ada-2026-06-15.pdf
  nordic-station report --athlete S01 --history --out ada-history.pdf
  nordic-station report --athlete S01 --history --protocol isometric --knee-angle 30 \
      --out ada-iso30.pdf
"""


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "report",
        parents=parents,
        help="PDF report of a test, or of an athlete's history",
        description="Write the PDF report the app makes: one test (TEST_ID), or an athlete's "
        "history (--athlete ID --history). Preferences come from the data folder's settings.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("test", nargs="?", metavar="TEST_ID", help="the test to report on")
    parser.add_argument("--athlete", metavar="ID", help="athlete (id or external id)")
    parser.add_argument("--history", action="store_true", help="the athlete's history report")
    parser.add_argument(
        "--protocol",
        choices=("nordic", "isometric"),
        default="nordic",
        help="history: the protocol whose tests it shows (default nordic; never mixed)",
    )
    parser.add_argument(
        "--knee-angle", metavar="DEG", help="history of isometric tests: their knee angle"
    )
    parser.add_argument("--out", metavar="FILE.pdf", required=True, help="where to write")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.set_defaults(func=run)


def _check(args: argparse.Namespace) -> Path:
    if args.test is not None and (args.athlete or args.history):
        raise CliError("give either TEST_ID or --athlete ID --history, not both")
    if args.test is None and not (args.athlete and args.history):
        raise CliError("give TEST_ID, or --athlete ID with --history")
    if args.test is not None and (args.protocol != "nordic" or args.knee_angle is not None):
        raise CliError("--protocol and --knee-angle choose a history: a test has its own")
    if args.protocol == "nordic" and args.knee_angle is not None:
        raise CliError("--knee-angle is for --protocol isometric")
    if args.test is not None and not str(args.test).isdigit():
        raise CliError(f"test id {args.test!r} is not a number")
    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".pdf":
        raise CliError(f"{out} does not end in .pdf: name the report FILE.pdf")
    if out.exists() and not args.force:
        raise CliError(f"{out} exists: pass --force to replace it")
    if not out.parent.is_dir():
        raise CliError(f"folder {out.parent} does not exist: create it or choose another")
    return out


def _qt() -> None:
    """A QApplication to draw with; offscreen when there is no display (never a crash)."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from station.app.shell.app import application

    application()


def run(args: argparse.Namespace) -> int:
    out = _check(args)
    with store_from_args(args, notice=False) as store:
        preferences = read_settings_file(Path(store.folder) / SETTINGS_FILE)
        _qt()
        from station.app.reports.report_pdf import write_history_report, write_test_report

        if args.test is not None:
            test = store.tests.get(int(args.test))
            if getattr(test, "voided", False):
                raise CliError(
                    f"test {test.id} is voided ({test.void_reason}): it is left out of reports; "
                    "undo the void first"
                )
            pages = write_test_report(store, test.id, out, preferences)
        else:
            athlete = store.athletes.resolve(args.athlete)
            kind = resolve(args.protocol, args.knee_angle)
            key = protocol_key(kind.protocol, kind.knee_angle_deg)
            pages = write_history_report(store, athlete.id, out, preferences, key)
    log.info("report written to %s (%d pages)", out, pages)
    print(f"wrote {out} ({count(pages, 'page')})")
    return 0
