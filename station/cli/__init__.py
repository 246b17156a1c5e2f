"""``nordic-station``: the command line.  Each subcommand lives in its own module
here and exposes ``register(subparsers, parents)``; this module only dispatches
and turns bad input into one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from firmware_bridge.errors import InputError, NordicError, describe

# Subcommand modules, in the order `--help` lists them, with the commands each registers.
COMMAND_MODULES = {
    "gui": ("gui",),
    "simulate": ("simulate",),
    "record": ("record",),
    "inspect": ("inspect",),
    "replay": ("replay",),
    "analyze": ("analyze",),
    "calibrate": ("calibrate",),
    "verify": ("verify",),
    "certificate": ("certificate",),
    "athletes": ("athlete",),
    "tests": ("test", "rep", "recover", "recompute"),
    "export": ("export",),
    "report": ("report",),
}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(InputError):
    """A usage problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _modules_for(argv: Sequence[str]) -> list[str]:
    """Only the module of the command asked for: startup stays fast (no SciPy for
    `simulate`), and one command's import problem cannot break another."""
    for token in argv:
        if token.startswith("-"):
            continue
        for module, commands in COMMAND_MODULES.items():
            if token in commands:
                return [module]
        break
    return list(COMMAND_MODULES)


def build_parser(modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
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
    for name in COMMAND_MODULES if modules is None else modules:
        try:
            module = importlib.import_module(f"station.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"station.cli.{name}":
                continue
            raise
        module.register(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_modules_for(argv))
    args = parser.parse_args(argv)
    if not hasattr(args, "data_dir"):
        args.data_dir = None
    if getattr(args, "func", None) is None:
        if args.command is None:
            args = build_parser(["gui"]).parse_args(["gui", *argv])
            args.data_dir = getattr(args, "data_dir", None)
        else:
            parser.parse_args([args.command, "--help"])
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except (NordicError, OSError) as exc:
        print(f"nordic-station: error: {describe(exc, for_cli=True)}", file=sys.stderr)
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
