"""Keep Lab Streaming Layer on this machine: liblsl reads its configuration
once, from ``LSLAPICFG``, so it is set before any test imports pylsl.  Stream
discovery then uses only the loopback address (no multicast, no broadcast)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

LOOPBACK_ONLY = """\
[ports]
IPv6 = disable
[multicast]
ResolveScope = machine
MachineAddresses = {127.0.0.1}
AddressesOverride = {127.0.0.1}
KnownPeers = {127.0.0.1}
ListenAddress = 127.0.0.1
[log]
level = -2
"""

_folder = Path(tempfile.mkdtemp(prefix="nordic-lsl-"))
(_folder / "lsl_api.cfg").write_text(LOOPBACK_ONLY)
os.environ["LSLAPICFG"] = str(_folder / "lsl_api.cfg")
