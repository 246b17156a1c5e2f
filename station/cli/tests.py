"""``nordic-station test`` and ``rep``.

Tests are imported from captures made elsewhere (or recorded by the app),
listed, shown, corrected, voided (and un-voided) with a reason; reps are
excluded and included with a reason.  ``recover`` and ``recompute`` are in
:mod:`station.cli.recovery`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from firmware_bridge import nordbord
from firmware_bridge.errors import InputError
from firmware_bridge.files import MAX_CERTIFICATE_BYTES
from station.cli.argtypes import regular_file
from station.cli.common import (
    add_by,
    fmt,
    print_json,
    print_table,
    store_from_args,
    usage_of,
    warn,
)
from station.present.protocols import label_of
from station.store import Result, TestSummary


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    _register_test(subparsers, parents)
    _register_rep(subparsers, parents)


def _register_test(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "test", parents=parents, help="import, list, show, edit and void tests"
    )
    commands = parser.add_subparsers(dest="test_command", metavar="ACTION")
    imp = commands.add_parser(
        "import", parents=parents, help="store a capture made elsewhere; prints the test id"
    )
    imp.add_argument("athlete", metavar="ATHLETE", help="athlete id or external id")
    imp.add_argument("file", metavar="FILE", help="station recording, raw binary or text capture")
    imp.add_argument(
        "--calibration",
        metavar="CAL",
        type=regular_file(MAX_CERTIFICATE_BYTES),
        help="calibration certificate (JSON)",
    )
    imp.add_argument(
        "--rate", metavar="HZ", type=_rate, help="sample rate, if the capture has none"
    )
    imp.add_argument("--operator", metavar="NAME", help="who ran the test")
    imp.add_argument("--notes", metavar="TEXT", help="free text")
    imp.add_argument(
        "--recorded-at",
        metavar="TIME",
        help="when the test was done (default: the recording's start, else the file's time)",
    )
    _add_protocol(imp)
    add_by(imp)
    imp.set_defaults(func=run_import)

    nordbord = commands.add_parser(
        "import-nordbord",
        parents=parents,
        help="store a NordBord CSV force trace, analysed by our definitions",
        description="Store a force trace exported by the NordBord rig (CSV with a time "
        "column and left and right force in N) as a test of ATHLETE. The file is kept "
        "byte for byte; the rate comes from the time column.",
    )
    nordbord.add_argument("athlete", metavar="ATHLETE", help="athlete id or external id")
    nordbord.add_argument("file", metavar="FILE.csv", help="the NordBord trace export")
    nordbord.add_argument("--operator", metavar="NAME", help="who ran the test")
    nordbord.add_argument("--notes", metavar="TEXT", help="free text")
    nordbord.add_argument(
        "--recorded-at",
        metavar="TIME",
        help="when the test was done (default: the file's modification time)",
    )
    add_by(nordbord)
    nordbord.set_defaults(
        func=run_import_nordbord,
        calibration=None,
        rate=None,
        protocol=None,
        knee_angle=None,
        position=None,
    )

    listing = commands.add_parser("list", parents=parents, help="an athlete's tests, newest first")
    listing.add_argument("athlete", metavar="ATHLETE", help="athlete id or external id")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.add_argument("--all", action="store_true", help="also voided tests (marked)")
    listing.set_defaults(func=run_list)

    void = commands.add_parser(
        "void",
        parents=parents,
        help="void a test (kept, but left out of history, trends and exports)",
    )
    void.add_argument("test", metavar="TEST_ID", help="test id")
    void.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add_by(void)
    void.set_defaults(func=run_void)
    unvoid = commands.add_parser("unvoid", parents=parents, help="undo a void")
    unvoid.add_argument("test", metavar="TEST_ID", help="test id")
    unvoid.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add_by(unvoid)
    unvoid.set_defaults(func=run_unvoid)

    show = commands.add_parser("show", parents=parents, help="one test: reps, summary, runs")
    show.add_argument("test", metavar="TEST", help="test id")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.add_argument("--history", action="store_true", help="also the audit trail")
    show.set_defaults(func=run_show)

    edit = commands.add_parser("edit", parents=parents, help="correct a test's description")
    edit.add_argument("test", metavar="TEST", help="test id")
    edit.add_argument("--notes", metavar="TEXT")
    edit.add_argument("--operator", metavar="NAME")
    edit.add_argument("--recorded-at", metavar="TIME")
    edit.add_argument("--athlete", metavar="A", help="move the test to this athlete")
    edit.add_argument(
        "--knee-angle",
        metavar="DEG",
        help="isometric tests: correct the knee angle, 0 (straight) to 180 ('' clears it)",
    )
    edit.add_argument(
        "--position", metavar="TEXT", help="isometric tests: correct the position, e.g. prone"
    )
    add_by(edit)
    edit.set_defaults(func=run_edit)
    parser.set_defaults(func=usage_of(parser))


def _register_rep(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser("rep", parents=parents, help="exclude or include a rep")
    commands = parser.add_subparsers(dest="rep_command", metavar="ACTION")
    exclude = commands.add_parser(
        "exclude", parents=parents, help="leave a rep out of the summaries"
    )
    exclude.add_argument("test", metavar="TEST", help="test id")
    exclude.add_argument("rep", metavar="REP", help="rep number")
    exclude.add_argument("--reason", required=True, help="why (kept with who and when)")
    add_by(exclude)
    exclude.set_defaults(func=run_exclude)
    include = commands.add_parser("include", parents=parents, help="undo an exclusion")
    include.add_argument("test", metavar="TEST", help="test id")
    include.add_argument("rep", metavar="REP", help="rep number")
    add_by(include)
    include.set_defaults(func=run_include)
    parser.set_defaults(func=usage_of(parser))


def _add_protocol(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=("nordic", "isometric"),
        help="the test's protocol (default nordic); an isometric test is analysed per leg",
    )
    parser.add_argument(
        "--knee-angle",
        metavar="DEG",
        help="isometric: knee angle in degrees, 0 (straight) to 180; usual 0, 30, 60, 90",
    )
    parser.add_argument(
        "--position", metavar="TEXT", help="isometric: the position, e.g. prone or 90/90"
    )


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of Hz") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text} Hz is not a usable sample rate")
    return value


# -- test -----------------------------------------------------------------------------
def run_import(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.new_tests.import_file(
            args.athlete,
            args.file,
            certificate=args.calibration,
            rate_hz=args.rate,
            operator=args.operator,
            notes=args.notes,
            recorded_at=args.recorded_at,
            by=args.by,
            protocol=args.protocol,
            knee_angle_deg=args.knee_angle,
            position=args.position,
        )
    warn(test.warnings)
    print(test.id)
    return 0


def run_import_nordbord(args: argparse.Namespace) -> int:
    """``test import`` for a file that must be a NordBord trace (or say why it is not)."""
    path = Path(args.file)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(4096)
        if not nordbord.is_trace(head):
            nordbord.to_text_dialect(head, str(path))  # raises, naming what is wrong
            raise InputError(f"{path} is not a NordBord trace export")
    return run_import(args)


def run_list(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        athlete = store.athletes.resolve(args.athlete)
        tests = store.tests.of_athlete(athlete.id, include_voided=args.all)
    if args.json:
        print_json([t.to_dict() for t in tests])
        return 0
    if not tests:
        print(f"athlete {athlete.id} ({athlete.name}) has no tests yet", file=sys.stderr)
        return 0
    rows = []
    for t in tests:
        s = t.summary
        rows.append(
            [
                t.id,
                t.recorded_at[:16].replace("T", " "),
                label_of(t),
                fmt((s.get("left") or {}).get("max_force_n")),
                fmt((s.get("right") or {}).get("max_force_n")),
                fmt(s.get("imbalance_max_pct")),
                s.get("stronger") or "",
                f"{t.reps - t.excluded_reps}/{t.reps}",
                _marks(t),
            ]
        )
    print_table(
        [
            "test",
            "recorded (UTC)",
            "protocol",
            "left max N",
            "right max N",
            "imbal. %",
            "stronger",
            "reps",
            "",
        ],
        rows,
    )
    return 0


def _marks(test: TestSummary) -> str:
    marks = ["recovered"] if test.recovered else []
    if test.protocol == "training":
        marks.append("training session (not a test)")
    if test.voided:
        marks.append(f"VOIDED: {test.void_reason}")
    return "; ".join(marks)


def run_void(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.tests.void(args.test, args.reason, operator=args.by)
    print(
        f"test {test.id} voided: it is kept (with its recording) but left out of history, "
        f"trends and exports; undo with 'nordic-station test unvoid {test.id} --reason TEXT'",
        file=sys.stderr,
    )
    return 0


def run_unvoid(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.tests.unvoid(args.test, args.reason, operator=args.by)
    print(f"test {test.id} is valid again", file=sys.stderr)
    return 0


def _summary_line(summary: dict[str, Any]) -> str:
    left, right = summary.get("left") or {}, summary.get("right") or {}
    return (
        f"left max {fmt(left.get('max_force_n'))} N, avg {fmt(left.get('avg_force_n'))} N; "
        f"right max {fmt(right.get('max_force_n'))} N, avg {fmt(right.get('avg_force_n'))} N; "
        f"imbalance max {fmt(summary.get('imbalance_max_pct'))} % "
        f"avg {fmt(summary.get('imbalance_avg_pct'))} % (stronger: "
        f"{summary.get('stronger') or '-'})"
    )


def run_show(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.tests.get(args.test)
        athlete = store.athletes.get(test.athlete_id)
        reps = store.tests.reps(test.id)
        runs = store.tests.results(test.id)
        history = store.test_audit_log(test.id) if args.history else []
    if args.json:
        out = test.to_dict()
        out["athlete"] = {
            "id": athlete.id,
            "name": athlete.name,
            "external_id": athlete.external_id,
        }
        out["reps"] = [r.to_dict() for r in reps]
        out["runs"] = [_run_brief(r) for r in runs]
        if args.history:
            out["history"] = [h.to_dict() for h in sorted(history, key=lambda h: h.id)]
        print_json(out)
        return 0
    print(f"test {test.id}: {athlete.name} (athlete {athlete.id}), {test.recorded_at} UTC")
    if test.voided:
        print(f"  VOIDED: {test.void_reason} (left out of history, trends and exports)")
    print(
        f"  {label_of(test)}, rig {test.rig_serial or '?'}, {fmt(test.sample_rate_hz, 0)} Hz, "
        f"{fmt(test.duration_s)} s, certificate {test.certificate_id or '-'}, "
        f"operator {test.operator or '-'}"
    )
    print(
        f"  source {test.source}{', RECOVERED after a crash' if test.recovered else ''}; "
        f"body mass {fmt(test.body_mass_kg)} kg, lever arm {fmt(test.lever_arm_m, 3)} m"
    )
    if test.recording_absent:
        print("  raw recording: on the clinic server (fetch: 'nordic-station sync --recordings')")
    if test.notes:
        print(f"  notes: {test.notes}")
    for warning in test.warnings:
        print(f"  warning: {warning}")
    if test.result is None:
        print("  no analysis stored")
        return 0
    result = test.result
    print(
        f"  analysis: {result.analysis_version} (run {result.id}, {result.reason}, "
        f"{result.created_at})"
    )
    print_table(
        ["  rep", "start s", "end s", "left N", "right N", "imbal. %", "stronger", "excluded"],
        (
            [
                f"  {r.number}",
                fmt(r.start_s, 2),
                fmt(r.end_s, 2),
                fmt(r.left_peak_n),
                fmt(r.right_peak_n),
                fmt(r.imbalance_pct),
                _stronger(result, r.number),
                f"{r.exclusion_reason} ({r.excluded_by}, {r.excluded_at[:10]})"
                if r.excluded
                else "",
            ]
            for r in reps
        ),
    )
    print(f"  summary: {_summary_line(result.summary)}")
    flags = result.metrics.get("flags") or []
    if flags:
        print(f"  flags: {', '.join(flags)}")
    if len(runs) > 1:
        print("  analysis runs (oldest first):")
        for run in runs:
            mark = "*" if run.is_current else " "
            print(f"   {mark} run {run.id}: {run.created_at} {run.reason}, {run.analysis_version}")
    for entry in sorted(history, key=lambda h: h.id):
        print(
            f"  {entry.at}  {entry.actor}  {entry.entity} {entry.action}  "
            f"{entry.after or entry.before}"
        )
    return 0


def _stronger(result: Result, number: int) -> str:
    for rep in result.metrics.get("reps") or []:
        if rep.get("number") == number:
            return rep.get("stronger") or ""
    return ""


def _run_brief(run: Result) -> dict[str, Any]:
    return {
        "id": run.id,
        "created_at": run.created_at,
        "created_by": run.created_by,
        "reason": run.reason,
        "analysis_version": run.analysis_version,
        "is_current": run.is_current,
        "excluded": list(run.excluded),
        "summary": run.summary,
    }


def run_edit(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.tests.update(
            args.test,
            by=args.by,
            notes=args.notes,
            operator=args.operator,
            recorded_at=args.recorded_at,
            athlete=args.athlete,
            knee_angle=args.knee_angle,
            position=args.position,
        )
    print(f"test {test.id} updated", file=sys.stderr)
    return 0


# -- rep ------------------------------------------------------------------------------
def run_exclude(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        result = store.runs.exclude_rep(args.test, args.rep, args.reason, by=args.by)
    print(f"rep {args.rep} of test {result.test_id} excluded; {_summary_line(result.summary)}")
    return 0


def run_include(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        result = store.runs.include_rep(args.test, args.rep, by=args.by)
    print(f"rep {args.rep} of test {result.test_id} included; {_summary_line(result.summary)}")
    return 0
