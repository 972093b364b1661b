"""How fast the recipe index is built and read: `index build` from the 0.6.2 wheel,
parsing alone, loading the bundled index, and a whole `autorecipe list` process.

Run: python benchmarks/bench_index.py   Results: benchmarks/RESULTS.md (section "index").
Targets (issue 2): build from the wheel < 1 s; `autorecipe list` < 0.5 s wall.
"""

from __future__ import annotations

import ast
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from autorecipe.index import load
from autorecipe.index.scan import build_index
from autorecipe.index.source import read_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import megatron_bridge_wheel  # noqa: E402


def _best(fn, repeats: int) -> tuple[float, float]:
    """(best, median) wall seconds."""
    laps = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        laps.append(time.perf_counter() - t)
    return min(laps), statistics.median(laps)


def main() -> None:
    wheel = megatron_bridge_wheel("0.6.2")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    cpu = time.process_time()
    best, median = _best(lambda: build_index(wheel), 3)
    print(f"index build 0.6.2 wheel: best {best:.2f} s, median {median:.2f} s "
          f"(CPU {(time.process_time() - cpu) / 3:.2f} s per build)")  # fmt: skip

    tree = read_source(wheel)
    recipe_files = [p for p in tree.texts if "/recipes/" in p or "/perf_recipes/" in p]
    best, _ = _best(lambda: [ast.parse(tree.texts[p]) for p in recipe_files], 3)
    print(f"ast.parse of the {len(recipe_files)} recipe files alone: best {best:.2f} s")

    def fresh_load() -> None:
        load._load_path.cache_clear()
        load.load_index("0.6.2")

    best, median = _best(fresh_load, 5)
    print(f"load bundled 0.6.2 index: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms")

    cmd = [sys.executable, "-m", "autorecipe", "list"]
    best, median = _best(lambda: subprocess.run(cmd, capture_output=True, check=True), 5)
    print(f"`autorecipe list` (1014 rows), whole process: best {best:.2f} s, median {median:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
