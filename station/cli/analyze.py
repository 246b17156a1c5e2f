"""``nordic-station analyze``: the scripting contract of analyze-cli.md.

Loads a capture (a station recording, a raw binary capture or a text-dialect
capture, recognised from its content), turns counts into newtons with a
calibration certificate and prints the analysis: JSON
(``nordic-station.analysis/1``) with ``--json``, else the same content as
tables, every flag explained in words.  Bad input is one line on stderr and
exit status 2 (raised as InputError and printed by the dispatcher).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from calibration.certificate import (
    Certificate,
    load_certificate,
    parse_certificate,
    parse_timestamp,
    utc_now,
)
from firmware_bridge.capture import Capture, load_capture
from firmware_bridge.errors import InputError
from station.analysis import AnalysisResult, analyze, describe_flag
from station.cli.common import regular_file
from station.store import validate
from station.store.files import MAX_CAPTURE_BYTES, MAX_CERTIFICATE_BYTES

SUBSCRIPT = {"left": "L", "right": "R"}


def _positive(unit: str, example: str) -> Callable[[str], float]:
    """An argparse type: a positive finite number, or a message saying what to pass."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(
                f"must be a positive number of {unit}, not {text!r} (e.g. {example})"
            )
        return value

    return parse


def _within(check: Callable[[float], float], unit: str, example: str) -> Callable[[str], float]:
    """A positive number in the same range as an athlete's record (the store's
    check: body mass 10-400 kg, lever arm 0.1-1 m), the range said in the message."""
    positive = _positive(unit, example)

    def parse(text: str) -> float:
        value = positive(text)
        try:
            return check(value)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        parents=parents,
        help="analyse a recording or capture: reps, peak forces, imbalance",
        description=(
            "Analyse a station recording, a raw binary capture of the serial port or a "
            "text-dialect capture (recognised from the content). Prints each rep's peak force, "
            "time to peak, impulse and mean force per leg, the imbalance, and the session's max "
            "and average. Exit status 0 on success, 2 for bad input."
        ),
    )
    parser.add_argument(
        "path",
        metavar="PATH",
        type=regular_file(MAX_CAPTURE_BYTES),
        help="recording or capture file",
    )
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        type=regular_file(MAX_CERTIFICATE_BYTES),
        help="calibration certificate (required for a raw capture; a station recording "
        "uses the calibration it recorded)",
    )
    parser.add_argument(
        "--rate",
        type=_positive("Hz", "--rate 80"),
        metavar="HZ",
        help="sample rate, only for a capture that carries none",
    )
    parser.add_argument(
        "--body-mass",
        type=_within(validate.body_mass_kg, "kilograms", "--body-mass 82.5"),
        metavar="KG",
        help="body mass: adds relative peak force (N/kg)",
    )
    parser.add_argument(
        "--lever-arm",
        type=_within(validate.lever_arm_m, "metres", "--lever-arm 0.42"),
        metavar="M",
        help="knee joint centre to hook centre: adds peak torque (N·m)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON (nordic-station.analysis/1)"
    )
    parser.set_defaults(func=run)


def _certificate(args: argparse.Namespace, capture: Capture) -> tuple[Certificate, str]:
    """The certificate to use and where it came from."""
    if args.calibration:
        return load_certificate(args.calibration), args.calibration
    if capture.calibration is not None:
        where = f"{capture.path} (calibration recorded with it)"
        return parse_certificate(capture.calibration, where), where
    if capture.kind == "recording":
        raise InputError(
            f"{capture.path}: the recording holds no calibration: pass --calibration CAL.json"
        )
    raise InputError(
        f"{capture.path} is a raw capture and carries no calibration: pass --calibration CAL.json"
    )


def _tested_at(capture: Capture) -> dt.datetime:
    """When the test was made: a recording says; for a raw capture, now."""
    started = (capture.header or {}).get("started_utc")
    if isinstance(started, str):
        with contextlib.suppress(ValueError):
            return parse_timestamp(started)
    return utc_now()


