"""``nordic-station recover`` and ``recompute``: tests left unfinished by a crash
are recovered (or discarded), and stored tests are analysed again with this
version (old results kept)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from firmware_bridge.errors import InputError
from station.cli.common import add_by, fmt, print_table, store_from_args, warn
from station.store import Recomputation, Store
from station.store.recompute_all import RecomputeProgress


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
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
    recompute.add_argument(
        "--all",
        action="store_true",
        help="every stored test not yet analysed with today's definitions, in parallel; "
        "resumable: run it again after an interruption and it goes on where it stopped",
    )
    recompute.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=None,
        help="processes analysing with --all (default: one per core; 1: this process only)",
    )
    recompute.add_argument("--dry-run", action="store_true", help="show, store nothing")
    recompute.add_argument(
        "--keep-settings",
        action="store_true",
        help="use each test's own analysis settings instead of today's defaults",
    )
    add_by(recompute)
    recompute.set_defaults(func=run_recompute)


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
            moved = store.recovery.discard(_pending_id(text), by=args.by)
            where = f"; its partial recording was moved to {moved}" if moved else ""
            print(f"unfinished test {text} discarded{where}")
        if args.discard and not args.ids:
            return 0
        cleaned = store.recovery.clean()
        if cleaned:
            print(f"removed {len(cleaned)} leftover file(s) already stored in the database")
        if args.ids:
            targets = [store.recovery.get(_pending_id(text)) for text in args.ids]
        else:
            targets = store.recovery.pending(include_live=False)
            if not targets:
                print("nothing to recover")
                _list_orphans(store)
                return 0
        failed = 0
        for pending in targets:
            try:
                test = store.recovery.recover(pending.id, by=args.by)
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
            warn(test.warnings[1:])
        _list_orphans(store)
        return 2 if failed else 0


def _list_pending(store: Store) -> int:
    pending = store.recovery.pending()
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
    for orphan in store.recovery.orphan_files():
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
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise InputError(f"--jobs {args.jobs}: give 1 to 64 processes")
    if args.all and not args.dry_run:
        return _recompute_all(args)
    with store_from_args(args) as store:
        ids = store.tests.ids() if args.all else [store.tests.get(t).id for t in args.tests]
        if args.all and (absent := len(store.tests.absent_recordings())):
            print(f"nordic-station: note: {_absent_note(absent)}", file=sys.stderr)
        failed = 0
        for test_id in ids:
            try:
                outcome = store.runs.recompute(
                    test_id, keep_settings=args.keep_settings, dry_run=args.dry_run, by=args.by
                )
            except InputError as exc:
                failed += 1
                print(f"nordic-station: error: test {test_id}: {exc}", file=sys.stderr)
                continue
            _report(outcome, args.dry_run)
    return 2 if failed else 0


class Progress:
    """A progress bar on stderr: one rewritten line on a terminal, a plain line
    every few seconds otherwise (a log file, a CI job)."""

    EVERY_S = 5.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty()
        self.last = time.monotonic()  # the first line once the rate means something
        self.finished = False

    def __call__(self, state: RecomputeProgress) -> None:
        now = time.monotonic()
        finished = state.done >= state.total
        if self.finished or (
            not finished and now - self.last < (0.2 if self.tty else self.EVERY_S)
        ):
            return
        self.finished = finished
        self.last = now
        share = state.done / state.total if state.total else 1.0
        left = (state.total - state.done) / state.rate if state.rate > 0 else 0.0
        text = (
            f"{state.done}/{state.total} tests ({share:.0%}), {state.rate:.1f} tests/s, "
            f"{int(left // 60)}:{int(left % 60):02d} left, {len(state.failed)} failed"
        )
        if self.tty:
            bar = "#" * int(share * 20)
            self.stream.write(f"\rrecompute [{bar:<20}] {text}\x1b[K")
            if finished:
                self.stream.write("\n")
        else:
            self.stream.write(f"recompute: {text}\n")
        self.stream.flush()


def _recompute_all(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        state = store.runs.recompute_all(
            keep_settings=args.keep_settings, workers=args.jobs, by=args.by, progress=Progress()
        )
    for test_id, message in state.failed:
        print(f"nordic-station: error: test {test_id}: {message}", file=sys.stderr)
    print(
        f"{state.done} test(s) analysed in {state.seconds:.1f} s ({state.rate:.1f} tests/s): "
        f"{state.stored} stored as new runs (old runs kept), {state.unchanged} unchanged, "
        f"{len(state.failed)} failed; {state.up_to_date} already up to date"
        + (f"; {state.conflicts} changed meanwhile, run again" if state.conflicts else "")
        + (f"; {_absent_note(state.absent)}" if state.absent else "")
    )
    return 2 if state.failed or state.conflicts else 0


def _absent_note(count: int) -> str:
    return (
        f"{count} skipped: their raw recording is on the clinic server "
        "(fetch with 'nordic-station sync --recordings')"
    )


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
