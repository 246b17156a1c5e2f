"""What every part of :class:`~station.store.Store` shares: its folder, backend and actor.

The façade is assembled from one class per job (athletes, certificates,
importing, live tests, stored tests, recomputing, export rows); each
inherits this so it can say whose change it is, and calls the others'
public methods through ``self``.
"""

from __future__ import annotations

from pathlib import Path

from station.store import validate
from station.store.backend import Backend
from station.store.locks import FileLock


class StoreParts:
    folder: Path
    backend: Backend
    actor: str
    _locks: dict[int, FileLock]

    def _who(self, by: str | None) -> str:
        return validate.text_field(by, "who") or self.actor