def run(args: argparse.Namespace) -> int:
    capture = load_capture(args.path, rate_hz=args.rate)
    certificate, cert_source = _certificate(args, capture)
    result = analyze(
        capture.stream,
        certificate,
        body_mass_kg=args.body_mass,
        lever_arm_m=args.lever_arm,
        tested_at=_tested_at(capture),
    )
    for warning in [*capture.warnings, *result.warnings]:
        print(f"nordic-station: warning: {warning}", file=sys.stderr)
    doc = result.to_dict()
    doc["source"] = {
        "path": capture.path,
        "kind": capture.kind,
        "calibration": cert_source,
        "capture_warnings": list(capture.warnings),
    }
    text = json.dumps(doc, indent=2, allow_nan=False) + "\n" if args.json else None
    try:
        sys.stdout.write(text if text is not None else format_report(result, doc))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) has what it wanted; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# -- the readable report ----------------------------------------------------------------------


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to width: the first and last left-aligned, numbers right-aligned."""
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    last = len(header) - 1

    def line(cells: list[str]) -> str:
        padded = [
            c.ljust(w) if i in (0, last) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _reference_line(ref: dict[str, Any]) -> str:
    """One reference line, and on which side of it the session's values fall."""
    below = ref["comparison"] == "below"
    sign, unit = ("<" if below else ">="), ("N" if ref["measure"] == "force_n" else "%")

    def verdict(value: float | None, crossed: bool | None) -> str:
        if value is None or crossed is None:
            return "-"
        side = (
            ("below" if crossed else "not below")
            if below
            else ("at or above" if crossed else "below")
        )
        return f"{value:.1f} {unit} {side}"

    res = ref["result"]
    if ref["measure"] == "force_n":
        values = ", ".join(
            f"{leg} {verdict(res[leg]['value'], res[leg]['crossed'])}" for leg in ("left", "right")
        )
        what = f"{ref['compared_with']} force {sign} {ref['value']:g} N"
    else:
        values = verdict(res["value"], res["crossed"])
        what = f"{ref['compared_with']} imbalance {sign} {ref['value']:g} %"
    context = f", {ref['context']}" if ref["context"] else ""
    risk = f", relative risk {ref['relative_risk']:g}" if ref["relative_risk"] else ""
    return f"  {what} ({ref['population']}{context}{risk}; {ref['source']}): {values}"


