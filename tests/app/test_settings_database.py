"""Settings' "Database" section: the store in use, a folder or a PostgreSQL URL for the
next start (saved without its password), "Test connection" off the GUI thread, and the
start-up order (--database / NORDIC_STATION_DATABASE, then Settings, then the data
folder's own)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from station import paths
from station.app.settings import database_section
from station.app.shell.app import build_window
from station.app.shell.settings import AppSettings
from tests.app.conftest import wait_for

SECRET = "s3cret-Pw"
URL = f"postgresql://coach:{SECRET}@db.clinic:5432/nordic"


@pytest.fixture(autouse=True)
def no_database_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.DATABASE_ENV_VAR, raising=False)


def section(window: Any) -> database_section.DatabaseSection:
    return window.screens["settings"].database


def test_the_store_in_use_is_shown(window: Any, data_dir: Path) -> None:
    shown = section(window).in_use.text()
    assert shown == f"In use now: {data_dir}"
    assert section(window).location.text() == ""  # nothing chosen: the data folder's own


def test_a_url_is_saved_without_its_password(window: Any, settings_path: Path) -> None:
    screen = window.screens["settings"]
    section(window).location.setText(URL)
    assert screen.save()
    banner = screen.banner.text()
    assert "next start" in banner and "password was not saved" in banner
    assert section(window).location.text() == "postgresql://coach@db.clinic:5432/nordic"
    assert SECRET not in settings_path.read_text(encoding="utf-8")
    again = AppSettings(settings_path)
    assert database_section.preferred_database(again) == "postgresql://coach@db.clinic:5432/nordic"
    # Saving again with nothing changed says nothing about the next start.
    assert screen.save() and "next start" not in screen.banner.text()


def test_a_location_that_cannot_be_used_is_not_saved(window: Any, settings_path: Path) -> None:
    screen = window.screens["settings"]
    screen.cutoff.setValue(9.0)
    section(window).location.setText(f"mysql://coach:{SECRET}@db/nordic")
    assert not screen.save()
    banner = screen.banner.text()
    assert "Not saved" in banner and "mysql://" in banner and SECRET not in banner
    settings = AppSettings(settings_path)
    assert database_section.preferred_database(settings) is None
    assert settings.get_str("preferences/cutoff_hz") == ""  # nothing at all was written


def test_clearing_the_choice_goes_back_to_the_data_folder(
    window: Any, settings_path: Path, tmp_path: Path
) -> None:
    screen = window.screens["settings"]
    section(window).location.setText(str(tmp_path / "elsewhere"))
    assert screen.save()
    section(window).location.setText("")
    assert screen.save()
    assert database_section.preferred_database(AppSettings(settings_path)) is None


def test_test_connection_of_a_folder(qtbot: Any, window: Any, tmp_path: Path) -> None:
    part = section(window)
    part.location.setText(str(tmp_path / "new-store"))
    part.test_connection()
    wait_for(qtbot, lambda: part.test_button.isEnabled())
    assert "one is made there at the next start" in part.result.text()
    assert not (tmp_path / "new-store").exists()  # a test changes nothing
    part.location.setText("")  # the data folder's own, which exists
    part.test_connection()
    wait_for(qtbot, lambda: part.test_button.isEnabled())
    assert "holds a database" in part.result.text()


def test_test_connection_failure_is_one_line_without_the_password(qtbot: Any, window: Any) -> None:
    part = section(window)
    part.location.setText(f"postgresql://coach:{SECRET}@127.0.0.1:1/nordic")  # nobody listens
    part.test_connection()
    wait_for(qtbot, lambda: part.test_button.isEnabled())
    text = part.result.text()
    assert text.startswith("Cannot be used:") and "cannot reach the database server" in text
    assert SECRET not in text and "coach:***@" in text


def fake_server(monkeypatch: pytest.MonkeyPatch, opened: Callable[[str], Any]) -> None:
    """Stand-in for a server: what ``Test connection`` reads of it (its schema version)."""
    from station.store.postgres import opening

    monkeypatch.setattr(opening, "probe", lambda location: opened(location).schema_version)


def test_test_connection_runs_off_the_gui_thread(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = threading.Event()
    threads: list[str] = []

    class Server:
        schema_version = 7

        def close(self) -> None:
            pass

    def slow(location: str) -> Server:
        threads.append(threading.current_thread().name)
        assert answer.wait(10)
        return Server()

    fake_server(monkeypatch, slow)
    part = section(window)
    part.location.setText(URL)
    part.test_connection()
    # The server has not answered yet, and the screen still runs its event loop.
    wait_for(qtbot, lambda: threads == ["station-db-check"])
    assert not part.test_button.isEnabled() and part.result.text().startswith("Testing")
    assert SECRET not in part.result.text()
    qtbot.wait(50)
    assert not part.test_button.isEnabled()
    answer.set()
    wait_for(qtbot, lambda: part.test_button.isEnabled())
    assert (
        part.result.text()
        == "Connected to postgresql://coach:***@db.clinic:5432/nordic (schema 7)."
    )


def test_the_choice_in_settings_is_used_at_the_next_start(
    qtbot: Any, messages: Any, data_dir: Path, settings_path: Path, tmp_path: Path
) -> None:
    chosen = tmp_path / "clinic-store"
    settings = AppSettings(settings_path)
    settings.set(database_section.KEY, str(chosen))
    settings.sync()
    window = build_window(data_dir, settings_path, install_hook=False)
    qtbot.addWidget(window)
    try:
        store = window.context.store
        assert store.location == str(chosen) and paths.database_path(chosen).exists()
        assert not paths.database_path(data_dir).exists()
        assert window.start_warning is None
    finally:
        window.context.acquisition.shutdown()
        window.context.store.close()


def test_database_option_beats_the_settings_choice(
    qtbot: Any, messages: Any, data_dir: Path, settings_path: Path, tmp_path: Path
) -> None:
    settings = AppSettings(settings_path)
    settings.set(database_section.KEY, str(tmp_path / "from-settings"))
    settings.sync()
    option = f"sqlite:///{tmp_path / 'option.sqlite3'}"
    window = build_window(data_dir, settings_path, database=option, install_hook=False)
    qtbot.addWidget(window)
    try:
        assert window.context.store.location == option
        assert not (tmp_path / "from-settings").exists()
    finally:
        window.context.acquisition.shutdown()
        window.context.store.close()


def test_a_settings_choice_that_cannot_be_opened_falls_back_with_a_warning(
    qtbot: Any, messages: Any, data_dir: Path, settings_path: Path, tmp_path: Path
) -> None:
    settings = AppSettings(settings_path)
    settings.set(database_section.KEY, "postgresql://coach@127.0.0.1:1/nordic")
    settings.sync()
    window = build_window(data_dir, settings_path, install_hook=False)
    qtbot.addWidget(window)
    try:
        assert window.context.store.location == str(data_dir)
        assert window.start_warning is not None
        assert "database chosen in Settings cannot be used" in window.start_warning
        assert "cannot reach the database server" in window.start_warning
    finally:
        window.context.acquisition.shutdown()
        window.context.store.close()


def test_the_location_field_shows_its_placeholder_whole_at_1366(window: Any, qtbot: Any) -> None:
    window.resize(1366, 768)
    window.show()
    window.show_screen("settings")
    field = section(window).location
    qtbot.waitUntil(lambda: field.width() > 0)
    metrics = field.fontMetrics()
    assert field.width() >= metrics.horizontalAdvance(database_section.PLACEHOLDER)
    assert field.width() >= metrics.horizontalAdvance(database_section.WIDE_EXAMPLE)
