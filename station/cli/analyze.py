"""``nordic-station analyze``: the scripting contract of analyze-cli.md.

Loads a capture (a station recording, a raw binary capture or a text-dialect
capture, recognised from its content), turns counts into newtons with a
calibration certificate and prints the analysis: JSON
(``nordic-station.analysis/1``) with ``--json``, else the same content as
tables, every flag explained in words.  Bad input is one line on stderr and
exit status 2 (raised as InputError and printed by the dispatcher).

Several PATHs are analysed in this one process, each on its own: with
``--json`` one JSON object per line, each with ``"path"``; a file that fails
gives ``{"path", "error"}`` (and its one line on stderr), the others still
run, and the exit status is 2 at the end.  ``--protocol``, ``--asymmetry``
and ``--set NAME=VALUE`` choose the analysis settings (checked before any file
is read); the result's ``settings`` show what was used.
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

# One BLAS thread for this command: the analysis multiplies small matrices (64-sample
# filter blocks), where OpenBLAS's thread pool costs more than it gains (10 min at 1 kHz:
# 0.17 s of CPU with the pool on 2 cores, 0.08 s without; bench/bench_read.py).  It must
# be set before NumPy loads (this module's imports load it); a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from calibration.certificate import (
    Certificate,
    load_certificate,
    parse_certificate,
    parse_timestamp,
    utc_now,
)
from firmware_bridge.capture import Capture, load_capture
from firmware_bridge.errors import InputError, NordicError, describe
from firmware_bridge.files import MAX_CERTIFICATE_BYTES
from station.analysis import AnalysisResult, AnalysisSettings, analyze, describe_flag
from station.analysis.rfd import WINDOW_KEYS
from station.analysis.settings import ASYMMETRY_FORMULAS, PROTOCOLS
from station.cli.argtypes import regular_file

SUBSCRIPT = {"left": "L", "right": "R"}
# How the report names each asymmetry formula (metrics.md).
FORMULA_TEXT = {
    "pct_difference": "100 x (stronger - weaker) / stronger (pct_difference)",
    "signed_pct": "100 x (L - R) / max(L, R), positive: left stronger (signed_pct)",
    "symmetry_index": "100 x (L - R) / ((L + R) / 2), positive: left stronger (symmetry_index)",
}


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


def _within(check: str, unit: str, example: str) -> Callable[[str], float]:
    """A positive number in the same range as an athlete's record (the store's
    check ``validate.<check>``: body mass 10-400 kg, lever arm 0.1-1 m), the range
    said in the message.  The store is imported only when the option is given."""
    positive = _positive(unit, example)

    def parse(text: str) -> float:
        value = positive(text)
        from station.store import validate

        try:
            return float(getattr(validate, check)(value))
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
            "and average. Exit status 0 on success, 2 for bad input (with several files: "
            "after every file was tried)."
        ),
    )
    parser.add_argument(
        "path",
        metavar="PATH",
        nargs="+",
        help="recording or capture file(s); several files give JSON Lines with --json",
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
        type=_within("body_mass_kg", "kilograms", "--body-mass 82.5"),
        metavar="KG",
        help="body mass: adds relative peak force (N/kg)",
    )
    parser.add_argument(
        "--lever-arm",
        type=_within("lever_arm_m", "metres", "--lever-arm 0.42"),
        metavar="M",
        help="knee joint centre to hook centre: adds peak torque (N·m)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON (nordic-station.analysis/1)"
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        help="nordic (default: bilateral reps) or isometric (each leg's reps on their own; "
        "add --set knee_angle_deg=30 --set position=prone)",
    )
    parser.add_argument(
        "--asymmetry",
        choices=ASYMMETRY_FORMULAS,
        help="formula of every imbalance figure (default pct_difference)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one analysis setting, e.g. --set cutoff_hz=8 (repeatable; applied "
        "after --protocol and --asymmetry)",
    )
    parser.set_defaults(func=run, brief=True)  # brief: see start_up.keep_freed_memory


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """The analysis settings the options ask for (a SettingsError names a bad one)."""
    settings = AnalysisSettings()
    if args.protocol:
        settings = settings.with_changes(protocol=args.protocol)
    if args.asymmetry:
        settings = settings.with_changes(asymmetry_formula=args.asymmetry)
    return settings.with_text(args.settings)


def _certificate(args: argparse.Namespace, capture: Capture) -> tuple[Certificate, str]:
    """The certificate to use and where it came from."""
    if args.calibration:
        return load_certificate(args.calibration), args.calibration
    from calibration.choice import carried_calibration  # only without --calibration

    carried = carried_calibration(capture)
    if carried is not None:
        where = f"{capture.path} (calibration recorded with it)"
        return parse_certificate(carried, where), where
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


def analyze_path(
    path: str, args: argparse.Namespace, settings: AnalysisSettings, prefix: str = ""
) -> tuple[AnalysisResult, dict[str, Any]]:
    """Analyse one file; its warnings go to stderr (each after ``prefix``)."""
    capture = load_capture(path, rate_hz=args.rate)
    certificate, cert_source = _certificate(args, capture)
    result = analyze(
        capture.stream,
        certificate,
        settings,
        body_mass_kg=args.body_mass,
        lever_arm_m=args.lever_arm,
        tested_at=_tested_at(capture),
    )
    for warning in [*capture.warnings, *result.warnings]:
        print(f"nordic-station: warning: {prefix}{warning}", file=sys.stderr)
    doc = result.to_dict()
    doc["source"] = {
        "path": capture.path,
        "kind": capture.kind,
        "calibration": cert_source,
        "capture_warnings": list(capture.warnings),
    }
    return result, doc


def _write(text: str) -> bool:
    """Write to stdout; False when the reader has gone (e.g. `| head`)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader has what it wanted; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False
    return True


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if len(args.path) == 1:
        result, doc = analyze_path(args.path[0], args, settings)
        text = json.dumps(doc, indent=2, allow_nan=False) + "\n" if args.json else None
        _write(text if text is not None else format_report(result, doc))
        return 0
    return _run_many(args, settings)


