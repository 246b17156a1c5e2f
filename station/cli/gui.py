"""``nordic-station gui``: open the desktop app (the default command).

Qt is imported only when the command runs, so every other subcommand starts
without loading it (and works on a machine without a display).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gui",
        parents=parents,
        help="open the desktop app (default)",
        description="Open the Nordic Station desktop app. With no rig attached it offers "
        "the virtual rig, so you can see live force straight away.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from station.app.app import run as run_app

    return run_app(getattr(args, "data_dir", None))
