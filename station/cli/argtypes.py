"""argparse ``type`` checks for file arguments, without loading the store.

Commands that never open a database (``analyze``, ``calibrate``, ``verify``,
``certificate``) import this, so their start-up stays light.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.errors import InputError
from firmware_bridge.files import check_regular


def regular_file(limit: int) -> Callable[[str], str]:
    """An argparse ``type`` for a file to read: a device (``/dev/zero``) or a pipe
    would fill the memory or block forever, so only regular files up to ``limit``
    bytes get through.  A missing file is left for the reader to report."""

    def check(text: str) -> str:
        path = Path(text)
        try:
            info = path.stat()
        except (OSError, ValueError):
            return text
        try:
            check_regular(path, info, limit, InputError)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return check
