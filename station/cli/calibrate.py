"""``nordic-station calibrate``, ``verify`` and ``certificate show``.

The interactive commands drive :class:`calibration.procedure.Procedure` with
readings from the rig (:class:`calibration.live.LiveReadings`) and the
operator's answers on standard input; everything they decide is in the
calibration package, so the app's wizard behaves the same.  A certificate is
written only at the end, and only from points that passed every input check.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import queue
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from calibration.acceptance import AcceptanceLimits
from calibration.certificate import (
    DEFAULT_VALID_DAYS,
    Certificate,
    load_certificate,
    save_certificate,
    utc_now,
)
from calibration.certify import certify
from calibration.points import CalPoint, read_points_csv, write_points_csv
from calibration.procedure import (
    DEFAULT_TIMEOUT_S,
    Phase,
    Procedure,
    ProcedureEvent,
    parse_channels,
    parse_masses,
    verification_steps,
)
from calibration.settle import Assessment, SettleConfig, Stability
from calibration.summary import summarize_certificate
from calibration.verify import (
    DEFAULT_LIMIT_PCT,
    append_verification,
    load_verifications,
    verifications_path,
    verify_reading,
)
from firmware_bridge.errors import InputError
from station.cli import EXIT_FAILURE, EXIT_OK, CliError

POLL_S = 0.05
_EOF = object()


# -- registration -------------------------------------------------------------------
def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    _register_calibrate(subparsers, parents)
    _register_verify(subparsers, parents)
    _register_certificate(subparsers, parents)


def _register_calibrate(subparsers: argparse._SubParsersAction, parents: list) -> None:
    p = subparsers.add_parser(
        "calibrate",
        parents=parents,
        help="calibrate the rig with known masses (or refit saved points)",
        description="Calibrate the rig's load cells with known masses: the zero, the masses "
        "ascending, then descending (and with --repeat all again), per channel. The reading "
        "is taken when it is steady; the fit's figures are checked against acceptance "
        "limits and a certificate is written. With --from-points, fit a CSV of points "
        "(channel,mass_kg,counts[,direction][,run][,spread_counts]) instead.",
    )
    p.add_argument("port", nargs="?", help="the rig: a device path or URL (virtual://, ...)")
    p.add_argument("--masses", help="known masses in kg, e.g. 0,10,20,30,40 (zero is added)")
    p.add_argument("--channels", default="left,right", help="left, right or left,right")
    p.add_argument("--repeat", action="store_true", help="run the series twice (repeatability)")
    p.add_argument("--serial", help="the rig's serial number (expected; required with points)")
    p.add_argument("--out", metavar="CERT.json", help="where to write the certificate")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--operator", metavar="NAME", help="who calibrated (kept in the certificate)")
    p.add_argument("--from-points", metavar="FILE.csv", help="fit saved points instead of a rig")
    p.add_argument("--points-out", metavar="FILE.csv", help="also save the measured points")
    p.add_argument(
        "--base",
        metavar="CERT.json",
        help="take channels not calibrated now from this earlier certificate",
    )
    p.add_argument(
        "--valid-days",
        type=int,
        default=DEFAULT_VALID_DAYS,
        help=f"days the certificate is valid (default {DEFAULT_VALID_DAYS})",
    )
    p.add_argument(
        "--keep-failed",
        action="store_true",
        help="write the certificate even if it fails acceptance (it is marked as failed)",
    )
    limits = AcceptanceLimits()
    p.add_argument(
        "--max-nonlinearity",
        type=float,
        default=limits.nonlinearity_pct,
        metavar="PCT",
        help="acceptance limit (default %(default)s %%)",
    )
    p.add_argument(
        "--max-hysteresis",
        type=float,
        default=limits.hysteresis_pct,
        metavar="PCT",
        help="acceptance limit (default %(default)s %%)",
    )
    p.add_argument(
        "--max-repeatability",
        type=float,
        default=limits.repeatability_pct,
        metavar="PCT",
        help="acceptance limit (default %(default)s %%)",
    )
    _settle_options(p)
    p.set_defaults(func=run_calibrate)


def _settle_options(p: argparse.ArgumentParser) -> None:
    cfg = SettleConfig()
    p.add_argument(
        "--max-spread",
        type=float,
        metavar="COUNTS",
        help=f"steady: spread below this (default {cfg.max_spread_counts:g} counts "
        "for a 24-bit ADC, or 0.05 %% of the load)",
    )
    p.add_argument(
        "--max-drift",
        type=float,
        metavar="COUNTS_PER_S",
        help=f"steady: drift below this (default {cfg.max_slope_counts_per_s:g} "
        "counts/s for a 24-bit ADC, or 0.05 %% of the load per s)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="seconds to wait for a steady reading before asking (default %(default)s)",
    )
    p.add_argument(
        "--dwell",
        type=float,
        default=cfg.min_dwell_s,
        metavar="S",
        help="let each load hang at least this long before its reading is taken, so slow "
        "creep dies away (default %(default)s)",
    )


def _register_verify(subparsers: argparse._SubParsersAction, parents: list) -> None:
    p = subparsers.add_parser(
        "verify",
        parents=parents,
        help="check the calibration with one known mass",
        description="Quick verification: the empty hook, then one known mass on one channel; "
        "the force the certificate gives is compared with the mass. The result is appended "
        "to CERT.verifications.jsonl beside the certificate.",
    )
    p.add_argument("port", help="the rig: a device path or URL")
    p.add_argument("--channel", required=True, help="left or right")
    p.add_argument("--mass", type=float, required=True, metavar="KG", help="the known mass")
    p.add_argument("--certificate", required=True, metavar="CERT.json")
    p.add_argument(
        "--limit",
        type=float,
        default=DEFAULT_LIMIT_PCT,
        metavar="PCT",
        help="largest acceptable error, %% of the mass's force (default %(default)s)",
    )
    p.add_argument("--operator", metavar="NAME")
    p.add_argument(
        "--record",
        metavar="FILE.jsonl",
        help="append the result here (default: beside the certificate)",
    )
    p.add_argument("--no-record", action="store_true", help="do not keep the result")
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    _settle_options(p)
    p.set_defaults(func=run_verify)


def _register_certificate(subparsers: argparse._SubParsersAction, parents: list) -> None:
    p = subparsers.add_parser(
        "certificate",
        parents=parents,
        help="show a calibration certificate",
        description="Work with calibration certificates.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    show = actions.add_parser(
        "show",
        parents=parents,
        help="print a certificate's figures, validity and verifications",
        description="Print a certificate: rig, dates, each channel's gain, offset and figures "
        "with their acceptance, the points, warnings (expired, other rig) and the "
        "verifications kept beside it.",
    )
    show.add_argument("file", metavar="FILE")
    show.add_argument("--serial", help="warn if the certificate is not for this rig")
    show.add_argument("--no-points", action="store_true", help="leave out the point tables")
    show.add_argument("--json", action="store_true", help="print JSON with the checks")
    show.set_defaults(func=run_certificate_show)
    p.set_defaults(func=lambda args: p.error("say what to do, e.g. 'certificate show FILE'"))


# -- the console: prompts, one updating line, answers from a thread -----------------
class Console:
    """Operator I/O: messages, a live line (terminals only) and non-blocking answers.

    One ``input()`` runs in a thread per question, so readings keep flowing
    (and the live line keeps moving) while the operator hangs a mass.
    """

    def __init__(
        self,
        out: TextIO | None = None,
        input_fn: Callable[[], str] | None = None,
        live: bool | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self._input = input_fn or (lambda: input())
        self.live = self.out.isatty() if live is None else live
        self._answers: queue.Queue[object] = queue.Queue()
        self._asking = False
        self._live_shown = False

    @property
    def asking(self) -> bool:
        return self._asking

    def say(self, text: str) -> None:
        self._clear_live()
        print(text, file=self.out, flush=True)

    def show_live(self, text: str) -> None:
        if self.live:
            self.out.write("\r\x1b[K" + text)
            self.out.flush()
            self._live_shown = True

    def ask(self, prompt: str) -> None:
        """Show ``prompt`` and start waiting for one line (see :meth:`answer`)."""
        self._discard_typeahead()
        self.say(prompt)
        self._asking = True
        threading.Thread(target=self._read, name="operator input", daemon=True).start()

    def answer(self) -> object | None:
        """The operator's line (stripped, lower case), ``_EOF`` or None if none yet."""
        try:
            line = self._answers.get_nowait()
        except queue.Empty:
            return None
        self._asking = False
        return line

    def _read(self) -> None:
        try:
            line: object = self._input().strip().lower()
        except (EOFError, OSError, ValueError):
            line = _EOF
        self._answers.put(line)

    def _clear_live(self) -> None:
        if self._live_shown:
            self.out.write("\r\x1b[K")
            self._live_shown = False

    def _discard_typeahead(self) -> None:
        """Keys pressed while nothing was asked must not answer the next question."""
        with contextlib.suppress(Exception):
            import termios

            if sys.stdin.isatty():
                termios.tcflush(sys.stdin, termios.TCIFLUSH)


