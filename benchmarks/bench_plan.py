"""Speed of the layout planner and the memory model (issue 5 targets).

Usage: .venv/bin/python benchmarks/bench_plan.py
Targets: a full plan for a 671B MoE (DeepSeek-V3) on 2048 GPUs under 1 s; an 8B model on
8 GPUs under 100 ms. Each case runs warm (catalog loaded) `REPEAT` times; min and median.
"""

from __future__ import annotations

import statistics
import time

from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.estimate.memory import estimate_memory
from autorecipe.layout.schema import Layout
from autorecipe.layout.search import enumerate_layouts

REPEAT = 7
CASES = [
    # (label, model, GPUs, GPU, seq, mode, target seconds)
    ("DeepSeek-V3 671B, 2048 × H100, pretrain 4K", "deepseek-v3", 2048, "h100", 4096, "pretrain", 1.0),
    ("Llama 3 8B, 8 × H100, pretrain 8K", "llama3-8b", 8, "h100", 8192, "pretrain", 0.1),
    ("Qwen3-30B-A3B, 16 × H100, SFT 4K", "qwen3-30b-a3b", 16, "h100", 4096, "sft", None),
    ("Qwen3-235B-A22B, 256 × H100, pretrain 4K", "qwen3-235b-a22b", 256, "h100", 4096, "pretrain", None),
    ("Llama 3 70B, 4096 × GB200, pretrain 32K", "llama3-70b", 4096, "gb200", 32768, "pretrain", None),
    ("DeepSeek-V3 671B, 3840 × GB200, SFT 32K (worst case found)", "deepseek-v3", 3840, "gb200", 32768, "sft", None),
]  # fmt: skip


def timed(fn) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), out


def main() -> None:
    print("| case | layouts returned | min | median | target |")
    print("|---|---|---|---|---|")
    for label, model, gpus, gpu_name, seq, mode, target in CASES:
        spec, gpu = resolve_model(model), resolve_gpu(gpu_name)
        best, median, found = timed(
            lambda spec=spec, gpu=gpu, gpus=gpus, seq=seq, mode=mode: enumerate_layouts(
                spec, world_size=gpus, gpu=gpu, seq_len=seq, mode=mode
            )
        )
        verdict = (
            ""
            if target is None
            else ("met" if median < target else "MISSED") + f" (< {target * 1000:.0f} ms)"
        )
        print(
            f"| {label} | {len(found)} | {best * 1000:.0f} ms | {median * 1000:.0f} ms | {verdict} |"
        )
    spec, gpu = resolve_model("deepseek-v3"), resolve_gpu("h100")
    layout = Layout(
        tp=2, pp=16, dp=64, ep=64, sp=True, gbs=8192, first_stage_layers=4, last_stage_layers=1
    )
    best, median, _ = timed(
        lambda: estimate_memory(spec, layout, gpu, seq_len=4096, world_size=2048)
    )
    print(
        f"| one estimate_memory, DeepSeek-V3 PP16 | 1 | {best * 1000:.2f} ms | {median * 1000:.2f} ms | |"
    )


if __name__ == "__main__":
    main()
