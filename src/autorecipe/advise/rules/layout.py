"""Megatron-Core's config-time layout validations, as AR1xx rules.

The checks themselves live in autorecipe.layout.rules (one source of truth, shared with
the planner); each of its rule ids gets a stable AR code and an explanation here.
"""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import CheckContext
from autorecipe.advise.rules.recipe_factors import CONVERGENCE, recipe_set, resolving_override
from autorecipe.index.fields import override_path
from autorecipe.layout.rules import Violation, check_layout, interleaved_group_fits

_REF = "shared/reference/megatron-parallelism-and-memory.md"

# layout rule id -> (AR id, default severity, explanation)
LAYOUT_RULES: dict[str, tuple[str, str, str]] = {
    "positive_factors": (
        "AR100",
        "error",
        "Every parallel size, batch size, the GPU count and the sequence length must be at least 1.",
    ),
    "dense_mesh": (
        "AR101",
        "error",
        f"Megatron-Core builds the dense rank grid TP×CP×DP×PP over all GPUs, with DP derived "
        f"as W/(TP·PP·CP); W must be divisible by TP·PP·CP or initialize_model_parallel "
        f"raises. Source: parallel_state.RankGenerator ({_REF} §1.1, §1.3).",
    ),
    "expert_mesh": (
        "AR102",
        "error",
        f"The expert grid ETP×EP×EDP×PP spans the same GPUs as the dense grid: EP is carved "
        f"out of TP×CP×DP and does not multiply the world size, so W % (ETP·EP·PP) must be 0. "
        f"Bridge >= 0.6 resolves an unset ETP to 1 when EP > 1, Megatron-Core alone to TP. "
        f"Evidence: NeMo #12828, MB #4579 ({_REF} §1.3-1.4; pitfalls-evidence #9).",
    ),
    "tp_divides_heads": (
        "AR103",
        "error",
        "TransformerConfig.__post_init__ raises ValueError unless num_attention_heads % TP == 0. "
        "The fix lists TP values valid for both heads and KV groups (pitfalls-evidence #1).",
    ),
    "tp_vs_query_groups": (
        "AR104",
        "error",
        "Megatron-Core >= 0.16 (every Bridge >= 0.3.0, including 0.6.2) requires "
        "num_query_groups to be a multiple or a divisor of TP (MLM f7dfb997, #2565). When TP "
        "is a multiple of the KV heads it is accepted and each rank holds one replicated KV "
        "head: a warning for the extra memory and all-gather traffic, and because model code "
        "with a full-width K norm mis-sharded them until fixed (MB #3458). Megatron-Core < "
        "0.16 required TP to divide the KV heads. Acceptance case 9.",
    ),
    "tp_divides_widths": (
        "AR105",
        "error",
        "ColumnParallelLinear/RowParallelLinear split their output/input widths with "
        "megatron.core.utils.divide, which asserts divisibility: ffn_hidden_size % TP and "
        f"moe_ffn_hidden_size % ETP must be 0 ({_REF} §2.1).",
    ),
    "vocab_divisible_by_tp": (
        "AR106",
        "error",
        "Bridge's GPTModelProvider pads the vocabulary only when should_pad_vocab is set "
        "(default False), so the raw Hugging Face vocab must be divisible by TP for the "
        "vocab-parallel embedding (MB #1331; pitfalls-evidence #2).",
    ),
    "tp_within_nvlink": (
        "AR107",
        "warning",
        "Tensor parallelism all-reduces activations in every layer; beyond the NVLink domain "
        "(8 GPUs on HGX H100/B200, 72 on NVL72) that traffic crosses the inter-node network "
        "and throughput collapses. Valid for Megatron-Core, so a warning (acceptance case 9).",
    ),
    "sp_without_tp": (
        "AR108",
        "info",
        "Sequence parallelism needs TP > 1. Megatron-Core alone raises ValueError; Bridge's "
        "TransformerConfig.finalize silently sets it False, so under Bridge it is a no-op "
        f"worth cleaning up: info, whatever layout.rules says ({_REF} §2.2).",
    ),
    "sp_with_tp": (
        "AR109",
        "error",
        "With TP > 1 and sequence_parallel off, LayerNorm and dropout activations stay "
        "replicated on every TP rank (a warning for dense models). For MoE it is an error: "
        "config validation passes, then MoELayer.forward raises ValueError on the first "
        "training step (MLM #1587; pitfalls-evidence #11). Not for Qwen3-VL MoE "
        "(model_type qwen3_vl_moe): Bridge's Qwen3VLMoEModelProvider.finalize, run by "
        "ConfigContainer.validate, turns sequence_parallel on whenever TP > 1 "
        "(models/qwen_vl/qwen3_vl_provider.py in 0.6.2), so the shipped SFT recipe's "
        "sequence_parallel=False never reaches MoELayer (docs/known-upstream-defects.md).",
    ),
    "vp_requires_pp": (
        "AR110",
        "error",
        "A virtual pipeline needs PP > 1: initialize_model_parallel raises otherwise "
        f"({_REF} §2.4).",
    ),
    "layers_split_over_pipeline": (
        "AR111",
        "error",
        "Decoder layers (plus one per account_for_* flag) must split evenly over PP×VP, or "
        "be given by num_layers_in_first/last_pipeline_stage or an explicit "
        "pipeline_model_parallel_layout; Megatron-Core raises at model build otherwise "
        "(get_num_layers_to_build; pitfalls-evidence #3, #4). DeepSeek-V4 with PP > 1 and no "
        "layout is exempt: Bridge's provider builds one at finalize. A split the index could not "
        "resolve statically is reported as info, not guessed.",
    ),
    "interleaved_microbatches": (
        "AR112",
        "error",
        "The interleaved (VP) schedule needs the number of microbatches m = GBS/(MBS·DP) to "
        "be a multiple of PP (with the default microbatch group size); it raises at the "
        "first step, not at config time (schedules.forward_backward_pipelining_with_"
        "interleaving; NeMo #14288; pitfalls-evidence #5).",
    ),
    "seq_divisible_by_cp": (
        "AR113",
        "error",
        "Load-balanced context parallelism cuts each sequence into 2×CP chunks; Bridge's "
        "ConfigContainer.validate requires seq_length % (2·CP) == 0 (pitfalls-evidence #17).",
    ),
    "seq_divisible_for_sp": (
        "AR114",
        "error",
        "With sequence parallelism each CP chunk is split over the TP ranks "
        "(mappings._split_along_first_dim asserts), so seq_length must be divisible by TP·CP.",
    ),
    "cp_comm_type": (
        "AR115",
        "error",
        "cp_comm_type=a2a needs the local Q and KV heads divisible by CP (Transformer Engine "
        "raises); a2a+p2p needs hierarchical_context_parallel_sizes, without which older "
        "Bridge releases silently disabled CP (MB #2667; pitfalls-evidence #18, #19).",
    ),
    "ep_requires_moe": (
        "AR116",
        "error",
        "Expert parallelism needs num_moe_experts; TransformerConfig raises otherwise.",
    ),
    "experts_divisible_by_ep": (
        "AR117",
        "error",
        "Each EP rank holds num_experts/EP experts; MoELayer.__init__ asserts "
        "num_experts % EP == 0 (pitfalls-evidence #10).",
    ),
    "expert_lora_etp": (
        "AR118",
        "warning",
        "LoRA on expert linears with ETP > 1 computes the expert adapter deltas wrongly, "
        "silently (MB #5634, fix pending in #5635). Every shipped recipe pins ETP=1 "
        "(pitfalls-evidence #36).",
    ),
    "gbs_divisible": (
        "AR119",
        "error",
        "The microbatch calculator requires GBS % (MBS·DP) == 0 with DP = W/(TP·PP·CP), CP "
        "excluded (num_microbatches_calculator.py; pitfalls-evidence #7). Changing GBS to fix "
        "it is a convergence change.",
    ),
    "recompute_settings": (
        "AR120",
        "error",
        "Full recompute needs recompute_method uniform|block and recompute_num_layers; "
        f"selective recompute rejects recompute_num_layers (TransformerConfig; {_REF} §2.10).",
    ),
    "megatron_fsdp": (
        "AR121",
        "warning",
        "Megatron-FSDP forces the distributed optimizer on (Bridge "
        "_validate_and_apply_megatron_fsdp_v1_configs); say so explicitly.",
    ),
    "seq_within_positions": (
        "AR122",
        "warning",
        "A sequence longer than the model's max_position_embeddings trains positions the "
        "model never saw; use RoPE scaling or a long-context variant.",
    ),
}


