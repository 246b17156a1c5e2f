"""The athletes screen's imports: a NordBord trace for the chosen athlete (saved as a
test off the GUI thread, or one line naming what is wrong, nothing saved), and
athletes from a spreadsheet (the dry run as a table, then one transaction)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from station.app.athletes.athlete_import_dialog import AthleteImportDialog
from station.app.athletes.nordbord_import import NordbordImportDialog
from station.app.settings import preferences
from station.present.preferences import Preferences
from tests.store.test_nordbord_import import nordbord_csv

pytestmark = pytest.mark.gui


def _choose(monkeypatch: pytest.MonkeyPatch, path: Path, notes: str = "") -> None:
    def exec_dialog(dialog: NordbordImportDialog) -> int:
        dialog.path.setText(str(path))
        dialog.notes.setText(notes)
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(NordbordImportDialog, "exec", exec_dialog)


def _chosen_athlete(window: Any) -> Any:
    athlete = window.context.store.athletes.add("Ada Trace", external_id="S01")
    screen = window.screens["athletes"]
    screen.refresh()
    assert screen.select(athlete.id)
    return athlete


def test_a_nordbord_trace_is_saved_and_shown(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, messages: Any, tmp_path: Path
) -> None:
    athlete = _chosen_athlete(window)
    blob = nordbord_csv(tmp_path / "export.csv")
    _choose(monkeypatch, tmp_path / "export.csv", notes="from the old system")
    button = window.screens["athletes"].import_button
    assert button.nordbord_action.isEnabled()
    button.nordbord_action.trigger()
    qtbot.waitUntil(lambda: window.context.current_test_id is not None, timeout=20_000)
    assert messages.shown == []
    tests = window.context.store.tests.of_athlete(athlete.id)
    assert [t.id for t in tests] == [window.context.current_test_id]
    test = window.context.store.tests.get(tests[0].id)
    assert test.notes == "from the old system"
    assert test.result.summary["left"]["max_force_n"] == pytest.approx(320.0, rel=0.015)
    raw, _, _ = window.context.store.backend.recording(test.id)
    assert raw == blob  # the file kept byte for byte
    qtbot.waitUntil(lambda: window.current_screen().key == "results")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Time,Left Force\n0,1\n0.02,1\n", "line 1: no right force column"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,1,2\n0.01,1,2\n", "line 4: time 0.01 is not"),
        (b"Name,Score\nAda,3\n", "no Time, Left Force and Right Force columns"),
    ],
)
def test_a_bad_trace_is_one_line_and_nothing_is_saved(
    qtbot: Any,
    window: Any,
    monkeypatch: pytest.MonkeyPatch,
    messages: Any,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    athlete = _chosen_athlete(window)
    (tmp_path / "bad.csv").write_bytes(content)
    _choose(monkeypatch, tmp_path / "bad.csv")
    window.screens["athletes"].import_button.nordbord_action.trigger()
    qtbot.waitUntil(lambda: bool(messages.shown), timeout=20_000)
    [(kind, title, text)] = messages.shown
    assert kind == "critical" and title == "Import NordBord trace"
    assert message in text and "\n" not in text
    assert window.context.store.tests.of_athlete(athlete.id) == []
    assert window.context.current_test_id is None
    assert window.isVisible()  # the app carries on


def test_a_nordbord_trace_is_analysed_with_the_clinics_settings(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, messages: Any, tmp_path: Path
) -> None:
    """As a live test, a recovered one and a saved replay are: not with the defaults."""
    preferences.save(
        window.context.settings, Preferences(cutoff_hz=8.5, asymmetry_formula="signed_pct")
    )
    athlete = _chosen_athlete(window)
    nordbord_csv(tmp_path / "export.csv", peak_left=300.0, peak_right=330.0)
    _choose(monkeypatch, tmp_path / "export.csv")
    window.screens["athletes"].import_button.nordbord_action.trigger()
    qtbot.waitUntil(lambda: window.context.current_test_id is not None, timeout=20_000)
    assert messages.shown == []
    test = window.context.store.tests.get(window.context.current_test_id)
    assert test.athlete_id == athlete.id
    assert test.result.settings["cutoff_hz"] == 8.5
    assert test.result.settings["asymmetry_formula"] == "signed_pct"
    assert test.result.summary["asymmetry_formula"] == "signed_pct"
    # Left weaker: the signed formula says so with its sign (pct_difference would not).
    assert test.result.summary["imbalance_max_pct"] < 0


def test_unusable_analysis_settings_stop_a_nordbord_import_and_say_why(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, messages: Any, tmp_path: Path
) -> None:
    """The Settings screen refuses such values; a settings file edited by hand need not."""

    def unusable() -> Any:
        return Preferences(cutoff_hz=-1.0).analysis_settings()  # raises ValueError

    monkeypatch.setattr(window.context, "analysis_settings", unusable)
    athlete = _chosen_athlete(window)
    nordbord_csv(tmp_path / "export.csv")
    _choose(monkeypatch, tmp_path / "export.csv")
    window.screens["athletes"].import_button.nordbord_action.trigger()
    qtbot.waitUntil(lambda: bool(messages.shown), timeout=20_000)
    [(kind, title, text)] = messages.shown
    assert kind == "critical" and title == "Import NordBord trace"
    assert "cutoff_hz" in text and "Settings screen" in text and "\n" not in text
    assert window.context.store.tests.of_athlete(athlete.id) == []
    assert window.isVisible()


SQUAD = (
    "Name,External ID,Date of Birth,Sex,Team,Body Mass\n"
    "Alex Example,S01,2006-04-12,m,U21,79.5\n"
    "Bea Berg,S02,2005-11-30,f,U21,61\n"
    "\n"
    "Caro Dahl,S03,,female,U19,58\n"
)


def _rows(dialog: AthleteImportDialog) -> list[tuple[str, str, str]]:
    table = dialog.table
    return [
        tuple(table.item(r, c).text() for c in range(3))  # type: ignore[misc]
        for r in range(table.rowCount())
    ]


def test_athlete_import_shows_the_dry_run_then_imports_in_one_go(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    store = window.context.store
    store.athletes.add("Alex Example", external_id="S01", team="U19")
    (tmp_path / "squad.csv").write_text(SQUAD)
    dialog = AthleteImportDialog(store, window)
    qtbot.addWidget(dialog)
    dialog.load(str(tmp_path / "squad.csv"))
    rows = _rows(dialog)
    assert [(line, what) for line, what, _ in rows] == [
        ("2", "changed"),
        ("3", "added"),
        ("4", "blank, skipped"),
        ("5", "added"),
    ]
    assert "team U19 -> U21" in rows[0][2]
    assert "2 to add, 1 to change, 0 unchanged, 0 refused" in dialog.summary.text()
    assert len(store.athletes.find()) == 1  # a dry run writes nothing
    assert dialog.import_button.isEnabled()
    dialog.import_button.click()
    assert dialog.result() == int(QDialog.DialogCode.Accepted)
    names = sorted(a.name for a in store.athletes.find())
    assert names == ["Alex Example", "Bea Berg", "Caro Dahl"]
    assert store.athletes.get(dialog.imported[0]).team == "U21"


def test_a_refused_row_blocks_the_import_and_says_why(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    store = window.context.store
    (tmp_path / "more.csv").write_text(
        "name;external id;date of birth;body mass\n"
        "Dan Lie;S04;12/05/2006;70\n"
        "Eve Nilsen;S05;;64,5\n"
        "Finn Berg;S06;;7\n"
    )
    dialog = AthleteImportDialog(store, window)
    qtbot.addWidget(dialog)
    dialog.load(str(tmp_path / "more.csv"))
    rows = _rows(dialog)
    assert [what for _, what, _ in rows] == ["refused", "added", "refused"]
    assert "use YYYY-MM-DD" in rows[0][2] and "impossible" in rows[2][2]
    assert not dialog.import_button.isEnabled()
    assert "1 to add, 0 to change, 0 unchanged, 2 refused" in dialog.summary.text()
    dialog.apply()  # even if called, a refused plan writes nothing
    assert store.athletes.find() == []

    (tmp_path / "bad.csv").write_bytes(b"\xff\xfeN\x00a\x00")  # UTF-16: refused as a whole
    dialog.load(str(tmp_path / "bad.csv"))
    assert dialog.summary.text().startswith("Cannot read this file:")
    assert dialog.table.rowCount() == 0 and not dialog.import_button.isEnabled()


def test_the_menu_imports_athletes_and_refreshes_the_list(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "squad.csv").write_text(SQUAD)

    def exec_dialog(dialog: AthleteImportDialog) -> int:
        dialog.load(str(tmp_path / "squad.csv"))
        dialog.import_button.click()
        return dialog.result()

    monkeypatch.setattr(AthleteImportDialog, "exec", exec_dialog)
    screen = window.screens["athletes"]
    assert screen.list.count() == 0
    screen.import_button.athletes_action.trigger()
    assert screen.list.count() == 3
