"""Speed and accuracy of the throughput model; prints the numbers recorded in RESULTS.md.

.venv/bin/python benchmarks/bench_throughput.py [--csv OTHER.csv]

`--csv` checks measurements in the same format as tests/data/perf-calibration.csv (a newer
table, a held-out set) the way the calibration rows are checked: median error, rows over
40% (listed), the published layout's rank among ours, over-claims. The bundled parameters
are used as they are: nothing is refitted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from autorecipe.errors import UserError
from autorecipe.estimate.calibration import (
    best_published,
    published_rank,
    relative_errors,
)
from autorecipe.estimate.published import calibration_rows
from autorecipe.estimate.throughput import estimate_throughput
from autorecipe.layout.search import enumerate_layouts

CSV = Path(__file__).resolve().parent.parent / "tests/data/perf-calibration.csv"


def per_call_us(row, repeat: int = 2000) -> float:
    kw = dict(
        seq_len=row.seq_len, precision=row.precision, mode=row.mode, world_size=row.world_size
    )
    start = time.perf_counter()
    for _ in range(repeat):
        estimate_throughput(row.spec, row.layout, row.gpu, **kw)
    return (time.perf_counter() - start) / repeat * 1e6


def plan_overhead(row) -> tuple[float, float]:
    """(plan seconds with ranking, seconds of it spent in the throughput model)."""
    start = time.perf_counter()
    found = enumerate_layouts(
        row.spec, world_size=row.world_size, gpu=row.gpu, seq_len=row.seq_len,
        mode=row.mode, gbs=row.layout.gbs, precision=row.precision,
    )  # fmt: skip
    total = time.perf_counter() - start
    kw = dict(
        seq_len=row.seq_len, precision=row.precision, mode=row.mode, world_size=row.world_size
    )
    start = time.perf_counter()
    for c in found:
        if c.throughput is not None:
            estimate_throughput(row.spec, c.layout, row.gpu, **kw)
    return total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=str(CSV), help="measurements to check (default: ours)")
    args = parser.parse_args()
    try:
        rows, skipped = calibration_rows(args.csv)
    except UserError as e:
        raise SystemExit(f"bench_throughput: {e}") from None
    if not rows:
        raise SystemExit(f"no usable row in {args.csv}: {skipped[:5]}")
    errors = relative_errors(rows)
    print(
        f"rows {len(rows)} (skipped {len(skipped)}); median |err| {statistics.median(errors):.1%}; "
        f"p90 {sorted(errors)[int(0.9 * len(errors))]:.1%}; >40%: {sum(e > 0.4 for e in errors)}"
    )
    for row, error in zip(rows, errors, strict=True):
        if error > 0.4:
            print(f"  over 40%: {row.label} (measured {row.measured:.0f})")
    for line, why in skipped:
        print(f"  skipped line {line}: {why}")
    sample = {r.model_key: r for r in rows}
    calls = {k: per_call_us(r) for k, r in sample.items()}
    print("per estimate (us):", {k: round(v, 1) for k, v in calls.items()})
    ratios = []
    for key in ("llama3_8b", "llama3_70b", "qwen3_30b_a3b", "deepseekv3"):
        if key not in sample:
            continue
        total, spent = plan_overhead(sample[key])
        ratios.append(total / (total - spent))
        print(
            f"plan {key}: {total * 1e3:.0f} ms, throughput share {spent * 1e3:.1f} ms -> x{total / (total - spent):.2f}"
        )
    ranks = [published_rank(r) for r in best_published(rows).values()]
    top3 = sum(r.rank <= 3 for r in ranks)
    print(
        f"published layout in top 3: {top3}/{len(ranks)} = {top3 / len(ranks):.1%}; "
        f"overclaims: {sum(r.overclaims for r in ranks)}"
    )
    for r in ranks:
        if r.overclaims:
            print(
                f"  overclaim: {r.row.label}: top3 {r.best_top3:.0f} vs published {r.predicted:.0f}"
            )


if __name__ == "__main__":
    main()
