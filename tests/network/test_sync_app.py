"""The app's sync indicator: hidden on a station that is not joined; on a joined one it
syncs in the background (off the GUI thread) and shows "synced", then "offline" when
the server goes away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from station.store.store import Store
from station.store.sync import join, sync_status
from tests.network.sync_fixtures import PgServer, clinic_server, ok, station

__all__ = ["clinic_server"]

pytest.importorskip("pytestqt")


def test_not_joined_shows_nothing(qtbot: Any, tmp_path: Path) -> None:
    from station.app.shell.sync_status import SyncIndicator

    Store.open(tmp_path).close()
    widget = SyncIndicator(tmp_path, every_ms=60_000)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.status is not None, timeout=30_000)
    assert widget.status is not None and not widget.status.joined
    assert widget.isHidden()
    widget.shutdown()


def test_background_sync_then_offline(qtbot: Any, clinic_server: PgServer, tmp_path: Path) -> None:
    from station.app.shell.sync_status import SyncIndicator

    join(tmp_path, clinic_server.url)
    ok(station(tmp_path, "athlete", "add", "--name", "Pat Widget", "--team", "A"))
    assert sync_status(tmp_path).text == "joined, never synced: 1 waiting"
    widget = SyncIndicator(tmp_path, every_ms=60_000)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.status is not None, timeout=30_000)
    # The first look syncs nothing.
    assert widget.text() == "Server: joined, never synced: 1 waiting"
    assert widget.toolTip() == "last sync: never"
    qtbot.waitUntil(lambda: widget.runner.idle, timeout=30_000)
    widget.refresh()  # what the timer does: sync, then look
    qtbot.waitUntil(lambda: widget.text() == "Server: synced", timeout=60_000)
    clinic_server.stop()
    qtbot.waitUntil(lambda: widget.runner.idle, timeout=30_000)
    widget.refresh()
    qtbot.waitUntil(lambda: widget.text() == "Server: offline", timeout=60_000)
    assert not widget.isHidden()
    widget.shutdown()
