"""Optional tuning on top of a layout that already runs: execution-only changes that the
throughput model predicts to be faster and the memory model says still fit.

Kept apart from the command's overrides on purpose: the overrides are what it takes to
run the recipe on this allocation; a tuning item is a predicted speed-up resting on a
model, for the user to try and measure (loss curves unchanged, being execution-only).

Two kinds:
- from the seed's pitfall "PP without VP → large bubble → set VP": with PP > 1 and no
  virtual stages, the interleaved schedule cuts the bubble from (PP-1) to (PP-1)/VP micro
  batches. The VP and the layer split come from the planner (layout.search), so they pass
  the same Megatron-Core checks as any planned layout;
- context parallelism over all-to-all (Ulysses) instead of the ring, where the local heads
  split over CP (Transformer Engine's condition, rule cp_comm_type) and the model predicts
  it faster: the planner keeps the ring, Megatron-Core's default and most recipes' choice;
- the data-parallel overlaps (gradient reduce-scatter during the backward pass, parameter
  all-gather during the forward) where the recipe leaves them off and the layout has data
  parallelism to hide.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from autorecipe.advise.adapt import Target
from autorecipe.advise.moves import Move, classed, layout_moves
from autorecipe.estimate.throughput import estimate_throughput
from autorecipe.layout.schema import Layout
from autorecipe.result import Change, Memory, Throughput

SPLIT_FIELDS = (
    "vp",
    "pipeline_layout",
    "first_stage_layers",
    "last_stage_layers",
    "account_for_embedding",
    "account_for_loss",
)


class Tuning(BaseModel):
    """An optional, execution-only change predicted to be faster; not in the command."""

    name: str
    overrides: dict[str, Any]
    changes: list[Change] = Field(default_factory=list)
    layout: Layout
    memory: Memory
    throughput: Throughput
    step_time_before_s: float
    bubble_before_s: float
    bubble_after_s: float
    reason: str


def _throughput(target: Target, lo: Layout) -> Throughput:
    return estimate_throughput(
        target.spec, lo, target.gpu, seq_len=target.seq_len, precision=target.precision,
        mode=target.mode, world_size=target.world,
        **target.knobs.speed_settings(),
    )  # fmt: skip


def _tuning(
    name: str,
    moves: list[Move],
    layout: Layout,
    memory: Memory,
    before: Throughput,
    after: Throughput,
    why: str,
    new_layout: bool = True,
) -> Tuning:
    """A tuning item: its classed overrides, and `why` followed by the predicted step (and,
    for a `new_layout`, its memory)."""
    overrides, changes = classed(moves)
    saving = 1 - after.step_time_s / before.step_time_s
    return Tuning(
        name=name,
        overrides=overrides,
        changes=changes,
        layout=layout,
        memory=memory,
        throughput=after,
        step_time_before_s=before.step_time_s,
        bubble_before_s=before.breakdown.get("pp_bubble", 0.0),
        bubble_after_s=after.breakdown.get("pp_bubble", 0.0),
        reason=f"{why}, step {before.step_time_s:.2f} s → {after.step_time_s:.2f} s "
        f"({saving:.1%} faster)"
        + (f"; {memory.per_gpu_gib:.1f} GiB per GPU, still fits" if new_layout else ""),
    )


def _faster(before: Throughput, after: Throughput) -> bool:
    """Worth offering: at least 1% off the step, well above the model's arithmetic noise."""
    return after.step_time_s <= 0.99 * before.step_time_s


def interleave(target: Target, lo: Layout) -> Tuning | None:
    """The fastest VP the planner accepts for `lo`'s PP, when `lo` runs PP > 1 without VP
    and that VP fits and is predicted faster; else None.

    Example:
        >>> interleave(Target(deepseek_v3, 256, h100, 4096, "pretrain"), pp8_layout).layout.vp
        2
    """
    if lo.pp <= 1 or lo.vp:
        return None
    fixed: dict[str, Any] = {
        k: getattr(lo, k) for k in ("tp", "pp", "cp", "ep", "etp", "mbs", "recompute")
    }
    if lo.cp > 1 and lo.cp_comm_type:
        fixed["cp_comm_type"] = lo.cp_comm_type
    before = _throughput(target, lo)
    best: Tuning | None = None
    for cand in target.plan(lo.gbs, fixed):
        if cand.layout is None or not cand.layout.vp:
            continue
        # Only the stage split moves; every other setting stays the running layout's.
        variant = lo.model_copy(update={k: getattr(cand.layout, k) for k in SPLIT_FIELDS})
        if any(v.severity == "error" for v in target.violations(variant)):
            continue
        memory = target.memory(variant)
        after = _throughput(target, variant)
        if not memory.fits or after.step_time_s >= before.step_time_s:
            continue
        if best is not None and after.step_time_s >= best.throughput.step_time_s:
            continue
        b0 = before.breakdown.get("pp_bubble", 0.0)
        b1 = after.breakdown.get("pp_bubble", 0.0)
        best = _tuning(
            f"interleaved pipeline: VP={variant.vp}",
            layout_moves(lo, variant),
            variant,
            memory,
            before,
            after,
            f"PP={lo.pp} without VP idles each stage for (PP-1) = {lo.pp - 1} micro batches per "
            f"step; VP={variant.vp} cuts that to {(lo.pp - 1) / variant.vp:g}: predicted bubble "
            f"{b0:.2f} s → {b1:.2f} s",
        )
    return best


