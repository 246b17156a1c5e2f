"""Run every benchmark in turn: ``python -m bench``."""

import pathlib
import runpy
import sys

for path in sorted(pathlib.Path(__file__).parent.glob("bench_*.py")):
    print(f"== {path.stem}", flush=True)
    sys.argv = [str(path)]
    runpy.run_path(str(path), run_name="__main__")
