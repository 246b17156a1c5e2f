"""Erasing an athlete from a server database.

The rows are erased by the shared :func:`station.store.sql.erasure.erase_and_audit`
in one transaction.  The server keeps no backups of the station's own
(a database's backups are the administrator's, and so is erasing from
them); dead row versions are reclaimed by the server's vacuum.
"""

from __future__ import annotations

from station.store.postgres.connection import Connection
from station.store.sql.erasure import Erased, erase_and_audit, log_erased
from station.store.validate import now_utc


class Erasure(Connection):
    def erase_athlete(self, athlete_id: int, reason: str, actor: str) -> Erased:
        """Erase an athlete; the audit keeps that it happened (who, when, why),
        never what was erased."""
        at = now_utc()
        with self._write() as conn:
            outcome = erase_and_audit(conn, self.dialect, athlete_id, reason, actor, at)
        log_erased(outcome)
        return outcome
