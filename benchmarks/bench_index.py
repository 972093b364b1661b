"""How fast the recipe index is built and read: `index build` from the 0.6.2 wheel (in
process and as a whole command), parsing alone, loading the bundled index (whole and
lean), and whole `autorecipe list` and `autorecipe --help` processes.

Run: python benchmarks/bench_index.py   Results: benchmarks/RESULTS.md (section "index").
Targets (issue 2): build from the wheel < 1 s; `autorecipe list` < 0.5 s wall.
"""

from __future__ import annotations

import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autorecipe.index import load
from autorecipe.index.scan import build_index
from autorecipe.index.source import read_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import megatron_bridge_wheel  # noqa: E402

EXE = str(Path(sys.executable).with_name("autorecipe"))


def _laps(fn, repeats: int) -> tuple[float, float]:
    """(min, median) wall seconds; on a shared box the minimum is the least disturbed run
    and the median shows the noise."""
    laps = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        laps.append(time.perf_counter() - t)
    return min(laps), statistics.median(laps)


# Bytecode may be written: with PYTHONDONTWRITEBYTECODE set (as on the shared box) a
# module edited since its .pyc was written is compiled again in every process, which
# is not what a user's installed copy does (it added ~20 ms per edited module).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _process(*args: str) -> None:
    subprocess.run([EXE, *args], capture_output=True, check=True, env=_ENV)


def main() -> None:
    wheel = megatron_bridge_wheel("0.6.2")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    cpu = time.process_time()
    best, median = _laps(lambda: build_index(wheel), 5)
    print(f"build_index(0.6.2 wheel), in process: min {best:.2f} s, median {median:.2f} s "
          f"(CPU {(time.process_time() - cpu) / 5:.2f} s per build)")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "mb.json")
        _process("index", "build", "--source", str(wheel), "--out", out)  # writes bytecode
        best, median = _laps(lambda: _process("index", "build", "--source", str(wheel), "--out", out), 5)  # fmt: skip
    print(f"`autorecipe index build --source <0.6.2 wheel> --out F`, whole process: "
          f"min {best:.2f} s, median {median:.2f} s")  # fmt: skip

    tree = read_source(wheel)
    recipe_files = [p for p in tree.texts if "/recipes/" in p or "/perf_recipes/" in p]
    best, _ = _laps(lambda: [ast.parse(tree.texts[p]) for p in recipe_files], 3)
    print(f"ast.parse of the {len(recipe_files)} recipe files alone: min {best:.2f} s")

    for provenance in (True, False):

        def fresh_load(provenance: bool = provenance) -> None:
            load._load_path.cache_clear()
            load.load_index("0.6.2", provenance=provenance)

        best, median = _laps(fresh_load, 7)
        what = "whole" if provenance else "lean (no provenance)"
        print(f"load bundled 0.6.2 index, {what}: min {best * 1000:.0f} ms, median {median * 1000:.0f} ms")  # fmt: skip

    best, median = _laps(lambda: _process("list"), 7)
    print(f"`autorecipe list` (1014 rows), whole process: min {best:.2f} s, median {median:.2f} s")
    best, median = _laps(lambda: _process("--help"), 7)
    print(f"`autorecipe --help`, whole process: min {best * 1000:.0f} ms, median {median * 1000:.0f} ms")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
