"""Before the first window: are the system libraries Qt's X11 (xcb) plugin needs installed?

On a minimal Debian or Ubuntu, PySide6's wheel brings Qt but not the X11
helper libraries its xcb platform plugin loads (libxcb-cursor0,
libxcb-icccm4, libxcb-keysyms1...).  Qt then aborts with a message that
names one of them.  ``make run`` calls ``python -m station.app.shell.qt_libs
--install`` first: it asks ``ldd`` which libraries the plugin cannot find,
installs their packages with apt-get (through sudo when not root), or stops
with the one exact command to run.  Importing this module does not load Qt.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# Library file names whose Debian package does not follow the usual naming rule.
PACKAGES = {
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def plugin_path() -> Path | None:
    """PySide6's xcb platform plugin (None when PySide6 or the plugin is not there)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    plugin = base / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(ldd_output: str) -> list[str]:
    """The library file names ``ldd`` could not find, in order, once each."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd_output)))


def package_for(library: str) -> str:
    """The Debian package holding ``library`` ("libxcb-cursor.so.0" -> "libxcb-cursor0")."""
    if library in PACKAGES:
        return PACKAGES[library]
    match = re.match(r"^lib(.+)\.so\.(\d+)", library)
    if not match:
        return library
    name, version = match.group(1).lower(), match.group(2)
    # Debian policy: the version is appended, after a hyphen when the name ends in a digit.
    return f"lib{name}{'-' if name[-1].isdigit() else ''}{version}"


def packages_for(libraries: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(package_for(lib) for lib in libraries))


def install_command(packages: Sequence[str], is_root: bool, has_sudo: bool) -> list[str] | None:
    """The apt-get command that installs ``packages`` (None when it cannot be run here)."""
    if not packages:
        return None
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if is_root:
        return command
    return ["sudo", *command] if has_sudo else None


def check(
    run: Callable[[list[str]], subprocess.CompletedProcess[str]] | None = None,
    plugin: Path | None = None,
) -> list[str]:
    """The packages missing for Qt's xcb plugin (empty when all is there or cannot be told)."""
    plugin = plugin or plugin_path()
    if plugin is None or shutil.which("ldd") is None:
        return []
    runner = run or (lambda cmd: subprocess.run(cmd, capture_output=True, text=True, check=False))
    result = runner(["ldd", str(plugin)])
    return packages_for(missing_libraries(result.stdout + result.stderr))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check (and install) Qt's X11 libraries.")
    parser.add_argument("--install", action="store_true", help="install what is missing")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        return 0
    packages = check()
    if not packages:
        return 0
    command = install_command(
        packages, hasattr(os, "geteuid") and os.geteuid() == 0, shutil.which("sudo") is not None
    )
    shown = " ".join(command) if command else "sudo apt-get install -y " + " ".join(packages)
    print(f"Qt needs system libraries that are missing here: {', '.join(packages)}.", flush=True)
    if not args.install or command is None or shutil.which("apt-get") is None:
        print(f"Install them with this one command, then run 'make run' again:\n  {shown}")
        return 2
    print(f"Installing them now: {shown}", flush=True)
    update = (["sudo"] if command[0] == "sudo" else []) + ["apt-get", "update"]
    subprocess.run(update, check=False)
    if subprocess.run(command, check=False).returncode != 0 or check():
        print(f"The installation did not finish. Run this, then 'make run' again:\n  {shown}")
        return 2
    print("Done: Qt's libraries are installed.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
