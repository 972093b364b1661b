"""Predicted out-of-memory (AR601), from the memory model in autorecipe.estimate.memory."""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import CheckContext
from autorecipe.advise.rules.recipe_factors import with_overrides
from autorecipe.estimate.memory import estimate_memory
from autorecipe.index.fields import field_key
from autorecipe.layout.from_recipe import recipe_knobs
from autorecipe.layout.rules import check_layout
from autorecipe.result import Memory


def estimate(ctx: CheckContext) -> Memory | None:
    """Memory per GPU of the context's layout; None when the model is unknown or the
    layout is invalid (the layout rules report that instead)."""
    if ctx.spec is None:
        return None
    lo = ctx.layout
    broken = check_layout(
        lo, ctx.spec, world_size=ctx.world_size, seq_len=ctx.seq_len, gpu=ctx.gpu, mode=ctx.mode
    )
    if any(v.severity == "error" for v in broken):
        return None
    rank = ctx.get("peft.dim")
    return estimate_memory(
        ctx.spec,
        lo,
        ctx.gpu,
        seq_len=ctx.seq_len,
        mode=ctx.mode,
        precision=ctx.precision,
        lora_rank=rank if isinstance(rank, int) and rank > 0 else 32,
        world_size=ctx.world_size,
        knobs=recipe_knobs({field_key(k): v for k, v in ctx.config.items()}),
    )


def _fixes(ctx: CheckContext) -> list[dict[str, object]]:
    """The execution-only changes that free memory without touching GBS, preferred first."""
    lo = ctx.layout
    fixes: list[dict[str, object]] = []
    if lo.mbs > 1:
        fixes.append({"train.micro_batch_size": 1})
    if lo.recompute != "full":
        fixes.append(
            {
                "model.recompute_granularity": "full",
                "model.recompute_method": "uniform",
                "model.recompute_num_layers": 1,
            }
        )
    if not lo.use_distributed_optimizer and not lo.use_megatron_fsdp:
        fixes.append({"ddp.use_distributed_optimizer": True})
    return fixes


def _fits(ctx: CheckContext, fix: dict[str, object]) -> bool:
    memory = estimate(with_overrides(ctx, fix))
    return memory is not None and memory.fits


def _fitting_fixes(ctx: CheckContext) -> tuple[list[dict[str, object]], float | None]:
    """The fixes after which the model fits, preferred first: each alone, else all of them
    together; with none, what all of them together still need (GiB per GPU)."""
    fixes = _fixes(ctx)
    alone = [f for f in fixes if _fits(ctx, f)]
    if alone or not fixes:
        return alone, None
    together = {k: v for f in fixes for k, v in f.items()}
    if _fits(ctx, together):
        return [together], None
    memory = estimate(with_overrides(ctx, together))
    return [], memory.per_gpu_gib if memory else None


@rule(
    "AR601",
    "Predicted out of memory",
    "warning",
    """The memory model (estimate/memory.py: bf16 weights, fp32 gradients, Adam state
    sharded by the distributed optimizer, Korthikanti activations with SP/CP/recompute,
    in-flight microbatches of the pipeline schedule, runtime reserve) puts the most loaded
    GPU above its usable memory. A model, not a measurement: a warning, not an error;
    and only info for a recipe checked exactly as shipped on its own GPU count and type,
    since that configuration was tuned and run there (the 0.6.2 sweep in
    benchmarks/RESULTS.md lists how often the model flags shipped recipes).
    The fix is the first of micro batch 1, full recompute and the distributed optimizer
    that brings the estimate under the usable memory on its own, else all of them together
    (the next one when a fix would introduce an error, e.g. MBS 1 with in-batch packing,
    AR502, or full recompute with per-layer CUDA graphs, AR202); when even all of them leave
    it over, the fix says how much is still needed: add GPUs, TP/PP/EP or CP. Evidence:
    megatron-parallelism-and-memory.md §3; pitfalls-evidence #35.""",
)
def predicted_oom(ctx: CheckContext) -> list[Hit]:
    memory = estimate(ctx)
    if memory is None or memory.fits:
        return []
    b = memory.breakdown
    fixes, still = _fitting_fixes(ctx)
    if not fixes:
        tried = " with micro batch 1, full recompute and the distributed optimizer" if still else ""
        need = f" it still needs {still:.1f} GiB{tried}" if still else ""
        advice = f"execution-only changes are not enough:{need}; add GPUs, or TP/PP/EP/CP"
    shipped = (
        " The recipe runs as shipped here, so the model probably over-estimates."
        if ctx.as_shipped
        else ""
    )
    return [
        Hit(
            f"Predicted {memory.per_gpu_gib:.1f} GiB per GPU on {ctx.gpu.key} (usable "
            f"{memory.capacity_gib:.0f} GiB): weights {b.weights:.1f}, gradients {b.gradients:.1f}, "
            f"optimizer {b.optimizer:.1f}, activations {b.activations:.1f}, other {b.other:.1f} GiB."
            + shipped,
            fixes[0] if fixes else advice,
            "info" if ctx.as_shipped else None,
            alternatives=tuple(fixes[1:]),
        )
    ]
