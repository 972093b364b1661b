"""How fast the catalog answers: name resolution, parameter and FLOP counts, `autorecipe model`.

Run: python benchmarks/bench_catalog.py   Results: benchmarks/RESULTS.md (section "catalog").
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from autorecipe.catalog.flops import training_flops_per_token
from autorecipe.catalog.models import list_models, resolve_model
from autorecipe.catalog.params import count_params
from autorecipe.errors import UserError

NAMES = [
    "Llama 3 8B",
    "qwen3 30b a3b",
    "deepseek v3",
    "meta-llama/Meta-Llama-3.1-70B",
    "nemotron h 8b",
]
CONFIG = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "data"
    / "hf_configs"
    / "qwen3-next-80b-a3b.json"
)


def _ms(fn, repeats: int = 200) -> float:
    laps = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        laps.append(time.perf_counter() - t)
    return 1000 * statistics.median(laps)


def main() -> None:
    t = time.perf_counter()
    resolve_model("llama3-8b")
    print(f"first resolve (loads the catalog):   {1000 * (time.perf_counter() - t):.1f} ms")
    print(
        f"resolve a typed name (warm, median): {_ms(lambda: [resolve_model(n) for n in NAMES]) / len(NAMES):.3f} ms"
    )
    print(f"resolve a config.json path:          {_ms(lambda: resolve_model(str(CONFIG))):.3f} ms")

    specs = []
    for hf_id in list_models():
        try:
            specs.append(resolve_model(hf_id))
        except UserError:
            pass
    per_model = _ms(lambda: [count_params(s) for s in specs], repeats=20) / len(specs)
    print(f"count_params, per model ({len(specs)} models): {per_model:.3f} ms")
    per_flops = _ms(lambda: [training_flops_per_token(s, 8192) for s in specs], repeats=20) / len(
        specs
    )
    print(f"training_flops_per_token, per model:  {per_flops:.3f} ms")

    cmd = [
        sys.executable,
        "-c",
        "from autorecipe.cli import main; main()",
        "model",
        "deepseek v3",
        "--json",
    ]
    laps = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        laps.append(time.perf_counter() - t)
    print(
        f"`autorecipe model 'deepseek v3' --json` process, median of 5: {1000 * statistics.median(laps):.0f} ms"
    )


if __name__ == "__main__":
    main()
