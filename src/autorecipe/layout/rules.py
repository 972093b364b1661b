"""Megatron-Core's config-time rules for a parallel layout, one function per rule.

Each rule reads a `LayoutContext` and returns a `Violation` or None. Rules are registered
by id in `RULES` (so the linter can map each one to its own AR### code) and run together
by `check_layout`. Sources are cited per rule; the reference notes are
shared/reference/megatron-parallelism-and-memory.md §1–2 and pitfalls-evidence.md §A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError, did_you_mean
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import StageSplitError, decoder_layer_count, layers_per_stage

# Megatron-Core that Megatron-Bridge >= 0.3.0 pins (core_v0.16+): TP may be a multiple of
# the KV groups (MLM f7dfb997, PR #2565). Older cores require TP to divide them.
KV_REPLICATION_MCORE = (0, 16)

Severity = Literal["error", "warning"]


class Violation(BaseModel):
    """One broken rule: what is wrong (with the actual values) and what would be right."""

    rule: str  # stable id, e.g. "tp_divides_heads"
    name: str  # short human title
    severity: Severity
    message: str
    fix: str
    # Which software decides the rule, e.g. "Megatron-Core >= 0.16" (None: all versions)
    depends_on: str | None = None


@dataclass(frozen=True)
class LayoutContext:
    layout: Layout
    spec: ModelSpec
    world_size: int
    seq_len: int
    gpu: GPUSpec | None = None
    mode: str = "pretrain"
    allow_cross_nvlink_tp: bool = False
    mcore_version: str | None = None

    @property
    def dp(self) -> int:
        """Data-parallel size as Megatron derives it: W / (TP·PP·CP), CP excluded."""
        lo = self.layout
        return self.world_size // (lo.tp * lo.pp * lo.cp)

    @property
    def vp(self) -> int:
        return self.layout.vp or 1


Rule = Callable[[LayoutContext], "Violation | None"]


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str
    check: Rule


RULES: dict[str, RuleInfo] = {}


def _rule(rule_id: str, name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = RuleInfo(rule_id, name, fn)
        return fn

    return register


def _v(rule_id: str, severity: Severity, message: str, fix: str, depends_on: str | None = None):
    return Violation(
        rule=rule_id,
        name=RULES[rule_id].name if rule_id in RULES else rule_id,
        severity=severity,
        message=message,
        fix=fix,
        depends_on=depends_on,
    )


def divisors(n: int) -> list[int]:
    """All positive divisors of n, ascending."""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def valid_tp_values(spec: ModelSpec, limit: int | None = None) -> list[int]:
    """TP sizes that Megatron-Core >= 0.16 accepts for the heads and KV groups of `spec`."""
    a, g = spec.num_attention_heads, spec.num_key_value_heads
    return [t for t in divisors(a) if (g % t == 0 or t % g == 0) and (limit is None or t <= limit)]


def _fmt(values: list[int], cap: int = 12) -> str:
    shown = ", ".join(str(v) for v in values[:cap])
    return shown + (", …" if len(values) > cap else "")


# --- meshes -----------------------------------------------------------------------------


@_rule("positive_factors", "every factor at least 1")
def positive_factors(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    bad = {
        k: getattr(lo, k)
        for k in ("tp", "pp", "cp", "ep", "etp", "dp", "mbs", "gbs")
        if getattr(lo, k) < 1
    }
    if lo.vp is not None and lo.vp < 1:
        bad["vp"] = lo.vp
    if ctx.world_size < 1:
        bad["world_size"] = ctx.world_size
    if ctx.seq_len < 1:
        # every later rule divides the sequence; a non-positive one is bad input, not a layout
        bad["seq_len"] = ctx.seq_len
    if not bad:
        return None
    listed = ", ".join(f"{k}={v}" for k, v in bad.items())
    return _v(
        "positive_factors",
        "error",
        f"Parallel sizes, batch sizes and the sequence length must be ≥ 1; got {listed}.",
        "Use positive integers.",
    )


@_rule("dense_mesh", "TP×CP×DP×PP equals the world size")
def dense_mesh(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    product = lo.tp * lo.cp * lo.dp * lo.pp
    if product == ctx.world_size:
        return None
    mp = lo.tp * lo.pp * lo.cp
    if ctx.world_size % mp:
        fix = (
            f"TP×PP×CP = {mp} must divide {ctx.world_size} GPUs; "
            f"valid TP×PP×CP products: {_fmt(divisors(ctx.world_size))}."
        )
    else:
        fix = f"Set DP = {ctx.world_size} / (TP×PP×CP) = {ctx.world_size // mp}."
    return _v(
        "dense_mesh",
        "error",
        f"Dense mesh TP×CP×DP×PP = {lo.tp}×{lo.cp}×{lo.dp}×{lo.pp} = {product}, "
        f"but the world size is {ctx.world_size}.",
        fix,
    )


@_rule("expert_mesh", "ETP×EP×EDP×PP equals the world size")
def expert_mesh(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if lo.ep == 1 and lo.etp == 1:
        return None
    block = lo.etp * lo.ep * lo.pp
    if ctx.world_size % block == 0:
        return None
    per_stage = ctx.world_size // lo.pp if ctx.world_size % lo.pp == 0 else None
    fix = (
        f"EP×ETP must divide the {per_stage} ranks of one pipeline stage (TP×CP×DP): "
        f"valid EP×ETP products: {_fmt(divisors(per_stage))}. Set ETP=1 for fine-grained MoE."
        if per_stage
        else "Make PP divide the world size first."
    )
    return _v(
        "expert_mesh",
        "error",
        f"Expert mesh ETP×EP×PP = {lo.etp}×{lo.ep}×{lo.pp} = {block} does not divide "
        f"{ctx.world_size} GPUs, so expert-DP = {ctx.world_size}/{block} is not an integer "
        f"(EP is carved out of TP×CP×DP; it does not multiply the world size).",
        fix,
    )


# --- tensor parallel --------------------------------------------------------------------


@_rule("tp_divides_heads", "TP divides the attention heads")
def tp_divides_heads(ctx: LayoutContext) -> Violation | None:
    t, a = ctx.layout.tp, ctx.spec.num_attention_heads
    if a % t == 0:
        return None
    return _v(
        "tp_divides_heads",
        "error",
        f"TP={t} does not divide the {a} attention heads "
        "(Megatron-Core TransformerConfig raises ValueError).",
        f"Valid TP values for this model: {_fmt(valid_tp_values(ctx.spec))}.",
    )


@_rule("tp_vs_query_groups", "TP and the KV heads (query groups) divide one another")
def tp_vs_query_groups(ctx: LayoutContext) -> Violation | None:
    t, g = ctx.layout.tp, ctx.spec.num_key_value_heads
    if ctx.spec.is_mla or g % t == 0:
        return None
    new_core = (
        ctx.mcore_version is None or _parse_version(ctx.mcore_version) >= KV_REPLICATION_MCORE
    )
    valid = _fmt(valid_tp_values(ctx.spec))
    if new_core and t % g == 0:
        return _v(
            "tp_vs_query_groups",
            "warning",
            f"TP={t} is a multiple of the {g} KV heads: each rank holds one KV head and the "
            f"KV projections are replicated {t // g}× (more memory and all-gather traffic).",
            f"Prefer TP ≤ {g}; TP values that need no replication: "
            f"{_fmt([v for v in valid_tp_values(ctx.spec) if g % v == 0])}.",
            depends_on="Megatron-Core >= 0.16 (Megatron-Bridge >= 0.3.0) accepts it",
        )
    if new_core:
        return _v(
            "tp_vs_query_groups",
            "error",
            f"TP={t} is neither a divisor nor a multiple of the {g} KV heads "
            "(num_query_groups); Megatron-Core raises ValueError.",
            f"Valid TP values: {valid}.",
            depends_on="Megatron-Core >= 0.16: divisor or multiple",
        )
    return _v(
        "tp_vs_query_groups",
        "error",
        f"TP={t} does not divide the {g} KV heads; Megatron-Core {ctx.mcore_version} requires "
        "num_query_groups to be a multiple of TP.",
        f"Valid TP values: {_fmt([v for v in divisors(g) if ctx.spec.num_attention_heads % v == 0])}.",
        depends_on="Megatron-Core < 0.16 (Megatron-Bridge < 0.3.0)",
    )


@_rule("tp_divides_widths", "TP divides the projection widths")
def tp_divides_widths(ctx: LayoutContext) -> Violation | None:
    spec, t, te = ctx.spec, ctx.layout.tp, ctx.layout.etp
    bad = []
    if spec.intermediate_size and not _all_moe(spec) and spec.intermediate_size % t:
        bad.append(f"ffn_hidden_size {spec.intermediate_size} % TP {t}")
    if spec.is_moe and spec.moe_intermediate_size and spec.moe_intermediate_size % te:
        bad.append(f"moe_ffn_hidden_size {spec.moe_intermediate_size} % ETP {te}")
    if not bad:
        return None
    return _v(
        "tp_divides_widths",
        "error",
        "Linear layers cannot be split evenly: "
        + "; ".join(bad)
        + " ≠ 0 (megatron.core.utils.divide).",
        "Choose TP/ETP that divide the FFN widths (ETP=1 always works for experts).",
    )


@_rule("vocab_divisible_by_tp", "TP divides the vocabulary")
def vocab_divisible_by_tp(ctx: LayoutContext) -> Violation | None:
    t, v = ctx.layout.tp, ctx.spec.vocab_size
    if v % t == 0:
        return None
    return _v(
        "vocab_divisible_by_tp",
        "error",
        f"Vocabulary {v} is not divisible by TP={t}; Megatron-Bridge keeps the raw HF vocab "
        "(should_pad_vocab defaults to False), so the vocab-parallel embedding cannot be built.",
        f"Use a TP dividing {v} or set model.should_pad_vocab=True.",
        depends_on="Megatron-Bridge should_pad_vocab=False (its default)",
    )


@_rule("tp_within_nvlink", "TP stays inside the NVLink domain")
def tp_within_nvlink(ctx: LayoutContext) -> Violation | None:
    if ctx.gpu is None or ctx.allow_cross_nvlink_tp:
        return None
    t, n = ctx.layout.tp, ctx.gpu.nvlink_domain_size
    if t <= n:
        return None
    return _v(
        "tp_within_nvlink",
        "warning",
        f"TP={t} spans more than the {n}-GPU NVLink domain of {ctx.gpu.key}; TP all-reduces "
        "then cross the slower inter-node network on every layer.",
        f"Keep TP ≤ {n}; use PP, CP or EP for the rest.",
    )


# --- sequence parallel ------------------------------------------------------------------


def _all_moe(spec: ModelSpec) -> bool:
    return spec.is_moe and not (spec.first_k_dense_replace or 0)


@_rule("sp_without_tp", "sequence parallelism needs TP > 1")
def sp_without_tp(ctx: LayoutContext) -> Violation | None:
    if not (ctx.layout.sp and ctx.layout.tp == 1):
        return None
    return _v(
        "sp_without_tp",
        "warning",
        "sequence_parallel=True with TP=1: Megatron-Bridge silently turns it off "
        "(Megatron-Core alone raises ValueError).",
        "Set sequence_parallel=False, or TP > 1.",
    )


@_rule("sp_with_tp", "sequence parallelism on whenever TP > 1")
def sp_with_tp(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if lo.tp == 1 or lo.sp:
        return None
    if ctx.spec.is_moe:
        return _v(
            "sp_with_tp",
            "error",
            f"MoE model with TP={lo.tp} and sequence_parallel=False: config validation passes "
            "but MoELayer.forward raises ValueError on the first training step.",
            "Set sequence_parallel=True.",
        )
    return _v(
        "sp_with_tp",
        "warning",
        f"TP={lo.tp} without sequence parallelism keeps LayerNorm/dropout activations "
        "replicated on every TP rank.",
        "Set sequence_parallel=True.",
    )


# --- pipeline ---------------------------------------------------------------------------


@_rule("vp_requires_pp", "virtual pipeline only with PP > 1")
def vp_requires_pp(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if lo.vp is None or lo.vp == 1 or lo.pp > 1:
        return None
    return _v(
        "vp_requires_pp",
        "error",
        f"virtual_pipeline_model_parallel_size={lo.vp} with PP=1 "
        "(initialize_model_parallel raises RuntimeError).",
        "Unset VP, or use PP > 1.",
    )


@_rule("layers_split_over_pipeline", "decoder layers split over PP×VP")
def layers_split_over_pipeline(ctx: LayoutContext) -> Violation | None:
    try:
        layers_per_stage(decoder_layer_count(ctx.spec), ctx.layout)
    except StageSplitError as exc:
        return _v("layers_split_over_pipeline", "error", str(exc), exc.fix)
    return None


def interleaved_group_fits(pp: int, microbatches: int, group: int | None = None) -> bool:
    """Megatron's interleaved schedule (schedules.py) runs m microbatches in groups of G
    (microbatch_group_size_per_vp_stage, default PP) only if p <= G <= m and m % G is 0 or
    at least p."""
    g = pp if group is None else group
    return pp <= g <= microbatches and (microbatches % g == 0 or microbatches % g >= pp)


@_rule("interleaved_microbatches", "interleaved schedule has a multiple of PP microbatches")
def interleaved_microbatches(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if ctx.vp <= 1 or lo.pp <= 1 or lo.mbs * ctx.dp == 0:
        return None
    m = lo.gbs // (lo.mbs * ctx.dp)
    if interleaved_group_fits(lo.pp, m):
        return None
    return _v(
        "interleaved_microbatches",
        "error",
        f"Interleaved pipeline (VP={lo.vp}) with {m} microbatches per step "
        f"(GBS {lo.gbs} / (MBS {lo.mbs} × DP {ctx.dp})): the schedule needs a multiple of "
        f"PP={lo.pp}; it raises at the first step.",
        "Lower DP (raise TP/PP/CP), drop VP, or change GBS (a convergence change).",
    )


# --- sequence / context parallel --------------------------------------------------------


@_rule("seq_divisible_by_cp", "sequence length divisible by 2×CP")
def seq_divisible_by_cp(ctx: LayoutContext) -> Violation | None:
    c, s = ctx.layout.cp, ctx.seq_len
    if c == 1 or s % (2 * c) == 0:
        return None
    return _v(
        "seq_divisible_by_cp",
        "error",
        f"Sequence length {s} is not divisible by 2×CP = {2 * c} (load-balanced CP splits "
        "each sequence into 2×CP chunks).",
        _cp_fix(s, c),
    )


def _cp_fix(s: int, c: int) -> str:
    """The CP values that split a sequence of `s` tokens, or CP=1 when none does (odd s)."""
    valid = [x for x in divisors(s // 2) if x > 1] if s % 2 == 0 else []
    if not valid:
        return (
            f"Use CP=1 (a sequence of {s} tokens cannot be split into 2×CP chunks), or a "
            f"sequence length that is a multiple of {2 * c}."
        )
    return f"Use CP in {_fmt(valid)} or a sequence length that is a multiple of {2 * c}."


@_rule("seq_divisible_for_sp", "sequence divisible by TP×CP with sequence parallelism")
def seq_divisible_for_sp(ctx: LayoutContext) -> Violation | None:
    lo, s = ctx.layout, ctx.seq_len
    if not lo.sp or lo.tp == 1 or s % (lo.cp * lo.tp) == 0:
        return None
    return _v(
        "seq_divisible_for_sp",
        "error",
        f"With sequence parallelism each CP chunk (s/CP = {s}/{lo.cp}) is split over TP={lo.tp}; "
        f"{s} is not divisible by TP×CP = {lo.tp * lo.cp}.",
        f"Use a sequence length that is a multiple of {lo.tp * lo.cp}.",
    )


def a2a_splits_heads(spec: ModelSpec, tp: int, cp: int) -> bool:
    """Transformer Engine's all-to-all CP scatters heads: the local Q and KV heads (after TP)
    must both divide by CP."""
    q_local = spec.num_attention_heads // tp
    kv_local = max(spec.num_key_value_heads // tp, 1)
    return q_local % cp == 0 and kv_local % cp == 0


@_rule("cp_comm_type", "CP communication type fits the heads")
def cp_comm_type(ctx: LayoutContext) -> Violation | None:
    lo, spec = ctx.layout, ctx.spec
    kind = lo.cp_comm_type
    if lo.cp == 1 or kind in (None, "p2p", "all_gather"):
        return None
    if kind == "a2a":
        if a2a_splits_heads(spec, lo.tp, lo.cp):
            return None
        q_local = spec.num_attention_heads // lo.tp
        kv_local = max(spec.num_key_value_heads // lo.tp, 1)
        return _v(
            "cp_comm_type",
            "error",
            f"cp_comm_type=a2a needs local Q heads ({q_local}) and KV heads ({kv_local}) "
            f"divisible by CP={lo.cp} (Transformer Engine raises at the first step).",
            "Use cp_comm_type=p2p, or a2a+p2p with an inner a2a size dividing the local KV heads.",
        )
    if kind == "a2a+p2p":
        return _v(
            "cp_comm_type",
            "warning",
            "cp_comm_type=a2a+p2p needs hierarchical_context_parallel_sizes whose product is CP; "
            "without it older Bridge releases silently disable CP.",
            f"Set hierarchical_context_parallel_sizes (e.g. [{min(lo.cp, 8)}, {max(lo.cp // 8, 1)}]).",
        )
    return _v(
        "cp_comm_type",
        "warning",
        f"cp_comm_type {kind!r} is not one of Transformer Engine's p2p, all_gather, a2a, a2a+p2p.",
        "Check the spelling against the attention implementation in use.",
    )


# --- MoE --------------------------------------------------------------------------------


@_rule("ep_requires_moe", "expert parallelism only for MoE models")
def ep_requires_moe(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if ctx.spec.is_moe or (lo.ep == 1 and lo.etp in (1, lo.tp)):
        return None
    return _v(
        "ep_requires_moe",
        "error",
        f"EP={lo.ep} / ETP={lo.etp} on a dense model: "
        f"{ctx.spec.hf_id or 'it'} has no experts (no num_moe_experts) for EP/ETP to split.",
        "Set EP=1 and ETP=1 (or leave them unset).",
    )


@_rule("experts_divisible_by_ep", "EP divides the routed experts")
def experts_divisible_by_ep(ctx: LayoutContext) -> Violation | None:
    e, n = ctx.layout.ep, ctx.spec.num_experts
    if not ctx.spec.is_moe or n % e == 0:
        return None
    return _v(
        "experts_divisible_by_ep",
        "error",
        f"EP={e} does not divide the {n} routed experts (MoELayer asserts num_experts % EP == 0).",
        f"Valid EP values: {_fmt(divisors(n))}.",
    )


@_rule("expert_lora_etp", "expert LoRA with ETP > 1")
def expert_lora_etp(ctx: LayoutContext) -> Violation | None:
    if ctx.mode != "peft" or not ctx.spec.is_moe or ctx.layout.etp == 1:
        return None
    return _v(
        "expert_lora_etp",
        "warning",
        f"LoRA on expert linears with ETP={ctx.layout.etp}: expert adapter deltas are computed "
        "wrongly (Megatron-Bridge #5634), silently.",
        "Set expert_tensor_parallel_size=1 (every shipped recipe does).",
    )


# --- batch ------------------------------------------------------------------------------


@_rule("gbs_divisible", "GBS divisible by MBS×DP")
def gbs_divisible(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    unit = lo.mbs * ctx.dp
    if unit and lo.gbs % unit == 0:
        return None
    return _v(
        "gbs_divisible",
        "error",
        f"Global batch {lo.gbs} is not divisible by MBS×DP = {lo.mbs}×{ctx.dp} = {unit} "
        "(DP = W/(TP·PP·CP), CP excluded).",
        f"Use a layout whose MBS×DP divides {lo.gbs}, or change GBS (a convergence change).",
    )


# --- recompute / optimizer --------------------------------------------------------------


@_rule("recompute_settings", "recompute method and layers are consistent")
def recompute_settings(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if lo.recompute == "full" and (
        lo.recompute_method not in ("uniform", "block") or not lo.recompute_num_layers
    ):
        return _v(
            "recompute_settings",
            "error",
            f"recompute_granularity=full needs recompute_method uniform|block and "
            f"recompute_num_layers ≥ 1 (got {lo.recompute_method}, {lo.recompute_num_layers}).",
            "Set recompute_method=uniform and recompute_num_layers=1.",
        )
    if lo.recompute != "full" and (lo.recompute_method or lo.recompute_num_layers):
        return _v(
            "recompute_settings",
            "error",
            f"recompute_method/recompute_num_layers are set with recompute={lo.recompute}; "
            "Megatron-Core accepts them only with full recompute.",
            "Unset them, or use recompute_granularity=full.",
        )
    return None


@_rule("megatron_fsdp", "Megatron-FSDP requirements")
def megatron_fsdp(ctx: LayoutContext) -> Violation | None:
    lo = ctx.layout
    if not lo.use_megatron_fsdp or lo.use_distributed_optimizer:
        return None
    return _v(
        "megatron_fsdp",
        "warning",
        "use_megatron_fsdp=True forces use_distributed_optimizer=True (Bridge sets it).",
        "Set use_distributed_optimizer=True explicitly.",
    )


@_rule("seq_within_positions", "sequence length within max_position_embeddings")
def seq_within_positions(ctx: LayoutContext) -> Violation | None:
    limit = ctx.spec.max_position_embeddings
    if not limit or ctx.seq_len <= limit:
        return None
    return _v(
        "seq_within_positions",
        "warning",
        f"Sequence length {ctx.seq_len} exceeds the model's max_position_embeddings {limit}.",
        "Use RoPE scaling / a long-context variant, or a shorter sequence.",
    )


def check_layout(
    layout: Layout,
    spec: ModelSpec,
    *,
    world_size: int,
    seq_len: int,
    gpu: GPUSpec | None = None,
    mode: str = "pretrain",
    allow_cross_nvlink_tp: bool = False,
    mcore_version: str | None = None,
    rules: list[str] | None = None,
) -> list[Violation]:
    """Every rule `layout` breaks for `spec` on `world_size` GPUs, errors first.

    `mcore_version` selects version-dependent rules (None: the Megatron-Core that
    Megatron-Bridge 0.6.2 pins); `rules` restricts the check to those rule ids.

    Example:
        >>> check_layout(Layout(tp=6, dp=1), llama3_8b, world_size=6, seq_len=8192)[0].rule
        'tp_divides_heads'
    """
    ctx = LayoutContext(
        layout=layout,
        spec=spec,
        world_size=world_size,
        seq_len=seq_len,
        gpu=gpu,
        mode=mode,
        allow_cross_nvlink_tp=allow_cross_nvlink_tp,
        mcore_version=mcore_version,
    )
    first = positive_factors(ctx)
    if first:
        return [first]
    unknown = [r for r in rules or [] if r not in RULES]
    if unknown:
        raise UserError(f"unknown layout rule {unknown[0]!r}.{did_you_mean(unknown[0], RULES)}")
    selected = [RULES[r] for r in rules] if rules else RULES.values()
    found = [v for info in selected if (v := info.check(ctx)) is not None]
    return sorted(found, key=lambda v: v.severity != "error")
