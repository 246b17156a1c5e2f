"""Everything that knows the wire: framing, messages, decoding, links, recordings,
replay and the virtual rig.  It knows nothing of newtons, athletes or Qt."""

import logging

import serial

__version__ = "0.1.0"

# serial_for_url("replay://...") and ("virtual://...") find their handlers here.
if "firmware_bridge.urlhandler" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("firmware_bridge.urlhandler")

# A library logs; the application decides where to (a log file, --verbose).
# Without this, Python would print warnings on stderr, breaking one-line errors.
logging.getLogger(__name__).addHandler(logging.NullHandler())
