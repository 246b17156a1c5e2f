"""Named virtual rigs in this process, so a port can be reopened to the same rig.

Why: a real rig survives the host closing and reopening its port (and an
unplug and replug), so ``virtual://NAME`` must too.  The first open of a name
builds the rig from the URL's options; later opens of that name reach the
same instance, whatever options they carry.  Tests and the app get the rig
itself with :func:`get_device` (to unplug it, hang a mass, read the truth) or
put their own in place first with :func:`register_device`.
"""

from __future__ import annotations

import threading
import urllib.parse

from firmware_bridge.errors import PortError
from firmware_bridge.virtual_rig.device import VirtualRig
from firmware_bridge.virtual_rig.options import RigOptions

DEFAULT_NAME = "rig"

_devices: dict[str, VirtualRig] = {}
_lock = threading.Lock()


def parse_virtual_url(url: str) -> tuple[str, str]:
    """``virtual://NAME?query`` -> (NAME, query); an empty name is ``rig``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "virtual":
        raise PortError(f"not a virtual rig URL: {url!r} (use virtual://NAME?rate=80)")
    name = urllib.parse.unquote(parts.netloc + parts.path).strip("/") or DEFAULT_NAME
    return name, parts.query


def register_device(name: str, rig: VirtualRig) -> VirtualRig:
    """Make ``virtual://name`` reach ``rig`` (replacing any rig of that name)."""
    with _lock:
        _devices[name] = rig
    return rig


def get_device(name: str) -> VirtualRig:
    """The rig that ``virtual://name`` reaches; PortError if none was opened or registered."""
    with _lock:
        rig = _devices.get(name)
    if rig is None:
        raise PortError(
            f"no virtual rig named {name!r}: open virtual://{name} or register one first"
        )
    return rig


def forget_device(name: str) -> None:
    """Drop a name (the next open builds a new rig)."""
    with _lock:
        _devices.pop(name, None)


def clear_devices() -> None:
    with _lock:
        _devices.clear()


def device_for_url(url: str) -> VirtualRig:
    """The rig for a ``virtual://`` URL: the named one, or a new one built from the query."""
    name, query = parse_virtual_url(url)
    options = RigOptions.from_query(query)  # checked even when the rig exists
    with _lock:
        rig = _devices.get(name)
        if rig is None:
            rig = options.build()
            _devices[name] = rig
    return rig
