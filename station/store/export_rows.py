"""What exports read from the store: summary rows and stable pseudonyms.

``store.exports`` of a :class:`~station.store.Store`; the files are written by
:mod:`station.store.export`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from station.store import validate
from station.store.athletes import Athletes
from station.store.backend import Backend
from station.store.errors import ValidationError
from station.store.models import Athlete
from station.store.parts import Service


class Exports(Service):
    """What exports read: summary rows, and the pseudonyms that stand for athletes."""

    def __init__(self, backend: Backend, actor: str, athletes: Athletes) -> None:
        super().__init__(backend, actor)
        self.athletes = athletes
        self._secret_cache: bytes | None = None

    def summary_rows(
        self,
        *,
        athlete: Athlete | int | str | None = None,
        team: str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        include_voided: bool = False,
        changed_since: str | datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows for the summary export; ``since``/``until`` are local dates, both inclusive;
        voided tests only with ``include_voided``.  ``changed_since`` (a date or
        time, local unless it names a zone) keeps only tests added or changed
        since then, voided ones included (see ``sqlite.summary.CHANGED_SINCE``)."""
        athlete_id = None if athlete is None else self.athletes.resolve(athlete).id
        first = None if since is None else validate.a_date(since, "--since")
        last = None if until is None else validate.a_date(until, "--until")
        if first is not None and last is not None and first > last:
            raise ValidationError(f"--since {first} is after --until {last}: swap them")
        start = None if first is None else validate.parse_instant(first.isoformat())
        end = (
            None if last is None else validate.parse_instant((last + timedelta(days=1)).isoformat())
        )
        changed = (
            None
            if changed_since is None
            else validate.parse_instant(changed_since, "--changed-since")
        )
        return self.backend.summary_rows(
            athlete_id, validate.text_field(team, "team"), start, end, include_voided, changed
        )

    def pseudonym(self, athlete_id: int) -> str:
        """A stable pseudonymous id: HMAC of the athlete id with this database's secret.

        The same athlete gets the same pseudonym in every export from this
        database, and nobody without the database can map it back.
        """
        secret = self._secret()
        mac = hmac.new(secret, f"athlete:{int(athlete_id)}".encode(), hashlib.sha256).hexdigest()
        return "P-" + mac[:12]

    def _secret(self) -> bytes:
        if self._secret_cache is None:
            self._secret_cache = self.backend.pseudonym_secret()
        return self._secret_cache
