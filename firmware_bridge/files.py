"""Reading a file someone named: only a regular file, only up to a size limit.

Every file the station reads on a user's word (captures, recordings, certificates,
calibration points) goes through :func:`read_regular` or :func:`check_regular`.

``/dev/zero`` would fill the memory and a FIFO would block forever, so both
are refused before a byte is read; the file is opened without blocking and
checked again on the open descriptor (it may have been swapped meanwhile).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from firmware_bridge.errors import InputError

MAX_CAPTURE_BYTES = 512 << 20  # an hour at 1 kHz is ~90 MB
MAX_CERTIFICATE_BYTES = 1 << 20
MAX_POINTS_BYTES = 16 << 20


def _mb(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


def check_regular(path: Path, info: os.stat_result, limit: int, error: type[InputError]) -> None:
    if not stat.S_ISREG(info.st_mode):
        mode = info.st_mode
        what = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a pipe"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket or special file"
        )
        raise error(
            f"{path} is not a regular file ({what}): only regular files up to {_mb(limit)} "
            "can be read"
        )
    if info.st_size > limit:
        raise error(
            f"{path} is {_mb(info.st_size)}: files over {_mb(limit)} are refused "
            "(is it really a capture?)"
        )


def read_regular(path: str | os.PathLike[str], limit: int, error: type[InputError]) -> bytes:
    """The whole file, if it is a regular file of at most ``limit`` bytes."""
    path = Path(path)
    try:
        check_regular(path, path.stat(), limit, error)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{path}: no such file (check the path)") from None
    except PermissionError:
        raise error(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise error(f"{path} is a folder, not a file") from None
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        check_regular(path, os.fstat(fd), limit, error)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            blob = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(blob) > limit:
        raise error(f"{path} grew past {_mb(limit)} while being read: refused")
    if not blob:
        raise error(f"{path} is empty: it holds no bytes from a rig (was the capture cut short?)")
    return blob
