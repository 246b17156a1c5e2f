"""``nordic-station verify``: one known mass on one channel against a certificate.

The empty hook, then the mass, read through the terminal console
(:mod:`station.cli.calibration_console`); the force the certificate gives is
compared with the mass's, and the result kept beside the certificate.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from calibration.certificate import load_certificate
from calibration.checks import check_serial
from calibration.procedure import Phase, Procedure, parse_channels, verification_steps
from calibration.verify import (
    DEFAULT_LIMIT_PCT,
    append_verification,
    verifications_path,
    verify_reading,
)
from firmware_bridge.files import MAX_CERTIFICATE_BYTES
from station.cli import EXIT_FAILURE, EXIT_OK
from station.cli.argtypes import regular_file
from station.cli.calibration_console import Console, drive, rig_readings
from station.cli.calibration_options import add_settle_options, check_positive, settle_config


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
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
    p.add_argument(
        "--certificate",
        required=True,
        metavar="CERT.json",
        type=regular_file(MAX_CERTIFICATE_BYTES),
    )
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
    add_settle_options(p)
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    certificate = load_certificate(args.certificate)
    (channel,) = parse_channels([args.channel])
    steps = verification_steps(channel, args.mass)
    check_positive(args.limit, "--limit must be a positive percentage")
    record_path = (
        None if args.no_record else Path(args.record or verifications_path(args.certificate))
    )
    console = Console(out=sys.stderr if args.json else sys.stdout)
    with rig_readings(args.port) as readings:
        serial = readings.serial_number
        if check_serial(certificate, serial) is not None:
            console.say(
                f"  !    the certificate is for rig {certificate.device_serial}, "
                f"this is {serial}: the verification will say so"
            )
        proc = Procedure.from_steps(
            steps, config=settle_config(args, readings.adc_bits), timeout_s=args.timeout
        )
        console.say(f"Verifying {channel} with {args.mass:g} kg on rig {serial or '?'}.")
        drive(proc, readings, console)
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
