"""Injuries are structured records: region, grade and return to play are kept and checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from station.store import open_store, schema
from station.store.errors import ValidationError


def test_an_injury_keeps_region_grade_and_return_to_play(tmp_path: Path) -> None:
    with open_store(tmp_path, actor="tester") as store:
        ada = store.athletes.add("Ada Injured")
        (injury,) = store.athletes.add_injury(
            ada,
            "left",
            "2026-03-30",
            "felt it at top speed",
            region="biceps femoris (long head)",
            grade="2b",
            return_to_play="2026-05-04",
        )
        assert injury.region == "biceps femoris (long head)" and injury.grade == "2b"
        assert injury.return_to_play == dt.date(2026, 5, 4)
        assert injury.occurred_on == dt.date(2026, 3, 30)
        audit = store.audit_log()
        assert any((a.after or {}).get("region") == "biceps femoris (long head)" for a in audit)
        # An injury with only a side still works (older callers, or little known).
        store.athletes.add_injury(ada, "right")
        (bare,) = [i for i in store.athletes.injuries(ada) if i.side == "right"]
        assert bare.region == "" and bare.grade is None and bare.return_to_play is None
    assert schema.CURRENT_VERSION >= 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"return_to_play": "2026-03-01"}, "before the injury"),
        ({"return_to_play": "2999-01-01"}, "in the future"),
        ({"grade": "grade two, partial tear"}, "too long"),
    ],
)
def test_impossible_injury_values_are_refused(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    with open_store(tmp_path, actor="tester") as store:
        ada = store.athletes.add("Ada Checked")
        with pytest.raises(ValidationError, match=message):
            store.athletes.add_injury(ada, "left", "2026-03-30", **changes)
        assert store.athletes.injuries(ada) == []
