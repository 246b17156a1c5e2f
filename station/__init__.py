"""Nordic Station: analysis, storage, command line and desktop app."""

from firmware_bridge.version import package_version

__version__ = package_version()
