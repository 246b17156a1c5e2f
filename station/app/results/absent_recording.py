"""A test pulled from the clinic's server without its raw recording: say so, offer to fetch.

Results, curves, history and the team view need no raw bytes; excluding a rep
(the analysis runs again on the bytes) does.  On a joined station the dialog
offers to fetch the recording now; the fetch runs on a worker thread (it
waits on the network), then the action that needed it runs again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

from station.app.shell import dialogs
from station.app.shell.dialogs import user_message
from station.app.shell.tasks import TaskRunner
from station.store import RecordingAbsentError
from station.store.sync import sync_status
from station.store.sync.recordings import FetchReport, fetch_recordings

log = logging.getLogger(__name__)

TITLE = "Raw recording on the clinic server"


class RecordingFetcher:
    """Offers to fetch a test's raw recording and runs ``then`` once it is here."""

    def __init__(self, parent: QWidget, folder: Path | None) -> None:
        self.parent = parent
        self.folder = folder
        self.runner = TaskRunner("fetch-recording", parent)

    def joined(self) -> bool:
        if self.folder is None:
            return False
        try:
            return sync_status(self.folder).joined
        except Exception:  # noqa: BLE001 - not joined as far as this dialog can tell
            return False

    def offer(self, exc: RecordingAbsentError, what: str, then: Callable[[], None]) -> None:
        """``what`` (e.g. "Excluding a rep") needs the bytes ``exc`` says are absent."""
        if not self.joined():
            dialogs.show_error(self.parent, TITLE, user_message(exc))
            return
        question = (
            f"The raw recording of test {exc.test_id} is on the clinic server, not on this "
            f"station yet (its results are here). {what} needs it.\n\n"
            "Fetch it from the clinic server now?"
        )
        if not dialogs.ask_yes_no(self.parent, TITLE, question):
            return
        folder = self.folder
        assert folder is not None
        self.runner.submit(
            lambda: fetch_recordings(folder, [exc.test_id]),
            lambda report: self._fetched(report, exc, then),
            lambda error: dialogs.show_error(
                self.parent, TITLE, f"The raw recording was not fetched: {user_message(error)}"
            ),
        )

    def _fetched(
        self, report: FetchReport, exc: RecordingAbsentError, then: Callable[[], None]
    ) -> None:
        if report.fetched == 0:
            dialogs.show_error(
                self.parent,
                TITLE,
                f"The clinic server has no raw recording of test {exc.test_id} for this "
                "login (erased, or of a team this login no longer sees).",
            )
            return
        log.info("raw recording of test %d fetched (%d bytes)", exc.test_id, report.bytes)
        then()

    def shutdown(self) -> None:
        self.runner.shutdown(wait=False)
