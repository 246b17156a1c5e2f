"""Writing export files: checked targets, and files that are whole or absent.

A file is written to a temporary name in its folder and renamed into place
only once everything is written; a full disk says so, and that nothing was
written.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from firmware_bridge.errors import NordicError, storage_error
from station.store.errors import StoreError


def check_file_target(path: Path, force: bool) -> Path:
    """A file we may write: its folder exists; an existing file only with ``force``."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a folder: give a file name, e.g. {path / 'summary.csv'}")
    if not path.parent.is_dir():
        raise StoreError(f"folder {path.parent} does not exist: create it first")
    if path.exists() and not force and not _special(path):
        raise StoreError(f"{path} already exists: pass --force to replace it")
    return path


def check_dir_target(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} exists and is not a folder")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise StoreError(f"folder {folder.parent} does not exist: create it first")
        folder.mkdir(mode=0o700)
    return folder


def write_atomic(path: Path, write: Callable[[TextIO], object]) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    write_files([(path, write)])


def _special(path: Path) -> bool:
    """An existing target that is not a regular file (a device such as /dev/null, a pipe):
    renaming a file over it would replace the device itself."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def write_files(files: Sequence[tuple[Path, Callable[[TextIO], object]]]) -> None:
    """Write several files whole or not at all: each goes to a temporary file in
    its folder first, and they are renamed into place only once all are written.
    A full disk says so, and that nothing was written."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, write in files:
            if _special(path):  # /dev/stdout, a pipe: written straight, never renamed over
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    write(handle)
                continue
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
            temps.append((temp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
        for temp, path in temps:
            os.replace(temp, path)
    except BaseException as exc:
        for temp, _ in temps:
            Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, NordicError):
            error = storage_error(exc, ", ".join(str(path) for path, _ in files))
            if error is not exc:
                raise type(error)(
                    f"{error}: nothing was written (partial files were removed)"
                ) from None
        raise
