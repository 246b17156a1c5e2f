"""What ``nordic-station analyze`` loads, and how (issue 16 §4).

Start-up is most of a short command's time, so a module that only some paths
need (the log file's rotating handler, the user's data folder, the live
view, the store, Qt, SciPy) must not be imported by ``analyze``.  Checked on
``sys.modules`` in a fresh process, so a regression shows without timing
anything; bench/bench_read.py has the figures.

The dataclass code cache must change nothing but the time: a class made from
cached code behaves as one compiled from scratch, a damaged or foreign cache
file is ignored and replaced, and where bytecode is not written (read-only
install, ``PYTHONDONTWRITEBYTECODE``) neither is the cache.  A fresh process
running ``analyze`` twice checks it end to end: the second run compiles no
dataclass method and prints the same bytes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import marshal
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station import logs
from station.cli import start_up
from station.cli.start_up import CodeCache, dataclass_code_cache

ROOT = Path(__file__).resolve().parents[2]

NOT_FOR_ANALYZE = (
    "logging.handlers",
    "platformdirs",
    "station.analysis.live",
    "calibration.choice",  # with --calibration given
    "firmware_bridge.recording",  # the writer: reading needs recording_reader only
    "station.store",
    "sqlite3",
    "psycopg",
    "PySide6",
    "pyqtgraph",
    "scipy",
    "serial",  # pyserial: only for opening ports
    "shutil",  # argparse's formatter would load it (with bz2 and lzma) for the width
    "lzma",
)

# Runs the command as the process does (main() with sys.argv), then reports.
CHILD = """\
import gc, json, sys
from station.cli import main
sys.argv = ["nordic-station", *sys.argv[1:]]
status = main()
report = {
    "status": status,
    "loaded": [m for m in json.loads(%r) if m in sys.modules],
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("startup")
    model = NordicModel(Athlete(reps=2), seed=3, rate_hz=100.0)
    rig = VirtualRig(model, rate_hz=100.0)
    (folder / "capture.bin").write_bytes(rig.capture_bytes(model.session_duration_s()))
    (folder / "cal.json").write_text(json.dumps(rig.calibration_certificate()))
    return folder / "capture.bin", folder / "cal.json"


def _child(tmp_path: Path, *argv: str) -> dict:
    """Run the command in a fresh process whose user data folder exists (so a log file
    would be written there if anything were logged) but is not named by
    NORDIC_STATION_HOME (so finding it would need platformdirs)."""
    env = {k: v for k, v in os.environ.items() if k != "NORDIC_STATION_HOME"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    (tmp_path / "data" / "nordic-station").mkdir(parents=True)
    return _reported(CHILD % json.dumps(NOT_FOR_ANALYZE), argv, env)[0]


def _reported(code: str, argv: tuple[str, ...], env: dict[str, str]) -> tuple[dict, str]:
    """Run ``code`` in a fresh Python with ``argv``: its last line's REPORT, and what it
    printed before."""
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    *output, line = result.stdout.splitlines()
    assert line.startswith("REPORT "), result.stdout[-500:]
    return json.loads(line.removeprefix("REPORT ")), "\n".join(output)


def test_analyze_loads_only_what_analysing_a_file_needs(
    tmp_path: Path, capture: tuple[Path, Path]
) -> None:
    path, cal = capture
    report = _child(tmp_path, "analyze", str(path), "--calibration", str(cal), "--json")
    assert report["status"] == 0
    assert report["loaded"] == []
    # The start-up's objects are frozen out of the collector's way, and it runs again.
    assert report["gc_enabled"] is True
    assert report["frozen"] > 0
    assert not (tmp_path / "data" / "nordic-station" / "logs").exists()  # nothing logged


def test_the_guard_sees_a_module_that_is_loaded(tmp_path: Path) -> None:
    """The check above can fail: a command that opens the store loads it."""
    report = _child(tmp_path, "athlete", "list")
    assert report["status"] == 0
    assert "station.store" in report["loaded"]


def test_a_deferred_log_file_is_found_and_opened_at_the_first_record(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    try:
        assert logs.configure(missing, defer=True) is None
        logging.getLogger("station.test").info("nowhere to go")
        assert not missing.exists()  # no data folder: none is made, the record is dropped
        assert logs.configure(tmp_path, defer=True) is None
        assert not (tmp_path / "logs").exists()  # nothing logged yet: nothing opened
        logging.getLogger("station.test").info("link state: streaming")
        logging.getLogger("station.test").debug("not at debug level")
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = logs.log_path(tmp_path).read_text()
        assert "INFO station.test: link state: streaming" in text
        assert "not at debug level" not in text
    finally:
        logs.configure(missing)


# -- the dataclass code cache and the allocator setting (station/cli/start_up.py) --


@pytest.fixture
def _bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user's interpreter does by default (a developer may have turned it off)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _make_class() -> type:
    """A dataclass with what the station's use: frozen, defaults, a factory, a hidden field."""

    @dataclasses.dataclass(frozen=True)
    class Reading:
        """One reading."""

        left: float
        right: float = 0.0
        notes: tuple[str, ...] = ()
        cache: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    return Reading


def _check_behaviour(cls: type) -> None:
    a, b = cls(1.0, 2.0), cls(1.0, 2.0, cache={"x": 1})
    assert a == b and hash(a) == hash(b)  # cache takes no part in eq and hash
    assert a != cls(1.0, 3.0)
    assert repr(a).endswith("Reading(left=1.0, right=2.0, notes=())")
    assert cls(5.0).right == 0.0 and cls(5.0).cache is not cls(5.0).cache
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.left = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cls()  # left is required


@pytest.mark.usefixtures("_bytecode_written")
def test_a_class_made_from_cached_code_behaves_as_one_compiled_afresh(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "dataclass_code.marshal"
    with dataclass_code_cache(CodeCache(path)) as first:
        fresh = _make_class()
    assert first.compiled > 0
    assert path.is_file()
    assert "exec" not in vars(dataclasses)  # the builtin is back for everyone else
    _check_behaviour(fresh)

    with dataclass_code_cache(CodeCache(path)) as second:
        cached = _make_class()
    assert second.compiled == 0  # every method came from the file
    assert second.used == set(first.codes)
    _check_behaviour(cached)


@pytest.mark.usefixtures("_bytecode_written")
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a cache at all",
        b"\x00\x00\x0d\x0a" + marshal.dumps({"x": 1}),  # another interpreter's magic
        importlib.util.MAGIC_NUMBER + b"\xff\x00\x13",  # truncated
        importlib.util.MAGIC_NUMBER + marshal.dumps(["a", "list"]),
        importlib.util.MAGIC_NUMBER + marshal.dumps({"def f(): pass": "print('no')"}),
    ],
    ids=["empty", "garbage", "foreign", "truncated", "not-a-dict", "not-code"],
)
def test_a_damaged_or_foreign_cache_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "dataclass_code.marshal"
    path.write_bytes(content)
    cache = CodeCache(path)
    assert cache.codes == {}
    with dataclass_code_cache(cache):
        _check_behaviour(_make_class())
    assert cache.compiled > 0
    assert CodeCache(path).codes.keys() == cache.codes.keys()  # rewritten, readable


@pytest.mark.usefixtures("_bytecode_written")
def test_no_cache_is_written_where_bytecode_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "dataclass_code.marshal"
    with dataclass_code_cache(CodeCache(path)):
        _check_behaviour(_make_class())
    assert not path.exists()

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    blocked = tmp_path / "a-file"
    blocked.write_text("where a folder should be")
    with dataclass_code_cache(CodeCache(blocked / "dataclass_code.marshal")):
        _check_behaviour(_make_class())  # nothing raised; nothing written
    assert blocked.read_text() == "where a folder should be"
    assert list(tmp_path.iterdir()) == [blocked]  # no temporary file left behind


@pytest.mark.usefixtures("_bytecode_written")
def test_a_cache_too_large_keeps_what_was_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(start_up, "MAX_ENTRIES", 3)
    path = tmp_path / "dataclass_code.marshal"
    stale = {f"x = {i}": compile(f"x = {i}", "<string>", "exec") for i in range(10)}
    path.write_bytes(importlib.util.MAGIC_NUMBER + marshal.dumps(stale))
    with dataclass_code_cache(CodeCache(path)) as cache:
        _make_class()
    kept = CodeCache(path).codes
    assert kept.keys() == cache.used  # the stale entries are gone
    assert not kept.keys() & stale.keys()


def test_the_cache_lives_beside_the_bytecode() -> None:
    path = start_up.cache_path()
    assert path is not None
    expected = Path(importlib.util.cache_from_source(str(ROOT / "station/cli/dataclass_code.py")))
    assert path == expected.with_suffix(".marshal")


CACHE_CHILD = """\
import builtins, json, sys
compiled = []
original = builtins.compile
def counting(source, *args, **kwargs):
    if isinstance(source, str) and "__create_fn__" in source:
        compiled.append(1)
    return original(source, *args, **kwargs)
builtins.compile = counting
import station.cli as cli
kept = []
keep = cli.keep_freed_memory
cli.keep_freed_memory = lambda: kept.append(keep()) or kept[-1]
from station.cli import main
sys.argv = ["nordic-station", *sys.argv[1:]]
status = main()
print("REPORT " + json.dumps({"status": status, "compiled": len(compiled), "kept": kept}))
"""


def _run(tmp_path: Path, *argv: str) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"),
        HOME=str(tmp_path),
        NORDIC_STATION_HOME=str(tmp_path / "home"),
    )
    return _reported(CACHE_CHILD, argv, env)


def test_analyze_compiles_its_dataclasses_once_and_prints_the_same(tmp_path: Path) -> None:
    model = NordicModel(Athlete(reps=2), seed=5, rate_hz=100.0)
    rig = VirtualRig(model, rate_hz=100.0)
    capture, cal = tmp_path / "capture.bin", tmp_path / "cal.json"
    capture.write_bytes(rig.capture_bytes(model.session_duration_s()))
    cal.write_text(json.dumps(rig.calibration_certificate()))
    argv = ("analyze", str(capture), "--calibration", str(cal), "--json")

    first, first_output = _run(tmp_path, *argv)
    second, second_output = _run(tmp_path, *argv)
    assert first["status"] == second["status"] == 0
    assert first["compiled"] > 20  # the analysis path's dataclasses, compiled once
    assert second["compiled"] == 0
    assert second_output == first_output
    assert json.loads(first_output)["reps"]
    caches = list((tmp_path / "pycache").rglob("dataclass_code.*.marshal"))
    assert len(caches) == 1
    # analyze asks glibc to keep freed memory; a command that stays open does not.
    assert len(second["kept"]) == 1
    if platform.libc_ver()[0] == "glibc":
        assert second["kept"] == [True]  # glibc took both settings
    assert _run(tmp_path, "athlete", "list")[0]["kept"] == []
