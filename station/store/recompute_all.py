"""Every stored test analysed again with today's definitions, in a pool of processes.

Worker processes analyse from the raw bytes (decode, analysis, the run's JSON
and curve bytes); the parent reads the inputs and writes the new runs through
the store's one connection, a batch per transaction.  Old runs are kept (a
run is only ever added).

Resumable by construction: a test whose current run already has today's
analysis version and the settings asked for is up to date and skipped, so a
run killed at any moment (even ``kill -9``) is started again and goes on
where it stopped; the batch in flight when it died was rolled back whole and
is simply analysed again.  A test is never given two runs by one recompute:
each write checks that the test's current run is still the one analysed.
``store.runs.recompute_all`` (:class:`station.store.recompute.Runs`) calls it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

from calibration.certificate import parse_certificate
from firmware_bridge.capture import load_capture_bytes
from firmware_bridge.errors import NordicError
from station.analysis import ANALYSIS_VERSION
from station.store import processing, protocols
from station.store.backend import Backend
from station.store.recompute_audit import unmatched_audit
from station.store.sql import NewRun, RecomputeInput
from station.store.sql.results import Prepared
from station.store.sql.rows import canonical_json, sha256

log = logging.getLogger(__name__)

BATCH = 32  # runs per transaction
BATCH_SECONDS = 0.5  # ...or fewer, when they come slowly
READ_AHEAD = 8  # inputs read per query, and sent to a worker at once
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class RecomputeProgress:
    """Where a bulk recompute stands; ``total`` counts the tests that need it."""

    total: int
    up_to_date: int
    done: int = 0
    stored: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    conflicts: int = 0
    # Tests left out because their raw recording waits on the clinic's server.
    absent: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Tests per second so far."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Outcome:
    """What a worker made of one test: a run to store, nothing new, or an error."""

    test_id: int
    run: NewRun | None = None
    error: str | None = None


def analyse(job: RecomputeInput, mode: str) -> Outcome:
    """Analyse one stored test from its raw bytes (runs in a worker process); ``mode``
    "keep" uses the settings of its current run, "today" today's defaults."""
    where = f"test {job.test_id}"
    try:
        if sha256(job.recording) != job.recording_sha256:
            return Outcome(
                job.test_id,
                error="its raw recording does not match its checksum: the database is damaged; "
                "restore it from a backup",
            )
        capture = load_capture_bytes(job.recording, f"test-{job.test_id}", job.sample_rate_hz)
        if job.certificate is not None:
            certificate = parse_certificate(job.certificate, f"the certificate of {where}")
        else:
            certificate = processing.certificate_for(capture, None, where)
        stored = None if job.current_settings is None else json.loads(job.current_settings)
        settings = stored if mode == "keep" and stored is not None else None
        if settings is None:  # today's definitions, under the test's own protocol
            settings = protocols.today_keeping_protocol(stored).to_dict()
        analysed, carried, unmatched = processing.reanalyse(
            capture,
            certificate,
            job.reps,
            settings=settings,
            body_mass_kg=job.body_mass_kg,
            lever_arm_m=job.lever_arm_m,
        )
        result = analysed.result
        metrics = analysed.metrics
        if (
            job.current_metrics is not None
            and job.current_version == result.analysis_version
            and canonical_json(json.loads(job.current_metrics)) == canonical_json(metrics)
        ):
            return Outcome(job.test_id)
        new = processing.new_result(result, "recompute", metrics=metrics)
        run = NewRun(
            job.test_id,
            job.current_id,
            Prepared.of(new, job.sample_rate_hz),
            tuple(processing.new_reps(metrics, carried)),
            tuple(unmatched_audit(job.test_id, unmatched)),
        )
        return Outcome(job.test_id, run)
    except NordicError as exc:
        return Outcome(job.test_id, error=str(exc))


def _analyse_many(jobs: Sequence[RecomputeInput], mode: str) -> list[Outcome]:
    return [analyse(job, mode) for job in jobs]


