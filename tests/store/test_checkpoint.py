"""The WAL checkpointer's thread, stopped whatever state a Ctrl-C left it in."""

from __future__ import annotations

import threading
from pathlib import Path

from station.store.sqlite.checkpoint import Checkpointer


def test_stop_after_a_thread_that_never_started(tmp_path: Path) -> None:
    """A Ctrl-C inside ``Thread.start`` (recompute --all, interrupted) left an unstarted
    thread behind, and closing the store then failed: "cannot join thread before it is
    started", an internal error instead of exit 130."""
    checkpointer = Checkpointer(tmp_path / "nordic-station.sqlite3")
    checkpointer._thread = threading.Thread(target=lambda: None)  # created, never started
    checkpointer.stop()  # no RuntimeError
    assert checkpointer._stopping
