"""``nordic-station replay FILE``: serve a recording or capture on a pseudo-terminal.

Why: any program that reads a serial port (the app, ``nordic-station
record``, a terminal) can then re-live a recorded test byte for byte, at its
recorded pace or faster.  The first line of stdout is the pty's path, for
scripts; playback starts when a program opens it, so nothing is missed, and
starts again from the beginning for the next program if that one leaves
early.  When the reader has taken every byte, the port closes (so ``cat``
and ``record --until-closed`` finish) and the command exits 0; Ctrl-C (or
SIGTERM) stops it earlier, exit 0.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from types import FrameType
from typing import Any

from firmware_bridge.device import PtyServer
from firmware_bridge.replay import ReplayDevice

POLL_S = 0.05


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        parents=parents,
        help="serve a recording or capture on a pseudo-terminal",
        description=(
            "Serve a station recording (at its recorded pace) or a raw capture (paced by "
            "its sample rate) on a pseudo-terminal. The first line printed is the port's "
            "path; playback starts when a program opens it. Ctrl-C stops."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="recording or capture to replay")
    parser.add_argument(
        "--speed", default="1", metavar="X", help="2 = twice as fast, max = as fast as read (1)"
    )
    parser.add_argument("--rate", type=float, metavar="HZ", help="sample rate if the file has none")
    parser.add_argument("--link", metavar="PATH", help="also make PATH a symlink to the port")
    parser.set_defaults(func=run)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    device = ReplayDevice(args.file, speed=args.speed, rate_hz=args.rate)
    server = PtyServer(device, link_path=args.link)
    # Ctrl-C and SIGTERM stop it, even when started from a script that left SIGINT ignored.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        path = server.start()
        print(path, flush=True)
        pace = "as fast as read" if math.isinf(device.speed) else f"{device.duration_s:.1f} s"
        print(
            f"replaying {args.file} ({len(device.data)} bytes, {pace}) on {path}; "
            "waiting for a reader (a recording of it: nordic-station record "
            f"{path} OUT --passive --no-start --until-closed); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        # The end: once the reader has taken every byte, the port closes, so a
        # program reading it (cat, record --until-closed) sees the end.  A reader
        # that leaves early rewinds the replay for the next one.
        rewinds = 0
        while not (
            device.finished
            and (server.reader_finished or (server.reader_connected and server.drained()))
        ):
            time.sleep(POLL_S)
            if server.rewinds > rewinds:
                rewinds = server.rewinds
                print(
                    "the reader left before the end: the replay starts again for the next one",
                    file=sys.stderr,
                    flush=True,
                )
        print(f"replay finished: {device.position} bytes sent", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        server.stop()
    print(
        f"replay stopped: {device.position} of {len(device.data)} bytes sent",
        file=sys.stderr,
        flush=True,
    )
    return 0