def all_to_all_cp(target: Target, lo: Layout) -> Tuning | None:
    """cp_comm_type=a2a for a layout that runs CP over the ring, when Transformer Engine
    accepts it at this TP and CP, it fits, and it is predicted at least 1% faster; else None.

    Example:
        >>> all_to_all_cp(Target(llama3_8b, 8, h100, 65536, "pretrain"), cp8_layout).name
        'context parallelism over all-to-all'
    """
    if lo.cp <= 1 or (lo.cp_comm_type or "p2p") != "p2p":
        return None
    variant = lo.model_copy(update={"cp_comm_type": "a2a"})
    if any(v.severity == "error" for v in target.violations(variant)):
        return None
    before = _throughput(target, lo)
    after = _throughput(target, variant)
    memory = target.memory(variant)
    if not memory.fits or not _faster(before, after):
        return None
    c0, c1 = before.breakdown.get("cp_comm", 0.0), after.breakdown.get("cp_comm", 0.0)
    a0, a1 = before.breakdown.get("compute", 0.0), after.breakdown.get("compute", 0.0)
    return _tuning(
        "context parallelism over all-to-all",
        layout_moves(lo, variant),
        variant,
        memory,
        before,
        after,
        f"CP={lo.cp} over the ring splits each sequence's keys {lo.cp} ways and passes K/V "
        f"around the ranks; all-to-all gives each rank whole sequences for 1/{lo.cp} of the "
        f"heads (longer attention tiles) for one exchange of Q, K, V and O: predicted "
        f"compute {a0:.2f} s → {a1:.2f} s, exposed CP traffic {c0:.2f} s → {c1:.2f} s",
    )


# switch -> (what waits, where the overlap hides it)
_DP_WHAT = {
    "overlap_grad_reduce": ("gradient reduce-scatter", "the backward pass"),
    "overlap_param_gather": ("parameter all-gather", "the next forward pass"),
}


def data_parallel_overlap(target: Target, lo: Layout, fields: dict[str, Any]) -> Tuning | None:
    """Turn on the DDP gradient reduce-scatter and (with the distributed optimizer) parameter
    all-gather overlaps a recipe leaves off, where the layout has data parallelism and the
    model predicts at least 1% off the step; else None. `fields` are the recipe's: a
    CommOverlapConfig that sets an overlap overrides the DDP field, so the override goes
    where the recipe sets it.

    Example:
        >>> data_parallel_overlap(target, layout, recipe.fields).overrides
        {'ddp.overlap_grad_reduce': True, 'ddp.overlap_param_gather': True}
    """
    knobs = target.knobs
    if lo.use_megatron_fsdp or lo.dp * lo.cp <= 1 and lo.edp <= 1:
        return None
    wanted = {"overlap_grad_reduce": True}
    if lo.use_distributed_optimizer:  # Megatron asserts it for the param-gather overlap
        wanted["overlap_param_gather"] = True
    off = {name: True for name in wanted if not getattr(knobs, name)}
    if not off:
        return None
    tuned = replace(target, knobs=replace(knobs, **off))
    before, after = _throughput(target, lo), _throughput(tuned, lo)
    if not _faster(before, after):
        return None
    moves = [
        Move(
            f"comm_overlap.{name}" if fields.get(f"comm_overlap.{name}") is not None
            else f"ddp.{name}",
            True, False, "the recipe leaves it off",
        )
        for name in off
    ]  # fmt: skip
    d0, d1 = before.breakdown.get("dp_comm", 0.0), after.breakdown.get("dp_comm", 0.0)
    return _tuning(
        "data-parallel communication overlap",
        moves,
        lo,
        target.memory(lo),
        before,
        after,
        f"the recipe sets {' and '.join(f'{n}=False' for n in off)}, so the "
        f"{' and the '.join(_DP_WHAT[n][0] for n in off)} over DP={lo.dp} "
        f"{'waits' if len(off) == 1 else 'wait'} for the step's compute to end; overlapped, "
        f"{'it hides' if len(off) == 1 else 'they hide'} under "
        f"{' and '.join(_DP_WHAT[n][1] for n in off)}: "
        f"predicted exposed DP traffic {d0:.2f} s → {d1:.2f} s",
        new_layout=False,
    )
