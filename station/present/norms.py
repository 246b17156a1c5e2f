"""Published norm tables as data files, each with its citation (issue 15 §5b).

A table is one JSON file (format ``nordic-station.norms/1``, docs/analysis.md,
Norm tables): where it comes from (``source``, ``population``), what it measures
(``protocol``, ``knee_angle_deg``, ``measure``, ``unit``) and either values at
percentiles (``percentiles``) or cut-offs (``cutoffs``).  The station ships only
tables it can cite (``station/present/norms/``); a clinic adds its own in the
``norms`` folder of its data folder.  A malformed file is skipped with a one-line
message naming the file and the line, and the others still load.

No numbers are invented here: every shipped value is in metrics.md with its source.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.present.protocols import ISOMETRIC, NORDIC, ProtocolKey, protocol_key

log = logging.getLogger(__name__)

FORMAT = "nordic-station.norms/1"
SHIPPED = Path(__file__).with_name("norms")
FOLDER = "norms"  # inside the data folder: the clinic's own tables
MEASURES = {
    "force_n": "N",
    "force_n_per_kg": "N/kg",
    "imbalance_pct": "%",
}
COMPARED = ("max", "avg", "mean_of_legs_max")
_REQUIRED = ("format", "id", "source", "population", "protocol", "measure", "unit")


class NormTableError(ValueError):
    """A norm table that cannot be used: the message names the file and line."""


@dataclass(frozen=True)
class Cutoff:
    value: float
    side: str  # "below" or "at_or_above": the side the finding is on
    finding: str


@dataclass(frozen=True)
class NormTable:
    id: str
    source: str
    population: str
    protocol: ProtocolKey
    position: str | None
    measure: str
    unit: str
    compared_with: str
    sex: str | None
    sport: str | None
    percentiles: tuple[tuple[float, float], ...]  # (percentile, value), percentile ascending
    cutoffs: tuple[Cutoff, ...]
    reference_line: str | None  # shown already as this reference line (references.py)
    path: Path

    def place(self, value: float) -> float | None:
        """The percentile of ``value`` by linear interpolation between the listed ones
        (None outside the listed range: "below P5" is not a number)."""
        points = self.percentiles
        if not points or not math.isfinite(value):
            return None
        for (p0, v0), (p1, v1) in zip(points, points[1:], strict=False):
            if v0 <= value <= v1:
                return p0 if v1 == v0 else p0 + (p1 - p0) * (value - v0) / (v1 - v0)
        if len(points) == 1 and value == points[0][1]:
            return points[0][0]
        return None


def _fail(path: Path, text: str, line: int | None, message: str) -> NormTableError:
    where = f"{path}:{line}" if line else str(path)
    return NormTableError(f"{where}: {message}")


def _line_of(text: str, key: str) -> int | None:
    """The line a key first appears on (for a message pointing at it)."""
    needle = f'"{key}"'
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def parse_table(text: str, path: Path) -> NormTable:
    """One norm table from its JSON text; :class:`NormTableError` naming file and line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, text, exc.lineno, f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise _fail(path, text, 1, "a norm table is a JSON object")

    def bad(key: str, message: str) -> NormTableError:
        return _fail(path, text, _line_of(text, key), message)

    for key in _REQUIRED:
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise bad(key, f'"{key}" is required (text)')
    if data["format"] != FORMAT:
        raise bad("format", f'"format" must be "{FORMAT}", not {data["format"]!r}')
    if data["protocol"] not in (NORDIC, ISOMETRIC):
        raise bad("protocol", f'"protocol" must be "{NORDIC}" or "{ISOMETRIC}"')
    angle = data.get("knee_angle_deg")
    if angle is not None and (_number(angle) is None or not 0 <= angle <= 180):
        raise bad("knee_angle_deg", '"knee_angle_deg" must be 0 to 180 or null')
    if data["protocol"] == ISOMETRIC and angle is None:
        raise bad("protocol", 'an isometric table needs "knee_angle_deg"')
    if data["measure"] not in MEASURES:
        raise bad("measure", f'"measure" must be one of {", ".join(MEASURES)}')
    if data["unit"] != MEASURES[data["measure"]]:
        raise bad("unit", f'"unit" of {data["measure"]} must be "{MEASURES[data["measure"]]}"')
    compared = data.get("compared_with", "max")
    if compared not in COMPARED:
        raise bad("compared_with", f'"compared_with" must be one of {", ".join(COMPARED)}')
    percentiles = _percentiles(data.get("percentiles"), bad)
    cutoffs = _cutoffs(data.get("cutoffs"), bad)
    if not percentiles and not cutoffs:
        raise bad("percentiles", 'a table needs "percentiles" or "cutoffs"')
    return NormTable(
        id=data["id"].strip(),
        source=data["source"].strip(),
        population=data["population"].strip(),
        protocol=protocol_key(data["protocol"], angle),
        position=data.get("position") or None,
        measure=data["measure"],
        unit=data["unit"],
        compared_with=compared,
        sex=data.get("sex") or None,
        sport=(data.get("sport") or "").strip().casefold() or None,
        percentiles=percentiles,
        cutoffs=cutoffs,
        reference_line=data.get("reference_line") or None,
        path=path,
    )


