"""One way for tests to run ``nordic-station`` in process: exit status, stdout, stderr."""

from __future__ import annotations

import pytest

from station.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` with a ``SystemExit`` (argparse's usage errors) as its status."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