_STATUS_WORDS = {
    Stability.NO_DATA: "waiting for readings",
    Stability.COLLECTING: "measuring",
    Stability.SETTLED: "STEADY",
    Stability.NOISY: "too noisy",
    Stability.CREEPING: "creeping",
    Stability.JUMP: "jumped",
    Stability.REMOVED_EARLY: "load removed?",
    Stability.NO_CHANGE: "no change yet",
}


def live_text(proc: Procedure) -> str:
    """The one updating line: channel, reading, spread, drift, stability (and ~kg)."""
    step = proc.step
    if step is None:
        return ""
    reading: Assessment = proc.reading
    if reading.mean_counts is None:
        return f"  {step.channel:<5}  {_STATUS_WORDS[reading.status]}"
    text = f"  {step.channel:<5} {reading.mean_counts:12.0f} counts"
    scale = proc.counts_per_kg(step.channel)
    zero = proc.zero_counts(step.channel)
    if scale and zero is not None:
        text += f" (~{(reading.mean_counts - zero) / scale:6.2f} kg)"
    if reading.spread_counts is not None:
        text += f"  spread {reading.spread_counts:5.0f}  drift {reading.slope_counts_per_s:+6.0f}/s"
    word = _STATUS_WORDS[reading.status]
    if reading.status is Stability.COLLECTING:
        word += f" {reading.covered_s:.1f} s"
    return f"{text}  {word}"


