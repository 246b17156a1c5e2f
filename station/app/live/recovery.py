"""Tests left unfinished by a crash: found at start-up and offered for recovery.

The store keeps every test's recording in its in-progress folder until the
test is committed, so a crash (or a power cut) loses at most the last half
second.  At the next start the operator chooses, per test: recover it (it is
analysed and stored, marked as recovered), discard it (the file is moved
aside, never deleted), or decide later.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.present.numbers import format_number
from station.present.times import when_text

RECOVER = QMessageBox.StandardButton.Save
DISCARD = QMessageBox.StandardButton.Discard
LATER = QMessageBox.StandardButton.Ignore


def describe(pending: Any, athlete_name: str) -> str:
    when = when_text(str(pending.started_at))
    size = (
        f"{format_number(pending.size / 1024)} kB recorded" if pending.size else "nothing recorded"
    )
    return (
        f"A test for {athlete_name} started {when} was not finished: the station stopped "
        f"during it ({size}).\n\nSave: recover what was recorded and store it as a test "
        "(marked recovered).\nDiscard: move the recording aside (it is not deleted).\n"
        "Ignore: ask again at the next start."
    )


def _analysis_settings(context: AppContext) -> Any:
    """The clinic's analysis rules, as a live test is stored with (defaults if unusable)."""
    try:
        return context.analysis_settings()
    except ValueError:
        return None


def offer_recovery(parent: QWidget | None, context: AppContext) -> list[int]:
    """Ask about each unfinished test; returns the ids of the tests recovered."""
    store = context.store
    try:
        unfinished = store.recovery.pending(include_live=False)
    except Exception as exc:  # noqa: BLE001 - a start-up check must never stop the app
        context.show_status(f"Cannot look for unfinished tests: {user_message(exc)}", 10000)
        return []
    recovered: list[int] = []
    for pending in unfinished:
        try:
            name = store.athletes.get(pending.athlete_id).name
        except Exception:  # noqa: BLE001
            name = f"athlete {pending.athlete_id}"
        answer = QMessageBox.question(
            parent,
            "Unfinished test found",
            describe(pending, name),
            RECOVER | DISCARD | LATER,
            LATER,
        )
        try:
            if answer == RECOVER:
                test = store.recovery.recover(pending.id, settings=_analysis_settings(context))
                recovered.append(int(test.id))
                context.test_saved.emit(int(test.id))
            elif answer == DISCARD:
                store.recovery.discard(pending.id)
        except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others
            QMessageBox.warning(
                parent, "Unfinished test", f"That test could not be handled: {user_message(exc)}"
            )
    return recovered
