"""``nordic-station record PORT OUT``: capture every byte a rig sends to a recording.

Why a command of its own: a raw recording is the evidence behind every number
the station shows, so it must be easy to make one from any port (a real rig,
``virtual://``, ``replay://``) and it must survive Ctrl-C, an unplugged cable
and a crash (see firmware_bridge.recording).  A one-line status on stderr
shows that data is flowing; state changes and errors get lines of their own.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import station
from firmware_bridge.capture import load_capture
from firmware_bridge.errors import InputError, NordicError, StorageError
from firmware_bridge.link import (
    Blocks,
    CountersSnapshot,
    ErrorReported,
    Link,
    LinkError,
    LinkState,
    StateChanged,
)
from firmware_bridge.pump import EventPump, Listener
from firmware_bridge.recording import RecordingWriter

STATUS_INTERVAL_S = 0.25
EXIT_FAILED = 1


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "record",
        parents=parents,
        help="record every byte from a rig to a file",
        description=(
            "Record every byte a rig sends, with its arrival time, to a station recording "
            "(see docs/recording-format.md). Ctrl-C stops and closes the file."
        ),
    )
    parser.add_argument(
        "port", metavar="PORT", help="/dev/ttyACM0, COM3, virtual://..., replay://FILE"
    )
    parser.add_argument("out", metavar="OUT", help="the recording file to create")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send START at the beginning and STOP at the end (default: yes)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        help="a calibration certificate to store in the recording (used by analyze)",
    )
    parser.add_argument(
        "--passive",
        action="store_true",
        help="only listen: no INFO handshake, no waiting for ACKs (text-dialect rigs)",
    )
    parser.add_argument(
        "--until-closed",
        action="store_true",
        help="end when the port closes (the end of a 'nordic-station replay') instead of "
        "waiting for the rig to come back",
    )
    parser.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="free metadata for the header (repeatable)",
    )
    parser.set_defaults(func=run)


def _metadata(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {"command": "record"}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--meta takes KEY=VALUE, not {pair!r}")
        out[key] = value
    return out


def _calibration(path: str | None) -> dict | None:
    if path is None:
        return None
    from calibration.certificate import load_certificate

    return load_certificate(path).to_dict()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _set_signals(on_int: Any, on_term: Any) -> tuple[Any, Any]:
    """Set the SIGINT and SIGTERM handlers; returns the previous ones."""
    return signal.signal(signal.SIGINT, on_int), signal.signal(signal.SIGTERM, on_term)


class _Status(Listener):
    """The live line on stderr (rewritten in place on a terminal) and the totals."""

    def __init__(self, stream: TextIO, link: Link) -> None:
        self.stream = stream
        self.link = link
        self.live = stream.isatty()
        self.samples = 0
        self.started = time.monotonic()
        self.counters: dict[str, Any] = {}
        self.failed = False  # the recording stopped, or the link gave up
        self._shown = False

    def on_event(self, event: object) -> None:
        if isinstance(event, Blocks):
            self.samples += event.samples
        elif isinstance(event, CountersSnapshot):
            self.counters = event.counters
        elif isinstance(event, StateChanged):
            if event.state not in (LinkState.CONNECTING, LinkState.CLOSED):
                self.line(f"{event.state}: {event.detail}")
        elif isinstance(event, ErrorReported):
            self.failed |= event.kind == "recording" or event.fatal
            self.line(f"error: {event.message}")

    def line(self, text: str) -> None:
        self.clear()
        print(text, file=self.stream, flush=True)

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self._shown = False

    def show(self) -> None:
        if not self.live:
            return
        elapsed = time.monotonic() - self.started
        info = self.link.info
        rate = f"{info.sample_rate_hz:g} Hz" if info else "rate ?"
        c = self.counters
        text = (
            f"{elapsed:7.1f} s  {self.samples} samples  {rate}  {self.link.state}  "
            f"dropped {c.get('dropped_samples', 0)}  corrupt {c.get('frames_corrupt', 0)}  "
            f"bytes {c.get('bytes_received', 0)}"
        )
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
        self._shown = True


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        raise InputError("--duration must be a positive number of seconds")
    if out.is_dir():
        raise InputError(f"{out} is a folder: name the recording file to create")
    if os.path.lexists(out) and not args.force:
        raise InputError(f"{out} already exists: pass --force to overwrite it")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    metadata = _metadata(args.meta)
    calibration = _calibration(args.calibration)

    # The file starts under a temporary name: if the port does not open, OUT
    # (with --force, the old file) is left as it was.
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    writer = RecordingWriter(
        partial,
        port=args.port,
        calibration=calibration,
        metadata=metadata,
        station_version=station.__version__,
        overwrite=True,
    )
    link = Link(
        args.port,
        recorder=writer,
        passive=True if args.passive else None,
        reconnect=False if args.until_closed else None,
    )
    # Ctrl-C and SIGTERM stop the recording cleanly, even when started from a
    # script that left SIGINT ignored.
    previous = _set_signals(signal.default_int_handler, _raise_interrupt)
    try:
        try:
            link.open()
        except BaseException:
            _discard(link, writer, partial)
            raise
        os.replace(partial, out)
        writer.path = out
        status = _Status(sys.stderr, link)
        try:
            if args.start:
                try:
                    link.start()
                except LinkError as exc:
                    _discard(link, writer, out)
                    if "did not acknowledge" in str(exc):
                        raise LinkError(
                            f"{exc}: a replay or a rig that does not answer commands needs "
                            "--passive (or --no-start)"
                        ) from None
                    raise
            _run_until_done(link, status, args.duration, args.until_closed)
        except KeyboardInterrupt:
            pass
        # A second Ctrl-C must not cut the STOP and the closing of the file short.
        _set_signals(signal.SIG_IGN, signal.SIG_IGN)
        return _finish(link, writer, status, args, out)
    finally:
        _set_signals(*previous)


def _run_until_done(
    link: Link, status: _Status, duration: float | None, until_closed: bool = False
) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    next_show = 0.0
    pump = EventPump(link, [status])  # pulled on this thread
    while deadline is None or time.monotonic() < deadline:
        timeout = STATUS_INTERVAL_S
        if deadline is not None:
            timeout = max(0.0, min(timeout, deadline - time.monotonic()))
        pump.pump_once(timeout)
        if link.state == LinkState.CLOSED:
            status.line(f"the link closed: {link.detail}")
            return
        if status.failed:  # the recording stopped (a full disk): nothing more can be kept
            return
        if until_closed and link.state == LinkState.DISCONNECTED:
            status.line("the port closed: the recording ends")
            return
        now = time.monotonic()
        if now >= next_show:
            status.show()
            next_show = now + STATUS_INTERVAL_S


def _finish(
    link: Link, writer: RecordingWriter, status: _Status, args: argparse.Namespace, out: Path
) -> int:
    """STOP (if we started), close the link and the file, print what the file holds.

    The totals are read back from the file, so what is reported as saved is
    what is on disk, even after a full disk cut the recording short.
    """
    if args.start and link.connected:
        try:
            link.stop()
        except LinkError as exc:
            status.line(f"warning: {exc}")
    link.close()
    EventPump(link, [status]).pump_once()  # the close's last events
    failed = status.failed
    failure: Exception | None = None
    try:
        writer.close()
    except (NordicError, OSError) as exc:
        failure = exc
        failed = True
    counters = link.counters()
    kept = _saved(out)
    received = (
        f"{counters['samples']} received, {counters['bytes_received']} bytes; "
        f"dropped {counters['dropped_samples']}, corrupt frames {counters['frames_corrupt']}"
    )
    if isinstance(failure, StorageError):
        raise type(failure)(f"{failure}; kept {kept} ({received})")
    if failure is not None:
        status.line(f"error: {failure}")
    status.line(f"recorded {kept} ({received})")
    return EXIT_FAILED if failed else 0


def _saved(out: Path) -> str:
    """What the recording on disk holds, in words: its samples and their span."""
    try:
        capture = load_capture(out, require_samples=False, require_rate=False)
    except NordicError as exc:
        return f"nothing readable in {out} ({exc})"
    duration = capture.stream.duration_s()
    span = f"{duration:.1f} s" if duration is not None else "no rate"
    return f"{capture.stream.samples} samples ({span}) in {out}"


def _discard(link: Link, writer: RecordingWriter, path: Path) -> None:
    link.close()
    with contextlib.suppress(Exception):
        writer.close()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
