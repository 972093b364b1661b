"""Mixture-of-experts pitfalls (AR4xx): expert placement, dispatchers, MoE presets."""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import CheckContext
from autorecipe.advise.rules.parallel import PRE_BLACKWELL
from autorecipe.layout.rules import divisors

# Where a recipe turns the EP all-to-all overlap on (both spellings Bridge accepts)
EP_OVERLAP_KEYS = (
    "comm_overlap.overlap_moe_expert_parallel_comm",
    "model.overlap_moe_expert_parallel_comm",
)

GIB = 1024**3
# Expert state above this share of the GPU leaves too little for activations.
EXPERT_SHARE = 0.5


def _expert_gib(ctx: CheckContext, ep: int) -> float:
    """Expert weights + grads + optimizer state per GPU at expert parallelism `ep`."""
    spec = ctx.spec
    assert spec is not None
    lo = ctx.layout
    moe_layers = spec.num_hidden_layers - (spec.first_k_dense_replace or 0)
    gated = 3 if spec.activation in ("swiglu", "geglu", "silu_glu") else 2
    params = (
        moe_layers
        * (spec.num_experts or 0)
        * gated
        * spec.hidden_size
        * (spec.moe_intermediate_size or 0)
    )
    per_gpu = params / (ep * lo.etp * lo.pp)
    if ctx.mode == "peft":
        return per_gpu * 2 / GIB  # frozen bf16 weights only
    edp = max(ctx.world_size // (lo.etp * ep * lo.pp), 1)
    optimizer = 12 / edp if (lo.use_distributed_optimizer or lo.use_megatron_fsdp) else 12
    return per_gpu * (2 + 4 + optimizer) / GIB


@rule(
    "AR401",
    "Expert parallelism too low for the experts' memory",
    "warning",
    """Each EP rank holds num_experts/EP experts (the seed's "each expert lives on
    EP/num_experts ranks" is inverted), with their bf16 weights, fp32 gradients and
    optimizer state; the distributed optimizer shards that state only over expert-DP =
    W/(ETP·EP·PP), so EDP = 1 leaves it unsharded. Fired when expert state alone exceeds
    half of the GPU's usable memory and the whole GPU is predicted to overflow; the fix is the smallest larger EP that divides the
    experts and the expert grid and brings it under. Raise EP before TP for expert
    memory. Evidence: MCore moe_layer.py; MB #6083; pitfalls-evidence #10; seed pitfall
    table. Fired only when the memory model (AR601) also predicts OOM, and only info for a
    recipe checked exactly as shipped.""",
)
def ep_too_low(ctx: CheckContext) -> list[Hit]:
    if ctx.spec is None or not ctx.spec.is_moe:
        return []
    lo = ctx.layout
    limit = EXPERT_SHARE * ctx.gpu.usable_memory_gib
    have = _expert_gib(ctx, lo.ep)
    if have <= limit:
        return []
    from autorecipe.advise.rules.memory import estimate

    memory = estimate(ctx)
    if memory is None or memory.fits:
        return []
    better = [
        e
        for e in divisors(ctx.spec.num_experts or 1)
        if e > lo.ep and ctx.world_size % (e * lo.etp * lo.pp) == 0 and _expert_gib(ctx, e) <= limit
    ]
    fix: dict[str, object] | str = (
        {"model.expert_model_parallel_size": better[0]}
        if better
        else "more GPUs (no valid EP fits)"
    )
    return [
        Hit(
            f"EP={lo.ep}: each GPU holds {(ctx.spec.num_experts or 0) // lo.ep} experts whose state is "
            f"about {have:.0f} GiB, over half of {ctx.gpu.key}'s {ctx.gpu.usable_memory_gib:.0f} GiB.",
            fix,
            "info" if ctx.as_shipped else None,
        )
    ]


@rule(
    "AR402",
    "Changing an H100 MoE preset's fusion or overlap choice",
    "info",
    """The seed warned that MoE permute fusion "may hurt perf (False in many H100
    presets)". The evidence does not support it: every H100 MoE library recipe in Bridge
    sets moe_permute_fusion=True, and the upstream skill's row is about
    overlap_grad_reduce, where H100 presets are mixed. What holds is weaker: the shipped
    H100 preset's choice was measured, yours is not. Info only. Evidence:
    pitfalls-evidence, seed audit ("MoE permute fusion on H100").""",
)
def h100_moe_preset(ctx: CheckContext) -> list[Hit]:
    if not ctx.is_moe or ctx.gpu.arch != "Hopper":
        return []
    hits = []
    for key in ("model.moe_permute_fusion", "ddp.overlap_grad_reduce"):
        if key in ctx.overrides and key in ctx.base and ctx.overrides[key] != ctx.base[key]:
            hits.append(
                Hit(
                    f"{key}={ctx.overrides[key]} on {ctx.gpu.key}; the shipped preset uses "
                    f"{ctx.base[key]}. Measure step time before keeping it.",
                    {key: ctx.base[key]},
                )
            )
    return hits


@rule(
    "AR403",
    "EP all-to-all overlap without its preconditions",
    "error",
    """overlap_moe_expert_parallel_comm requires EP > 1, the alltoall or flex dispatcher,
    no full recompute, no shared-expert overlap, and a virtual pipeline whenever PP > 1;
    TransformerConfig and Bridge's CommOverlapConfig assert it. Evidence: MLM #1862; MB
    #2809; pitfalls-evidence #15.""",
)
def ep_overlap(ctx: CheckContext) -> list[Hit]:
    on = [k for k in EP_OVERLAP_KEYS if ctx.get(k)]
    if not on:
        return []
    lo = ctx.layout
    bad: list[str] = []
    fix: dict[str, object] = {}
    if lo.ep <= 1:
        bad.append("EP=1")
    if ctx.get("model.moe_token_dispatcher_type") not in (None, "alltoall", "flex"):
        bad.append(f"dispatcher {ctx.get('model.moe_token_dispatcher_type')}")
        fix["model.moe_token_dispatcher_type"] = "alltoall"
    if lo.recompute == "full":
        bad.append("full recompute")
        fix["model.recompute_granularity"] = "selective"
    if ctx.get("model.moe_shared_expert_overlap"):
        bad.append("moe_shared_expert_overlap")
        fix["model.moe_shared_expert_overlap"] = False
    if lo.pp > 1 and (lo.vp or 1) == 1:
        bad.append(f"PP={lo.pp} without VP")
    if not bad:
        return []
    return [
        Hit(
            f"overlap_moe_expert_parallel_comm=True with {', '.join(bad)}.",
            fix or dict.fromkeys(on, False),
        )
    ]


@rule(
    "AR404",
    "DeepEP on GB200/GB300 falls back to all-to-all",
    "warning",
    """Megatron-Core enables DeepEP only on GPUs whose name starts with "NVIDIA B200" or
    "NVIDIA B300" (and Ampere/Hopper); on GB200/GB300 it logs "DeepEP is only applicable
    to ... Falling back to alltoall" on rank 0 and the run silently uses another
    dispatcher. Use HybridEP there. Evidence: MB #5992, #5207; pitfalls-evidence #12.""",
)
def deepep_on_grace_blackwell(ctx: CheckContext) -> list[Hit]:
    if ctx.get("model.moe_token_dispatcher_type") != "flex":
        return []
    if ctx.get("model.moe_flex_dispatcher_backend") != "deepep" or not ctx.gpu.key.startswith("GB"):
        return []
    return [
        Hit(
            f"moe_flex_dispatcher_backend=deepep on {ctx.gpu.key}: DeepEP falls back to alltoall.",
            {"model.moe_flex_dispatcher_backend": "hybridep"},
        )
    ]


@rule(
    "AR405",
    "Qwen3.5-VL MoE full SFT with Megatron-FSDP off its memory settings",
    "warning",
    """The seed said this recipe was "tested on Blackwell only". Outdated: Bridge ships it
    for H100 (qwen35_vl_35b_a3b_sft_2gpu_h100_bf16_fsdp_config) and fixed a 16×H100 OOM
    (MB #5508, #5402, both in r0.6.0). What remains before Blackwell: it OOMs when the
    fixes are undone — the native fused cross entropy builds a 3.79 GiB FP32 buffer for
    the 248K vocab, so keep cross_entropy_fusion_impl="te" and full recompute — and it
    hangs with NCCL user buffers on. Evidence: pitfalls-evidence #31; seed pitfall table.""",
)
def qwen35_vl_fsdp(ctx: CheckContext) -> list[Hit]:
    name = (ctx.recipe.name if ctx.recipe else "") or ""
    if "qwen35_vl" not in name or not ctx.is_moe or not ctx.layout.use_megatron_fsdp:
        return []
    hits = []
    if ctx.gpu.arch in PRE_BLACKWELL:
        fix: dict[str, object] = {}
        if ctx.get("model.cross_entropy_fusion_impl") != "te":
            fix["model.cross_entropy_fusion_impl"] = "te"
        if ctx.layout.recompute != "full":
            fix.update(
                {
                    "model.recompute_granularity": "full",
                    "model.recompute_method": "uniform",
                    "model.recompute_num_layers": 1,
                }
            )
        if fix:
            hits.append(
                Hit(
                    f"Qwen3.5-VL MoE FSDP SFT on {ctx.gpu.key} without its memory settings "
                    f"({', '.join(fix)}): OOM before the first optimizer step (MB #5508).",
                    fix,
                )
            )
    if ctx.get("ddp.nccl_ub"):
        hits.append(Hit("ddp.nccl_ub=True with VLM/MoE FSDP hangs.", {"ddp.nccl_ub": False}))
    return hits


@rule(
    "AR406",
    "HybridEP dispatch with packed sequences: uneven per-rank tokens",
    "warning",
    """With packed (THD) batches each rank sends a different number of tokens; HybridEP
    needs them padded equal (moe_hybridep_pad_uneven_dispatch_inputs). Without it every
    step completes but some ranks barely train (MB #5270), and other stacks hang (NeMo-RL
    #2964). Bridge pads eager THD itself since #5270 (backported to r0.6.0 as #5288), but
    not under CUDA graphs, and not where a recipe turns the padding off. Fired for the flex
    dispatcher with the hybridep backend and offline or in-batch packing when the padding
    is off or CUDA graphs are on. Evidence: pitfalls-evidence #14.""",
)
def hybridep_with_packing(ctx: CheckContext) -> list[Hit]:
    if ctx.get("model.moe_token_dispatcher_type") != "flex":
        return []
    if ctx.get("model.moe_flex_dispatcher_backend") != "hybridep":
        return []
    if not (ctx.offline_packing or ctx.get("dataset.enable_in_batch_packing")):
        return []
    graphs = ctx.cuda_graph_impl != "none"
    pad_off = ctx.get("model.moe_hybridep_pad_uneven_dispatch_inputs") is False
    if not (graphs or pad_off):
        return []
    why = f"cuda_graph_impl={ctx.cuda_graph_impl}" if graphs else "the uneven-input padding off"
    return [
        Hit(
            f"HybridEP dispatcher with packed sequences and {why}: ranks get uneven token "
            "counts; some train on almost nothing, or the job hangs.",
            {"model.moe_hybridep_pad_uneven_dispatch_inputs": True}
            if not graphs
            else "pad every rank's packed batch to an equal length, or use the alltoall "
            "dispatcher while graphs capture MoE",
        )
    ]
