"""Test hooks, read from the environment, so a test can act at a known point of a sync.

- ``NORDIC_STATION_SYNC_PAUSE_AFTER_BATCH=SECONDS``: sleep after a batch of
  tests is committed on its destination and before the source marks it
  (push: the server committed, the station has no mark yet);
- ``NORDIC_STATION_SYNC_PAUSE_IN_BATCH=SECONDS``: sleep inside a batch's
  transaction, before its commit;
- ``NORDIC_STATION_SYNC_BATCH=N``: tests per batch (default 20; also the most raw
  recordings a fetch fills per transaction, whose pauses say ``fetch``).

Each pause first prints ``sync paused <where> <direction> batch <n>`` on
stderr, so the test waits for that line rather than for a fixed time, and
ends early on SIGUSR1, so the test resumes the sync once it has acted.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from types import FrameType

AFTER_ENV = "NORDIC_STATION_SYNC_PAUSE_AFTER_BATCH"
IN_ENV = "NORDIC_STATION_SYNC_PAUSE_IN_BATCH"
BATCH_ENV = "NORDIC_STATION_SYNC_BATCH"
DEFAULT_TEST_BATCH = 20

_count = itertools.count(1)


def test_batch() -> int:
    text = os.environ.get(BATCH_ENV, "")
    return max(1, int(text)) if text.isdigit() else DEFAULT_TEST_BATCH


def pause(where: str, direction: str) -> None:
    """Sleep if the hook for ``where`` ("in" or "after") is set."""
    text = os.environ.get(AFTER_ENV if where == "after" else IN_ENV, "")
    if not text:
        return
    resume = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        resume.set()

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        print(f"sync paused {where} {direction} batch {next(_count)}", file=sys.stderr, flush=True)
        resume.wait(float(text))
    finally:
        signal.signal(signal.SIGUSR1, previous)
