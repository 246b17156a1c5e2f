"""Calibration points: one settled reading at one known mass, and the points CSV.

A point is what the procedure captures and what the fit consumes; the CSV
(``channel,mass_kg,counts[,direction][,run][,spread_counts]``) lets a
calibration be refitted offline (``nordic-station calibrate --from-points``)
or kept when a live calibration fails acceptance.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibration.certificate import CHANNELS
from calibration.errors import CalibrationError

UP = "up"
DOWN = "down"
DIRECTIONS = (UP, DOWN)
_DIRECTION_WORDS = {
    "up": UP,
    "asc": UP,
    "ascending": UP,
    "u": UP,
    "down": DOWN,
    "desc": DOWN,
    "descending": DOWN,
    "d": DOWN,
}
REQUIRED_COLUMNS = ("channel", "mass_kg", "counts")
OPTIONAL_COLUMNS = ("direction", "run", "spread_counts")


@dataclass(frozen=True)
class CalPoint:
    """One settled reading: ``counts`` (mean over the settle window) at ``mass_kg``.

    ``direction`` is ``"up"`` on the ascending series and ``"down"`` on the
    descending one (hysteresis); ``run`` numbers the series from 1
    (repeatability).  ``settled`` is False for a reading the operator accepted
    although it never met the settle criteria; the certificate says so.
    """

    channel: str
    mass_kg: float
    counts: float
    spread_counts: float | None = None
    direction: str = UP
    run: int = 1
    settled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The certificate's point object (calibration.md) plus ``run``; unknowns left out."""
        out: dict[str, Any] = {"mass_kg": self.mass_kg, "counts": self.counts}
        if self.spread_counts is not None:
            out["spread_counts"] = self.spread_counts
        out["direction"] = self.direction
        out["run"] = self.run
        if not self.settled:
            out["accepted_unsettled"] = True
        return out

    @classmethod
    def from_dict(cls, channel: str, data: dict[str, Any]) -> CalPoint:
        """A point read back from a certificate (extra keys ignored)."""
        spread = data.get("spread_counts")
        return cls(
            channel=channel,
            mass_kg=float(data["mass_kg"]),
            counts=float(data["counts"]),
            spread_counts=None if spread is None else float(spread),
            direction=parse_direction(data.get("direction", UP)),
            run=int(data.get("run", 1)),
            settled=not data.get("accepted_unsettled", False),
        )


def parse_direction(value: object) -> str:
    """``up``/``down`` (also ascending/descending, asc/desc, u/d); else CalibrationError."""
    word = str(value).strip().lower()
    if word in _DIRECTION_WORDS:
        return _DIRECTION_WORDS[word]
    raise CalibrationError(f"direction {value!r} is not 'up' or 'down'")


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise CalibrationError(f"{where}: {column} {text!r} is not a finite number")
    return value


def parse_points_csv(text: str, source: str = "points file") -> list[CalPoint]:
    """Parse the points CSV; any defect is a CalibrationError naming the line."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    rows = [(n, row) for n, row in rows if not row[0].lstrip().startswith("#")]
    if not rows:
        raise CalibrationError(f"{source} is empty: expected a header 'channel,mass_kg,counts'")
    header_line, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CalibrationError(
            f"{source} line {header_line}: header lacks {', '.join(missing)} "
            f"(expected columns channel,mass_kg,counts[,direction][,run][,spread_counts])"
        )
    unknown = [c for c in names if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise CalibrationError(f"{source} line {header_line}: unknown column {unknown[0]!r}")
    if len(set(names)) != len(names):
        raise CalibrationError(f"{source} line {header_line}: a column is named twice")
    col = {name: i for i, name in enumerate(names)}
    points = []
    for line, row in rows[1:]:
        where = f"{source} line {line}"
        if len(row) != len(names):
            raise CalibrationError(f"{where}: expected {len(names)} fields, found {len(row)}")
        cells = {name: row[i].strip() for name, i in col.items()}
        channel = cells["channel"].lower()
        if channel not in CHANNELS:
            raise CalibrationError(f"{where}: channel {cells['channel']!r} is not left or right")
        spread = cells.get("spread_counts", "")
        run_text = cells.get("run", "") or "1"
        try:
            run = int(run_text)
        except ValueError:
            raise CalibrationError(f"{where}: run {run_text!r} is not a whole number") from None
        if run < 1:
            raise CalibrationError(f"{where}: run must be 1 or more, not {run}")
        try:
            direction = parse_direction(cells.get("direction", "") or UP)
        except CalibrationError as exc:
            raise CalibrationError(f"{where}: {exc}") from None
        points.append(
            CalPoint(
                channel=channel,
                mass_kg=_number(cells["mass_kg"], "mass_kg", where),
                counts=_number(cells["counts"], "counts", where),
                spread_counts=_number(spread, "spread_counts", where) if spread else None,
                direction=direction,
                run=run,
            )
        )
    if not points:
        raise CalibrationError(f"{source} has a header but no points")
    return points


def read_points_csv(path: str | Path) -> list[CalPoint]:
    """Read a points CSV file (see :func:`parse_points_csv`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"points file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"cannot read points file {path}: {exc}") from None
    return parse_points_csv(text, str(path))


def points_to_csv(points: Iterable[CalPoint]) -> str:
    """The CSV that :func:`parse_points_csv` reads back to the same points."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["channel", "mass_kg", "counts", "direction", "run", "spread_counts"])
    for p in points:
        spread = "" if p.spread_counts is None else repr(p.spread_counts)
        writer.writerow([p.channel, repr(p.mass_kg), repr(p.counts), p.direction, p.run, spread])
    return out.getvalue()


def write_points_csv(points: Iterable[CalPoint], path: str | Path) -> None:
    Path(path).write_text(points_to_csv(points), encoding="utf-8")


def by_channel(points: Sequence[CalPoint]) -> dict[str, list[CalPoint]]:
    """Points grouped per channel, in CHANNELS order, channels without points left out."""
    return {
        ch: [p for p in points if p.channel == ch]
        for ch in CHANNELS
        if any(p.channel == ch for p in points)
    }
