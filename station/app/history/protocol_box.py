"""History's protocol selector: one protocol group (protocol and knee angle) at a time.

Tests of different protocols or angles are never on one trend, in one change
judgement or in one report (:mod:`station.present.protocols`); the box lists the
groups the athlete has, Nordic first, and keeps the choice across refreshes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QComboBox

from station.present.protocols import NORDIC, ProtocolKey, key_label, keys_in


class ProtocolBox(QComboBox):
    """The protocol group shown; Nordic when the athlete has no test yet."""

    def __init__(self) -> None:
        super().__init__()
        self.setToolTip(
            "Tests of one protocol and knee angle at a time: a 30° isometric is never "
            "compared with a Nordic or with another angle"
        )
        self._keys: list[ProtocolKey] = [(NORDIC, None)]
        self.addItem(key_label(self._keys[0]))

    def key(self) -> ProtocolKey:
        index = self.currentIndex()
        return self._keys[index] if 0 <= index < len(self._keys) else (NORDIC, None)

    def fill(self, tests: Iterable[Any]) -> bool:
        """List the groups of ``tests`` (keeping the current one when it is still there);
        True when the choice changed."""
        before = self.key()
        keys = keys_in(tests) or [(NORDIC, None)]
        if keys == self._keys:
            return False
        self.blockSignals(True)
        self.clear()
        self._keys = keys
        for key in keys:
            self.addItem(key_label(key))
        self.setCurrentIndex(keys.index(before) if before in keys else 0)
        self.blockSignals(False)
        return self.key() != before

    def choose(self, key: ProtocolKey) -> bool:
        if key not in self._keys:
            return False
        self.setCurrentIndex(self._keys.index(key))
        return True
