"""Type checking against a recorded baseline that may only shrink.

``mypy`` runs over the product's packages; its errors are counted per file and
compared with ``.ci/mypy-baseline.txt``.  A file with more errors than its
baseline (a new file starts at zero) fails the check; a file with fewer is
reported so the baseline can be lowered with ``--update``.  New code is
therefore fully typed while old code is typed as it is touched.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

BASELINE = Path(__file__).with_name("mypy-baseline.txt")
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: ")


def run_mypy() -> tuple[Counter[str], str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"],
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1):
        sys.exit(f"mypy failed to run:\n{result.stdout}{result.stderr}")
    counts: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            counts[match["path"]] += 1
    return counts, result.stdout


def read_baseline() -> Counter[str]:
    counts: Counter[str] = Counter()
    if BASELINE.exists():
        for line in BASELINE.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                number, path = line.split(maxsplit=1)
                counts[path] = int(number)
    return counts


def write_baseline(counts: Counter[str]) -> None:
    lines = ["# mypy errors per file that predate the type checking; may only go down"]
    lines += [f"{counts[path]} {path}" for path in sorted(counts) if counts[path]]
    BASELINE.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--update", action="store_true", help="lower the baseline to today's (or record it)"
    )
    args = parser.parse_args()
    counts, output = run_mypy()
    baseline = read_baseline()
    worse = {p: (baseline[p], n) for p, n in counts.items() if n > baseline[p]}
    better = {p: (baseline[p], counts[p]) for p in baseline if counts[p] < baseline[p]}
    if args.update:
        if worse and BASELINE.exists():
            print("refusing to raise the baseline; fix these first:", file=sys.stderr)
        else:
            write_baseline(counts)
            print(f"baseline: {sum(counts.values())} errors in {len(counts)} files")
            return 0
    for path, (was, now) in sorted(worse.items()):
        print(f"{path}: {now} mypy errors, baseline {was}:", file=sys.stderr)
        for line in output.splitlines():
            if line.startswith(path + ":"):
                print("  " + line, file=sys.stderr)
    for path, (was, now) in sorted(better.items()):
        print(f"{path}: {now} mypy errors, baseline {was} (run 'make lint-baseline')")
    print(f"mypy: {sum(counts.values())} errors, baseline {sum(baseline.values())}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