def format_report(result: AnalysisResult, doc: dict[str, Any]) -> str:
    """The same content as the JSON, as text for people."""
    s = doc["stream"]
    src = doc["source"]
    out: list[str] = []
    serial = s["device_serial"] or "unknown rig"
    out.append(
        f"Capture   {src['path']} ({src['kind']}): {serial}, {s['sample_rate_hz']:g} Hz, "
        f"{s['samples']} samples, {_f(s['duration_s'])} s"
    )
    out.append(
        f"Link      frames ok {s['frames_ok']}, corrupt {s['frames_corrupt']}, unknown "
        f"{s['frames_unknown']}; corrupt lines {s['lines_corrupt']}; dropped samples "
        f"{s['dropped_samples']}; saturated samples left {s['saturated_samples']['left']}, "
        f"right {s['saturated_samples']['right']}"
    )
    zero = doc["zero"]
    where = {
        "quiet_start": f"the quiet start ({_f(zero['start_s'], 2)}-{_f(zero['end_s'], 2)} s)",
        "certificate": "the certificate's offset (no quiet start)",
        "quiet_rest": f"a still rest ({_f(zero['start_s'], 2)}-{_f(zero['end_s'], 2)} s)",
        "estimated": "an estimate (nothing was still)",
    }[zero["source"]]
    out.append(f"Newtons   gain from {src['calibration']}; zero from {where}")
    filt = doc["filter"]
    out.append(
        f"Filter    {filt['order']}th-order Butterworth low-pass, zero-phase, "
        f"{filt['cutoff_hz']:g} Hz cut-off"
    )
    out.append("")
    body, lever = result.body_mass_kg is not None, result.lever_arm_m is not None
    if not doc["reps"]:
        out.append("No repetitions found.")
    else:
        rows = [
            [
                str(r["number"]),
                _f(r["start_s"], 2),
                _f(r["end_s"], 2),
                _f(r["left"]["peak_force_n"]),
                _f(r["right"]["peak_force_n"]),
                _f(r["imbalance_pct"]),
                r["stronger"] or "-",
                _f(r["l_r_ratio"], 3),
                ", ".join(r["flags"]) or "-",
            ]
            for r in doc["reps"]
        ]
        header = ["Rep", "Start s", "End s", "Left N", "Right N", "Imbal %", "Stronger", "L:R"]
        out += _table([*header, "Flags"], rows)
        out.append("")
        legs_header = ["Rep", "Leg", "Peak N", "To peak s", "Impulse N·s", "Mean N", "RFD N/s"]
        if body:
            legs_header.append("N/kg")
        if lever:
            legs_header.append("Torque N·m")
        leg_rows = []
        for r in doc["reps"]:
            for leg in ("left", "right"):
                m = r[leg]
                row = [
                    str(r["number"]),
                    leg,
                    _f(m["peak_force_n"]),
                    _f(m["time_to_peak_s"], 2),
                    _f(m["impulse_ns"]),
                    _f(m["mean_force_n"]),
                    _f(m["rfd_n_per_s"], 0),
                ]
                if body:
                    row.append(_f(m["relative_peak_force_n_per_kg"], 2))
                if lever:
                    row.append(_f(m["peak_torque_nm"]))
                leg_rows.append(row)
        out += _table(legs_header, leg_rows)
        out.append("")
    summ = doc["summary"]
    out.append(f"Session   {summ['reps_included']} of {summ['reps_detected']} reps included")
    for leg in ("left", "right"):
        m = summ[leg]
        extra = ""
        if body:
            extra += f"; {_f(m['relative_max_force_n_per_kg'], 2)} N/kg max"
        if lever:
            extra += f"; {_f(m['max_torque_nm'])} N·m max"
        rep = f" (rep {m['max_rep']})" if m["max_rep"] else ""
        out.append(
            f"  {leg:<6}  max {_f(m['max_force_n'])} N{rep}, avg {_f(m['avg_force_n'])} N{extra}"
        )
    out.append(
        f"  imbalance  max {_f(summ['imbalance_max_pct'])} % ({summ['stronger_max'] or '-'} "
        f"stronger), avg {_f(summ['imbalance_avg_pct'])} % ({summ['stronger_avg'] or '-'} "
        f"stronger); L:R {_f(summ['l_r_ratio_max'], 3)} (max), {_f(summ['l_r_ratio_avg'], 3)} (avg)"
    )
    out.append(
        "  (imbalance % = 100 x (stronger - weaker) / stronger; max = highest rep peak, "
        "avg = mean of the included reps' peaks)"
    )
    if doc["ignored"]:
        out.append("")
        out.append("Not counted as reps")
        for p in doc["ignored"]:
            reason = {
                "one_leg": f"one leg only ({p['legs']})",
                "not_together": "both legs, but never together",
                "too_short": "both legs together for less than the minimum time",
            }.get(p["reason"], p["reason"])
            out.append(
                f"  {_f(p['start_s'], 2)}-{_f(p['end_s'], 2)} s: {reason}; peaks left "
                f"{_f(p['left_peak_n'])} N, right {_f(p['right_peak_n'])} N"
            )
    if doc["reps"]:
        out.append("")
        out.append("Reference lines (never a diagnosis)")
        for ref in doc["references"]:
            out.append(_reference_line(ref))
    flags = list(doc["flags"])
    rep_flags = sorted({f for r in doc["reps"] for f in r["flags"]} - set(flags))
    out.append("")
    if flags or rep_flags:
        out.append("Flags")
        for flag in [*flags, *rep_flags]:
            out.append(f"  {flag}: {describe_flag(flag)}")
    else:
        out.append("Flags     none")
    out.append("")
    out.append(f"{doc['analysis_version']}; schema {doc['schema']}")
    return "\n".join(out) + "\n"
