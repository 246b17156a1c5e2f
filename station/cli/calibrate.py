"""``nordic-station calibrate``: known masses on the rig (or saved points) in,
a certificate out.

The command drives :class:`calibration.procedure.Procedure` through the
terminal console (:mod:`station.cli.calibration_console`); everything it
decides is in the calibration package, so the app's wizard behaves the same.
A certificate is written only at the end, and only from points that passed
every input check.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

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
from calibration.procedure import Phase, Procedure, parse_channels, parse_masses
from calibration.summary import summarize_certificate
from firmware_bridge.errors import InputError
from firmware_bridge.files import MAX_CERTIFICATE_BYTES, MAX_POINTS_BYTES
from station.cli import EXIT_FAILURE, EXIT_OK, CliError
from station.cli.argtypes import regular_file
from station.cli.calibration_console import Console, drive, rig_readings
from station.cli.calibration_options import add_settle_options, check_positive, settle_config

# The fit's figures judged against a limit, each with its --max-<figure> option.
LIMIT_FIGURES = ("nonlinearity", "hysteresis", "repeatability")


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
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
    p.add_argument(
        "--from-points",
        metavar="FILE.csv",
        type=regular_file(MAX_POINTS_BYTES),
        help="fit saved points instead of a rig",
    )
    p.add_argument("--points-out", metavar="FILE.csv", help="also save the measured points")
    p.add_argument(
        "--base",
        metavar="CERT.json",
        type=regular_file(MAX_CERTIFICATE_BYTES),
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
    for name in LIMIT_FIGURES:
        p.add_argument(
            f"--max-{name}",
            type=float,
            default=getattr(limits, f"{name}_pct"),
            metavar="PCT",
            help="acceptance limit (default %(default)s %%)",
        )
    add_settle_options(p)
    p.set_defaults(func=run_calibrate)


def _limits(args: argparse.Namespace) -> AcceptanceLimits:
    values = {}
    for name in LIMIT_FIGURES:
        value = getattr(args, f"max_{name}")
        check_positive(value, f"--max-{name} must be a positive percentage")
        values[f"{name}_pct"] = value
    return AcceptanceLimits(**values)


def _check_out(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise CliError(f"{path} already exists: choose another --out, or pass --force")
    if not path.parent.exists():
        raise CliError(f"folder {path.parent} does not exist: create it or choose another --out")


def _out_path(args: argparse.Namespace, serial: str | None) -> Path:
    """Where the certificate goes (--out, or named for the rig and the time), checked."""
    if args.out:
        out = Path(args.out)
    else:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", serial or "rig")
        out = Path(f"calibration-{name}-{utc_now():%Y%m%d-%H%M%S}.json")
    _check_out(out, args.force)
    return out


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
        out = _out_path(args, args.serial)
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
    console = Console()
    with rig_readings(args.port, expected_serial=args.serial) as readings:
        serial = readings.serial_number or args.serial
        config = settle_config(args, readings.adc_bits)
        proc = Procedure(
            masses, channels, repeat=args.repeat, config=config, timeout_s=args.timeout
        )
        out = _out_path(args, serial)
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
    # Measured points not saved elsewhere are kept beside --out when no certificate is.
    saved = out.with_suffix(".points.csv") if interactive and not args.points_out else None
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
        if saved is not None:
            write_points_csv(points, saved)
            print(f"The measured points are in {saved}.")
        raise
    print(summarize_certificate(certificate), end="")
    passed = certificate.passed is not False
    if not passed and not args.keep_failed:
        where = ""
        if saved is not None:
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
