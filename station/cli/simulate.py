"""``nordic-station simulate``: a virtual rig (or a replayed capture) on a pseudo-terminal.

Why: the app, ``nordic-station record`` and any serial tool connect to it
exactly as to a real rig on /dev/ttyACM0, so a whole station can be tried,
demonstrated and tested without hardware.  The first line of stdout is the
port's path, a symlink that survives a simulated unplug and replug, so a
script can read it and connect; the next lines are for people.  SIGINT or
SIGTERM stop it cleanly (exit 0).

While it runs, lines on stdin drive the bench: ``left 20`` hangs 20 kg on the
left hook (``right 0`` takes the right one off), ``button`` presses the rig's
button, ``unplug 3`` pulls the cable for 3 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware_bridge.device import ByteDevice, PtyServer
from firmware_bridge.errors import InputError, NordicError, storage_error
from firmware_bridge.virtual_rig import (
    DEFAULT_SERIAL,
    FAULT_HELP,
    RigOptions,
    VirtualRig,
    channel_index,
)

DEFAULT_RATE_HZ = 80.0
DEFAULT_UNPLUG_S = 3.0

BENCH_HELP = """\
bench commands (one per line on stdin while it runs):
    left KG | right KG   hang KG on that hook (0 takes it off)
    button               press the rig's button (EVENT BUTTON)
    unplug [S]           pull the cable for S seconds (default 3)
    faults               the tally of faults injected so far
    help                 this list"""

_ATHLETE_OPTIONS = (
    ("left_peak", "left_peak_n"),
    ("right_peak", "right_peak_n"),
    ("reps", "reps"),
    ("rest", "rest_s"),
    ("rise", "rise_s"),
    ("fall", "fall_s"),
    ("quiet_start", "quiet_start_s"),
    ("preload", "preload_n"),
    ("tremor", "tremor_n"),
)


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        parents=parents,
        help="serve a virtual rig on a pseudo-terminal",
        description=(
            "Serve a virtual Nordic rig (or replay a capture) on a pseudo-terminal. "
            "The first line printed is the port's path; connect the station to it. "
            "Ctrl-C stops."
        ),
        epilog=f"{FAULT_HELP}\n\n{BENCH_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rig = parser.add_argument_group("rig")
    rig.add_argument("--rate", type=float, metavar="HZ", help="sample rate, 10..2000 (default 80)")
    rig.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    rig.add_argument("--serial", default=DEFAULT_SERIAL, metavar="S", help="serial number")
    rig.add_argument("--block-size", type=int, metavar="N", help="samples per frame, 1..30")
    rig.add_argument(
        "--fault", action="append", default=[], metavar="SPEC", help="inject a fault (see below)"
    )
    rig.add_argument("--noise", type=float, metavar="N", help="white noise, N (default 0.3)")
    rig.add_argument("--drift", type=float, default=0.0, metavar="N/S", help="drift, N per second")
    rig.add_argument(
        "--link",
        metavar="PATH",
        help="symlink to serve the port at (default: a new private folder in the temp folder)",
    )
    rig.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    rig.add_argument(
        "--certificate-out",
        metavar="FILE",
        help="write the virtual rig's true calibration certificate to FILE (for analyze)",
    )
    athlete = parser.add_argument_group("athlete (the default)")
    athlete.add_argument("--left-peak", type=float, metavar="N", help="left peak force (320)")
    athlete.add_argument("--right-peak", type=float, metavar="N", help="right peak force (290)")
    athlete.add_argument("--reps", type=int, metavar="N", help="repetitions (3)")
    athlete.add_argument("--rest", type=float, metavar="S", help="rest between reps (15)")
    athlete.add_argument("--rise", type=float, metavar="S", help="rise time of a rep (2.8)")
    athlete.add_argument("--fall", type=float, metavar="S", help="fall time of a rep (0.8)")
    athlete.add_argument("--quiet-start", type=float, metavar="S", help="quiet before rep 1 (4)")
    athlete.add_argument("--preload", type=float, metavar="N", help="ankles resting in hooks (20)")
    athlete.add_argument("--tremor", type=float, metavar="N", help="tremor at the peak (2)")
    athlete.add_argument(
        "--distractors",
        action="store_true",
        help="add a one-leg pull and a repositioning blip in the rests",
    )
    bench = parser.add_argument_group("calibration bench")
    bench.add_argument(
        "--static-load",
        action="append",
        default=[],
        metavar="CH:KG",
        help="a known mass on a hook, e.g. left:20 (no athlete unless athlete options are given)",
    )
    replay = parser.add_argument_group("replay")
    replay.add_argument("--replay", metavar="FILE", help="serve a recording or raw capture instead")
    replay.add_argument("--speed", metavar="X", help="replay speed: 2, 0.5 or max (default 1)")
    parser.set_defaults(func=run)


def _rig_options(args: argparse.Namespace) -> RigOptions:
    athlete_given = {field: getattr(args, name) for name, field in _ATHLETE_OPTIONS}
    athlete_given = {k: v for k, v in athlete_given.items() if v is not None}
    explicit = bool(athlete_given) or args.distractors
    return RigOptions(
        rate_hz=DEFAULT_RATE_HZ if args.rate is None else args.rate,
        seed=args.seed,
        serial_number=args.serial,
        block_size=args.block_size,
        faults=list(args.fault),
        static_loads=list(args.static_load),
        athlete=True if explicit else None,
        distractors=args.distractors,
        noise_n=args.noise,
        drift_n_per_s=args.drift,
        **athlete_given,
    )


def _describe(rig: VirtualRig) -> str:
    parts = [f"virtual rig {rig.serial_number}: {rig.rate_hz:g} Hz"]
    athlete = rig.model.athlete
    if athlete is not None:
        parts.append(
            f"athlete {athlete.reps} reps (left {athlete.left_peak_n:g} N, "
            f"right {athlete.right_peak_n:g} N) each START"
        )
    loads = rig.model.static.target()
    if athlete is None or loads.any():
        parts.append(f"static load left {loads[0]:.1f} N, right {loads[1]:.1f} N")
    faults = ", ".join(str(spec) for spec in rig.faults.specs) or "none"
    parts.append(f"faults: {faults}")
    return "; ".join(parts)


def expected_counters(stats: Mapping[str, int]) -> dict[str, int]:
    """What a receiver's counters must show for the faults in ``stats`` (the
    injector's tally), by the exact effects listed in virtual_rig.faults."""
    lost = ("dropped_samples", "overrun_samples", "stall_lost_samples", "flipped_frame_samples")
    return {
        "dropped_samples": sum(stats.get(key, 0) for key in lost),
        "frames_corrupt": stats.get("garbage_bursts", 0) + stats.get("flipped_frames", 0),
        "overrun_events": stats.get("overruns", 0),
    }


