"""Every recipe of a bundled index at its own layout, GPU count and GPU: valid? fits?

Usage: .venv/bin/python benchmarks/recipes_fit.py [VERSION] [--list oom|invalid|unknown]
       .venv/bin/python benchmarks/recipes_fit.py --published
       .venv/bin/python benchmarks/recipes_fit.py --speed [N]
Prints the counts by status (library and benchmark recipes apart) and, with --list, the
recipes of one status with the reason. --published estimates every published run of
tests/data/perf-calibration.csv at its layout with the settings (recompute, offloading,
dtypes, loss kernel) of the 0.6.2 benchmark recipe named for it, or the defaults when there
is none, and lists those that do not fit. --speed predicts every valid 0.6.2 benchmark recipe
at its own layout with its own settings and lists the N (default 10) with the lowest and the
highest MFU and where their step goes: a list of the runs the throughput model finds strange,
to check against measurements (never fitted on).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from autorecipe.index.load import load_index
from autorecipe.layout.from_recipe import evaluate_recipe

CSV = Path(__file__).parent.parent / "tests" / "data" / "perf-calibration.csv"


def published() -> None:
    from autorecipe.estimate.calibration import load_rows
    from autorecipe.estimate.published import published_fit

    index = load_index("0.6.2")
    rows, skipped = load_rows(CSV)
    counts: Counter[tuple[str, bool]] = Counter()
    for row in rows:
        run = published_fit(row, index)
        matched = (
            "recipe sets its layout"
            if run.same_layout
            else "recipe has another layout"
            if run.recipe
            else "no recipe"
        )
        counts[(matched, run.memory.fits)] += 1
        if not run.memory.fits:
            b = run.memory.breakdown
            print(
                f"{row.label}: {run.memory.per_gpu_gib:.1f}/{run.memory.capacity_gib:g} GiB "
                f"(state {b.weights + b.gradients + b.optimizer:.1f}, activations "
                f"{b.activations:.1f}) [{matched}]"
            )
    print(f"published runs: {len(rows)} usable, {len(skipped)} left out by calibration.load_rows")
    for (matched, fits), n in sorted(counts.items()):
        print(f"  {matched:26s} {'fits' if fits else 'OOM '} {n}")


def speeds(n: int) -> None:
    from autorecipe.catalog.gpus import resolve_gpu
    from autorecipe.catalog.models import resolve_model
    from autorecipe.errors import UserError
    from autorecipe.estimate.throughput import estimate_throughput
    from autorecipe.layout.from_recipe import recipe_layout

    rows = []
    for recipe in load_index("0.6.2").recipes:
        if recipe.kind != "benchmark" or recipe.alias_of:
            continue
        if evaluate_recipe(recipe).status not in ("fits", "oom"):
            continue  # invalid or unknown: no speed to predict
        rl = recipe_layout(recipe)
        try:
            t = estimate_throughput(
                resolve_model(recipe.hf_model_id), rl.layout, resolve_gpu(recipe.gpu_type),
                seq_len=rl.seq_len, precision=rl.precision, mode=rl.mode,
                world_size=recipe.num_gpus, **rl.knobs.speed_settings(),
            )  # fmt: skip
        except UserError:  # a GPU without published peaks (Rubin), a precision it lacks
            continue
        parts = sorted(t.breakdown.items(), key=lambda kv: -kv[1])[:2]
        where = ", ".join(f"{k} {v / t.step_time_s:.0%}" for k, v in parts)
        rows.append((t.mfu, f"{recipe.name}: MFU {t.mfu:.1%}, {where}"))
    rows.sort()
    print(f"{len(rows)} valid benchmark recipes; lowest MFU:")
    for _, line in rows[:n]:
        print("  " + line)
    print("highest MFU:")
    for _, line in rows[-n:]:
        print("  " + line)


def main() -> None:
    args = sys.argv[1:]
    if "--published" in args:
        published()
        return
    if "--speed" in args:
        i = args.index("--speed")
        speeds(int(args[i + 1]) if len(args) > i + 1 else 10)
        return
    version = args[0] if args and not args[0].startswith("--") else "0.6.2"
    show = args[args.index("--list") + 1] if "--list" in args else None
    index = load_index(version)
    counts: Counter[tuple[str, str]] = Counter()
    for recipe in index.recipes:
        if recipe.alias_of:
            continue
        fit = evaluate_recipe(recipe)
        counts[(recipe.kind, fit.status)] += 1
        if fit.status == show:
            print(f"{recipe.name}: {fit.detail}")
    print(f"Megatron-Bridge {version}: recipes (aliases excluded) by kind and status")
    for (kind, status), n in sorted(counts.items()):
        print(f"  {kind:9s} {status:8s} {n}")


if __name__ == "__main__":
    main()
