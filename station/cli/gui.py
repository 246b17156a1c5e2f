"""``nordic-station gui``: open the desktop app (the default command).

Qt is imported only when the command runs, so every other subcommand starts
without loading it (and works on a machine without a display).

On Linux with no display at all (no ``DISPLAY``, no ``WAYLAND_DISPLAY``, and
no ``QT_QPA_PLATFORM`` chosen), Qt would abort with a core dump.  Instead the
command says so in one line and serves the virtual rig on a pseudo-terminal
(``nordic-station simulate`` with its defaults), so ``make run`` on a
headless box still gives a new user something that works.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

NO_DISPLAY_MESSAGE = (
    "no display found: the desktop app needs a desktop session (or run it under xvfb-run); "
    "starting the virtual rig on a pseudo-terminal instead — Ctrl-C to stop"
)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "gui",
        parents=parents,
        help="open the desktop app (default)",
        description="Open the Nordic Station desktop app. With no rig attached it offers "
        "the virtual rig, so you can see live force straight away. Without a display "
        "(Linux, no DISPLAY or WAYLAND_DISPLAY) it serves the virtual rig on a "
        "pseudo-terminal instead, as 'nordic-station simulate' does.",
    )
    parser.set_defaults(func=run)


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt can open a window here: always off Linux; on Linux a display server
    (X11 or Wayland) or an explicitly chosen Qt platform (offscreen, eglfs...) is needed."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def simulate_instead() -> int:
    """The headless fallback: the virtual rig with ``simulate``'s defaults until Ctrl-C."""
    from station.cli import build_parser, simulate

    print(NO_DISPLAY_MESSAGE, file=sys.stderr, flush=True)
    args = build_parser(["simulate"]).parse_args(["simulate"])
    try:
        return int(simulate.run(args) or 0)
    except KeyboardInterrupt:
        return 0


def run(args: argparse.Namespace) -> int:
    if not has_display():
        return simulate_instead()
    from station.app.shell.app import run as run_app

    return run_app(getattr(args, "data_dir", None), database=getattr(args, "database", None))
