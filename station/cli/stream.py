"""``nordic-station stream PORT``: publish a rig's force to Lab Streaming Layer.

For labs that record the Nordic test beside EMG, motion capture or video
with LSL's LabRecorder: the rig's left and right force in newtons at its own
rate, with the rig and its calibration in the stream's metadata, and an
event stream for STARTED, STOPPED and each rep's onset and peaks (see
station.streaming.lsl).  ``--record`` keeps the raw bytes as well, so every
streamed number can be checked against the recording afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import time
from pathlib import Path
from typing import Any

import station
from calibration.certificate import load_certificate
from firmware_bridge.errors import InputError
from firmware_bridge.link import ErrorReported, Link, LinkState, StateChanged
from firmware_bridge.pump import EventPump, Listener
from firmware_bridge.recording import RecordingWriter
from station.streaming.lsl import DEFAULT_NAME, LslListener, LslPublisher


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "stream",
        parents=parents,
        help="publish a rig's force (N) and events to Lab Streaming Layer",
        description=(
            "Publish the rig's left and right force in newtons to Lab Streaming Layer "
            "(stream type Force), with STARTED, STOPPED and rep onsets and peaks on a "
            "Markers stream. Ctrl-C stops. See docs/research.md."
        ),
    )
    parser.add_argument("port", metavar="PORT", help="/dev/ttyACM0, COM3, virtual://...")
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        required=True,
        help="the rig's calibration certificate (counts to newtons)",
    )
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--name", default=DEFAULT_NAME, help=f"stream name prefix (default: {DEFAULT_NAME!r})"
    )
    parser.add_argument("--record", metavar="FILE", help="also record the raw bytes to FILE")
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="S",
        help="before START, wait up to S seconds for a recorder (e.g. LabRecorder) to connect",
    )
    parser.add_argument(
        "--start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send START at the beginning and STOP at the end (default: yes)",
    )
    parser.set_defaults(func=run)


def _writer(path: str | None, port: str, certificate: dict[str, Any]) -> RecordingWriter | None:
    if path is None:
        return None
    out = Path(path)
    if out.exists():
        raise InputError(f"{out} already exists: name a new file for --record")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    return RecordingWriter(
        out,
        port=port,
        calibration=certificate,
        metadata={"command": "stream"},
        station_version=station.__version__,
    )


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        raise InputError("--duration must be a positive number of seconds")
    certificate = load_certificate(args.calibration)
    writer = _writer(args.record, args.port, certificate.to_dict())
    link = Link(args.port, recorder=writer)
    try:
        info = link.open()
        if info is None:
            raise InputError(f"{args.port} sent no INFO: streaming needs the rig's sample rate")
        publisher = LslPublisher(info, certificate=certificate, name=args.name)
        print(
            f"streaming '{args.name} force' and '{args.name} events' from "
            f"{info.serial_number} at {info.sample_rate_hz:g} Hz; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        pump = EventPump(link, [LslListener(publisher), _Console()], name="stream pump").start()
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            _stream(link, publisher, args)
        finally:
            signal.signal(signal.SIGTERM, previous)
            pump.stop(flush=True)
        print(f"streamed {publisher.samples} samples", file=sys.stderr)
        publisher.close()
        return 0
    finally:
        link.close()
        if writer is not None:
            writer.close()


def _stream(link: Link, publisher: LslPublisher, args: argparse.Namespace) -> None:
    """START, stream until the duration, Ctrl-C or a closed link, then STOP."""
    try:
        if args.wait > 0 and not publisher.wait_for_consumers(args.wait):
            print(f"no recorder connected within {args.wait:g} s: starting anyway", file=sys.stderr)
        if args.start:
            link.start()
        _wait(link, args.duration)
    except KeyboardInterrupt:
        pass
    if args.start and link.connected:
        with contextlib.suppress(InputError, OSError):
            link.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Console(Listener):
    """State changes and errors on stderr, one line each."""

    def on_state(self, event: StateChanged) -> None:
        if event.state != LinkState.CONNECTING:
            print(f"{event.state}: {event.detail}", file=sys.stderr, flush=True)

    def on_link_error(self, event: ErrorReported) -> None:
        print(f"error: {event.message}", file=sys.stderr, flush=True)


def _wait(link: Link, duration: float | None) -> None:
    """Until the duration is up or the link closes (the pump's thread does the work)."""
    deadline = None if duration is None else time.monotonic() + duration
    while link.state != LinkState.CLOSED:
        left = 0.25 if deadline is None else deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.25, left))
