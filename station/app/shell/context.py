"""What the screens share: the data folder, settings, the store, the rig connection.

Screens never hold references to each other; they read and change the shared
state here and listen to its signals.  A screen added later (history,
reports) gets everything it needs from this one object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from station.analysis import AnalysisSettings
from station.app.settings import preferences
from station.app.shell.settings import AppSettings
from station.present.preferences import Preferences
from station.store import Store

if TYPE_CHECKING:
    from station.app.live.test_run import TestRun
    from station.app.rig.acquisition import Acquisition


class AppContext(QObject):
    """Shared state and the signals that announce changes to it."""

    # The athlete chosen for testing (an Athlete from the store, or None).
    athlete_changed = Signal(object)
    # The athlete list changed (added, edited, archived).
    athletes_changed = Signal()
    # A test was committed to the store (its id); results/history refresh on this.
    test_saved = Signal(int)
    # A stored test's result changed (exclusion, notes): its id.
    test_changed = Signal(int)
    # Ask the window to show a screen by key.
    navigate = Signal(str)
    # A transient message for the status bar (text, milliseconds; 0 = until replaced).
    status_message = Signal(str, int)
    # The Settings screen saved new preferences (the Preferences): screens re-show their
    # forces in the display unit, the test screen takes the new analysis rules.
    preferences_changed = Signal(object)

    def __init__(
        self,
        data_dir: Path,
        settings: AppSettings,
        store: Store,
        acquisition: Acquisition,
        operator: str = "",
    ) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.settings = settings
        self.store = store
        self.acquisition = acquisition
        self.operator = operator
        self.athlete: Any = None
        # The test shown on the results screen (a store test id), set after a test ends.
        self.current_test_id: int | None = None
        # The test being recorded (one at a time); set by the app once the store is open.
        self.test_run: TestRun | None = None

    def set_athlete(self, athlete: Any) -> None:
        """Choose the athlete the next test is for, and remember the choice."""
        self.athlete = athlete
        if athlete is not None:
            self.settings.set("athletes/last_id", int(athlete.id))
        self.athlete_changed.emit(athlete)

    def preferences(self) -> Preferences:
        """The clinic's saved preferences (read afresh: the settings file is the truth)."""
        return preferences.load(self.settings)

    def analysis_settings(self) -> AnalysisSettings:
        """The analysis rules new results are computed and stored with (ValueError if the
        saved preferences are inconsistent)."""
        return self.preferences().analysis_settings()

    def display_unit(self) -> str:
        """The force unit screens show (N, kgf or lbf); stored values stay in newtons."""
        return self.preferences().display_unit

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.status_message.emit(text, timeout_ms)
