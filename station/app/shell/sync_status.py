"""The sync's state in the status bar ("synced", "n waiting", "offline"), and the
background sync of a joined station.

Both run on a worker thread of their own (:class:`TaskRunner`), and the sync
itself in a child process (``nordic-station sync``): a sync sends megabytes
and waits on the network, and neither may hold the GUI thread nor its
interpreter's lock while a live test is drawn.  A station that is not joined
shows nothing and never syncs.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from station.app.shell import theme
from station.app.shell.tasks import TaskRunner
from station.store.sync import SyncStatus, sync_status

log = logging.getLogger(__name__)

SYNC_EVERY_MS = 30_000
SYNC_TIMEOUT_S = 600.0


def sync_in_child(folder: Path, timeout_s: float = SYNC_TIMEOUT_S) -> bool:
    """``nordic-station sync`` for this folder in a child process (its own interpreter, so
    a sync's work never holds this process's GIL against the live plot); whether it
    finished.  A failure is remembered by the sync itself and shows as "offline"."""
    command = [sys.executable, "-m", "station", "--data-dir", str(folder), "sync"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("background sync did not finish: %s", exc)
        return False
    if done.returncode != 0:
        log.info("background sync did not finish: %s", done.stderr.strip()[-300:])
    return done.returncode == 0


def sync_and_status(folder: Path, sync: bool) -> SyncStatus:
    """One round of the background loop: sync if joined, then the state to show."""
    if sync and sync_status(folder).joined:
        sync_in_child(folder)
    return sync_status(folder, probe=True)


class SyncIndicator(QLabel):
    """ "synced" / "n waiting" / "offline" ("joined, never synced: n waiting" before the
    first sync), refreshed (and synced) every 30 s off the GUI."""

    def __init__(self, folder: Path, *, auto_sync: bool = True, every_ms: int = SYNC_EVERY_MS):
        super().__init__()
        self.folder = folder
        self.auto_sync = auto_sync
        self.runner = TaskRunner("station-sync", self)
        self.status: SyncStatus | None = None
        self.setVisible(False)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(every_ms)
        self.refresh(sync=False)

    def refresh(self, sync: bool | None = None) -> None:
        if not self.runner.idle:
            return  # the last round is still running: never queue a second sync
        do_sync = self.auto_sync if sync is None else sync
        self.runner.submit(
            lambda: sync_and_status(self.folder, do_sync), self.show_status, self._failed
        )

    def _failed(self, exc: BaseException) -> None:
        log.warning("sync state unavailable: %s", exc)

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self.setVisible(status.joined)
        colour = theme.GOOD if status.synced else theme.CAUTION
        if status.text == "offline":
            colour = theme.DANGER
        self.setText(f"Server: {status.text}")
        self.setStyleSheet(f"color: {colour};")
        self.setToolTip(
            f"last sync: {status.last_sync or 'never'}"
            + (f"\nlast error: {status.error}" if status.error else "")
        )

    def shutdown(self) -> None:
        self.timer.stop()
        self.runner.shutdown(wait=False)
