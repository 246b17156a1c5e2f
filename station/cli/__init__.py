"""``nordic-station``: the command line.  Each subcommand lives in its own module
here and exposes ``register(subparsers, parents)``; this module only dispatches
and turns bad input into one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from firmware_bridge.errors import InputError

# Subcommand modules, in the order `--help` lists them.
COMMAND_MODULES = (
    "gui",
    "simulate",
    "record",
    "inspect",
    "replay",
    "analyze",
    "calibrate",
    "athletes",
    "tests",
    "export",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(InputError):
    """A usage problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data folder (default: $NORDIC_STATION_HOME or the user's data folder)",
    )
    parser = _Parser(
        prog="nordic-station",
        description="Nordic Station: eccentric hamstring strength testing.",
        parents=[common],
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"station.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"station.cli.{name}":
                continue
            raise
        module.register(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "data_dir"):
        args.data_dir = None
    if getattr(args, "func", None) is None:
        if args.command is None:
            args = parser.parse_args(["gui", *(argv or sys.argv[1:])])
            args.data_dir = getattr(args, "data_dir", None)
        else:
            parser.parse_args([args.command, "--help"])
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return 130
    except (InputError, OSError) as exc:
        message = str(exc) or exc.__class__.__name__
        print(f"nordic-station: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("NORDIC_STATION_DEBUG"):
            raise
        print(
            f"nordic-station: internal error: {exc.__class__.__name__}: {exc} "
            "(set NORDIC_STATION_DEBUG=1 for details and please report it)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
