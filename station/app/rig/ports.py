"""Where a rig can be: serial ports with their USB descriptions, and the URLs we build.

Listing ports goes through ``serial.tools.list_ports`` (which reads sysfs or
the OS registry; it opens nothing), so it is safe to call from the GUI.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from serial.tools import list_ports

VIRTUAL_NAME = "station"
DEFAULT_VIRTUAL_RATE_HZ = 1000


@dataclass(frozen=True)
class PortChoice:
    """A port the user can pick: ``device`` is what is opened; ``label`` what is shown."""

    device: str
    label: str
    kind: str  # "serial", "virtual" or "replay"
    usb: bool = True  # a rig is a USB device; a built-in UART (ttyS0, COM1) rarely is one


def serial_ports() -> list[PortChoice]:
    """USB serial ports first (a rig is a USB CDC device), each with its description."""
    choices = []
    for port in sorted(list_ports.comports(), key=lambda p: (p.vid is None, p.device)):
        parts = [port.device]
        description = port.description if port.description and port.description != "n/a" else ""
        if description and description != port.device:
            parts.append(description)
        if port.manufacturer and port.manufacturer not in description:
            parts.append(port.manufacturer)
        if port.serial_number:
            parts.append(f"serial {port.serial_number}")
        if port.vid is not None:
            parts.append(f"USB {port.vid:04x}:{port.pid or 0:04x}")
        choices.append(PortChoice(port.device, " — ".join(parts), "serial", port.vid is not None))
    return choices


def virtual_url(
    name: str = VIRTUAL_NAME, rate_hz: float = DEFAULT_VIRTUAL_RATE_HZ, **options: object
) -> str:
    """``virtual://NAME?rate=...&...``: the in-process virtual rig."""
    query = urllib.parse.urlencode(
        {"rate": f"{rate_hz:g}", **{k: str(v) for k, v in options.items()}}
    )
    return f"virtual://{name}?{query}"


def replay_url(path: str, speed: float | str = 1) -> str:
    """``replay://PATH?speed=X``: play a recording as if a rig sent it now."""
    speed_text = speed if isinstance(speed, str) else f"{speed:g}"
    return f"replay://{urllib.parse.quote(path)}?speed={speed_text}"


def describe_source(url: str) -> str:
    """Short words for a port or URL (a URL's options are for machines, not for the screen)."""
    kind = kind_of(url)
    if kind == "virtual":
        return "the virtual rig"
    if kind == "replay":
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        return f"a replay of {path.rsplit('/', 1)[-1]}"
    return url


def kind_of(url: str) -> str:
    """``serial``, ``virtual`` or ``replay`` from a port name or URL."""
    scheme = urllib.parse.urlsplit(url).scheme if "://" in url else ""
    if scheme == "virtual":
        return "virtual"
    if scheme == "replay":
        return "replay"
    return "serial"
