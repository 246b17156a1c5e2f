"""Where the log goes: a rotating file in the data folder, and the terminal on ``--verbose``.

Every module logs through ``logging.getLogger(__name__)``; this module only
decides where those records end up.  The file lets a clinic send what
happened (link state changes, reconnects, restarts, recording problems,
migrations, imports and exports) without anyone having to reproduce it.
Modules never log athletes' names, dates of birth, notes or passwords.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from station.paths import data_dir

LOG_FOLDER = "logs"
LOG_NAME = "nordic-station.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_HANDLER_FLAG = "_nordic_station"


def log_path(folder: str | os.PathLike[str] | None = None) -> Path:
    """The log file inside the data folder."""
    return data_dir(folder) / LOG_FOLDER / LOG_NAME


def configure(
    folder: str | os.PathLike[str] | None = None, *, verbose: bool = False
) -> Path | None:
    """Send the station's log records to the data folder's log file (when that folder
    exists: a one-off ``analyze`` must not create it) and, when ``verbose``, to stderr.

    Calling it again replaces the handlers it added before, so tests and the app can
    call it more than once.  Returns the log file's path, or None when not writing one.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter(FORMAT)
    written: Path | None = None
    path = log_path(folder)
    if path.parent.parent.is_dir():
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
            )
        except OSError:
            file_handler = None  # a read-only data folder: the command still runs
        if file_handler is not None:
            file_handler.setLevel(logging.INFO)
            file_handler.setFormatter(formatter)
            setattr(file_handler, _HANDLER_FLAG, True)
            root.addHandler(file_handler)
            written = path
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.DEBUG)
        console.setFormatter(formatter)
        setattr(console, _HANDLER_FLAG, True)
        root.addHandler(console)
    return written
