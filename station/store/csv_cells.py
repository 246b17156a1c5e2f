"""Cells safe to open in a spreadsheet: the one guard against CSV formula injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(or their full-width forms, after any leading spaces) is run as a formula by
Excel, LibreOffice and Google Sheets, so a name like ``=HYPERLINK(...)`` could
leak data or run a command on the researcher's machine.  Such text cells get
a leading apostrophe, as OWASP and the spreadsheet makers advise; numbers
(also negative ones, also written as text like ``-12.5``) are left as they are
so they stay numbers.  Every CSV the station writes passes its cells through
:func:`safe_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def looks_like_formula(value: str) -> bool:
    """Text a spreadsheet would run as a formula (a number such as ``-12.5`` is not)."""
    head = value.lstrip(" ")[:1]
    return head in FORMULA_STARTS and not _NUMBER.fullmatch(value)


def safe_cell(value: Any) -> Any:
    """``value`` unless it is text a spreadsheet would run as a formula."""
    if value.__class__ is not str or not value:
        return value
    if looks_like_formula(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]
