"""``make run`` finds the system libraries Qt's xcb plugin lacks and names their packages
(issue 11 §5); no Qt is loaded to find out."""

from __future__ import annotations

import subprocess
from pathlib import Path

from station.app.shell import qt_libs

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms1.so.1 => /usr/lib/x86_64-linux-gnu/libxcb-keysyms.so.1 (0x00007f)
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => not found
"""


def test_missing_libraries_name_their_packages() -> None:
    assert qt_libs.missing_libraries(LDD) == [
        "libxcb-cursor.so.0",
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libxkbcommon-x11.so.0",
    ]
    assert qt_libs.packages_for(qt_libs.missing_libraries(LDD)) == [
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libxkbcommon-x11-0",
    ]
    assert qt_libs.package_for("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert qt_libs.package_for("libfoo2.so.5") == "libfoo2-5"


def test_the_install_command_uses_sudo_only_when_not_root() -> None:
    pkgs = ["libxcb-cursor0"]
    assert qt_libs.install_command(pkgs, is_root=True, has_sudo=True)[:2] == ["apt-get", "install"]
    assert qt_libs.install_command(pkgs, is_root=False, has_sudo=True)[:3] == [
        "sudo",
        "apt-get",
        "install",
    ]
    assert qt_libs.install_command(pkgs, is_root=False, has_sudo=False) is None
    assert qt_libs.install_command([], is_root=True, has_sudo=True) is None


def test_check_runs_ldd_on_the_plugin(tmp_path: Path) -> None:
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    seen: list[list[str]] = []

    def fake(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, LDD, "")

    assert qt_libs.check(fake, plugin)[0] == "libxcb-cursor0"
    assert seen == [["ldd", str(plugin)]]


def test_this_machine_has_what_qt_needs_or_says_the_command() -> None:
    """The real probe: it exits 0 when nothing is missing, else 2 with the one command."""
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "station.app.shell.qt_libs"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 2)
    if result.returncode == 2:
        assert "apt-get install -y" in result.stdout
    assert "PySide6.QtGui" not in result.stderr