def fault_tally(stats: Mapping[str, int]) -> str:
    """One line for a tester: every fault injected so far, and the counters to expect."""
    done = ", ".join(f"{key} {value}" for key, value in sorted(stats.items()) if value)
    expect = ", ".join(f"{key} {value}" for key, value in expected_counters(stats).items())
    line = f"faults injected: {done or 'none'}; a receiver counts {expect}"
    if stats.get("flipped_bytes"):
        line += " plus whatever the line noise (flipped_bytes) broke"
    return line


def _replay_device(args: argparse.Namespace) -> tuple[ByteDevice, str]:
    if args.fault or args.static_load:
        raise InputError("--fault and --static-load work with the virtual rig, not with --replay")
    from firmware_bridge.replay import ReplayDevice  # the link/recording helper's module

    device = ReplayDevice(
        args.replay, speed=1.0 if args.speed is None else args.speed, rate_hz=args.rate
    )
    return device, f"replaying {args.replay} at speed {args.speed or 1}"


def default_link(serial: str) -> str:
    """Where the port's symlink goes without ``--link``: a fresh private folder
    (mode 0700, an unpredictable name) in the temp folder, so two runs never
    claim the same path and nobody else can plant a link there."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in serial)
    folder = tempfile.mkdtemp(prefix="nordic-station-")
    return os.path.join(folder, safe or "rig")


def _check_link(path: str) -> None:
    if os.path.lexists(path) and not os.path.islink(path):
        raise InputError(f"{path} exists and is not a symlink: pass another --link PATH")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"folder {parent} does not exist: pass another --link PATH")


def _say(text: str) -> None:
    """Print for people; a closed stdout must not stop the rig."""
    with contextlib.suppress(OSError, ValueError):
        print(text, flush=True)


def _bench_command(rig: VirtualRig, line: str) -> None:
    words = line.split()
    if not words:
        return
    verb = words[0].lower()
    try:
        if verb in ("left", "right") and len(words) == 2:
            rig.set_static_load(channel_index(verb), float(words[1]))
            _say(f"{verb} hook: {float(words[1]):g} kg")
        elif verb == "help" and len(words) == 1:
            _say(BENCH_HELP)
        elif verb == "faults" and len(words) == 1:
            _say(fault_tally(rig.faults.stats))
        elif verb == "button" and len(words) == 1:
            rig.press_button()
            _say("button pressed")
        elif verb == "unplug" and len(words) <= 2:
            seconds = float(words[1]) if len(words) == 2 else DEFAULT_UNPLUG_S
            rig.unplug(for_s=seconds, now=time.monotonic())
            _say(f"unplugged for {seconds:g} s")
        else:
            raise ValueError
    except (ValueError, InputError):
        print(f"unknown bench command {line.strip()!r}\n{BENCH_HELP}", file=sys.stderr, flush=True)


def _read_bench(rig: VirtualRig, stop: threading.Event) -> None:
    """Bench commands from stdin; reads the file descriptor directly so that a
    blocked read never holds the interpreter's stdin lock at exit."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return
    pending = b""
    while not stop.is_set():
        try:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd, 4096)
        except OSError:
            return
        if not data:
            return
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _bench_command(rig, line.decode("utf-8", "replace"))


