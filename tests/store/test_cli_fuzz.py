"""Fuzzing the store's command-line argument paths (issue 12 §4).

Generated argument lists (hostile text, bytes that are not UTF-8, control and
invisible characters, huge and tiny numbers, odd dates, devices and missing
paths) go through ``main([...])`` against a data folder holding an athlete and
a test.  Whatever the input, a command returns 0, 1 or 2, raises nothing and
prints no traceback or internal error.  ``make test`` runs a few examples;
``make fuzz`` runs many.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.cli import main
from station.store import open_store
from tests.store import synth

# `make test` runs a few examples (each is a whole command: ~30 ms); `make fuzz`
# (HYPOTHESIS_PROFILE=fuzz) runs many; NORDIC_FUZZ_EXAMPLES overrides both.
FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
EXAMPLES = int(os.environ.get("NORDIC_FUZZ_EXAMPLES", "2000" if FUZZING else "25"))

HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "=1+1",
            "-1",
            "#1",
            "ext:1",
            "ext:",
            "#",
            "1",
            "0",
            "-0",
            "99999999999999999999999",
            "1e-300",
            "1e308",
            "nan",
            "inf",
            "2999-01-01",
            "1800-01-01",
            "2024-02-30",
            "2024-05-01T10:00",
            "\u200b",
            "\x00",
            "\x1b[2J",
            "\ud800",
            os.fsdecode(b"Jos\xe9"),
            "/dev/zero",
            "/dev/null",
            "/nonexistent/x",
            ".",
            "..",
            "a" * 300,
        ]
    ),
)
NUMBER_TEXT = st.one_of(
    HOSTILE_TEXT, st.floats(allow_nan=True).map(repr), st.integers(-(10**30), 10**30).map(str)
)
ATHLETE_REF = st.one_of(st.sampled_from(["1", "#1", "ext:S01", "S01", "2", "#2"]), HOSTILE_TEXT)
TEST_REF = st.one_of(st.sampled_from(["1", "2", "0", "-1"]), HOSTILE_TEXT)


def _options(pairs: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.sampled_from(sorted(pairs)).flatmap(
            lambda option: pairs[option].map(lambda value: [option, value])
        ),
        max_size=4,
    ).map(lambda chunks: [token for chunk in chunks for token in chunk])


ATHLETE_FIELDS = {
    "--name": HOSTILE_TEXT,
    "--external-id": HOSTILE_TEXT,
    "--body-mass": NUMBER_TEXT,
    "--lever-arm": NUMBER_TEXT,
    "--team": HOSTILE_TEXT,
    "--sport": HOSTILE_TEXT,
    "--dominant": HOSTILE_TEXT,
    "--dob": HOSTILE_TEXT,
    "--sex": HOSTILE_TEXT,
    "--notes": HOSTILE_TEXT,
    "--by": HOSTILE_TEXT,
}


def _command(tmp: str) -> st.SearchStrategy[list[str]]:
    out = st.sampled_from([f"{tmp}/out-a", f"{tmp}/out-b.csv", "/dev/null", tmp, "/proc/x"])
    files = st.one_of(st.sampled_from([f"{tmp}/capture.bin", f"{tmp}/cal.json"]), HOSTILE_TEXT)
    commands = [
        st.tuples(st.just(["athlete", "add"]), _options(ATHLETE_FIELDS)),
        st.tuples(
            st.just(["athlete", "list"]),
            _options({"--search": HOSTILE_TEXT, "--team": HOSTILE_TEXT}),
        ),  # fmt: skip
        st.tuples(ATHLETE_REF.map(lambda a: ["athlete", "show", a]), st.just(["--history"])),
        st.tuples(ATHLETE_REF.map(lambda a: ["athlete", "edit", a]), _options(ATHLETE_FIELDS)),
        st.tuples(
            st.tuples(ATHLETE_REF, NUMBER_TEXT).map(lambda p: ["athlete", "mass", *p]),
            _options({"--date": HOSTILE_TEXT}),
        ),  # fmt: skip
        st.tuples(
            ATHLETE_REF.map(lambda a: ["athlete", "injury", a]),
            _options({"--side": HOSTILE_TEXT, "--date": HOSTILE_TEXT, "--note": HOSTILE_TEXT}),
        ),  # fmt: skip
        st.tuples(
            ATHLETE_REF.map(lambda a: ["athlete", "erase", a, "--yes"]),
            _options({"--reason": HOSTILE_TEXT}),
        ),  # fmt: skip
        st.tuples(
            ATHLETE_REF.map(lambda a: ["athlete", "export-all", a, "--force"]),
            _options({"--out": out}),
        ),  # fmt: skip
        st.tuples(
            st.tuples(ATHLETE_REF, files).map(lambda p: ["test", "import", *p]),
            _options(
                {
                    "--calibration": files,
                    "--rate": NUMBER_TEXT,
                    "--recorded-at": HOSTILE_TEXT,
                    "--notes": HOSTILE_TEXT,
                    "--operator": HOSTILE_TEXT,
                }
            ),
        ),  # fmt: skip
        st.tuples(ATHLETE_REF.map(lambda a: ["test", "list", a]), st.sampled_from([[], ["--all"]])),
        st.tuples(TEST_REF.map(lambda t: ["test", "show", t]), st.just(["--json"])),
        st.tuples(
            TEST_REF.map(lambda t: ["test", "edit", t]),
            _options(
                {
                    "--notes": HOSTILE_TEXT,
                    "--recorded-at": HOSTILE_TEXT,
                    "--athlete": ATHLETE_REF,
                    "--operator": HOSTILE_TEXT,
                }
            ),
        ),  # fmt: skip
        st.tuples(
            TEST_REF.map(lambda t: ["test", "void", t]), _options({"--reason": HOSTILE_TEXT})
        ),  # fmt: skip
        st.tuples(
            TEST_REF.map(lambda t: ["test", "unvoid", t]), _options({"--reason": HOSTILE_TEXT})
        ),  # fmt: skip
        st.tuples(
            st.tuples(TEST_REF, NUMBER_TEXT).map(lambda p: ["rep", "exclude", *p]),
            _options({"--reason": HOSTILE_TEXT}),
        ),  # fmt: skip
        st.tuples(
            st.tuples(TEST_REF, NUMBER_TEXT).map(lambda p: ["rep", "include", *p]), st.just([])
        ),  # fmt: skip
        st.tuples(
            st.just(["export", "summary", "--force"]),
            _options(
                {
                    "--out": out,
                    "--athlete": ATHLETE_REF,
                    "--team": HOSTILE_TEXT,
                    "--since": HOSTILE_TEXT,
                    "--until": HOSTILE_TEXT,
                }
            ),
        ),  # fmt: skip
        st.tuples(
            TEST_REF.map(lambda t: ["export", "test", t, "--force", "--anonymise"]),
            _options({"--out": out}),
        ),  # fmt: skip
        st.tuples(st.just(["recover"]), st.sampled_from([["--list"], ["--discard", "1"], ["x"]])),
        st.tuples(TEST_REF.map(lambda t: ["recompute", t]), st.sampled_from([[], ["--dry-run"]])),
    ]
    return st.one_of(commands).map(lambda parts: [*parts[0], *parts[1]])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with an athlete (id 1, external id S01) and a test (id 1)."""
    folder = tmp_path_factory.mktemp("fuzz")
    capture = synth.write_capture(folder / "capture.bin")
    cert = folder / "cal.json"
    import json

    cert.write_text(json.dumps(synth.certificate()))
    with open_store(folder / "home", actor="fuzz") as store:
        athlete = store.athletes.add("Ada", external_id="S01", body_mass_kg=60)
        store.new_tests.import_file(athlete.id, capture, certificate=cert)
    return folder


def _call(argv: list[str]) -> tuple[int, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage and --help
            code = exc.code if isinstance(exc.code, int) else 2
        sys.stdout.flush()
        sys.stderr.flush()
    err.seek(0)
    return code, err.buffer.read().decode("utf-8", "replace")  # type: ignore[attr-defined]


@pytest.mark.fuzz
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_cli_argument_paths_never_crash(data: Path, monkeypatch, draw) -> None:
    monkeypatch.setenv("NORDIC_STATION_HOME", str(data / "home"))
    argv = draw.draw(_command(str(data)), label="argv")
    code, err = _call(argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    assert "internal error" not in err, (argv, err)
