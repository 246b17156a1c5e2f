"""``nordic-station inspect FILE``: what a recording or capture holds.

Why: before trusting a file's numbers, a tester wants to see which rig made
it, how long it is and what went wrong on the wire (every decoder counter),
without running an analysis.  ``--json`` gives the same for scripts.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from firmware_bridge.capture import Capture, CaptureError, load_capture
from firmware_bridge.messages import EventCode

SCHEMA = "nordic-station.inspect/1"


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "inspect",
        parents=parents,
        help="show what a recording or capture holds",
        description=(
            "Show what a station recording, raw binary capture or text-dialect capture "
            "holds: the rig, the duration, the samples and every decoder counter."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="recording or capture")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument("--rate", type=float, metavar="HZ", help="sample rate if the file has none")
    parser.set_defaults(func=run)


def describe(capture: Capture) -> dict[str, Any]:
    """Everything ``inspect`` reports, as plain JSON-able data."""
    stream = capture.stream
    header = capture.header
    recording = capture.recording
    events = Counter(_event_name(e.code) for e in stream.events)
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "file": capture.path,
        "kind": capture.kind,
        "dialect": stream.mode,
        "header": None,
        "info": stream.info.to_dict() if stream.info else None,
        "device_serial": stream.serial_number,
        "sample_rate_hz": stream.sample_rate_hz,
        "samples": stream.samples,
        "segments": int(len(set(stream.segment.tolist()))) if stream.samples else 0,
        "duration_s": stream.duration_s(),
        "events": dict(sorted(events.items())),
        "calibration": None,
        "counters": stream.counters.to_dict(),
        "recording": None,
        "warnings": list(capture.warnings),
    }
    if header is not None:
        out["header"] = {
            key: header.get(key)
            for key in ("format", "port", "started_utc", "station_version", "metadata")
        }
    if capture.calibration is not None:
        cal = capture.calibration
        out["calibration"] = {
            "device_serial": cal.get("device_serial"),
            "calibrated_at": cal.get("calibrated_at") or cal.get("date"),
            "expires": cal.get("expires"),
        }
    if recording is not None:
        out["recording"] = {
            "records": recording.records,
            "data_chunks": len(recording.chunk_times),
            "data_bytes": len(recording.data),
            "sent_records": len(recording.sent),
            "notes": len(recording.notes),
            "unknown_records": recording.unknown_records,
            "damaged_bytes": recording.damaged_bytes,
            "recorded_s": recording.duration_s,
            "link_events": dict(
                sorted(
                    Counter(str(n.get("state", n.get("event"))) for n in recording.notes).items()
                )
            ),
        }
    if stream.samples and stream.sample_rate_hz is None:
        out["warnings"].append("the capture carries no sample rate: pass --rate HZ for a duration")
    return out


def _event_name(code: int) -> str:
    try:
        return EventCode(code).name
    except ValueError:
        return f"code {code}"


def _text(report: dict[str, Any]) -> str:
    lines = [f"file         {report['file']}"]
    kind = report["kind"]
    if kind == "recording":
        fmt = (report["header"] or {}).get("format") or "header lost"
        kind = f"station recording ({fmt}; {report['dialect'] or 'no'} stream)"
    lines.append(f"kind         {kind}")
    header = report["header"]
    if header is not None:
        lines.append(f"port         {header.get('port') or '?'}")
        lines.append(f"started      {header.get('started_utc') or '?'}")
        lines.append(f"station      {header.get('station_version') or '?'}")
        if header.get("metadata"):
            meta = ", ".join(f"{k}={v}" for k, v in header["metadata"].items())
            lines.append(f"metadata     {meta}")
    info = report["info"]
    if info is not None:
        lines.append(
            f"rig          {info['serial_number']}, firmware {info['firmware_version'] or '?'}, "
            f"{info['sample_rate_mhz'] / 1000:g} Hz, {info['adc_bits']}-bit ADC, "
            f"{info['channels']} channels, protocol {info['protocol_version']}"
        )
    else:
        serial = report["device_serial"] or "?"
        rate = report["sample_rate_hz"]
        lines.append(
            f"rig          {serial} (no INFO), {f'{rate:g} Hz' if rate else 'rate unknown'}"
        )
    duration = report["duration_s"]
    lines.append(f"duration     {f'{duration:.3f} s' if duration is not None else 'unknown'}")
    lines.append(f"samples      {report['samples']} in {report['segments']} segment(s)")
    events = ", ".join(f"{name} x{n}" for name, n in report["events"].items()) or "none"
    lines.append(f"events       {events}")
    cal = report["calibration"]
    if report["kind"] == "recording":
        cal_text = f"recorded (rig {cal['device_serial'] or '?'})" if cal else "none recorded"
        lines.append(f"calibration  {cal_text}")
    rec = report["recording"]
    if rec is not None:
        links = ", ".join(f"{k} x{v}" for k, v in rec["link_events"].items()) or "none"
        lines.append(
            f"records      {rec['records']} ({rec['data_chunks']} data, "
            f"{rec['sent_records']} sent, {rec['notes']} notes), "
            f"{rec['recorded_s']:.3f} s recorded"
        )
        lines.append(f"link events  {links}")
    lines.append("counters")
    width = max(len(k) for k in report["counters"])
    lines += [f"  {key:<{width}}  {value}" for key, value in report["counters"].items()]
    if report["warnings"]:
        lines.append("warnings")
        lines += [f"  - {w}" for w in report["warnings"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    capture = load_capture(args.file, args.rate, require_samples=False, require_rate=False)
    if capture.kind != "recording" and capture.stream.messages == 0:
        raise CaptureError(f"{args.file}: no samples found (not a rig capture?)")
    report = describe(capture)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_text(report))
    return 0