def _install_stop_handlers(stop: threading.Event) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # ValueError: not the main thread
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous


def _write_certificate(rig: VirtualRig, path: str) -> None:
    """The rig's true gains and offsets as a certificate; never over an existing file."""
    target = Path(path)
    if target.exists():
        raise InputError(f"{target} already exists: choose another --certificate-out path")
    text = json.dumps(rig.calibration_certificate(), indent=2) + "\n"
    try:
        out = target.open("x")  # never over a file that appeared meanwhile
    except FileExistsError:
        raise InputError(
            f"{target} already exists: choose another --certificate-out path"
        ) from None
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with out:
            out.write(text)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if target.exists() and target.read_text() != text:
                target.unlink()  # nothing saved half (a full disk)
        error = storage_error(exc, str(target))
        if isinstance(error, NordicError):
            raise error from None
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    if args.speed is not None and not args.replay:
        raise InputError("--speed only applies to --replay FILE")
    rig: VirtualRig | None = None
    if args.replay:
        device, summary = _replay_device(args)
        serial = "replay"
    else:
        rig = _rig_options(args).build()
        device, summary, serial = rig, _describe(rig), rig.serial_number
        if args.certificate_out:
            _write_certificate(rig, args.certificate_out)
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration must be more than 0 s, not {args.duration:g}")
    private = args.link is None
    link = args.link or default_link(serial)
    _check_link(link)
    stop = threading.Event()
    previous = _install_stop_handlers(stop)
    server = PtyServer(device, link)
    reader: threading.Thread | None = None
    try:
        try:
            path = server.start()
        except OSError as exc:
            raise InputError(
                f"cannot serve a pseudo-terminal at {link}: {exc.strerror or exc}"
            ) from None
        _say(path)
        _say(summary)
        _say("connect the station to that path; bench commands on stdin ('help'); Ctrl-C stops")
        if rig is not None:
            reader = threading.Thread(target=_read_bench, args=(rig, stop), daemon=True)
            reader.start()
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.wait(0.1):
            if deadline is not None and time.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.stop()
        if reader is not None:
            reader.join(timeout=1)
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)
        if private:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(link))
    if rig is not None:
        _say(fault_tally(rig.faults.stats))
    return 0
