"""``nordic-station certificate show``: a calibration certificate's figures,
validity and the verifications kept beside it."""

from __future__ import annotations

import argparse
import json

from firmware_bridge.files import MAX_CERTIFICATE_BYTES
from station.cli import EXIT_OK
from station.cli.argtypes import regular_file


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
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
    show.add_argument("file", metavar="FILE", type=regular_file(MAX_CERTIFICATE_BYTES))
    show.add_argument("--serial", help="warn if the certificate is not for this rig")
    show.add_argument("--no-points", action="store_true", help="leave out the point tables")
    show.add_argument("--json", action="store_true", help="print JSON with the checks")
    show.set_defaults(func=run_certificate_show)
    p.set_defaults(func=lambda args: p.error("say what to do, e.g. 'certificate show FILE'"))


def run_certificate_show(args: argparse.Namespace) -> int:
    from calibration.certificate import load_certificate
    from calibration.checks import check_certificate
    from calibration.summary import summarize_certificate
    from calibration.verify import load_verifications, verifications_path

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
