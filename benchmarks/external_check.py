"""Check the models on public measurements they were not fitted on (never used to calibrate).

    .venv/bin/python benchmarks/external_check.py

1. Throughput ranking: Megatron-Core's MoE model zoo measured Qwen3-235B-A22B on 256 H100s
   (BF16, sequence 4096, GBS 2048) in five layouts (yanring/Megatron-MoE-ModelZoo,
   best_practice/qwen3/readme.md, "Performance Results / H100"). Those runs use the
   Megatron-LM dev branch, most with DeepEP, some with CUDA graphs: absolute speeds are
   not comparable with Bridge's tables; the order of the layouts is what we check.
2. Peak memory: the same author's memory tracer (pytorch-memory-tracing, fake tensors
   through the real Megatron-LM code) for three Qwen3-235B layouts, BF16, selective
   recompute of moe_act and layernorm, distributed optimizer, GBS 2048, embedding and
   loss counted in the pipeline split. Its numbers are MiB of PyTorch allocations; they
   leave out NCCL and cuBLAS workspaces and fragmentation, which our "other" holds.
"""

from __future__ import annotations

from itertools import combinations

from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.estimate.memory import estimate_memory
from autorecipe.estimate.throughput import estimate_throughput
from autorecipe.layout.schema import Layout

MODEL = "Qwen/Qwen3-235B-A22B"
WORLD = 256
SEQ = 4096
GBS = 2048

# (name, tp, ep, pp, vp, mbs, megatron-fsdp, recompute, EP overlap, measured TFLOP/s/GPU)
ZOO_RUNS = [
    ("TP2 EP32 PP8 VP4, DeepEP", 2, 32, 8, 4, 1, False, "selective", False, 245),
    ("TP2 EP32 PP8 VP4, DeepEP, 1F1B overlap", 2, 32, 8, 4, 1, False, "selective", True, 276),
    ("TP2 EP8 FSDP MBS4, DeepEP, full recompute", 2, 8, 1, None, 4, True, "full", False, 276),
    ("TP2 EP8 PP32 VP3, all-to-all", 2, 8, 32, 3, 1, False, "selective", False, 200),
    ("TP4 EP8 PP8 VP4, DeepEP", 4, 8, 8, 4, 1, False, "none", False, 167),
]
# (tp, pp, vp, ep, traced MiB), from the tracer script's header (same author, same model)
TRACED = [(4, 8, 4, 8, 48500.95), (2, 8, 4, 8, 67868.22), (2, 8, 4, 32, 53612.22)]


def _layout(tp, ep, pp, vp, mbs, fsdp, recompute) -> Layout:
    return Layout(
        tp=tp, pp=pp, vp=vp, ep=ep, etp=1, dp=WORLD // (tp * pp), sp=True, mbs=mbs, gbs=GBS,
        recompute=recompute,
        recompute_modules=["moe_act", "layernorm"] if recompute == "selective" else None,
        recompute_method="uniform" if recompute == "full" else None,
        recompute_num_layers=1 if recompute == "full" else None,
        use_megatron_fsdp=fsdp, account_for_embedding=pp > 1, account_for_loss=pp > 1,
    )  # fmt: skip


def ranking() -> None:
    spec, gpu = resolve_model(MODEL), resolve_gpu("H100")
    rows = []
    for name, tp, ep, pp, vp, mbs, fsdp, recompute, overlap, measured in ZOO_RUNS:
        layout = _layout(tp, ep, pp, vp, mbs, fsdp, recompute)
        t = estimate_throughput(
            spec, layout, gpu, seq_len=SEQ, precision="bf16", world_size=WORLD,
            overlap={"ep_comm_overlap": overlap, "tp_comm_overlap": False},
        )  # fmt: skip
        rows.append((name, measured, t.model_tflops_per_gpu))
        print(
            f"  {name:42s} measured {measured:4d}  ours {t.model_tflops_per_gpu:5.0f} TFLOP/s/GPU"
        )
    agree = total = 0
    for (a, ma, pa), (b, mb, pb) in combinations(rows, 2):
        if ma == mb:
            continue
        total += 1
        same = (ma > mb) == (pa > pb)
        agree += same
        if not same:
            print(f"  order wrong: {a} vs {b} (measured {ma} vs {mb}, ours {pa:.0f} vs {pb:.0f})")
    print(f"  pairs ordered as measured: {agree} of {total}")


def memory() -> None:
    spec, gpu = resolve_model(MODEL), resolve_gpu("H100")
    for tp, pp, vp, ep, mib in TRACED:
        layout = _layout(tp, ep, pp, vp, 1, False, "selective")
        m = estimate_memory(spec, layout, gpu, seq_len=SEQ, precision="bf16", world_size=WORLD)
        traced = mib / 1024
        allocs = m.per_gpu_gib - m.breakdown.other
        print(
            f"  TP{tp} PP{pp} VP{vp} EP{ep}: traced {traced:5.1f} GiB; ours {m.per_gpu_gib:5.1f} "
            f"({m.per_gpu_gib / traced - 1:+.1%}), without 'other' {allocs:5.1f} "
            f"({allocs / traced - 1:+.1%})"
        )


def main() -> None:
    print("Qwen3-235B-A22B, 256xH100, BF16, seq 4096, GBS 2048 (Megatron-MoE-ModelZoo):")
    ranking()
    print("Peak memory, same model (Megatron-LM memory tracer):")
    memory()


if __name__ == "__main__":
    main()
