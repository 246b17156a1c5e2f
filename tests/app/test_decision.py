"""Results lead with the decision (issue 11 §2): only the reference lines that apply to the
athlete by sport and sex, the change since the previous valid test with its MDC verdict,
technical details out of the way, times in the local zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from station.present.numbers import format_number
from station.present.references import NO_CUT_OFF
from station.present.times import TZ_ENV, day_text, local, when_text
from tests.app.stored_athletes import ADA_TESTS, populated_copy

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("decision")


@pytest.fixture
def shown(template: Path, data_dir: Path, make_window: Any) -> tuple[Any, Any, Any]:
    made = populated_copy(template, data_dir)
    window = make_window()
    results = window.screens["results"]
    window.show_screen("results")
    return window, results, made


def reference_lines(results: Any) -> list[str]:
    box = results.references_box
    return [box.itemAt(i).widget().text().lstrip("⚠✓ ") for i in range(box.count())]


def drawn_lines(results: Any) -> list[float]:
    import pyqtgraph as pg

    items = results.plot.getPlotItem().items
    return [item.value() for item in items if isinstance(item, pg.InfiniteLine)]


def test_only_lines_for_the_athletes_sport_and_sex(shown: tuple[Any, Any, Any]) -> None:
    window, results, made = shown
    store = window.context.store
    ada, ben = made.ada, made.squad[0]  # soccer (sex not recorded); rugby union
    results.show_test(made.tests[ada.id][-1])
    lines = reference_lines(results)
    assert len(lines) == 1 and lines[0].startswith("soccer: avg force < 337 N")
    assert drawn_lines(results) == [337.0]

    store.athletes.update(ada.id, sex="female")  # Timmins measured male players
    results.show_test(made.tests[ada.id][-1])
    assert reference_lines(results) == [f"{NO_CUT_OFF} (female soccer athletes)."]
    assert drawn_lines(results) == []  # nor another group's line on the rep curves

    store.athletes.update(ben.id, sex="male")
    results.show_test(made.tests[ben.id][0])
    lines = reference_lines(results)
    assert len(lines) == 2 and all(line.startswith("rugby union: imbalance") for line in lines)

    store.athletes.update(ben.id, sport="rowing")  # no published line for rowers
    results.show_test(made.tests[ben.id][0])
    assert reference_lines(results) == [f"{NO_CUT_OFF} (male rowing athletes)."]


def test_change_since_the_previous_valid_test(shown: tuple[Any, Any, Any]) -> None:
    window, results, made = shown
    store = window.context.store
    ids = made.tests[made.ada.id]
    results.show_test(ids[-1])
    assert results.change_title.text() == (
        f"Change since the previous valid test ({day_text(ADA_TESTS[-2][0])})"
    )
    text = results.change_text.text()
    assert "Left +6" in text and "REAL CHANGE" in text and "within MDC" in text
    # The test before is voided: the change is judged against the one before that.
    store.tests.void(ids[-2], "wrong athlete")
    results.show_test(ids[-1])
    assert day_text(ADA_TESTS[-3][0]) in results.change_title.text()
    results.show_test(ids[0])
    assert "First test with a result" in results.change_text.text()


def test_technical_details_wait_in_a_panel(shown: tuple[Any, Any, Any]) -> None:
    _, results, made = shown
    results.show_test(made.tests[made.ada.id][-1])
    assert not results.details.isVisible()
    assert "Hz" not in results.subheading.text()  # the rate is a technical detail
    results.details_button.setChecked(True)
    assert results.details.isVisible()
    details = results.details.text()
    for expected in ("80 Hz", "Low-pass 10.0 Hz", "fingerprint", "0 samples dropped"):
        assert expected in details, expected
    assert "max " in results.left_card.per_kg.text() and "N/kg" in results.left_card.per_kg.text()


def test_times_in_the_local_zone(
    shown: tuple[Any, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, results, made = shown
    monkeypatch.setenv(TZ_ENV, "Europe/Oslo")
    assert when_text("2026-06-15T09:00:00Z") == "2026-06-15 11:00 CEST"
    assert local(dt.datetime(2026, 1, 12, 9, tzinfo=dt.UTC)).hour == 10
    results.show_test(made.tests[made.ada.id][-1])
    assert results.heading.full_text().endswith("2026-06-15 11:00 CEST")


def test_live_screen_shows_n_per_kg_and_the_athletes_own_line(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    from station.app.live import test_run as tr
    from station.app.rig import acquisition as acq
    from tests.app.conftest import FAST_ATHLETE, wait_for

    store = window.context.store
    rower = store.athletes.add("Ro Wer", sport="rowing", sex="female", body_mass_kg=70.0)
    window.context.set_athlete(rower)
    screen = window.screens["test"]
    assert screen.plot.reference_line is None and screen.reference_text == NO_CUT_OFF
    player = store.athletes.add("Sam Striker", sport="soccer", sex="male", body_mass_kg=80.0)
    window.context.set_athlete(player)
    assert screen.plot.reference_line.value() == pytest.approx(337.0)
    assert "Timmins et al. 2016" in screen.reference_text

    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=500&{FAST_ATHLETE}")
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    screen.start_test()
    wait_for(qtbot, lambda: screen.run.state == tr.RUNNING)
    wait_for(qtbot, lambda: len(screen.test_reps) >= 1, 20)
    screen._update_numbers()
    left = screen.test_peaks[0]
    assert f"L {format_number(left / 80.0, 2)}" in screen.per_kg_label.text()
