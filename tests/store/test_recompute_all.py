"""``recompute --all``: every stored test analysed again with today's definitions
by a pool of processes, old runs kept, resumable after ``kill -9``."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from calibration.certificate import parse_certificate
from firmware_bridge.capture import decode_stream
from station import paths
from station.analysis import ANALYSIS_VERSION, analyze
from station.cli.recovery import Progress
from station.store import Store
from station.store.models import NewTest
from station.store.processing import Exclusion, new_reps, new_result
from station.store.recompute_all import RecomputeProgress
from tests.store import synth
from tests.store.test_cli import run

OLD = "0.9-old"


def stale_tests(
    store: Store, data: bytes, cert: dict, count: int, *, exclude_first_rep: bool = False
) -> list[int]:
    """``count`` tests (distinct recordings) whose current run was made by an older
    analysis version, loaded in one transaction like a migration would."""
    athlete = store.add_athlete("Ada Lovelace", body_mass_kg=62.5, lever_arm_m=0.42)
    result = analyze(decode_stream(data), parse_certificate(cert), body_mass_kg=62.5)
    run = new_result(result, "import", with_curves=False)
    run = replace(run, analysis_version=OLD)
    exclusions = {1: Exclusion("slipped", "kim", "2024-01-01T00:00:00.000Z")}
    base = NewTest(
        athlete_id=athlete.id,
        recorded_at="2024-01-01T10:00:00.000Z",
        protocol="nordic_eccentric",
        recording=data,
        recording_kind="binary",
        result=run,
        reps=new_reps(run.metrics, exclusions if exclude_first_rep else {}),
        sample_rate_hz=result.stream.sample_rate_hz,
        body_mass_kg=62.5,
        lever_arm_m=0.42,
        certificate=cert,
    )
    tests = [replace(base, recording=data + bytes([0] * i)) for i in range(count)]
    store.backend.bulk_load([], tests, "migration")
    return store.test_ids()


def test_every_stale_test_gets_one_new_run_and_keeps_the_old(
    store: Store, capture_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="station")
    ids = stale_tests(store, capture_bytes, synth.certificate(), 5)
    seen: list[int] = []
    state = store.recompute_all(workers=2, by="kim", progress=lambda s: seen.append(s.done))
    assert (state.total, state.up_to_date, state.stored, state.failed) == (5, 0, 5, [])
    assert seen[-1] == 5 and seen == sorted(seen)
    for test_id in ids:
        runs = store.results(test_id)
        assert [r.analysis_version for r in runs] == [OLD, ANALYSIS_VERSION]
        assert [r.is_current for r in runs] == [False, True]
        assert runs[1].reason == "recompute" and runs[1].created_by == "kim"
        assert store.curves(test_id)["left_n"].size > 0  # the new run has its curves
    actions = [e.action for e in store.audit_log("test", ids[0])]
    assert actions == ["bulk", "result:recompute"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "recompute of 5 test(s) (0 up to date) with 2 process(es)" in logged
    assert "recompute done: 5 stored, 0 unchanged, 0 failed" in logged
    assert "Ada" not in logged
    # Everything is up to date now: nothing to do, nothing written.
    again = store.recompute_all(workers=2)
    assert (again.total, again.up_to_date, again.stored) == (0, 5, 0)
    assert all(len(store.results(t)) == 2 for t in ids)


def test_the_pool_stores_what_one_test_recomputed_alone_stores(
    store: Store, capture_bytes: bytes
) -> None:
    ids = stale_tests(store, capture_bytes, synth.certificate(), 3, exclude_first_rep=True)
    alone = store.recompute(ids[0], dry_run=True)
    store.recompute_all(workers=2)
    for test_id in ids:
        current = store.get_test(test_id).result
        assert current is not None
        expected = json.loads(json.dumps(alone.new_metrics))
        if test_id == ids[0]:  # the same bytes: the very same analysis
            assert current.metrics == expected
        assert current.metrics["summary"] == expected["summary"]
        reps = store.reps(test_id)
        assert [r.excluded for r in reps] == [True, False, False]  # exclusion carried over
        assert reps[0].exclusion_reason == "slipped" and reps[0].excluded_by == "kim"
        assert current.metrics["summary"]["reps_included"] == 2


def test_with_keep_settings_each_test_keeps_its_own(store: Store, capture_bytes: bytes) -> None:
    ids = stale_tests(store, capture_bytes, synth.certificate(), 2)
    store.recompute(ids[0], settings={"cutoff_hz": 6.0})  # today's version, own settings
    targets, fresh = store.recompute_targets(keep_settings=True)
    assert (targets, fresh) == ([ids[1]], 1)
    assert store.recompute_targets()[0] == ids  # with today's defaults, both again
    store.recompute_all(workers=1, keep_settings=True)
    assert store.get_test(ids[0]).result.settings["cutoff_hz"] == 6.0
    assert store.get_test(ids[1]).result.settings["cutoff_hz"] == 10.0


def test_a_test_that_cannot_be_analysed_is_reported_and_the_rest_go_on(
    store: Store, capture_bytes: bytes
) -> None:
    stale_tests(store, capture_bytes, synth.certificate(), 3)
    bad = NewTest(
        athlete_id=1,
        recorded_at="2024-01-02T10:00:00.000Z",
        protocol="nordic_eccentric",
        recording=b"\x07" * 500,  # no frame in there
        result=replace(new_result(analyze_bytes(capture_bytes), "import", with_curves=False),
                       analysis_version=OLD),
        certificate=synth.certificate(),
    )  # fmt: skip
    store.backend.bulk_load([], [bad], "migration")
    bad_id = store.test_ids()[-1]
    state = store.recompute_all(workers=2)
    assert state.stored == 3 and [t for t, _ in state.failed] == [bad_id]
    assert "frame" in state.failed[0][1] or "sample" in state.failed[0][1], state.failed
    again = store.recompute_all(workers=2)  # only the broken one is tried again
    assert (again.total, again.up_to_date, len(again.failed)) == (1, 3, 1)


def analyze_bytes(data: bytes):
    return analyze(decode_stream(data), parse_certificate(synth.certificate()))


def test_erased_recordings_are_skipped(store: Store, capture_bytes: bytes) -> None:
    ids = stale_tests(store, capture_bytes, synth.certificate(), 2)
    store.erase_athlete(store.get_test(ids[0]).athlete_id, "request")
    targets, fresh = store.recompute_targets()
    assert (targets, fresh) == ([], 0)


def test_cli_summary_progress_and_exit_codes(
    capsys, store: Store, capture_bytes: bytes, home: Path
) -> None:
    stale_tests(store, capture_bytes, synth.certificate(), 4)
    code, out, err = run(capsys, "recompute", "--all", "--jobs", "2", "--by", "kim")
    assert code == 0, err
    assert out.startswith("4 test(s) analysed in ") and "4 stored as new runs" in out
    assert "0 already up to date" in out
    assert "recompute: 4/4 tests (100%)" in err  # plain lines: stderr is not a terminal
    code, out, _ = run(capsys, "recompute", "--all")
    assert code == 0 and "0 test(s) analysed" in out and "4 already up to date" in out
    for bad in ("0", "65"):
        code, _, err = run(capsys, "recompute", "--all", "--jobs", bad)
        assert code == 2 and "give 1 to 64 processes" in err


def test_progress_is_one_rewritten_line_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = Progress(screen)
    state = RecomputeProgress(total=4, up_to_date=0)
    for done in range(1, 5):
        state.done = done
        bar.last = 0.0  # as if time had passed
        bar(state)
    text = screen.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "[####################] 4/4 tests (100%)" in text


def _recompute_runs(db: Path) -> int:
    sql = "SELECT count(*) FROM results WHERE reason = 'recompute'"
    server = os.environ.get("NORDIC_STATION_DATABASE")
    if server:  # the store runs on the test's PostgreSQL database
        import psycopg

        with psycopg.connect(server) as pg:
            return int(pg.execute(sql).fetchone()[0])
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(sql).fetchone()[0]


def _interrupted_run(home: Path, count: int, how: signal.Signals) -> tuple[list[int], int, str]:
    """A real ``nordic-station recompute --all`` on ``count`` stale tests, sent ``how``
    (to it and its workers: its process group) once its first batch is committed.
    Returns the test ids, the runs stored by then and what it wrote on stderr."""
    data = synth.capture(seconds=60.0, rate_hz=1000.0)  # slow enough to be caught mid-run
    with Store.open(actor="tester") as store:
        ids = stale_tests(store, data, synth.certificate(), count)
    db = paths.database_path(home)
    env = dict(os.environ, NORDIC_STATION_HOME=str(home))
    process = subprocess.Popen(
        [sys.executable, "-m", "station", "recompute", "--all", "--jobs", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the workers get it too
    )
    try:
        deadline = time.monotonic() + 120
        while _recompute_runs(db) == 0:
            assert process.poll() is None, "the recompute ended before it could be stopped"
            assert time.monotonic() < deadline, "no batch was committed in 120 s"
            time.sleep(0.01)  # polling the condition, not waiting for time to pass
    finally:
        os.killpg(process.pid, how)
        _, err = process.communicate(timeout=60)
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130, err  # Ctrl-C: stopped, as the CLI says
        assert "Traceback" not in err and "internal error" not in err, err
    done = _recompute_runs(db)
    assert 0 < done < count, f"{done} of {count} done when stopped: not mid-run"
    return ids, done, err


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_stopped_run_resumes_without_duplicating(home: Path, how: signal.Signals) -> None:
    """Killed (``kill -9``) or interrupted (Ctrl-C) after its first batch, the next
    run does exactly the rest: every test ends with its old run and one new one."""
    count = 60
    ids, done, _ = _interrupted_run(home, count, how)
    with Store.open(actor="tester") as store:
        state = store.recompute_all(workers=2)
        assert (state.up_to_date, state.total, state.stored) == (done, count - done, count - done)
        for test_id in ids:
            assert [r.analysis_version for r in store.results(test_id)] == [OLD, ANALYSIS_VERSION]
        assert store.backend.integrity_check() == []
    assert _recompute_runs(paths.database_path(home)) == count


@pytest.mark.parametrize("workers", [1, 2])
def test_an_empty_store_has_nothing_to_do(store: Store, workers: int) -> None:
    state = store.recompute_all(workers=workers)
    assert (state.total, state.done, state.stored, state.failed) == (0, 0, 0, [])
