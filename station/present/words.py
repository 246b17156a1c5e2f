"""Words a clinician uses: the rig's protocol terms never reach a dialog or the status bar.

Errors and link events are written by the bridge for every reader (the CLI's
users read "INFO" and "--passive" happily); what the app shows goes through
:func:`plain_words` first, so "no INFO from /dev/ttyUSB0" reads "no answer from
/dev/ttyUSB0".
"""

from __future__ import annotations

import re

# (pattern, replacement), applied in order; whole words only.
PLAIN_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bno INFO from\b", "no answer from"),
    (r"\bit sent INFO as at power-on\b", "it started afresh as after switching on"),
    (r"\bINFO handshake\b", "greeting"),
    (r"\bGET_INFO\b", "a request for its details"),
    (r"\b(?:an |the )?INFO\b", "its details"),
    (r"\s*\(passive\)", ""),
    (r"\bpassive mode\b", "listen-only mode"),
    (r"\bSTART (?:sent|acknowledged)\b", "streaming started"),
    (r"\bSTOP (?:sent|acknowledged)\b", "streaming stopped"),
    (r"\bACK\b", "answer"),
    (r"\bnew segment\b", "new part of the recording"),
    (r"\bsegments\b", "parts"),
    (r"\bsegment\b", "part"),
)
_COMPILED = tuple((re.compile(p), r) for p, r in PLAIN_WORDS)


def plain_words(text: str) -> str:
    """``text`` with the protocol's terms in everyday words."""
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text
