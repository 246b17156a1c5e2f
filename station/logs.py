"""Where the log goes: a rotating file in the data folder, and the terminal on ``--verbose``.

Every module logs through ``logging.getLogger(__name__)``; this module only
decides where those records end up.  The file lets a clinic send what
happened (link state changes, reconnects, restarts, recording problems,
migrations, imports and exports) without anyone having to reproduce it.
Modules never log athletes' names, dates of birth, notes or passwords.
"""

from __future__ import annotations

import logging
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
    folder: str | os.PathLike[str] | None = None, *, verbose: bool = False, defer: bool = False
) -> Path | None:
    """Send the station's log records to the data folder's log file (when that folder
    exists: a one-off ``analyze`` must not create it) and, when ``verbose``, to stderr.

    Calling it again replaces the handlers it added before, so tests and the app can
    call it more than once.  Returns the log file's path, or None when not writing one.
    With ``defer`` (the command line) where the file goes is settled at the first
    record instead, and None is returned: a command that logs nothing (``analyze``)
    never looks up the user's data folder nor loads ``logging.handlers`` (~10 ms of
    start-up together).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter(FORMAT)
    written: Path | None = None
    if defer:
        _add(root, _DeferredFile(folder), formatter, logging.INFO)
    else:
        file_handler = _file_handler(log_path(folder))
        if file_handler is not None:
            _add(root, file_handler, formatter, logging.INFO)
            written = log_path(folder)
    if verbose:
        _add(root, logging.StreamHandler(sys.stderr), formatter, logging.DEBUG)
    return written


def _add(root: logging.Logger, handler: logging.Handler, formatter: logging.Formatter,
         level: int) -> None:  # fmt: skip
    handler.setLevel(level)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)


def _file_handler(path: Path) -> logging.Handler | None:
    """The rotating log file at ``path`` (opened at its first record), or None when the
    data folder does not exist or the log folder cannot be made (read-only: the command
    still runs)."""
    if not path.parent.parent.is_dir():
        return None
    import logging.handlers

    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        return logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError:
        return None


class _DeferredFile(logging.Handler):
    """The log file of :func:`configure` with ``defer``: found and opened at the first
    record it is given; every record goes to it from then on (none when there is no
    data folder)."""

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        super().__init__()
        self._folder = folder
        self._target: logging.Handler | None = None
        self._settled = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self._settled:
            self._settled = True
            self._target = _file_handler(log_path(self._folder))
            if self._target is not None:
                self._target.setFormatter(self.formatter)
        if self._target is not None:
            self._target.emit(record)

    def flush(self) -> None:
        if self._target is not None:
            self._target.flush()

    def close(self) -> None:
        if self._target is not None:
            self._target.close()
        super().close()
