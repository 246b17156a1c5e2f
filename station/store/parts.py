"""What every service of :class:`~station.store.Store` shares: the backend and who acts.

Each service (athletes, tests, certificates, ...) is a small class holding
the backend and the other services it needs, passed in when the store is
assembled (:mod:`station.store.store`), so what depends on what is written
down once rather than found through ``self``.
"""

from __future__ import annotations

from station.store import validate
from station.store.backend import Backend


class Service:
    """A part of the store: its backend and the actor of changes nobody names."""

    def __init__(self, backend: Backend, actor: str) -> None:
        self.backend = backend
        self.actor = actor

    def _who(self, by: str | None) -> str:
        """Who makes a change: ``by`` when given (checked), else the store's actor."""
        return validate.text_field(by, "who") or self.actor
