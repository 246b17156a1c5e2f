"""Training sessions in the store (Qt-free): saved with their figures, listed, kept out of
history, trends, the team view, the summary export and the athletes' last results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter
from station.app.training import sessions
from station.app.training.training_run import TrainingStore
from station.present.history_data import trend_points
from station.store import open_store
from tests.store import synth

FIGURES = {
    "zone": {"low_n": [150.0, 150.0], "high_n": [200.0, 200.0], "mode": "N"},
    "left": {"reps": 3, "reps_in_zone": 2, "time_in_zone_s": 3.5, "impulse_in_zone_ns": 610.0},
    "right": {"reps": 3, "reps_in_zone": 1, "time_in_zone_s": 1.2, "impulse_in_zone_ns": 200.0},
}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with open_store(tmp_path / "home", actor="tester") as opened:
        yield opened


def record(store: Any, athlete_id: int, figures: dict[str, Any]) -> Any:
    """One session through the training run's view of the store (begin, record, finish)."""
    wrapped = TrainingStore(store, lambda: figures)
    pending = wrapped.live.begin(athlete_id, certificate=synth.certificate())
    info = Info(80000, "NR-SIM-0001", "virtual-rig 1")
    with RecordingWriter(pending.path, port="virtual://t", info=info) as writer:
        writer.write(synth.capture(190.0, 170.0))
    return wrapped.live.finish(pending)


def test_a_session_is_stored_listed_and_kept_apart(store: Any, tmp_path: Path) -> None:
    ada = store.athletes.add("Ada Example", team="Firsts")
    nordic = synth.write_capture(tmp_path / "n.bin", 320.0, 290.0)
    store.new_tests.import_file(ada.id, nordic, certificate=synth.certificate(), protocol=None)
    saved = record(store, ada.id, FIGURES)
    assert saved.protocol == "training"
    assert saved.result.metrics["training"] == FIGURES
    listed = sessions.training_sessions(store, ada.id)
    assert [s.test_id for s in listed] == [saved.id]
    assert listed[0].zone == "150–200 N" and listed[0].figures["left"]["reps_in_zone"] == 2
    # The last max comes from the Nordic test, never the training session.
    last = sessions.last_max(store, ada.id)
    assert last is not None and last.left_n == pytest.approx(320, rel=0.02)
    # Out of trends and history unless asked for; out of the team view and summary export.
    assert len(trend_points(store.tests.of_athlete(ada.id))) == 1
    shown = trend_points(store.tests.of_athlete(ada.id), include_training=True)
    assert [p.training for p in shown] == [False, True]
    assert store.tests.latest()[ada.id].protocol == "nordic_eccentric"
    assert [row["protocol"] for row in store.exports.summary_rows()] == ["nordic_eccentric"]


def test_a_recompute_keeps_the_live_figures_findable(store: Any) -> None:
    ada = store.athletes.add("Ada Example")
    saved = record(store, ada.id, FIGURES)
    store.runs.recompute(saved.id, settings={"cutoff_hz": 8.0})
    assert "training" not in store.tests.get(saved.id).result.metrics  # a fresh analysis
    assert sessions.training_figures(store, saved.id) == FIGURES  # the first run keeps them


def test_a_session_without_figures_is_listed_with_dashes(store: Any) -> None:
    ada = store.athletes.add("Ada Example")
    wrapped = TrainingStore(store, dict)
    pending = wrapped.live.begin(ada.id, certificate=synth.certificate())
    with RecordingWriter(pending.path, port="virtual://t", info=Info(80000, "S", "v")) as w:
        w.write(synth.capture(190.0, 170.0))
    store.live.finish(pending)  # e.g. recovered after a crash: no live figures
    listed = sessions.training_sessions(store, ada.id)
    assert len(listed) == 1 and listed[0].zone == "–" and listed[0].figures == {}
