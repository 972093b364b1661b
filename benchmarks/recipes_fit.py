"""Every recipe of a bundled index at its own layout, GPU count and GPU: valid? fits?

Usage: .venv/bin/python benchmarks/recipes_fit.py [VERSION] [--list oom|invalid|unknown]
Prints the counts by status (library and benchmark recipes apart) and, with --list, the
recipes of one status with the reason.
"""

from __future__ import annotations

import sys
from collections import Counter

from autorecipe.index.load import load_index
from autorecipe.layout.from_recipe import evaluate_recipe


def main() -> None:
    args = sys.argv[1:]
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