_STAGE_FIELDS = (
    "pipeline_model_parallel_layout",
    "num_layers_in_first_pipeline_stage",
    "num_layers_in_last_pipeline_stage",
    "account_for_embedding_in_pipeline_split",
    "account_for_loss_in_pipeline_split",
)


def _unknown_stage_keys(ctx: CheckContext) -> str:
    """Stage-split fields the index could not resolve statically (and nobody overrode)."""
    unknown = ctx.recipe.unknown if ctx.recipe else {}
    return "; ".join(
        f"{name} {unknown[name]}"
        for name in _STAGE_FIELDS
        if name in unknown and override_path(name) not in ctx.overrides
    )


def _bridge_builds_layout(ctx: CheckContext) -> bool:
    """DeepSeek-V4 with PP > 1 and no layout: Bridge's provider finalize sets one
    (set_deepseek_v4_pipeline_model_parallel_layout, models/model_provider.py in 0.6.2)."""
    lo = ctx.layout
    return (
        ctx.spec is not None
        and ctx.spec.model_type == "deepseek_v4"
        and lo.pp > 1
        and lo.pipeline_layout is None
        and not (lo.first_stage_layers or lo.last_stage_layers)
    )


# Rules that read DP = W/(TP·PP·CP); meaningless while the dense mesh is broken.
_NEEDS_DP = {"gbs_divisible", "interleaved_microbatches"}


