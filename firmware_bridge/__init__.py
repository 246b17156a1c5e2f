"""Everything that knows the wire: framing, messages, decoding, links, recordings,
replay and the virtual rig.  It knows nothing of newtons, athletes or Qt."""

import logging

# pyserial's serial_for_url("replay://...") and ("virtual://...") find their handlers
# once firmware_bridge.device is imported (every port the station opens goes through it);
# reading a capture file never loads pyserial.

# A library logs; the application decides where to (a log file, --verbose).
# Without this, Python would print warnings on stderr, breaking one-line errors.
logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> str:
    """``__version__`` on first use: importlib.metadata costs a command ~20 ms at start-up."""
    if name == "__version__":
        from firmware_bridge.version import package_version

        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
