"""``nordic-station athlete``: register, find, show, edit and archive athletes.

Bad input raises the store's InputError subclasses, which the dispatcher
prints as one line with exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from firmware_bridge.errors import InputError
from station import paths
from station.cli.common import add_by, fmt, print_json, print_table, store_from_args, usage_of
from station.store import Athlete
from station.store.database_choice import is_server
from station.store.sync import NotJoinedError, SyncError
from station.store.sync.run import linked_url

DOB_HELP = "date of birth, YYYY-MM-DD"


# -- athlete --------------------------------------------------------------------------
def _add_fields(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--name", required=adding, help="full name")
    parser.add_argument("--external-id", metavar="ID", help="the club's or study's id (unique)")
    parser.add_argument("--body-mass", metavar="KG", help="body mass in kg (kept as a history)")
    parser.add_argument("--lever-arm", metavar="M", help="knee joint centre to hook, in metres")
    parser.add_argument("--team", help="team or squad")
    parser.add_argument("--sport", help="sport")
    parser.add_argument("--dominant", metavar="LEG", help="dominant leg: left or right")
    parser.add_argument("--dob", metavar="DATE", help=DOB_HELP)
    parser.add_argument("--sex", help="female, male or other")
    parser.add_argument("--notes", help="free text")
    add_by(parser)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    parser = subparsers.add_parser(
        "athlete",
        parents=parents,
        help="add, list, show, edit, archive, erase and export athletes",
        description="Athletes: who was tested, with body mass history and injuries.",
    )
    commands = parser.add_subparsers(dest="athlete_command", metavar="ACTION")

    add = commands.add_parser("add", parents=parents, help="register an athlete; prints the id")
    _add_fields(add, adding=True)
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", parents=parents, help="list athletes")
    listing.add_argument("--search", metavar="TEXT", help="part of a name or external id")
    listing.add_argument("--team", metavar="T", help="only this team")
    listing.add_argument("--archived", action="store_true", help="include archived athletes")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(func=run_list)

    show = commands.add_parser("show", parents=parents, help="one athlete in full")
    show.add_argument("athlete", metavar="A", help="athlete id or external id")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.add_argument("--history", action="store_true", help="also the audit trail of changes")
    show.set_defaults(func=run_show)

    edit = commands.add_parser(
        "edit", parents=parents, help="change fields (an empty value clears one)"
    )
    edit.add_argument("athlete", metavar="A", help="athlete id or external id")
    _add_fields(edit, adding=False)
    edit.set_defaults(func=run_edit)

    archive = commands.add_parser(
        "archive", parents=parents, help="hide from lists (tests are kept)"
    )
    archive.add_argument("athlete", metavar="A", help="athlete id or external id")
    archive.add_argument("--undo", action="store_true", help="bring the athlete back")
    add_by(archive)
    archive.set_defaults(func=run_archive)

    mass = commands.add_parser("mass", parents=parents, help="record a dated body mass")
    mass.add_argument("athlete", metavar="A", help="athlete id or external id")
    mass.add_argument("kg", metavar="KG", help="body mass in kg")
    mass.add_argument("--date", metavar="DATE", help="when weighed (default: today)")
    add_by(mass)
    mass.set_defaults(func=run_mass)

    injury = commands.add_parser("injury", parents=parents, help="record an injury")
    injury.add_argument("athlete", metavar="A", help="athlete id or external id")
    injury.add_argument("--side", required=True, help="left, right or both")
    injury.add_argument("--date", metavar="DATE", help="when it happened")
    injury.add_argument("--note", default="", help="what happened")
    add_by(injury)
    injury.set_defaults(func=run_injury)

    bulk = commands.add_parser(
        "import",
        parents=parents,
        help="add or change many athletes from a CSV file (a dry run unless --apply)",
        description="Columns (header row, any case, spaces optional, any order; only name is "
        "required): name, external id, date of birth (YYYY-MM-DD), sex, sport, team, "
        "dominant leg, body mass (kg). A row whose external id is stored changes that athlete "
        "(an empty cell keeps the stored value); any other row adds one. Without --apply, "
        "lists per line what would be added, changed or refused and why; with --apply, "
        "imports every row in one transaction, or nothing if any row is refused.",
    )
    bulk.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV, comma, semicolon or tab")
    bulk.add_argument("--apply", action="store_true", help="do the import (default: dry run)")
    add_by(bulk)
    bulk.set_defaults(func=run_import)

    erase = commands.add_parser(
        "erase",
        parents=parents,
        help="erase an athlete on request: name, birth date, notes, free text, raw recordings",
        description="Irreversibly removes the athlete's name, date of birth, notes, every free "
        "text and their raw recordings from the database, its write-ahead log and its backups. "
        "Test numbers stay under 'erased athlete'; the audit keeps who erased, when and why.",
    )
    erase.add_argument("athlete", metavar="ID", help="athlete id or external id")
    erase.add_argument("--reason", required=True, help="why (e.g. the request's reference)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_by(erase)
    erase.set_defaults(func=run_erase)

    access = commands.add_parser(
        "export-all",
        parents=parents,
        help="everything held about one athlete (JSON, CSV, raw recordings)",
    )
    access.add_argument("athlete", metavar="ID", help="athlete id or external id")
    access.add_argument("--out", metavar="DIR", required=True, help="a new or empty folder")
    access.add_argument("--force", action="store_true", help="write into a non-empty folder")
    access.set_defaults(func=run_export_all)

    parser.set_defaults(func=usage_of(parser))


_FIELD_OPTIONS: dict[str, str] = {
    "name": "name",
    "external_id": "external_id",
    "lever_arm": "lever_arm_m",
    "team": "team",
    "sport": "sport",
    "dominant": "dominant_leg",
    "dob": "date_of_birth",
    "sex": "sex",
    "notes": "notes",
}


def _given_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {
        field: getattr(args, option)
        for option, field in _FIELD_OPTIONS.items()
        if getattr(args, option) is not None
    }


def run_add(args: argparse.Namespace) -> int:
    fields = _given_fields(args)
    with store_from_args(args, notice=False) as store:
        athlete = store.athletes.add(
            fields.pop("name"), body_mass_kg=args.body_mass, by=args.by, **fields
        )
    print(athlete.id)
    return 0


def _row(a: Athlete) -> list[Any]:
    return [
        a.id,
        a.name,
        a.external_id,
        a.team,
        a.sport,
        fmt(a.body_mass_kg),
        fmt(a.lever_arm_m, 3),
        "archived" if a.archived else "",
    ]


def run_list(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        athletes = store.athletes.find(args.search, team=args.team, include_archived=args.archived)
    if args.json:
        print_json([a.to_dict() for a in athletes])
        return 0
    if not athletes:
        print("no athletes" + (" match" if args.search or args.team else " yet"), file=sys.stderr)
        return 0
    print_table(
        ["id", "name", "external id", "team", "sport", "mass kg", "lever m", ""],
        (_row(a) for a in athletes),
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        athlete = store.athletes.resolve(args.athlete)
        masses = store.athletes.body_mass_history(athlete.id)
        injuries = store.athletes.injuries(athlete.id)
        tests = store.tests.of_athlete(athlete.id)
        history = store.audit_log("athlete", athlete.id) if args.history else []
    if args.json:
        out = athlete.to_dict()
        out["body_mass_history"] = [m.to_dict() for m in masses]
        out["injuries"] = [i.to_dict() for i in injuries]
        out["tests"] = [t.to_dict() for t in tests]
        if args.history:
            out["history"] = [h.to_dict() for h in history]
        print_json(out)
        return 0
    lines: list[tuple[str, Any]] = [
        ("id", athlete.id),
        ("name", athlete.name),
        ("external id", athlete.external_id),
        ("date of birth", athlete.date_of_birth),
        ("sex", athlete.sex),
        ("sport", athlete.sport),
        ("team", athlete.team),
        ("dominant leg", athlete.dominant_leg),
        ("lever arm", None if athlete.lever_arm_m is None else f"{athlete.lever_arm_m:g} m"),
        ("archived", "yes" if athlete.archived else None),
        ("notes", athlete.notes or None),
    ]
    for label, value in lines:
        if value is not None:
            print(f"{label + ':':15} {value}")
    if masses:
        print("body mass:      " + ", ".join(f"{m.kg:g} kg ({m.measured_on})" for m in masses))
    for injury in injuries:
        print(
            f"injury:         {injury.side}, {injury.occurred_on or 'date unknown'}: {injury.note}"
        )
    print(
        f"tests:          {len(tests)}"
        + (f" (latest {tests[0].recorded_at[:10]})" if tests else "")
    )
    _print_history(history)
    return 0


def _print_history(history: Sequence[Any]) -> None:
    for entry in history:
        change = entry.after if entry.after is not None else entry.before
        print(
            f"  {entry.at}  {entry.actor}  {entry.action}  {json.dumps(change, ensure_ascii=False)}"
        )


def run_edit(args: argparse.Namespace) -> int:
    # An empty value clears a field; the name cannot be cleared (the store says so).
    fields = {k: (None if v == "" and k != "name" else v) for k, v in _given_fields(args).items()}
    if args.body_mass is not None:
        fields["body_mass_kg"] = args.body_mass
    with store_from_args(args) as store:
        athlete = store.athletes.update(args.athlete, by=args.by, **fields)
    print(f"athlete {athlete.id} updated", file=sys.stderr)
    return 0


def run_archive(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        athlete = store.athletes.archive(args.athlete, archived=not args.undo, by=args.by)
    print(f"athlete {athlete.id} {'archived' if athlete.archived else 'restored'}", file=sys.stderr)
    return 0


def run_mass(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        history = store.athletes.add_body_mass(args.athlete, args.kg, args.date, by=args.by)
    print(", ".join(f"{m.kg:g} kg ({m.measured_on})" for m in history))
    return 0


def run_injury(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        store.athletes.add_injury(args.athlete, args.side, args.date, args.note, by=args.by)
    return 0


def _refuse_local_erasure_when_joined(args: argparse.Namespace) -> None:
    """An erasure on a joined station's own copy would reach neither the server nor the
    other stations (the sync sends it as an ordinary edit): it is made on the server."""
    if paths.database_location(getattr(args, "database", None)) is not None:
        return
    folder = paths.data_dir(getattr(args, "data_dir", None))
    if not paths.database_path(folder).exists():
        return
    try:
        url = linked_url(folder)
    except NotJoinedError:
        return
    raise SyncError(
        f"this station is joined to {url}: erase the athlete on the server, then every "
        "station erases its copy at its next sync",
        hint="as an admin: nordic-station athlete erase ID --reason TEXT "
        "--database postgresql://ADMIN@HOST/DB, then 'nordic-station sync'",
    )


def run_erase(args: argparse.Namespace) -> int:
    _refuse_local_erasure_when_joined(args)
    with store_from_args(args) as store:
        athlete = store.athletes.resolve(args.athlete)
        if not args.yes and sys.stdin.isatty():
            answer = input(
                f"Erase athlete {athlete.id} ({athlete.name}) for good? "
                f"Type {athlete.id} to confirm: "
            )
            if answer.strip() != str(athlete.id):
                print("nothing erased", file=sys.stderr)
                return 1
        outcome = store.erasure.erase(athlete.id, args.reason, by=args.by)
    # The station cleans its own SQLite backups; a server's backups are its administrator's.
    on_server = is_server(paths.database_location(getattr(args, "database", None)))
    backups = (
        "the server's own backups keep it until they expire" if on_server else "backups cleaned too"
    )
    print(
        f"athlete {outcome.athlete_id} erased: {outcome.tests} test(s) kept as numbers only, "
        f"{outcome.recordings} raw recording(s) removed, {outcome.audit_entries} audit "
        f"entries redacted; {backups}",
        file=sys.stderr,
    )
    if not outcome.compacted:
        print(
            "warning: another Nordic Station has the database open, so an old copy may remain "
            "in its write-ahead log until it is closed: close it",
            file=sys.stderr,
        )
    return 0


def run_export_all(args: argparse.Namespace) -> int:
    from station.store.export_all import export_all

    with store_from_args(args) as store:
        report = export_all(store, args.athlete, args.out, force=args.force)
    print(f"{report.tests} test(s) and {len(report.files)} file(s) written to {report.folder}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    with store_from_args(args) as store:
        plan = store.athlete_import.plan(args.file)
        for line in plan.lines:
            print(line)
        counts = (
            f"{plan.count('add')} to add, {plan.count('change')} to change, "
            f"{plan.count('same')} unchanged, {len(plan.refused)} refused"
        )
        if plan.refused:
            raise InputError(
                f"{counts}: nothing imported; fix or remove the refused lines and run again"
            )
        if not args.apply:
            print(f"dry run: {counts}; run again with --apply to import", file=sys.stderr)
            return 0
        store.athlete_import.apply(plan, by=args.by)
    print(f"imported: {counts} (one transaction)", file=sys.stderr)
    return 0
