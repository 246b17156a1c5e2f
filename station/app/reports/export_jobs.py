"""CSV exports from the app, off the GUI thread, with a progress dialog that can cancel.

The files are exactly the store's (``station.store.export``): a summary CSV
with its JSON sidecar, and per test a curves CSV with its JSON sidecar.  An
export of many tests runs as one step per test on a worker thread; the
dialog shows how far it got and Cancel stops before the next test (files
already written stay whole: the store writes each file atomically).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from station.app.shell import dialogs
from station.app.shell.dialogs import user_message
from station.present.numbers import count
from station.store import Store
from station.store.export import export_summary, export_test

Step = Callable[[], Any]  # returns an ExportReport (its .files)


class ExportJob(QObject):
    """Runs steps on a worker thread; reports progress, the files written, or the failure."""

    progress = Signal(int, int, str)  # done, total, what is next
    finished = Signal(list)  # every file written (Path)
    failed = Signal(str)  # one line
    cancelled = Signal(list)  # files written before the cancel

    def __init__(self, steps: Sequence[tuple[str, Step]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.steps = list(steps)
        self.files: list[Path] = []
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="station-export", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def _run(self) -> None:
        total = len(self.steps)
        try:
            for number, (label, step) in enumerate(self.steps):
                if self._cancel.is_set():
                    self.cancelled.emit(list(self.files))
                    return
                self.progress.emit(number, total, label)
                report = step()
                self.files.extend(Path(f) for f in getattr(report, "files", ()))
            self.progress.emit(total, total, "done")
            self.finished.emit(list(self.files))
        except Exception as exc:  # noqa: BLE001 - reported in the GUI, never lost in a thread
            self.failed.emit(user_message(exc))
        finally:
            self.done.set()


def summary_steps(
    store: Store, path: Path, *, athlete: Any = None, team: str | None = None, force: bool = False
) -> list[tuple[str, Step]]:
    """One step: the summary CSV (and sidecar) of an athlete's or a team's tests."""
    return [
        ("summary", lambda: export_summary(store, path, athlete=athlete, team=team, force=force))
    ]


def curves_steps(
    store: Store, test_ids: Sequence[int], folder: Path, *, force: bool = False
) -> list[tuple[str, Step]]:
    """One step per test: ``test-<id>.csv`` and ``test-<id>.json`` in ``folder``."""
    return [
        (f"test {tid}", lambda tid=tid: export_test(store, tid, folder, force=force))
        for tid in test_ids
    ]


def existing_curve_files(test_ids: Sequence[int], folder: Path) -> list[Path]:
    """Files an export of these tests into ``folder`` would replace."""
    out = []
    for tid in test_ids:
        for suffix in (".csv", ".json"):
            path = folder / f"test-{tid}{suffix}"
            if path.exists():
                out.append(path)
    return out


def confirm_summary_target(parent: QWidget | None, path: Path) -> bool | None:
    """Whether a summary export to ``path`` replaces files (it or its .json sidecar):
    False if none is there, True once the user agreed, None if the user declined."""
    replace = path.exists() or path.with_suffix(".json").exists()
    if replace and not dialogs.ask_yes_no(parent, "Export", f"Replace {path.name} and its .json?"):
        return None
    return replace


def run_with_progress(
    parent: QWidget | None,
    title: str,
    steps: Sequence[tuple[str, Step]],
    on_finished: Callable[[list[Path]], None],
    on_failed: Callable[[str], None],
) -> ExportJob:
    """Start the job with a progress dialog (shown only if it takes more than a moment)."""
    dialog = QProgressDialog(title, "Cancel", 0, max(1, len(steps)), parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(400)
    dialog.setAutoClose(True)
    dialog.setAutoReset(False)
    job = ExportJob(steps, dialog)

    def progressed(done: int, total: int, label: str) -> None:
        dialog.setMaximum(max(1, total))
        dialog.setValue(done)
        dialog.setLabelText(f"{title}: {label} ({done} of {total})")

    def finished(files: list[Path]) -> None:
        dialog.setValue(dialog.maximum())
        dialog.close()
        on_finished(files)

    def failed(message: str) -> None:
        dialog.close()
        on_failed(message)

    def cancelled(files: list[Path]) -> None:
        dialog.close()
        on_failed(f"export cancelled after {len(files) // 2} of {count(len(steps), 'test')}")

    job.progress.connect(progressed)
    job.finished.connect(finished)
    job.failed.connect(failed)
    job.cancelled.connect(cancelled)
    dialog.canceled.connect(job.cancel)
    job.start()
    return job