def _report(console: Console, events: list[ProcedureEvent]) -> None:
    for event in events:
        if event.kind == "settled":
            console.say(f"  ok   {event.message}")
        elif event.kind in ("accepted_unsettled", "skipped", "retry", "load_detected"):
            console.say(f"  ..   {event.message}")
        elif event.kind in ("done", "aborted"):
            console.say(event.message[:1].upper() + event.message[1:] + ".")
        else:
            console.say(f"  !    {event.message}")


def drive(proc: Procedure, readings: Any, console: Console, poll_s: float = POLL_S) -> None:
    """Run ``proc`` to its end with live readings and the operator's answers."""
    asked: tuple | None = None
    while not proc.finished:
        marker = (proc.phase, proc.progress[0], len(proc.events))
        if proc.phase in (Phase.WAITING, Phase.PROBLEM) and not console.asking and asked != marker:
            asked = marker
            console.ask(_question(proc))
        line = console.answer()
        if line is not None:
            events, understood = _act(proc, line)
            _report(console, events)
            if not understood:
                console.say("  (answer with Enter, or one of the letters shown)")
                asked = None
        chunks, notes = readings.read(poll_s)
        for note in notes:
            console.say(f"  link: {note}")
        for t, counts in chunks:
            _report(console, proc.feed(t, counts))
            if proc.finished:
                break
        console.show_live(live_text(proc))
    console.show_live("")


def _question(proc: Procedure) -> str:
    step = proc.step
    assert step is not None
    done, total = proc.progress
    if proc.phase is Phase.PROBLEM:
        return "  Enter or r = retry, a = accept anyway, s = skip, q = quit:"
    if step.is_zero:
        what = f"{step.instruction}; press Enter when the hook is empty and still"
    else:
        what = f"{step.instruction}; press Enter when it hangs still"
    return f"[{done + 1}/{total}] {what} (s = skip, q = quit)."


def _act(proc: Procedure, line: object) -> tuple[list[ProcedureEvent], bool]:
    if line is _EOF or line in ("q", "quit"):
        return proc.abort(), True
    if line in ("s", "skip"):
        return proc.skip(), True
    if proc.phase is Phase.WAITING:
        if line == "":
            return proc.accept(), True
        return [], False
    if line in ("", "r", "retry"):
        return proc.retry(), True
    if line in ("a", "accept"):
        return proc.accept(), True
    return [], False


# -- calibrate ---------------------------------------------------------------------
def _settle_config(args: argparse.Namespace, adc_bits: int) -> SettleConfig:
    cfg = SettleConfig().for_adc_bits(adc_bits)
    for name, field in (
        ("max_spread", "max_spread_counts"),
        ("max_drift", "max_slope_counts_per_s"),
    ):
        value = getattr(args, name, None)
        if value is not None:
            if not (math.isfinite(value) and value > 0):
                raise CliError(f"--{name.replace('_', '-')} must be a positive number of counts")
            cfg = replace(cfg, **{field: value})
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise CliError("--timeout must be a positive number of seconds")
    if not (math.isfinite(args.dwell) and args.dwell >= 0):
        raise CliError("--dwell must be 0 or more seconds")
    return replace(cfg, min_dwell_s=args.dwell)


