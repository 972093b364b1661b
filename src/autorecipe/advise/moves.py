"""The KEY=VALUE overrides that take a recipe from one layout to another, each classed.

One place for both the overrides a resize needs and the optional tuning on top of it, so
that the two always name the same keys, values and change classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autorecipe.advise.adapt import DEFAULT_CP_COMM
from autorecipe.advise.changes import classify_change
from autorecipe.advise.rules.moe import EP_OVERLAP_KEYS
from autorecipe.index.fields import override_path
from autorecipe.layout.rules import interleaved_group_fits
from autorecipe.layout.schema import Layout
from autorecipe.result import Change

RESIZED = "resized to the allocation"
SPLIT = "layers split over the new PP×VP (the recipe's own split no longer matches)"


@dataclass(frozen=True)
class Move:
    """One override: the Megatron-Bridge key, the new and old values, and why."""

    key: str
    new: Any
    old: Any
    why: str


def _recompute_value(granularity: str) -> str | None:
    # Megatron-Core spells "no recompute" as None, not "none"
    return None if granularity == "none" else granularity


def layout_moves(before: Layout, after: Layout) -> list[Move]:
    """Every layout setting that differs between `before` and `after`, with its reason."""
    moves: list[Move] = []

    def move(field: str, new: Any, old: Any, why: str) -> None:
        if new != old:
            moves.append(Move(override_path(field), new, old, why))

    move("tensor_model_parallel_size", after.tp, before.tp, RESIZED)
    move("pipeline_model_parallel_size", after.pp, before.pp, RESIZED)
    vp_why = (
        "virtual stages must match the new PP"
        if after.pp != before.pp
        else "interleaved pipeline: VP chunks per stage shrink the pipeline bubble by 1/VP"
    )
    move("virtual_pipeline_model_parallel_size", after.vp, before.vp, vp_why)
    move("context_parallel_size", after.cp, before.cp, RESIZED)
    move("expert_model_parallel_size", after.ep, before.ep, RESIZED)
    move("expert_tensor_parallel_size", after.etp, before.etp, RESIZED)
    move("sequence_parallel", after.sp, before.sp, "SP on whenever TP > 1 (off at TP = 1)")
    if after.cp > 1:
        move(
            "cp_comm_type",
            after.cp_comm_type,
            (before.cp_comm_type or DEFAULT_CP_COMM) if before.cp > 1 else None,
            "CP needs a transport: a2a when the heads split over CP inside the NVLink "
            "domain, else p2p",
        )
    move("pipeline_model_parallel_layout", after.pipeline_layout, before.pipeline_layout, SPLIT)
    move(
        "num_layers_in_first_pipeline_stage",
        after.first_stage_layers,
        before.first_stage_layers,
        SPLIT,
    )
    move(
        "num_layers_in_last_pipeline_stage",
        after.last_stage_layers,
        before.last_stage_layers,
        SPLIT,
    )
    move(
        "account_for_embedding_in_pipeline_split",
        after.account_for_embedding,
        before.account_for_embedding,
        SPLIT,
    )
    move(
        "account_for_loss_in_pipeline_split", after.account_for_loss, before.account_for_loss, SPLIT
    )
    move(
        "micro_batch_size",
        after.mbs,
        before.mbs,
        "smaller micro batch to fit memory; GBS unchanged",
    )
    if after.recompute != before.recompute:
        why = (
            "more activation recompute to fit memory"
            if after.recompute == "full" or before.recompute == "none"
            else "less activation recompute: it fits without, and runs faster"
        )
        move(
            "recompute_granularity",
            _recompute_value(after.recompute),
            _recompute_value(before.recompute),
            why,
        )
        move("recompute_method", after.recompute_method, before.recompute_method, why)
        move("recompute_num_layers", after.recompute_num_layers, before.recompute_num_layers, why)
        move("recompute_modules", after.recompute_modules, before.recompute_modules, why)
    move(
        "use_megatron_fsdp",
        after.use_megatron_fsdp,
        before.use_megatron_fsdp,
        "Megatron-FSDP shards weights and gradients too: nothing else fits",
    )
    return moves


PER_LAYER_GRAPHS = ("transformer_engine", "local")


def setting_moves(fields: dict[str, Any], after: Layout) -> list[Move]:
    """The recipe's settings that Megatron-Core rejects with the layout `after`, turned off:
    the layout search may need a layout the recipe never ran (rules AR403, AR202)."""
    moves: list[Move] = []
    lacks = [
        what
        for what, missing in (
            ("EP > 1", after.ep <= 1),
            ("a virtual pipeline with PP > 1", after.pp > 1 and not after.vp),
            ("no full recompute", after.recompute == "full"),
        )
        if missing
    ]
    for key in EP_OVERLAP_KEYS:
        if fields.get(key) is True and lacks:
            why = (
                "Megatron-Core runs the EP all-to-all overlap only with EP > 1, a virtual "
                f"pipeline when PP > 1 and no full recompute; this layout lacks {', '.join(lacks)}"
            )
            moves.append(Move(key, False, True, why))
    group_key = "model.microbatch_group_size_per_vp_stage"
    group = fields.get(group_key)
    if isinstance(group, int) and (after.vp or 1) > 1 and after.pp > 1:
        m = after.gbs // max(after.mbs * after.dp, 1)
        if not interleaved_group_fits(after.pp, m, group):
            why = (
                f"the recipe groups {group} microbatches per virtual stage, which the "
                f"interleaved schedule of PP={after.pp} with {m} microbatches rejects; the "
                "default, PP, fits"
            )
            moves.append(Move(group_key, after.pp, group, why))
    # the index keeps these under their plain names (index.fields.PLAIN_FIELDS)
    impl = fields.get("cuda_graph_impl")
    scopes = " ".join(
        str(v)
        for k in ("cuda_graph_scope", "model.cuda_graph_modules")
        for v in (fields.get(k) or [])
    )
    if after.recompute == "full" and impl in PER_LAYER_GRAPHS and "full_iteration" not in scopes:
        why = (
            "per-layer CUDA graphs reject full recompute (TransformerConfig accepts it only "
            "with full-iteration graphs), and this layout needs full recompute to fit"
        )
        moves.append(Move(override_path("cuda_graph_impl"), "none", impl, why))
    return moves


def classed(moves: list[Move]) -> tuple[dict[str, Any], list[Change]]:
    """The overrides of `moves` and their changes, classed with the global batch fixed."""
    overrides: dict[str, Any] = {}
    changes: list[Change] = []
    for m in moves:
        cls, cls_reason = classify_change(m.key, m.new, old=m.old, gbs_fixed=True)
        overrides[m.key] = m.new
        changes.append(
            Change(key=m.key, value=m.new, change_class=cls, reason=f"{m.why}; {cls_reason}")
        )
    return overrides, changes
