"""What ``sync`` prints and ``station status`` says: counts with their noun in the right
number ("1 test", "2 tests"), and "never synced" until a joined station's first sync."""

from __future__ import annotations

from collections import Counter

from station.store.sync import SyncReport, SyncStatus


def test_one_is_singular_and_several_plural() -> None:
    report = SyncReport(
        sent=Counter({"tests": 1, "athletes": 2, "athlete changes": 1, "audit entries": 9}),
        received=Counter({"tests": 2, "erasures": 1, "injuries": 1, "body_mass": 3}),
        waiting=1,
    )
    assert report.line() == (
        "sent 1 test, 2 athletes, 1 athlete change; "
        "received 2 tests, 1 erasure, 1 injury, 3 body mass entries; 1 waiting"
    )


def test_nothing_either_way() -> None:
    assert SyncReport().line() == "sent nothing; received nothing; 0 waiting"


def test_athletes_held_back_are_counted_in_the_right_number() -> None:
    held = "held back (team not allowed)"
    one = SyncReport(sent=Counter({held: 1, "test changes": 2}), waiting=1).line()
    assert one == (
        "sent 2 test changes; received nothing; 1 waiting "
        "(1 athlete of a team this login may not write stays here)"
    )
    two = SyncReport(sent=Counter({held: 2}), waiting=2).line()
    assert two.endswith("(2 athletes of teams this login may not write stay here)")


def test_a_joined_station_is_not_synced_before_its_first_sync() -> None:
    never = SyncStatus(joined=True, waiting=0, online=True, last_sync=None, error=None)
    assert never.text == "joined, never synced: 0 waiting" and not never.synced
    waiting = SyncStatus(joined=True, waiting=3, online=True, last_sync=None, error=None)
    assert waiting.text == "joined, never synced: 3 waiting"
    done = SyncStatus(True, 0, True, "2026-12-04T10:00:00Z", None)
    assert done.text == "synced" and done.synced
    assert SyncStatus(True, 2, True, "2026-12-04T10:00:00Z", None).text == "2 waiting"
    assert SyncStatus(True, 2, False, None, "refused").text == "offline"
    assert SyncStatus(False, 0, False, None, None).text == "not joined"
