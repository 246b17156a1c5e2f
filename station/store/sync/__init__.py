"""A station joined to a server: tests saved locally first, synced both ways (issue 14 §1).

The UUID is a record's identity everywhere (integer ids differ between a
station and the server); :mod:`.tables` says how each table is keyed and
which of its columns point at other tables, :mod:`.push` sends what the
server lacks, :mod:`.pull` fetches what the station lacks, :mod:`.state`
keeps the station's marks of what the server already holds,
:mod:`.recordings` fetches the raw recordings a pull leaves on the server, and
:mod:`.status` answers "synced", "n waiting" or "offline" without Qt.
"""

from __future__ import annotations

from station.store.sync.errors import NotJoinedError, SyncError
from station.store.sync.run import SyncReport, join, sync_now
from station.store.sync.status import SyncStatus, sync_status

__all__ = [
    "NotJoinedError",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "join",
    "sync_now",
    "sync_status",
]
