"""Which of the station's athletes this login may write on the server.

A server set up with ``server init`` lets a clinician write only the athletes
of the teams granted to them (row-level security); one athlete of another
team would make every batch fail.  Such athletes, with their tests, body
mass, injuries and audit entries, stay on the station and keep waiting
(``sync`` says how many); the rest goes.  A server without that layer allows
everything.
"""

from __future__ import annotations

import sqlite3
from typing import Any

TEAM_CHECK = "ns_private.visible_team(text)"


def refused_athletes(local: sqlite3.Connection, server: Any) -> list[int]:
    """Local ids of the athletes whose team this login may not write on the server."""
    present = server.execute("SELECT to_regprocedure(%s) IS NOT NULL", (TEAM_CHECK,)).fetchone()
    if not present or not present[0]:
        return []
    teams = [row[0] for row in local.execute("SELECT DISTINCT team FROM athletes")]
    refused = set()
    for team in teams:
        row = server.execute("SELECT ns_private.visible_team(%s)", (team,)).fetchone()
        if not row or not row[0]:
            refused.add(team)
    if not refused:
        return []
    return [
        row[0]
        for row in local.execute("SELECT id, team FROM athletes ORDER BY id")
        if row[1] in refused
    ]


def excluding(table: str, athlete_ids: list[int]) -> str:
    """A condition on ``t`` (a row of ``table``) leaving out these athletes' records."""
    if not athlete_ids:
        return ""
    ids = ", ".join(str(int(i)) for i in athlete_ids)
    tests = f"SELECT id FROM tests WHERE athlete_id IN ({ids})"
    if table == "athletes":
        return f"AND t.id NOT IN ({ids})"
    if table in ("tests", "body_mass", "injuries"):
        return f"AND t.athlete_id NOT IN ({ids})"
    if table == "audit_log":
        return (
            f"AND NOT (t.entity = 'athlete' AND t.entity_id IN ({ids})) "
            f"AND NOT (t.entity IN ('test', 'rep') AND t.entity_id IN ({tests}))"
        )
    return ""
