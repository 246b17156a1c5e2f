"""A test pulled from the clinic server without its raw recording, in the app: its results
and curves show; excluding a rep (which needs the bytes) names the problem, and on a
joined station offers to fetch the recording off the GUI thread, then does the exclusion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from station.app.results import absent_recording
from station.store.sql.recorded_tests import fill_recording
from station.store.sync.recordings import FetchReport
from tests.app.conftest import MessageLog, wait_for
from tests.app.stored_athletes import populated_copy
from tests.store.test_absent_recordings import make_absent

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("absent")


def test_an_absent_recording_is_named_and_fetched_on_demand(
    template: Path,
    data_dir: Path,
    make_window: Any,
    messages: MessageLog,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = populated_copy(template, data_dir)
    window = make_window()
    store = window.context.store
    newest = made.tests[made.ada.id][-1]
    data = make_absent(store, newest)
    results = window.screens["results"]
    window.show_screen("results")
    results.show_test(newest)
    assert results.test_id == newest and results.model.rowCount() > 0  # results need no bytes
    assert messages.shown == []

    # Not joined: one dialog naming the problem; nothing changes.
    results.exclude_rep(1, "slipped")
    assert messages.kinds() == ["critical"]
    assert "on the clinic server" in messages.texts()
    assert len(store.tests.results(newest)) == 1

    # Joined: the dialog offers the fetch; it runs on the worker, then the exclusion.
    messages.shown.clear()
    monkeypatch.setattr(absent_recording.RecordingFetcher, "joined", lambda self: True)
    threads: list[str] = []

    def fetch(folder: Path, test_ids: list[int]) -> FetchReport:
        import threading

        threads.append(threading.current_thread().name)
        assert test_ids == [newest]
        sha = store.tests.get(newest).recording_sha256
        with store.backend._write() as conn:
            recording_id = conn.execute(
                "SELECT recording_id FROM tests WHERE id = ?", (newest,)
            ).fetchone()[0]
            assert fill_recording(conn, recording_id, sha, data)
        return FetchReport(fetched=1, bytes=len(data))

    monkeypatch.setattr(absent_recording, "fetch_recordings", fetch)
    messages.answer = messages.answer.No
    results.exclude_rep(1, "slipped")
    assert messages.kinds() == ["question"] and threads == []  # declined: nothing fetched
    messages.answer = messages.answer.Yes
    results.exclude_rep(1, "slipped")
    wait_for(qtbot, lambda: len(store.tests.results(newest)) == 2)
    assert threads and threads[0].startswith("fetch-recording")
    assert store.tests.recording(newest) == data
    assert store.tests.reps(newest)[0].excluded
    assert messages.kinds() == ["question", "question"]
