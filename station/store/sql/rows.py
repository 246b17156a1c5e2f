"""Rows in and out: how a SELECT becomes a dataclass and how values become columns.

Every reader of the SQLite backend maps its rows through one :class:`Shape`
(the columns it selects, in order, and how each is converted), so a column
list and its mapping can never drift apart; the JSON, hashing and
column-whitelist helpers the writers share live here too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from station.store.errors import StoreError

T = TypeVar("T")


class Shape(Generic[T]):
    """A dataclass read by one SELECT: ``columns`` pairs each field with its SQL
    expression (a bare name means the same column), ``convert`` turns stored
    values into field values (JSON text, 0/1 flags, ISO dates)."""

    def __init__(
        self,
        cls: type[T],
        source: str,
        columns: Sequence[str | tuple[str, str]],
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.cls = cls
        pairs = [(c, c) if isinstance(c, str) else c for c in columns]
        self.fields = tuple(field for field, _ in pairs)
        self.sql = f"SELECT {', '.join(expr for _, expr in pairs)} FROM {source} "
        self._convert = [(convert or {}).get(field) for field in self.fields]

    def make(self, row: Sequence[Any], **fixed: Any) -> T:
        """The dataclass of one row; ``fixed`` fields are given, not read."""
        values = {
            field: value if convert is None else convert(value)
            for field, convert, value in zip(self.fields, self._convert, row, strict=True)
        }
        values.update(fixed)
        return self.cls(**values)

    def many(self, rows: Sequence[Sequence[Any]], **fixed: Any) -> list[T]:
        return [self.make(row, **fixed) for row in rows]


def select(
    base: str,
    conditions: Sequence[tuple[str, Sequence[Any]] | None],
    order_by: str,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """``base`` filtered by the given conditions (``None`` ones are skipped),
    ordered and limited; returns the SQL and its parameters in order."""
    used = [c for c in conditions if c is not None]
    sql = base
    if used:
        sql += "WHERE " + " AND ".join(clause for clause, _ in used) + " "
    sql += f"ORDER BY {order_by}"
    params = [value for _, values in used for value in values]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def only(changes: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    """Column names are interpolated into SQL, so only known ones get through."""
    unknown = set(changes) - allowed
    if unknown or not changes:
        raise StoreError(
            f"cannot change {what} field(s): {', '.join(sorted(unknown)) or 'none given'}"
        )


def new_uuid() -> str:
    """The UUID of a new record, made here (where it is created), never by a server."""
    return str(uuid.uuid4())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> str:
    """JSON as stored: no spaces after separators (about a tenth of a run's size)."""
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def to_json(value: Any) -> str | None:
    return None if value is None else compact_json(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def to_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def maybe_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def json_tuple(text: str | None) -> tuple[Any, ...]:
    """A stored JSON list as a tuple (a missing one is empty)."""
    return tuple(json.loads(text or "[]"))


DIGEST_STREAM_KEYS = (
    "dropped_samples",
    "frames_corrupt",
    "saturated_samples",
    "lines_corrupt",
    "device_restarts",
    "overrun_events",
    "segments",
)


def digest(metrics: dict[str, Any]) -> dict[str, Any]:
    """The small part of an analysis result that lists and exports read
    (parsing 40,000 whole results for a summary export would be slow)."""
    stream = metrics.get("stream") or {}
    return {
        "summary": metrics.get("summary") or {},
        "flags": list(metrics.get("flags") or []),
        "stream": {key: stream[key] for key in DIGEST_STREAM_KEYS if key in stream},
    }
