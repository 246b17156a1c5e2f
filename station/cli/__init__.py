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
from typing import Any

from firmware_bridge.errors import InputError, NordicError, describe
from station.cli.gui import has_display
from station.cli.start_up import cheaper_imports, keep_freed_memory
from station.logs import configure as configure_logging

# Subcommand modules, in the order `--help` lists them, with the commands each registers.
COMMAND_MODULES = {
    "gui": ("gui",),
    "simulate": ("simulate",),
    "record": ("record",),
    "inspect": ("inspect",),
    "replay": ("replay",),
    "analyze": ("analyze",),
    "stream": ("stream",),
    "calibrate": ("calibrate",),
    "verify": ("verify",),
    "certificate": ("certificate",),
    "athletes": ("athlete",),
    "tests": ("test", "rep"),
    "recovery": ("recover", "recompute"),
    "export": ("export",),
    "report": ("report",),
    "db": ("db",),
    "server": ("server",),
    "sync": ("station", "sync"),
}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

EPILOG = """\
examples:
  nordic-station                          open the desktop app (same as 'gui')
  nordic-station simulate --rate 200      a virtual rig on a pseudo-terminal
  nordic-station record PORT test.nsrec --duration 60
  nordic-station analyze test.nsrec --json
  nordic-station athlete add --name "Alex Example" --body-mass 80
  nordic-station COMMAND --help           the options of one command

exit status:
  0  done
  1  an internal error (a bug: please report it; NORDIC_STATION_DEBUG=1 shows details)
  2  bad input or a problem you can fix (one line on stderr says what and what to do)
  130  interrupted (Ctrl-C)

documents: docs/analyze-cli.md (analyze's options and JSON), docs/metrics.md and
docs/analysis.md (what every number means), docs/protocol.md (the rig's wire
protocol), docs/certificate-format.md (calibration certificates).
"""


class CliError(InputError):
    """A usage problem: printed as one line, exit status 2."""


def _terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it ($COLUMNS, else the
    terminal's, else 80), read without shutil: argparse's formatter imports shutil, and
    with it bz2 and lzma, only to ask this (~1.5 ms of every command's start)."""
    columns = 0
    with contextlib.suppress(KeyError, ValueError):
        columns = int(os.environ["COLUMNS"])
    stdout = sys.__stdout__
    if columns <= 0 and stdout is not None:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            columns = os.get_terminal_size(stdout.fileno()).columns
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, as wide as the terminal (see :func:`_terminal_columns`)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _RawDescription(_Formatter, argparse.RawDescriptionHelpFormatter):
    """The same, keeping the description's and epilog's line breaks."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

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


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up only when asked for (importlib.metadata
    would cost every command ~20 ms at start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )  # fmt: skip

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from station import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def build_parser(modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data folder (default: $NORDIC_STATION_HOME or the user's data folder)",
    )
    common.add_argument(
        "--database",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="the store to use: a folder, sqlite:///FILE or postgresql://USER@HOST:PORT/DB "
        "(default: $NORDIC_STATION_DATABASE, else the data folder's own); a password "
        "comes from PGPASSWORD or ~/.pgpass and is never shown or saved",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also show the station's log on the terminal (it always goes to the data "
        "folder's logs/nordic-station.log when that folder exists)",
    )
    parser = _Parser(
        prog="nordic-station",
        description="Nordic Station: eccentric hamstring strength testing.",
        epilog=EPILOG,
        formatter_class=_RawDescription,
        parents=[common],
    )
    parser.add_argument("--version", action=_VersionAction)
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


def _tolerant_output() -> None:
    """Text that is not valid UTF-8 (a byte typed in another encoding reaches us as a
    lone surrogate) is printed escaped rather than crashing the command."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def main(argv: Sequence[str] | None = None) -> int:
    whole_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    _tolerant_output()
    with cheaper_imports(whole_process):
        parser = build_parser(_modules_for(argv))
        args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        if args.command is None:
            if not has_display():
                # No window can open here: say what the station can do instead of
                # starting something the user did not ask for.
                parser.print_help()
                return EXIT_OK
            args = build_parser(["gui"]).parse_args(["gui", *argv])
        else:
            parser.parse_args([args.command, "--help"])
    if whole_process and getattr(args, "brief", False):
        keep_freed_memory()
    if not hasattr(args, "data_dir"):
        args.data_dir = None
    if not hasattr(args, "database"):
        args.database = None
    args.verbose = getattr(args, "verbose", False)
    configure_logging(args.data_dir, verbose=args.verbose, defer=True)
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
    except UnicodeError:
        print(
            "nordic-station: error: an argument holds bytes that are not UTF-8 text: retype it "
            "(is the terminal set to UTF-8, e.g. LANG=C.UTF-8?)",
            file=sys.stderr,
        )
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
