"""How fast `check` answers, and what it says about every shipped 0.6.2 recipe.

Run: python benchmarks/bench_check.py   Results: benchmarks/RESULTS.md (section "check").
Measures the whole `autorecipe check` command (a cold process), a warm `api.check` call,
and a sweep of the bundled index with each recipe on its own GPU count and type,
counting findings by rule and severity.
"""

from __future__ import annotations

import collections
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("autorecipe"))
REPEATS = 7
COMMANDS = [
    [
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "16",
        "--gpu-type",
        "h100",
        "-tp",
        "16",
        "-cp",
        "1",
    ],
    [
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "16",
        "--gpu-type",
        "h100",
        "model.tensor_model_parallel_size=16",
        "model.context_parallel_size=1",
    ],
    [
        "--recipe",
        "qwen3_30b_a3b_pretrain_8gpu_h100_bf16_config",
        "model.cuda_graph_impl=transformer_engine",
        "model.cuda_graph_scope=[attn,moe_router,moe_preprocess]",
    ],
]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def whole_command() -> list[tuple[str, float]]:
    rows = []
    for args in COMMANDS:
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            subprocess.run([EXE, "check", *args, "--json"], capture_output=True, check=False)
            times.append(time.perf_counter() - t0)
        rows.append(
            (
                " ".join(args[:2] + args[6:] if len(args) > 6 else args),
                statistics.median(times),
            )
        )
    return rows


def warm_and_sweep() -> dict:
    from autorecipe import api
    from autorecipe.errors import UserError

    t0 = time.perf_counter()
    api.check("llama3_8b_pretrain_config", ["-tp", "2"])
    first = time.perf_counter() - t0
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        api.check("qwen3_30b_a3b_pretrain_config", ["-ep", "8", "model.cuda_graph_scope=[attn]"])
        times.append(time.perf_counter() - t0)
    index = api.load_index("0.6.2")
    counts: collections.Counter = collections.Counter()
    checked = skipped = 0
    t0 = time.perf_counter()
    for recipe in index.recipes:
        if recipe.num_gpus is None:
            skipped += 1
            continue
        try:
            report = api.check(recipe.name, kind=recipe.kind, gpu_type=recipe.gpu_type or "h100")
        except UserError:
            skipped += 1
            continue
        checked += 1
        for finding in {(f.id, f.severity) for f in report.findings}:
            counts[finding] += 1
    sweep = time.perf_counter() - t0
    return {
        "first": first,
        "warm": statistics.median(times),
        "sweep": sweep,
        "checked": checked,
        "skipped": skipped,
        "counts": counts,
    }


def main() -> None:
    for label, seconds in whole_command():
        print(
            f"| `autorecipe check {label} …` whole process (median of {REPEATS}) | {_ms(seconds)} |"
        )
    result = warm_and_sweep()
    print(
        f"| first `api.check` in a process (index, catalog, rules load) | {_ms(result['first'])} |"
    )
    print(f"| warm `api.check` (median of 50) | {_ms(result['warm'])} |")
    print(
        f"| sweep: {result['checked']} recipes on their own GPUs ({result['skipped']} skipped) "
        f"| {result['sweep']:.2f} s |"
    )
    print("\n| rule | severity | shipped recipes |\n|---|---|---|")
    for (rule, severity), n in sorted(result["counts"].items()):
        print(f"| {rule} | {severity} | {n} |")


if __name__ == "__main__":
    main()