def _interleaved_with_group(ctx: CheckContext) -> list[Hit]:
    """The interleaving rule with an explicit microbatch_group_size_per_vp_stage G
    (layout.rules assumes the default G = PP): p <= G <= m and (m % G == 0 or m % G >= p)."""
    lo = ctx.layout
    group = ctx.get("model.microbatch_group_size_per_vp_stage")
    if (lo.vp or 1) <= 1 or lo.pp <= 1 or not isinstance(group, int):
        return []
    m = lo.gbs // max(lo.mbs * lo.dp, 1)
    if interleaved_group_fits(lo.pp, m, group):
        return []
    return [
        Hit(
            f"Interleaved pipeline (PP={lo.pp}, VP={lo.vp}) with {m} microbatches and "
            f"microbatch_group_size_per_vp_stage={group}: the schedule needs PP <= group <= m "
            "and m % group == 0 or >= PP; it raises at the first step.",
            {"model.microbatch_group_size_per_vp_stage": lo.pp} if m % lo.pp == 0 else None,
        )
    ]


def _violations(ctx: CheckContext, rules: list[str] | None = None) -> list[Violation]:
    assert ctx.spec is not None
    return check_layout(
        ctx.layout,
        ctx.spec,
        world_size=ctx.world_size,
        seq_len=ctx.seq_len,
        gpu=ctx.gpu,
        mode=ctx.mode,
        rules=rules,
    )


def _errors(ctx: CheckContext) -> set[str]:
    return {v.rule for v in _violations(ctx) if v.severity == "error"}


def _hit(ctx: CheckContext, layout_rule: str, v: Violation, severity: str) -> Hit:
    """The violation as a Hit; for an error involving factors the recipe set, those
    factors are named and the fix is the override of them that resolves it (when one does
    without breaking another rule)."""
    message = v.message + (f" [{v.depends_on}]" if v.depends_on else "")
    keys = recipe_set(ctx, layout_rule) if severity == "error" else {}
    if not keys:
        return Hit(message, v.fix, severity)  # type: ignore[arg-type]
    before = _errors(ctx)
    fix = resolving_override(
        ctx, keys, lambda c: layout_rule not in (after := _errors(c)) and after <= before
    )
    if fix and any(key in CONVERGENCE for key in fix):
        message += " No execution-only override resolves it; the fix is a convergence change."
    return Hit(message, fix or v.fix, severity, recipe_keys=keys)  # type: ignore[arg-type]


def _make(layout_rule: str, ar_id: str, severity: str, explanation: str) -> None:
    from autorecipe.layout.rules import RULES as LAYOUT

    title = LAYOUT[layout_rule].name if layout_rule in LAYOUT else layout_rule

    @rule(ar_id, title, severity, explanation)  # type: ignore[arg-type]
    def detect(ctx: CheckContext) -> list[Hit]:
        if ctx.spec is None:
            return []
        lo = ctx.layout
        model_parallel = lo.tp * lo.pp * lo.cp
        if layout_rule in _NEEDS_DP and (model_parallel < 1 or ctx.world_size % model_parallel):
            return []  # no integer DP: AR101 reports the cause, not its echoes
        if layout_rule == "layers_split_over_pipeline":
            unknown = _unknown_stage_keys(ctx)
            if unknown:
                return [Hit(f"Not checked: the recipe's {unknown}.", None, "info")]
            if _bridge_builds_layout(ctx):
                return []
        if layout_rule == "interleaved_microbatches" and ctx.get(
            "model.microbatch_group_size_per_vp_stage"
        ):
            return _interleaved_with_group(ctx)
        found = [v for v in _violations(ctx, [layout_rule]) if v.rule == layout_rule]
        return [
            _hit(ctx, layout_rule, v, "info" if severity == "info" else v.severity) for v in found
        ]


for _name, (_ar, _severity, _text) in LAYOUT_RULES.items():
    _make(_name, _ar, _severity, _text)


@rule(
    "AR001",
    "Model facts unavailable: model-dependent rules skipped",
    "info",
    """The layout, memory and MoE rules need the model's shape (heads, KV heads, layers,
    experts). When the recipe's Hugging Face model is not in the bundled catalog (or its
    facts are incomplete) and no --model was given, those rules are skipped rather than
    guessed; pass --model with a catalog name or a config.json path.""",
)
def model_unknown(ctx: CheckContext) -> list[Hit]:
    if ctx.spec is not None:
        return []
    model = ctx.recipe.hf_model_id if ctx.recipe else None
    return [
        Hit(
            f"No model facts for {model or 'this recipe'}: layout, memory and MoE rules were skipped.",
            "pass --model NAME or --model path/to/config.json",
        )
    ]
