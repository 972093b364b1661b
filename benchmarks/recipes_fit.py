"""Every recipe of a bundled index at its own layout, GPU count and GPU: valid? fits?

Usage: .venv/bin/python benchmarks/recipes_fit.py [VERSION] [--list oom|invalid|unknown]
       .venv/bin/python benchmarks/recipes_fit.py --published
Prints the counts by status (library and benchmark recipes apart) and, with --list, the
recipes of one status with the reason. --published estimates every published run of
tests/data/perf-calibration.csv at its layout with the settings (recompute, offloading,
dtypes, loss kernel) of the 0.6.2 benchmark recipe named for it, or the defaults when there
is none, and lists those that do not fit.
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


def main() -> None:
    args = sys.argv[1:]
    if "--published" in args:
        published()
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
