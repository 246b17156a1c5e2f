"""The firmware's command parser, fuzzed with random bytes under ASan and UBSan.

The harness (firmware/fuzz/fuzz_parser.c) is built with
-fsanitize=address,undefined and stops at the first finding; it also checks
every byte the device sends back (valid frames, no index gap without an
OVERRUN, never more than the UART queue had room for).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.firmware.rigs import FUZZ_BIN, build

EXECUTIONS = 200_000


@pytest.mark.slow
def test_random_bytes_find_nothing_under_sanitizers() -> None:
    build("fuzz")
    result = subprocess.run(
        [str(FUZZ_BIN), str(EXECUTIONS), "20261204"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "runtime error" not in result.stderr
    assert "AddressSanitizer" not in result.stderr
    report = dict(item.split("=", 1) for item in result.stdout.split())
    assert report["executions"] == str(EXECUTIONS)
    assert report["failures"] == "0"
    # the inputs reached every path: commands, corrupt and unknown frames, overruns
    for key in ("commands", "corrupt", "unknown", "samples_lost", "device_frames_checked"):
        assert int(report[key]) > 1000, key
    print("\n" + result.stdout.strip())


def test_the_fuzz_build_really_carries_both_sanitizers() -> None:
    build("fuzz")
    binary = FUZZ_BIN.read_bytes()
    assert b"__asan_init" in binary
    assert b"__ubsan_handle_" in binary
