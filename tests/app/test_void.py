"""Voiding a test in the app (issue 11 §1): it leaves history, trends, change judgements and
the team view at once; the void needs a reason and can be undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from station.app.shell import dialogs
from station.present.history_data import last_change, trend_points
from tests.app.stored_athletes import ADA_TESTS, populated_copy

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("void")


def test_void_and_undo_from_results(
    template: Path, data_dir: Path, make_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = populated_copy(template, data_dir)
    window = make_window()
    store = window.context.store
    ada = made.ada
    newest = made.tests[ada.id][-1]
    history = window.screens["history"]
    window.show_screen("history")
    history.show_athlete(ada.id)
    before = history.change_label.text()
    assert history.model.rowCount() == len(ADA_TESTS)

    results = window.screens["results"]
    window.show_screen("results")
    results.show_test(newest)
    # Cancelled reason: nothing happens.
    monkeypatch.setattr(dialogs, "ask_reason", lambda *a, **k: None)
    results.ask_void()
    assert not store.tests.get(newest).voided
    monkeypatch.setattr(dialogs, "ask_reason", lambda *a, **k: "wrong athlete on the rig")
    results.ask_void()
    assert store.tests.get(newest).voided
    assert store.tests.get(newest).void_reason == "wrong athlete on the rig"
    assert results.void_banner.isVisible() and "VOIDED" in results.void_banner.text()
    assert results.void_button.text() == "Undo void…"

    # History: gone from the table and the trend; the change is judged between valid tests.
    window.show_screen("history")
    history.refresh(force=True)
    assert history.model.rowCount() == len(ADA_TESTS) - 1
    assert newest not in [p.test_id for p in history.trend.points]
    valid = trend_points(store.tests.of_athlete(ada.id))
    change = last_change(valid, history.prefs.mdc_n)
    assert change and history.change_label.text() != before
    assert [p.test_id for p in valid][-1] == made.tests[ada.id][-2]
    # Shown on request, greyed and marked, never in the trend.
    history.show_voided.setChecked(True)
    assert history.model.rowCount() == len(ADA_TESTS)
    assert history.model.index(0, 8).data().startswith("voided")
    assert newest not in [p.test_id for p in history.trend.points]
    history.show_voided.setChecked(False)

    # Team view: Ada's latest is now the test before.
    team = window.screens["team"]
    window.show_screen("team")
    team.refresh(force=True)
    ada_row = next(r for r in team.model.rows if r.athlete.id == ada.id)
    assert ada_row.latest is not None and ada_row.latest.test_id == made.tests[ada.id][-2]

    # Undo: everything back.
    window.show_screen("results")
    results.show_test(newest)
    monkeypatch.setattr(dialogs, "ask_reason", lambda *a, **k: "it was Ada after all")
    results.ask_void()
    assert not store.tests.get(newest).voided
    assert not results.void_banner.isVisible()
    window.show_screen("history")
    history.refresh(force=True)
    assert history.model.rowCount() == len(ADA_TESTS)
    assert history.change_label.text() == before


def test_a_refused_void_is_one_dialog(
    template: Path, data_dir: Path, make_window: Any, messages: Any
) -> None:
    made = populated_copy(template, data_dir)
    window = make_window()
    results = window.screens["results"]
    results.show_test(made.tests[made.ada.id][0])
    assert not results.set_voided(False, "not voided yet")  # the store refuses: nothing to undo
    assert messages.kinds() == ["critical"] and "not voided" in messages.texts()