def _run_many(args: argparse.Namespace, settings: AnalysisSettings) -> int:
    """Every file in turn, each on its own (see the module docstring)."""
    status = 0
    for path in args.path:
        try:
            result, doc = analyze_path(path, args, settings, prefix=f"{path}: ")
        except (NordicError, OSError) as exc:
            message = describe(exc, for_cli=True)
            print(f"nordic-station: error: {message}", file=sys.stderr)
            status = 2
            if args.json and not _write(json.dumps({"path": path, "error": message}) + "\n"):
                return status
            continue
        if args.json:
            text = json.dumps({"path": path, **doc}, allow_nan=False) + "\n"
        else:
            text = f"== {path}\n" + format_report(result, doc) + "\n"
        if not _write(text):
            return status
    return status


# -- the readable report ----------------------------------------------------------------------


def _leg(rep: dict[str, Any], leg: str, name: str) -> float | None:
    """A leg's value in a rep, None when the leg is not in it (one-leg isometric rep)."""
    metrics = rep[leg]
    return None if metrics is None else metrics[name]


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
    protocol = doc["protocol"]
    what = protocol["name"]
    if protocol["name"] == "isometric":
        angle = protocol["knee_angle_deg"]
        what += f", knee angle {'-' if angle is None else f'{angle:g}'} deg"
        if protocol["position"]:
            what += f", {protocol['position']}"
        what += " (each leg's reps found on their own)"
    else:
        what += " (bilateral reps)"
    out.append(f"Protocol  {what}")
    rfd = doc["rfd_filter"]
    out.append(
        f"RFD       onset at {rfd['onset_threshold_n']:g} N; RFD and impulse windows on the "
        f"same Butterworth at {rfd['cutoff_hz']:g} Hz"
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
                _f(_leg(r, "left", "peak_force_n")),
                _f(_leg(r, "right", "peak_force_n")),
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
        window_rows = []
        for r in doc["reps"]:
            for leg in ("left", "right"):
                m = r[leg]
                if m is None:
                    continue
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
                window_rows.append(
                    [str(r["number"]), leg, _f(m["onset_s"], 3)]
                    + [
                        f"{_f(m['rfd_window_n_per_s'][k], 0)} / {_f(m['impulse_window_ns'][k], 2)}"
                        for k in WINDOW_KEYS
                    ]
                )
        out += _table(legs_header, leg_rows)
        out.append("")
        out.append("RFD N/s / impulse N·s from the onset over each window (- : not available)")
        out += _table(["Rep", "Leg", "Onset s", *WINDOW_KEYS], window_rows)
        out.append("")
    summ = doc["summary"]
    out.append(f"Session   {summ['reps_included']} of {summ['reps_detected']} reps included")
    for leg in ("left", "right"):
        m = summ[leg]
        extra = f" over {m['reps']} rep(s)" if doc["protocol"]["name"] == "isometric" else ""
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
        f"  (imbalance % = {FORMULA_TEXT[summ['asymmetry_formula']]}; max = highest rep peak, "
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
    if doc["reps"] and doc["references"]:
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
