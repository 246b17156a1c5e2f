"""Advisory file locks that tell a live test from one left by a crash.

The process recording a test holds an exclusive lock on ``<recording>.lock``.
The operating system releases it when the process ends in any way, kill -9
included, so "the lock can be taken" means "nobody is recording this any
more" without trusting process ids (which are reused) or clocks.
"""

from __future__ import annotations

import os
from pathlib import Path

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


class FileLock:
    """An exclusive, non-blocking lock on one file (created 0600 if missing)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another holder (any process) has it."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        if _try_lock(fd):
            self._fd = fd
            return True
        os.close(fd)
        return False

    def release(self, remove: bool = False) -> None:
        if self._fd is None:
            return
        try:
            if remove:
                self.path.unlink(missing_ok=True)
            _unlock(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def is_locked(path: str | os.PathLike[str]) -> bool:
    """True while some process holds the lock on ``path``."""
    if not Path(path).exists():
        return False
    probe = FileLock(path)
    if probe.acquire():
        probe.release()
        return False
    return True