def _worker_started() -> None:
    """Ctrl-C reaches the whole process group: only the parent acts on it (it
    stops handing out work), so workers do not each print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> None:
    """A task that only makes sure a worker process exists."""


def _start_ignoring_ctrl_c(pool: ProcessPoolExecutor, count: int) -> None:
    """Start every worker now with Ctrl-C ignored from birth (an ignored signal stays
    ignored across exec, and Python then leaves it so): a Ctrl-C while a worker is
    still importing would otherwise print its traceback and break the pool.  Only
    the main thread may change signal handlers; elsewhere the initializer does it."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for _ in range(count):  # each submit starts one more worker, up to ``count``
            pool.submit(_ready)
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _one_thread_each() -> Iterator[None]:
    """Workers start with one BLAS/OpenMP thread each (unless the user chose):
    N processes each running N threads on N cores made the pool slower than one
    process here.  Only unset variables are set, and only while the pool runs."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def recompute_targets(backend: Backend, *, keep_settings: bool = False) -> tuple[list[int], int]:
    """The tests a bulk recompute would analyse, and how many are already up to date."""
    targets, fresh = [], 0
    for test_id, version, settings in backend.current_runs():
        stored = None if settings is None else json.loads(settings)
        current = (
            version == ANALYSIS_VERSION
            and stored is not None
            and (keep_settings or stored == protocols.today_keeping_protocol(stored).to_dict())
        )
        if current:
            fresh += 1
        else:
            targets.append(test_id)
    return targets, fresh


def recompute_all(
    backend: Backend,
    who: str,
    *,
    keep_settings: bool = False,
    workers: int | None = None,
    progress: Callable[[RecomputeProgress], None] | None = None,
) -> RecomputeProgress:
    """Analyse again every test not yet analysed with today's definitions.

    ``workers`` processes analyse (default: one per core; 1 analyses in
    this process); ``progress`` is called after every test.
    """
    targets, fresh = recompute_targets(backend, keep_settings=keep_settings)
    state = RecomputeProgress(len(targets), fresh, absent=len(backend.absent_recordings()))
    count = max(1, workers or os.cpu_count() or 1)
    mode = "keep" if keep_settings else "today"
    log.info(
        "recompute of %d test(s) (%d up to date) with %d process(es)",
        len(targets),
        fresh,
        count,
    )
    outcomes = (
        _serial(backend, targets, mode)
        if count == 1 or len(targets) < 2
        else _pooled(backend, targets, mode, count)
    )
    batch: list[NewRun] = []
    last_write = time.monotonic()
    for outcome in outcomes:
        state.done += 1
        if outcome.error is not None:
            state.failed.append((outcome.test_id, outcome.error))
        elif outcome.run is None:
            state.unchanged += 1
        else:
            batch.append(outcome.run)
        if len(batch) >= BATCH or (batch and time.monotonic() - last_write > BATCH_SECONDS):
            _write_batch(backend, batch, who, state)
            batch, last_write = [], time.monotonic()
        if progress is not None:
            progress(state)
    if batch:
        _write_batch(backend, batch, who, state)
        if progress is not None:
            progress(state)
    log.info(
        "recompute done: %d stored, %d unchanged, %d failed in %.1f s (%.1f tests/s)",
        state.stored,
        state.unchanged,
        len(state.failed),
        state.seconds,
        state.rate,
    )
    return state


def _write_batch(backend: Backend, batch: list[NewRun], who: str, state: RecomputeProgress) -> None:
    ids = backend.add_runs(batch, who)
    written = sum(1 for result_id in ids if result_id is not None)
    state.stored += written
    state.conflicts += len(ids) - written


def _inputs(backend: Backend, targets: list[int]) -> Iterator[list[RecomputeInput]]:
    for start in range(0, len(targets), READ_AHEAD):
        yield backend.recompute_inputs(targets[start : start + READ_AHEAD])


def _serial(backend: Backend, targets: list[int], mode: str) -> Iterator[Outcome]:
    for chunk in _inputs(backend, targets):
        yield from _analyse_many(chunk, mode)


def _pooled(backend: Backend, targets: list[int], mode: str, count: int) -> Iterator[Outcome]:
    """Outcomes as workers finish them; at most a few chunks per worker in flight,
    so memory stays small however many tests there are."""
    context = multiprocessing.get_context("spawn")  # no inherited connection or threads
    with (
        _one_thread_each(),
        ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_worker_started
        ) as pool,
    ):
        _start_ignoring_ctrl_c(pool, count)
        chunks = _inputs(backend, targets)
        running: set[Future[list[Outcome]]] = set()
        try:
            for chunk in chunks:
                running.add(pool.submit(_analyse_many, chunk, mode))
                if len(running) < 2 * count:
                    continue
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
            for future in list(running):
                yield from future.result()
            running = set()
        finally:
            for future in running:
                future.cancel()