def _percentiles(raw: Any, bad: Any) -> tuple[tuple[float, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise bad("percentiles", '"percentiles" maps a percentile ("50") to a value')
    pairs = []
    for key, value in raw.items():
        try:
            pct = float(key)
        except ValueError:
            raise bad("percentiles", f"percentile {key!r} is not a number") from None
        number = _number(value)
        if not 0 < pct < 100 or number is None:
            raise bad(key, f"percentile {key!r}: needs 0 < P < 100 and a number, not {value!r}")
        pairs.append((pct, number))
    pairs.sort()
    if any(b[1] < a[1] for a, b in zip(pairs, pairs[1:], strict=False)):
        raise bad("percentiles", "values must not fall as the percentile rises")
    return tuple(pairs)


def _cutoffs(raw: Any, bad: Any) -> tuple[Cutoff, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise bad("cutoffs", '"cutoffs" is a list of {"value", "side", "finding"}')
    out = []
    for item in raw:
        value = _number(item.get("value")) if isinstance(item, dict) else None
        if value is None or item.get("side") not in ("below", "at_or_above"):
            raise bad("cutoffs", 'each cut-off needs a "value" and "side" below or at_or_above')
        out.append(Cutoff(value, item["side"], str(item.get("finding") or "")))
    return tuple(out)


@dataclass(frozen=True)
class Loaded:
    tables: list[NormTable]
    problems: list[str]  # one line per file that could not be used


def load_tables(folders: Iterable[Path]) -> Loaded:
    """Every ``*.json`` table in ``folders`` (missing folders are skipped); a bad file
    gives one line in ``problems`` and the others still load.  Ids must be unique."""
    tables: list[NormTable] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                text = path.read_text(encoding="utf-8")
                table = parse_table(text, path)
            except UnicodeDecodeError:
                problems.append(f"{path}: not UTF-8 text")
                continue
            except OSError as exc:
                problems.append(f"{path}: cannot read ({exc.strerror or exc})")
                continue
            except NormTableError as exc:
                problems.append(str(exc))
                continue
            if table.id in seen:
                problems.append(f"{path}: id {table.id!r} is already used by {seen[table.id]}")
                continue
            seen[table.id] = path
            tables.append(table)
    for problem in problems:
        log.warning("norm table skipped: %s", problem)
    return Loaded(tables, problems)


def clinic_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


def load_all(data_dir: Path | None) -> Loaded:
    """The shipped tables and the clinic's (``<data dir>/norms``)."""
    folders = [SHIPPED] + ([clinic_folder(data_dir)] if data_dir is not None else [])
    return load_tables(folders)


def applicable(
    tables: Iterable[NormTable], key: ProtocolKey, sport: str | None, sex: str | None
) -> list[NormTable]:
    """Tables of this protocol group whose sport and sex (when they name one) match."""
    sport_key = (sport or "").strip().casefold()
    return [
        t
        for t in tables
        if t.protocol == key
        and (t.sport is None or t.sport == sport_key)
        and (t.sex is None or t.sex == sex)
    ]


def _values(table: NormTable, summary: dict[str, Any]) -> list[tuple[str, float]]:
    """(label, value) this test gives for the table's measure: each leg, or one figure."""
    if table.measure == "imbalance_pct":
        field = f"imbalance_{'avg' if table.compared_with == 'avg' else 'max'}_difference_pct"
        value = _number(summary.get(field))
        return [] if value is None else [("imbalance", value)]
    if table.compared_with == "mean_of_legs_max":
        legs = [_number((summary.get(leg) or {}).get("max_force_n")) for leg in ("left", "right")]
        if None in legs:
            return []
        mean = (legs[0] + legs[1]) / 2  # type: ignore[operator]
        return [("mean of legs", mean if table.measure == "force_n" else math.nan)]
    field = {
        ("force_n", "max"): "max_force_n",
        ("force_n", "avg"): "avg_force_n",
        ("force_n_per_kg", "max"): "relative_max_force_n_per_kg",
        ("force_n_per_kg", "avg"): "relative_avg_force_n_per_kg",
    }[(table.measure, table.compared_with)]
    out = []
    for leg in ("left", "right"):
        value = _number((summary.get(leg) or {}).get(field))
        if value is not None:
            out.append((leg.capitalize(), value))
    return out


def _figure(value: float, unit: str) -> str:
    return f"{value:.0f} {unit}" if unit == "N" else f"{value:.1f} {unit}"


def norm_lines(tables: Iterable[NormTable], summary: dict[str, Any]) -> list[str]:
    """One line per table: where this result's figures fall, with the table's source.
    Tables already shown as reference lines (``reference_line``) are left out."""
    lines = []
    for table in tables:
        if table.reference_line:
            continue
        values = [(label, v) for label, v in _values(table, summary) if math.isfinite(v)]
        if not values:
            continue
        parts = []
        for label, value in values:
            if table.percentiles:
                place = table.place(value)
                low, high = table.percentiles[0][0], table.percentiles[-1][0]
                where = (
                    f"≈P{place:.0f}"
                    if place is not None
                    else f"below P{low:g}"
                    if value < table.percentiles[0][1]
                    else f"above P{high:g}"
                )
            else:
                hits = [
                    c.finding or f"{c.side.replace('_', ' ')} {_figure(c.value, table.unit)}"
                    for c in table.cutoffs
                    if (value < c.value if c.side == "below" else value >= c.value)
                ]
                where = "; ".join(hits) if hits else "beyond no cut-off"
            parts.append(f"{label} {_figure(value, table.unit)} {where}")
        lines.append(f"{'; '.join(parts)} ({table.population}, {table.source})")
    return lines
