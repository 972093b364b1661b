"""How fast `recommend` answers: the whole command, a cold Python process, a warm API call.

Run: python benchmarks/bench_recommend.py   Results: benchmarks/RESULTS.md (section "recommend").
The target (issue 4) is under 300 ms wall for `autorecipe recommend`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

QUERIES = [
    ["--model", "Qwen3-30B-A3B", "--mode", "sft", "--gpus", "16", "--gpu-type", "h100"],
    [
        "--model",
        "Llama 3 8B",
        "--mode",
        "pretrain",
        "--gpus",
        "8",
        "--gpu-type",
        "h100",
        "--seq-len",
        "32k",
    ],
    ["--model", "DeepSeek-V3", "--mode", "pretrain", "--gpus", "256", "--gpu-type", "h100"],
    ["--model", "Llama 3 70B", "--mode", "pretrain", "--gpus", "12", "--gpu-type", "h100"],
    # resized by the planner, nothing fits: the smallest fitting GPU count is searched too
    ["--model", "Qwen3-30B-A3B", "--mode", "sft", "--gpus", "4", "--gpu-type", "h100"],
]
REPEATS = 7
EXE = str(Path(sys.executable).with_name("autorecipe"))

# Phases of one cold process, timed inside it.
PHASES = """
import time
t0 = time.perf_counter()
import autorecipe.cli
t1 = time.perf_counter()
import autorecipe.advise.recommend
from autorecipe import api
t2 = time.perf_counter()
from autorecipe.index.load import load_index
load_index(provenance=False)  # what recommend loads
t3 = time.perf_counter()
api.recommend("Qwen3-30B-A3B", "sft", 16, "h100")
t4 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {t3 - t2:.4f} {t4 - t3:.4f}")
"""


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    # On a shared box the minimum is the least disturbed run; the median shows the noise.
    print("| query | `--json` min / median | human min / median |")
    print("|---|---|---|")
    base = sorted(_wall([EXE, "--help"]) for _ in range(REPEATS))
    for q in QUERIES:
        js = sorted(_wall([EXE, "recommend", *q, "--json"]) for _ in range(REPEATS))
        hu = sorted(_wall([EXE, "recommend", *q]) for _ in range(REPEATS))
        print(
            f"| {' '.join(q)} | {js[0] * 1000:.0f} / {statistics.median(js) * 1000:.0f} ms "
            f"| {hu[0] * 1000:.0f} / {statistics.median(hu) * 1000:.0f} ms |"
        )
    print(
        f"| `autorecipe --help` (floor of any command) | {base[0] * 1000:.0f} / {statistics.median(base) * 1000:.0f} ms | |"
    )

    runs = [
        [
            float(x)
            for x in subprocess.run(
                [sys.executable, "-c", PHASES], check=True, capture_output=True, text=True
            ).stdout.split()
        ]
        for _ in range(REPEATS)
    ]
    names = [
        "import autorecipe.cli (typer)",
        "import autorecipe.advise.recommend and the api (pydantic, recommend's modules)",
        "load the lean 0.6.2 index (no provenance)",
        "first recommend",
    ]
    print("\n| phase of a cold process | median |")
    print("|---|---|")
    for i, name in enumerate(names):
        print(f"| {name} | {statistics.median(r[i] for r in runs) * 1000:.0f} ms |")

    from autorecipe import api

    api.recommend("Qwen3-30B-A3B", "sft", 16, "h100")
    laps = []
    for args in (
        ("Qwen3-30B-A3B", "sft", 16, "h100"),
        ("Llama 3 70B", "pretrain", 12, "h100"),
        ("DeepSeek-V3", "pretrain", 256, "h100"),
    ):
        for _ in range(20):
            t = time.perf_counter()
            api.recommend(*args)
            laps.append(time.perf_counter() - t)
    print(
        f"\nwarm `api.recommend` (index loaded), median of {len(laps)}: {statistics.median(laps) * 1000:.1f} ms, max {max(laps) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