def _limits(args: argparse.Namespace) -> AcceptanceLimits:
    values = {}
    for name in ("nonlinearity", "hysteresis", "repeatability"):
        value = getattr(args, f"max_{name}")
        if value is not None and not (math.isfinite(value) and value > 0):
            raise CliError(f"--max-{name} must be a positive percentage")
        values[f"{name}_pct"] = value
    return AcceptanceLimits(**values)


def _default_out(serial: str | None) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", serial or "rig")
    return Path(f"calibration-{name}-{utc_now():%Y%m%d-%H%M%S}.json")


def _check_out(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise CliError(f"{path} already exists: choose another --out, or pass --force")
    if not path.parent.exists():
        raise CliError(f"folder {path.parent} does not exist: create it or choose another --out")


def run_calibrate(args: argparse.Namespace) -> int:
    if args.valid_days is not None and args.valid_days < 1:
        raise CliError("--valid-days must be 1 or more")
    limits = _limits(args)
    base = load_certificate(args.base) if args.base else None
    if args.from_points:
        if args.port:
            raise CliError("give either a PORT to calibrate from or --from-points, not both")
        if not args.serial:
            raise CliError("--from-points needs --serial (the rig the points were measured on)")
        points = read_points_csv(args.from_points)
        method = {"source": "points file", "points_file": str(args.from_points)}
        out = Path(args.out) if args.out else _default_out(args.serial)
        _check_out(out, args.force)
        return _finish(args, points, args.serial, limits, base, out, method, interactive=False)
    if not args.port:
        raise CliError("give the rig's PORT (or --from-points FILE.csv)")
    if not args.masses:
        raise CliError("give the masses you will hang, e.g. --masses 0,10,20,30,40")
    masses = parse_masses(args.masses)
    channels = parse_channels(args.channels)
    if len(channels) < 2 and base is None:
        other = "right" if channels == ["left"] else "left"
        raise CliError(
            f"a certificate needs both channels: calibrate left,right, or pass --base "
            f"OLD.json to take {other} from an earlier certificate"
        )
    if args.out:
        _check_out(Path(args.out), args.force)
    from calibration.live import LiveReadings

    console = Console()
    readings = LiveReadings(args.port, expected_serial=args.serial)
    readings.open()
    try:
        serial = readings.serial_number or args.serial
        config = _settle_config(args, readings.adc_bits)
        proc = Procedure(
            masses, channels, repeat=args.repeat, config=config, timeout_s=args.timeout
        )
        out = Path(args.out) if args.out else _default_out(serial)
        _check_out(out, args.force)
        console.say(
            f"Rig {serial or '(no serial)'} on {args.port}, {readings.sample_rate_hz:g} Hz. "
            f"Calibrating {', '.join(channels)} with {', '.join(f'{m:g}' for m in masses)} kg"
            f"{' twice' if args.repeat else ''}: {len(proc.steps)} readings."
        )
        try:
            drive(proc, readings, console)
        except KeyboardInterrupt:
            proc.abort()
            console.say("Interrupted.")
    finally:
        readings.close()
    if proc.phase is Phase.ABORTED:
        if proc.points:
            saved = Path(args.points_out) if args.points_out else out.with_suffix(".points.csv")
            write_points_csv(proc.points, saved)
            console.say(
                f"No certificate written; the {len(proc.points)} points taken are in {saved}."
            )
        else:
            console.say("No certificate written.")
        return EXIT_FAILURE
    method = {
        "source": "live",
        "port": args.port,
        "masses_kg": masses,
        "channels": channels,
        "runs": 2 if args.repeat else 1,
        "sample_rate_hz": readings.sample_rate_hz,
        "settle": config.to_dict(),
    }
    return _finish(args, proc.points, serial, limits, base, out, method, interactive=True)


def _finish(
    args: argparse.Namespace,
    points: list[CalPoint],
    serial: str | None,
    limits: AcceptanceLimits,
    base: Certificate | None,
    out: Path,
    method: dict[str, Any],
    *,
    interactive: bool,
) -> int:
    """Fit, judge, build the certificate, and write it (and points) as asked."""
    if args.points_out:
        write_points_csv(points, args.points_out)
    saved = None if args.points_out else out.with_suffix(".points.csv")
    try:
        certificate, acceptance = certify(
            points,
            serial,
            operator=args.operator,
            limits=limits,
            valid_days=args.valid_days,
            base=base,
            method=method,
        )
    except InputError:
        if interactive and saved is not None:
            write_points_csv(points, saved)
            print(f"The measured points are in {saved}.")
        raise
    print(summarize_certificate(certificate), end="")
    passed = certificate.passed is not False
    if not passed and not args.keep_failed:
        where = ""
        if interactive and saved is not None:
            write_points_csv(points, saved)
            where = f"; the points are in {saved} (refit with --from-points)"
        failed = [
            f"{r.channel}: {', '.join(x.figure for x in r.failures)}"
            for r in acceptance.values()
            if not r.passed
        ]
        print(
            f"FAIL ({'; '.join(failed)}): no certificate written{where}. Check the masses "
            "and the rig, or pass --keep-failed to keep a certificate marked as failed."
        )
        return EXIT_FAILURE
    save_certificate(certificate, out)
    verdict = "PASS" if passed else "FAIL (kept, marked as failed)"
    print(f"{verdict}: certificate written to {out}")
    return EXIT_OK if passed else EXIT_FAILURE


# -- verify ------------------------------------------------------------------------
def run_verify(args: argparse.Namespace) -> int:
    certificate = load_certificate(args.certificate)
    (channel,) = parse_channels([args.channel])
    steps = verification_steps(channel, args.mass)
    if not (math.isfinite(args.limit) and args.limit > 0):
        raise CliError("--limit must be a positive percentage")
    record_path = (
        None if args.no_record else Path(args.record or verifications_path(args.certificate))
    )
    from calibration.live import LiveReadings

    console = Console(out=sys.stderr if args.json else sys.stdout)
    readings = LiveReadings(args.port)
    readings.open()
    try:
        serial = readings.serial_number
        if certificate.device_serial and serial and certificate.device_serial != serial:
            console.say(
                f"  !    the certificate is for rig {certificate.device_serial}, "
                f"this is {serial}: the verification will say so"
            )
        proc = Procedure.from_steps(
            steps, config=_settle_config(args, readings.adc_bits), timeout_s=args.timeout
        )
        console.say(f"Verifying {channel} with {args.mass:g} kg on rig {serial or '?'}.")
        drive(proc, readings, console)
    finally:
        readings.close()
    if proc.phase is Phase.ABORTED or len(proc.points) < 2:
        console.say("Verification not finished: it needs the empty hook and the mass.")
        return EXIT_FAILURE
    zero, loaded = proc.points
    record = verify_reading(
        certificate,
        channel,
        args.mass,
        loaded.counts,
        zero_counts=zero.counts,
        spread_counts=loaded.spread_counts,
        limit_pct=args.limit,
        device_serial=serial,
        operator=args.operator,
        certificate_path=str(args.certificate),
    )
    if not loaded.settled or not zero.settled:
        record["accepted_unsettled"] = True
    if record_path is not None:
        append_verification(record, record_path)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(verification_text(record) + (f"\nKept in {record_path}." if record_path else ""))
    return EXIT_OK if record["passed"] else EXIT_FAILURE


def verification_text(record: dict[str, Any]) -> str:
    lines = [
        f"{record['channel']} {record['mass_kg']:g} kg: "
        f"measured {record['measured_force_n']:.2f} N, "
        f"applied {record['applied_force_n']:.2f} N, error {record['error_n']:+.2f} N "
        f"({record['error_pct']:+.2f} %, limit {record['limit_pct']:g} %): "
        f"{'PASS' if record['passed'] else 'FAIL'}"
    ]
    lines += [f"  warning: {flag['message']}" for flag in record.get("flags", [])]
    return "\n".join(lines)


# -- certificate show --------------------------------------------------------------
def run_certificate_show(args: argparse.Namespace) -> int:
    from calibration.checks import check_certificate

    certificate = load_certificate(args.file)
    verifications = load_verifications(verifications_path(args.file))
    if args.json:
        flags = check_certificate(certificate, args.serial)
        print(
            json.dumps(
                {
                    "certificate": certificate.data,
                    "fingerprint": certificate.fingerprint(),
                    "flags": [f.to_dict() for f in flags],
                    "verifications": verifications,
                },
                indent=2,
            )
        )
        return EXIT_OK
    print(
        summarize_certificate(
            certificate,
            device_serial=args.serial,
            verifications=verifications,
            points=not args.no_points,
        ),
        end="",
    )
    return EXIT_OK
