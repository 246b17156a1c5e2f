"""``nordic-station test``, ``rep``, ``recover`` and ``recompute``.

Tests are imported from captures made elsewhere (or recorded by the app),
reps are excluded and included with a reason, tests left unfinished by a
crash are recovered, and stored tests are analysed again with this version.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from firmware_bridge import nordbord
from firmware_bridge.errors import InputError
from station.cli.common import add_by, fmt, print_json, print_table, store_from_args, usage_of
from station.store import Recomputation, Result, Store, TestSummary


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    _register_test(subparsers, parents)
    _register_rep(subparsers, parents)
    recover = subparsers.add_parser(
        "recover",
        parents=parents,
        help="recover tests left unfinished by a crash",
        description="Import what tests interrupted by a crash or power cut recorded "
        "(flagged 'recovered'), or discard them. Without ids, recovers every one.",
    )
    recover.add_argument("ids", metavar="ID", nargs="*", type=str, help="unfinished test ids")
    recover.add_argument("--list", action="store_true", help="only list unfinished tests")
    recover.add_argument(
        "--discard", metavar="ID", action="append", default=[], help="give up this unfinished test"
    )
    add_by(recover)
    recover.set_defaults(func=run_recover)

    recompute = subparsers.add_parser(
        "recompute",
        parents=parents,
        help="analyse stored tests again with this version (old results kept)",
        description="Analyse stored tests again from their raw recordings with this version's "
        "analysis; shows old and new side by side, keeps both, marks the new one current.",
    )
    recompute.add_argument("tests", metavar="TEST", nargs="*", help="test ids")
    recompute.add_argument("--all", action="store_true", help="every stored test")
    recompute.add_argument("--dry-run", action="store_true", help="show, store nothing")
    recompute.add_argument(
        "--keep-settings",
        action="store_true",
        help="use each test's own analysis settings instead of today's defaults",
    )
    add_by(recompute)
    recompute.set_defaults(func=run_recompute)


def _register_test(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "test", parents=parents, help="import, list, show and edit tests"
    )
    commands = parser.add_subparsers(dest="test_command", metavar="ACTION")
    imp = commands.add_parser(
        "import", parents=parents, help="store a capture made elsewhere; prints the test id"
    )
    imp.add_argument("athlete", metavar="ATHLETE", help="athlete id or external id")
    imp.add_argument("file", metavar="FILE", help="station recording, raw binary or text capture")
    imp.add_argument("--calibration", metavar="CAL", help="calibration certificate (JSON)")
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
    nordbord.set_defaults(func=run_import_nordbord, calibration=None, rate=None)

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


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of Hz") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text} Hz is not a usable sample rate")
    return value


def _warn(lines: Iterable[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


# -- test -----------------------------------------------------------------------------
def run_import(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.import_test(
            args.athlete,
            args.file,
            certificate=args.calibration,
            rate_hz=args.rate,
            operator=args.operator,
            notes=args.notes,
            recorded_at=args.recorded_at,
            by=args.by,
        )
    _warn(test.warnings)
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
        athlete = store.resolve_athlete(args.athlete)
        tests = store.list_tests(athlete.id, include_voided=args.all)
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
                fmt((s.get("left") or {}).get("max_force_n")),
                fmt((s.get("right") or {}).get("max_force_n")),
                fmt(s.get("imbalance_max_pct")),
                s.get("stronger") or "",
                f"{t.reps - t.excluded_reps}/{t.reps}",
                _marks(t),
            ]
        )
    print_table(
        ["test", "recorded (UTC)", "left max N", "right max N", "imbal. %", "stronger", "reps", ""],
        rows,
    )
    return 0


def _marks(test: TestSummary) -> str:
    marks = ["recovered"] if test.recovered else []
    if test.voided:
        marks.append(f"VOIDED: {test.void_reason}")
    return "; ".join(marks)


def run_void(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.void_test(args.test, args.reason, operator=args.by)
    print(
        f"test {test.id} voided: it is kept (with its recording) but left out of history, "
        f"trends and exports; undo with 'nordic-station test unvoid {test.id} --reason TEXT'",
        file=sys.stderr,
    )
    return 0


def run_unvoid(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        test = store.unvoid_test(args.test, args.reason, operator=args.by)
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
        test = store.get_test(args.test)
        athlete = store.get_athlete(test.athlete_id)
        reps = store.reps(test.id)
        runs = store.results(test.id)
        history = (
            store.audit_log("test", test.id) + store.audit_log("rep", test.id)
            if args.history
            else []
        )
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
        f"  {test.protocol}, rig {test.rig_serial or '?'}, {fmt(test.sample_rate_hz, 0)} Hz, "
        f"{fmt(test.duration_s)} s, certificate {test.certificate_id or '-'}, "
        f"operator {test.operator or '-'}"
    )
    print(
        f"  source {test.source}{', RECOVERED after a crash' if test.recovered else ''}; "
        f"body mass {fmt(test.body_mass_kg)} kg, lever arm {fmt(test.lever_arm_m, 3)} m"
    )
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
        test = store.update_test(
            args.test,
            by=args.by,
            notes=args.notes,
            operator=args.operator,
            recorded_at=args.recorded_at,
            athlete=args.athlete,
        )
    print(f"test {test.id} updated", file=sys.stderr)
    return 0


# -- rep ------------------------------------------------------------------------------
def run_exclude(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        result = store.exclude_rep(args.test, args.rep, args.reason, by=args.by)
    print(f"rep {args.rep} of test {result.test_id} excluded; {_summary_line(result.summary)}")
    return 0


def run_include(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        result = store.include_rep(args.test, args.rep, by=args.by)
    print(f"rep {args.rep} of test {result.test_id} included; {_summary_line(result.summary)}")
    return 0


# -- recover --------------------------------------------------------------------------
def _pending_id(text: str) -> int:
    if not text.strip().isdigit():
        raise InputError(
            f"{text!r} is not an unfinished test id: see 'nordic-station recover --list'"
        )
    return int(text)


def run_recover(args: argparse.Namespace) -> int:
    with store_from_args(args, notice=False) as store:
        if args.list:
            return _list_pending(store)
        for text in args.discard:
            moved = store.discard_pending(_pending_id(text), by=args.by)
            where = f"; its partial recording was moved to {moved}" if moved else ""
            print(f"unfinished test {text} discarded{where}")
        if args.discard and not args.ids:
            return 0
        cleaned = store.clean_in_progress()
        if cleaned:
            print(f"removed {len(cleaned)} leftover file(s) already stored in the database")
        if args.ids:
            targets = [store.get_pending(_pending_id(text)) for text in args.ids]
        else:
            targets = store.pending_tests(include_live=False)
            if not targets:
                print("nothing to recover")
                _list_orphans(store)
                return 0
        failed = 0
        for pending in targets:
            try:
                test = store.recover_test(pending.id, by=args.by)
            except InputError as exc:
                failed += 1
                print(
                    f"nordic-station: error: unfinished test {pending.id}: {exc}", file=sys.stderr
                )
                continue
            print(
                f"unfinished test {pending.id} recovered as test {test.id} "
                f"(athlete {test.athlete_id}, {fmt(test.duration_s)} s recorded)"
            )
            _warn(test.warnings[1:])
        _list_orphans(store)
        return 2 if failed else 0


def _list_pending(store: Store) -> int:
    pending = store.pending_tests()
    if not pending:
        print("no unfinished tests")
    else:
        print_table(
            ["id", "athlete", "started (UTC)", "recorded", "state", "file"],
            (
                [
                    p.id,
                    p.athlete_id,
                    p.started_at[:19].replace("T", " "),
                    "missing" if p.size is None else f"{p.size} bytes",
                    f"recording now (pid {p.pid})" if p.live else "interrupted",
                    p.path.name,
                ]
                for p in pending
            ),
        )
    _list_orphans(store)
    return 0


def _list_orphans(store: Store) -> None:
    for orphan in store.orphan_files():
        state = "already stored" if orphan.committed else "not in the database"
        print(
            f"note: {orphan.path} ({orphan.size} bytes) belongs to no unfinished test ({state}); "
            "import it with 'nordic-station test import ATHLETE FILE' if it matters",
            file=sys.stderr,
        )


# -- recompute ------------------------------------------------------------------------
_COMPARED = (
    ("left max force N", ("summary", "left", "max_force_n")),
    ("left avg force N", ("summary", "left", "avg_force_n")),
    ("right max force N", ("summary", "right", "max_force_n")),
    ("right avg force N", ("summary", "right", "avg_force_n")),
    ("imbalance max %", ("summary", "imbalance_max_pct")),
    ("imbalance avg %", ("summary", "imbalance_avg_pct")),
    ("stronger", ("summary", "stronger")),
    ("reps detected", ("summary", "reps_detected")),
    ("reps included", ("summary", "reps_included")),
)


def _dig(data: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    value: Any = data or {}
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _side_by_side(outcome: Recomputation) -> None:
    old = outcome.old.metrics if outcome.old else None
    rows = []
    for label, path in _COMPARED:
        a, b = _dig(old, path), _dig(outcome.new_metrics, path)
        rows.append(
            [f"  {label}", "" if a is None else a, "" if b is None else b, "*" if a != b else ""]
        )
    old_flags = ", ".join((old or {}).get("flags") or []) or "-"
    new_flags = ", ".join(outcome.new_metrics.get("flags") or []) or "-"
    rows.append(["  flags", old_flags, new_flags, "*" if old_flags != new_flags else ""])
    print_table(["  metric", "old", "new", ""], rows)


def run_recompute(args: argparse.Namespace) -> int:
    if not args.tests and not args.all:
        raise InputError("name the tests to recompute, or pass --all")
    if args.tests and args.all:
        raise InputError("pass either test ids or --all, not both")
    with store_from_args(args) as store:
        ids = store.test_ids() if args.all else [store.get_test(t).id for t in args.tests]
        failed = 0
        for test_id in ids:
            try:
                outcome = store.recompute(
                    test_id, keep_settings=args.keep_settings, dry_run=args.dry_run, by=args.by
                )
            except InputError as exc:
                failed += 1
                print(f"nordic-station: error: test {test_id}: {exc}", file=sys.stderr)
                continue
            _report(outcome, args.dry_run)
    return 2 if failed else 0


def _report(outcome: Recomputation, dry_run: bool) -> None:
    old_version = outcome.old.analysis_version if outcome.old else "none"
    head = f"test {outcome.test_id}: {old_version} -> {outcome.new_version}"
    if not outcome.changed:
        print(f"{head}: unchanged (nothing stored)")
        return
    if outcome.stored and outcome.new is not None:
        old_run = f"run {outcome.old.id} kept" if outcome.old else "first run"
        print(f"{head}: stored as run {outcome.new.id}, now current ({old_run})")
    else:
        print(f"{head}: differs ({'dry run, ' if dry_run else ''}nothing stored)")
    _side_by_side(outcome)
    for note in outcome.notes:
        print(f"  note: {note}")
