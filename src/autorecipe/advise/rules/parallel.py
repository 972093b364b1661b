"""Parallelism, precision and launcher pitfalls (AR3xx) beyond the config-time validations."""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import CheckContext
from autorecipe.errors import closest
from autorecipe.estimate.throughput import precision_unsupported
from autorecipe.layout.stages import even_splits
from autorecipe.precision import PRESETS

PRE_BLACKWELL = ("Ampere", "Hopper")
LONG_CONTEXT = 32768


@rule(
    "AR301",
    "Pipeline parallelism without a virtual pipeline",
    "warning",
    """With PP > 1 and no virtual pipeline the 1F1B schedule idles each stage for
    (PP-1)/(m+PP-1) of the step (the pipeline bubble); interleaving VP chunks divides that
    by VP. Fired only when a VP exists that splits the layers evenly and keeps the
    microbatch count a multiple of PP (so AR111/AR112 stay clean), and silent when GBS
    holds less than one microbatch per DP rank (AR119 reports that). VP is not free: Bridge
    removed it from Qwen3-235B MXFP8 GB200/GB300 recipes for a NaN grad norm (MB #2096),
    so for a recipe checked exactly as shipped this is only info: measure before adding
    it. Evidence: pitfalls-evidence #6; seed pitfall table.""",
)
def pp_without_vp(ctx: CheckContext) -> list[Hit]:
    lo = ctx.layout
    if lo.pp <= 1 or (lo.vp or 1) > 1 or ctx.spec is None:
        return []
    if lo.pipeline_layout or lo.first_stage_layers or lo.last_stage_layers:
        return []
    m = lo.gbs // max(lo.mbs * lo.dp, 1)
    if m < 1 or m % lo.pp:  # not one microbatch: AR119 reports that
        return []
    extra = int(bool(ctx.get("model.account_for_embedding_in_pipeline_split"))) + int(
        bool(ctx.get("model.account_for_loss_in_pipeline_split"))
    )
    choices = even_splits(ctx.spec.num_hidden_layers + extra, lo.pp)
    if not choices:
        return []
    vp = choices[0]
    bubble = (lo.pp - 1) / (m + lo.pp - 1)
    return [
        Hit(
            f"PP={lo.pp} without a virtual pipeline: the pipeline bubble idles about "
            f"{bubble:.0%} of each step ({m} microbatches); VP={vp} splits "
            f"{ctx.spec.num_hidden_layers} layers evenly and cuts it to about {bubble / vp:.0%}.",
            {"model.virtual_pipeline_model_parallel_size": vp},
            "info" if ctx.as_shipped else None,
            alternatives=tuple(
                {"model.virtual_pipeline_model_parallel_size": v} for v in choices[1:]
            ),
        )
    ]


@rule(
    "AR302",
    "Megatron-FSDP with TP/CP > 1 before Blackwell",
    "warning",
    """Megatron-FSDP requires CUDA_DEVICE_MAX_CONNECTIONS > 1 (Bridge asserts), while
    tensor- and context-parallel communication overlap on Hopper and Ampere wants it at 1
    for kernel ordering; with FSDP the TP/CP overlap is lost. Prefer FSDP with TP=1 (or 2)
    on H100; FSDP with TP shines on GB/B-series. Mechanism only: no public benchmark of
    the slowdown was found. Evidence: MB config.py; MLM #5105; pitfalls-evidence #30;
    seed pitfall table.""",
)
def fsdp_with_tp(ctx: CheckContext) -> list[Hit]:
    lo = ctx.layout
    if not lo.use_megatron_fsdp or ctx.gpu.arch not in PRE_BLACKWELL:
        return []
    if lo.tp <= 2 and lo.cp == 1:
        return []
    return [
        Hit(
            f"Megatron-FSDP with TP={lo.tp}, CP={lo.cp} on {ctx.gpu.key} ({ctx.gpu.arch}): FSDP "
            "needs CUDA_DEVICE_MAX_CONNECTIONS > 1, which costs TP/CP communication overlap.",
            "use TP=1 (or 2) with FSDP on this GPU, or the distributed optimizer without FSDP",
        )
    ]


@rule(
    "AR303",
    "Long context without context parallelism",
    "warning",
    """At 32K tokens and beyond, attention activations grow with the sequence and a
    recipe sized for 4-8K runs out of memory even with TP+SP and full recompute (slime
    #1522; ms-swift #8169). Fired when CP=1, the sequence is at least 32K, and the memory
    model (AR601's estimate) puts activations above half the GPU. The fix is the smallest
    CP in {2, 4, 8} that divides the allocation and the sequence. Evidence:
    pitfalls-evidence #16; seed pitfall table.""",
)
def long_context_without_cp(ctx: CheckContext) -> list[Hit]:
    lo = ctx.layout
    if lo.cp > 1 or ctx.seq_len < LONG_CONTEXT or ctx.spec is None:
        return []
    from autorecipe.advise.rules.memory import estimate

    memory = estimate(ctx)
    if memory is None or memory.breakdown.activations < 0.5 * memory.capacity_gib:
        return []
    cps = [
        c
        for c in (2, 4, 8)
        if ctx.world_size % (lo.tp * lo.pp * c) == 0 and ctx.seq_len % (2 * c) == 0
    ]
    fix: dict[str, object] | str = (
        {"model.context_parallel_size": cps[0], "model.cp_comm_type": "p2p"}
        if cps
        else "more GPUs so that CP can divide the allocation, or a shorter sequence"
    )
    return [
        Hit(
            f"Sequence length {ctx.seq_len} with CP=1: activations are about "
            f"{memory.breakdown.activations:.0f} GiB of {memory.capacity_gib:.0f} GiB per GPU.",
            fix,
        )
    ]


@rule(
    "AR304",
    "model.seq_length override is reverted by the launcher",
    "warning",
    """run_recipe.py (0.4.0 onwards, 0.6.2 included) copies dataset.seq_length back into
    model.seq_length after applying the overrides, and builds the dataset from the
    recipe's own length; so `model.seq_length=N` alone silently trains at the recipe's
    length. Set dataset.seq_length=N (or --seq_length N / -sl N), which the launcher
    honours. Through the Python API the same mismatch raises "Please ensure sequence
    length configuration in model config and dataset config match" (MB #768). Evidence:
    MB scripts/training/run_recipe.py; pitfalls-evidence #38; acceptance case 7.""",
)
def model_seq_length_reverted(ctx: CheckContext) -> list[Hit]:
    asked = ctx.overrides.get("model.seq_length")
    if asked is None or "dataset.seq_length" in ctx.overrides:
        return []
    if asked == ctx.seq_len:
        return []
    return [
        Hit(
            f"model.seq_length={asked} without dataset.seq_length: the launcher resets it to "
            f"the dataset's {ctx.seq_len}, so training runs at {ctx.seq_len} tokens.",
            {"dataset.seq_length": asked},
        )
    ]


_STAGE_KEYS = (
    "model.pipeline_model_parallel_layout",
    "model.num_layers_in_first_pipeline_stage",
    "model.num_layers_in_last_pipeline_stage",
)


@rule(
    "AR305",
    "Recipe pipeline layout goes stale after a PP/VP override",
    "warning",
    """Recipes that fix pipeline_model_parallel_layout (DeepSeek-V3, Kimi-K2, GLM-4.5V,
    Moonlight) or first/last stage counts (GLM-4.5) keep them when -pp/-vp change. On the
    0.6 line only Kimi-K2 rebuilds its layout; the others either fail validation
    ("virtual_pipeline_model_parallel_size conflicts with pipeline_model_parallel_layout")
    or silently infer a different VP (GLM-4.5V at -pp 4 ran as PP4/VP2). When PP or VP
    changes, set the layout (or stage counts) too, or clear them. Evidence: MB #1502,
    #5443, #5578, #5581, #5708; pitfalls-evidence #4.""",
)
def stale_pipeline_layout(ctx: CheckContext) -> list[Hit]:
    changed = [
        k
        for k in (
            "model.pipeline_model_parallel_size",
            "model.virtual_pipeline_model_parallel_size",
        )
        if k in ctx.overrides and ctx.overrides[k] != ctx.base.get(k)
    ]
    fixed = [k for k in _STAGE_KEYS if ctx.base.get(k) is not None and k not in ctx.overrides]
    if not changed or not fixed:
        return []
    return [
        Hit(
            f"{', '.join(changed)} overridden but the recipe's {', '.join(fixed)} still applies "
            "and was written for its own PP/VP.",
            dict.fromkeys(fixed),
        )
    ]


@rule(
    "AR306",
    "Benchmark recipe off its GPU count rescales the global batch",
    "warning",
    """Benchmark (perf) recipes weak-scale the global batch with the data-parallel size
    when run on a GPU count other than their own ("Weak scaled benchmark global batch size
    from A to B"), so throughput and convergence stop being comparable with the
    reference. Pin train.global_batch_size when comparing runs. Evidence: MB #5222 (in
    r0.6.0 as #5282), #2553; NeMo #14857; pitfalls-evidence #8.""",
)
def benchmark_weak_scaling(ctx: CheckContext) -> list[Hit]:
    recipe = ctx.recipe
    if recipe is None or recipe.kind != "benchmark" or not recipe.num_gpus:
        return []
    if ctx.world_size == recipe.num_gpus or "train.global_batch_size" in ctx.overrides:
        return []
    gbs = ctx.base.get("train.global_batch_size")
    return [
        Hit(
            f"Benchmark recipe {recipe.name} is tuned for {recipe.num_gpus} GPUs; on "
            f"{ctx.world_size} it rescales the global batch {gbs} with DP.",
            {"train.global_batch_size": gbs} if gbs else "pin train.global_batch_size",
        )
    ]


@rule(
    "AR307",
    "TP communication overlap without its prerequisites",
    "warning",
    """tp_comm_overlap needs TP >= 2 and sequence parallelism; Bridge's CommOverlapConfig
    silently turns it off otherwise ("Disabling tensor parallel communication overlap due
    to sequence_parallel=False"), so the run is slower than the config suggests. At TP=1
    (many shipped recipes keep the flag) it is also dropped, but there is nothing to lose.
    Evidence: MB comm_overlap.py; pitfalls-evidence #34.""",
)
def tp_comm_overlap(ctx: CheckContext) -> list[Hit]:
    if not ctx.get("comm_overlap.tp_comm_overlap"):
        return []
    lo = ctx.layout
    if lo.tp < 2 or lo.sp:
        return []  # at TP=1 there is no TP communication to overlap, so nothing is lost
    return [
        Hit(
            f"comm_overlap.tp_comm_overlap=True with TP={lo.tp}, sequence_parallel={lo.sp}: "
            "Bridge disables the overlap.",
            {"model.sequence_parallel": True},
        )
    ]


@rule(
    "AR308",
    "CPU offloading with pipeline parallelism or recompute",
    "error",
    """TransformerConfig rejects cpu_offloading together with pipeline parallelism and with
    any activation recompute (megatron-parallelism-and-memory.md §2.4).""",
)
def cpu_offloading(ctx: CheckContext) -> list[Hit]:
    if not ctx.get("model.cpu_offloading"):
        return []
    lo = ctx.layout
    bad = []
    if lo.pp > 1:
        bad.append(f"PP={lo.pp}")
    if lo.recompute != "none":
        bad.append(f"recompute_granularity={lo.recompute}")
    if not bad:
        return []
    return [
        Hit(f"model.cpu_offloading=True with {' and '.join(bad)}.", {"model.cpu_offloading": False})
    ]


@rule(
    "AR309",
    "MXFP8 parameter gather without gradient-buffer reuse",
    "error",
    """Bridge's ConfigContainer.validate asserts "When fp8_param_gather=True and
    fp8_recipe='mxfp8', reuse_grad_buf_for_mxfp8_param_ag must be set to True" (without
    Megatron-FSDP). The bf16_with_mxfp8_mixed presets set it; overriding it off or
    hand-building the precision config trips the assert. Evidence: MB config.py,
    mixed_precision.py; pitfalls-evidence #32.""",
)
def mxfp8_param_gather(ctx: CheckContext) -> list[Hit]:
    preset = ctx.get("mixed_precision")
    mxfp8_preset = isinstance(preset, str) and "mxfp8" in preset
    recipe = ctx.get("mixed_precision.fp8_recipe", "mxfp8" if mxfp8_preset else None)
    gather = ctx.get("mixed_precision.fp8_param_gather", mxfp8_preset)
    reuse = ctx.get("mixed_precision.reuse_grad_buf_for_mxfp8_param_ag", mxfp8_preset)
    if recipe != "mxfp8" or not gather or reuse or ctx.layout.use_megatron_fsdp:
        return []
    return [
        Hit(
            "mixed_precision fp8_param_gather=True with fp8_recipe=mxfp8 but "
            "reuse_grad_buf_for_mxfp8_param_ag off: Bridge asserts.",
            {"mixed_precision.reuse_grad_buf_for_mxfp8_param_ag": True},
        )
    ]


@rule(
    "AR310",
    "Megatron-FSDP's checkpoint format and rank mapping",
    "error",
    """Bridge's FSDP validation (0.6.2 training/config.py) asserts "Megatron-FSDP requires
    the fsdp_dtensor checkpointing format!" whenever checkpoint.save or checkpoint.load is
    set, and "use_tp_pp_dp_mapping is not supported with Megatron FSDP" always; the reverse
    also holds: "fsdp_dtensor checkpoint format only supports Megatron FSDP". Set
    checkpoint.ckpt_format=fsdp_dtensor with FSDP and drop dist.use_tp_pp_dp_mapping.
    Evidence: MB config.py; pitfalls-evidence #30.""",
)
def fsdp_requirements(ctx: CheckContext) -> list[Hit]:
    fsdp = ctx.layout.use_megatron_fsdp
    fmt = ctx.get("checkpoint.ckpt_format")
    saves = ctx.get("checkpoint.save") is not None or ctx.get("checkpoint.load") is not None
    hits = []
    if fsdp and ctx.get("dist.use_tp_pp_dp_mapping"):
        hits.append(
            Hit(
                "use_megatron_fsdp with dist.use_tp_pp_dp_mapping=True: Bridge asserts.",
                {"dist.use_tp_pp_dp_mapping": False},
            )
        )
    # the checkpoint format matters once a run saves or loads, or the user chose one
    if (saves or ctx.overridden("checkpoint.ckpt_format")) and isinstance(fmt, str):
        if fsdp and fmt != "fsdp_dtensor":
            hits.append(
                Hit(
                    f"Megatron-FSDP with checkpoint.ckpt_format={fmt}: Bridge asserts "
                    "fsdp_dtensor when saving or loading.",
                    {"checkpoint.ckpt_format": "fsdp_dtensor"},
                )
            )
        if not fsdp and fmt == "fsdp_dtensor":
            hits.append(
                Hit(
                    "checkpoint.ckpt_format=fsdp_dtensor without Megatron-FSDP: Bridge asserts "
                    "it only supports Megatron-FSDP.",
                    {"checkpoint.ckpt_format": "torch_dist"},
                )
            )
    return hits


FP8_TOKEN_MULTIPLE = 16


@rule(
    "AR311",
    "FP8 with a per-rank sequence that is not a multiple of 16",
    "warning",
    """Transformer Engine's FP8 GEMMs need 2-D inputs whose dimensions divide by 8 and 16
    ("FP8 execution requires 2D input matrices with height divisible by 8 and width
    divisible by 16"); the token dimension each rank holds is seq_length/CP (and /TP with
    sequence parallelism). Pad the sequence to a multiple of 16 per rank (pad_seq_to_mult
    for packed data). A warning: padded or packed inputs may be padded further at run
    time. Evidence: NeMo #8869 (FP8 + CP padding); pitfalls-evidence #17.""",
)
def fp8_rank_tokens(ctx: CheckContext) -> list[Hit]:
    lo = ctx.layout
    split = lo.cp * (lo.tp if lo.sp else 1)
    if ctx.precision not in ("fp8", "mxfp8") or ctx.seq_len % split:
        return []  # an uneven split is AR113/AR114's error
    per_rank = ctx.seq_len // split
    if per_rank % FP8_TOKEN_MULTIPLE == 0:
        return []
    step = FP8_TOKEN_MULTIPLE * split
    return [
        Hit(
            f"{ctx.precision} with seq_length {ctx.seq_len} over CP={lo.cp}"
            f"{f', TP={lo.tp} with SP' if lo.sp and lo.tp > 1 else ''}: {per_rank} tokens "
            f"per rank is not a multiple of {FP8_TOKEN_MULTIPLE}. A longer sequence is a "
            "convergence change; padding the data to it is not.",
            {"dataset.seq_length": ctx.seq_len + (-ctx.seq_len) % step},
        )
    ]


# Bridge 0.6.2's registry of precision presets (training/mixed_precision.py, every
# @register function; the hyphenated spellings are registered too).
# get_mixed_precision_config turns "-" into "_" and looks the name up, case as given.
MIXED_PRECISION_PRESETS = (
    "bf16_mixed",
    "fp16_mixed",
    "bf16_with_fp8_delayed_scaling_mixed",
    "fp16_with_fp8_delayed_scaling_mixed",
    "bf16_with_mxfp8_mixed",
    "fp16_with_mxfp8_mixed",
    "bf16_with_fp8_current_scaling_mixed",
    "nemotron_h_bf16_with_fp8_current_scaling_mixed",
    "nanov2_bf16_with_fp8_current_scaling_mixed",
    "fp16_with_fp8_current_scaling_mixed",
    "bf16_with_fp8_subchannel_scaling_mixed",
    "fp16_with_fp8_subchannel_scaling_mixed",
    "bf16_with_nvfp4_mixed",
    "nemotron_3_super_bf16_with_nvfp4_mixed",
    "nemotron_3_ultra_bf16_with_nvfp4_mixed",
)
PEFT_SCHEMES = ("lora", "dora")  # recipes/utils/dataset_utils.py default_peft_config


@rule(
    "AR312",
    "A mixed_precision or peft override Bridge cannot use",
    "error",
    """`mixed_precision=NAME` must name one of Bridge's precision presets: at launch
    runtime_config_update calls get_mixed_precision_config(NAME), which raises
    "Unknown mixed-precision recipe" for any other name (0.6.2 training/mixed_precision.py,
    MIXED_PRECISION_RECIPES; '-' may stand for '_', the case must match). `peft` as an
    override is kept as given: only a recipe function turns a scheme name ('lora',
    'dora', 'none') into an adapter (recipes/utils/dataset_utils.py default_peft_config);
    run_recipe.py's Hydra overrides (training/utils/omegaconf_utils.py _apply_overrides)
    set the string itself, and the PEFT hook then calls it as an adapter. So `peft=null`
    (train all weights) is the only scheme-level override that launches; LoRA or DoRA
    come from a *_peft_config recipe.
    The presets of 0.6.2: """
    + ", ".join(MIXED_PRECISION_PRESETS)
    + ".",
)
def unknown_preset(ctx: CheckContext) -> list[Hit]:
    hits = []
    preset = ctx.overrides.get("mixed_precision")
    if isinstance(preset, str) and preset.replace("-", "_") not in MIXED_PRECISION_PRESETS:
        close = closest(preset.replace("-", "_").lower(), MIXED_PRECISION_PRESETS, n=3)
        hint = close[0] if close else "bf16_mixed"
        hits.append(
            Hit(
                f"mixed_precision={preset} is not a Megatron-Bridge precision preset, so Bridge "
                f"raises at launch; closest: {', '.join(close or [hint])} (all "
                f"{len(MIXED_PRECISION_PRESETS)} are listed in `autorecipe rules AR312`), or "
                "drop the override to keep the recipe's.",
                {"mixed_precision": hint},
            )
        )
    peft = ctx.overrides.get("peft")
    if isinstance(peft, str):
        if peft.lower() in PEFT_SCHEMES:
            why = (
                f"peft={peft} names a scheme, but as an override Bridge keeps the string and "
                "fails when it applies it as an adapter; start from a *_peft_config recipe "
                f"(it builds {'LoRA' if peft.lower() == 'lora' else 'DoRA'}), or peft=null "
                "to train all weights."
            )
        else:
            why = (
                f"peft={peft} is not a PEFT scheme (Bridge knows {', '.join(PEFT_SCHEMES)} or "
                "none), and as an override any string fails at launch; use peft=null to train "
                "all weights, or a *_peft_config recipe for LoRA/DoRA."
            )
        hits.append(Hit(why, {"peft": None}))
    return hits


@rule(
    "AR313",
    "A precision the GPU has no tensor cores for (FP8 before Ada/Hopper, MXFP8/NVFP4 before Blackwell)",
    "error",
    """Transformer Engine checks the device when the first low-precision autocast is entered
    (FP8GlobalStateManager autocast_enter / check_recipe_support) and raises when the GPU's
    tensor cores lack the format:
    - FP8 (any per-tensor or blockwise FP8 preset): FP8 tensor cores start with Ada (sm_89)
      and Hopper (sm_90); check_fp8_support requires compute capability 8.9+, so an Ampere
      GPU such as the A100 (the catalog lists no FP8 peak for it) fails.
    - MXFP8 and NVFP4 (bf16_with_mxfp8_mixed, bf16_with_nvfp4_mixed and their variants, TE's
      MXFP8BlockScaling / NVFP4BlockScaling): block-scaled formats that "first appeared in
      the Blackwell GPU" (TE docs, features/low_precision_training/mxfp8, SM 10.0);
      check_mxfp8_support and check_nvfp4_support require compute capability 10.0+, so
      H100 and H200 (Hopper) fail. Bridge 0.6.2 nevertheless ships H100 recipes in both
      (e.g. llama3_8b_pretrain_2gpu_h100_fp8mx_config): they are flagged, and
      docs/known-upstream-defects.md has the audit.
    The precision is the recipe's, or that of a `mixed_precision=` override (a preset name
    replaces the whole precision config). Fired only for a catalog GPU whose architecture
    is known to lack the format; a custom GPU without an architecture, or a preliminary one
    (Rubin runs all of them), is left alone. The fix is FP8 with current scaling
    (bf16_with_fp8_current_scaling_mixed) where the GPU has FP8 tensor cores, else
    bf16_mixed; or a GPU that runs the format.""",
)
def precision_needs_tensor_cores(ctx: CheckContext) -> list[Hit]:
    gpu = ctx.gpu
    lacks = None if gpu.preliminary else precision_unsupported(gpu, ctx.precision)
    if not lacks:
        return []
    if ctx.precision != "fp8" and not precision_unsupported(gpu, "fp8"):
        fix, use = PRESETS["fp8"], "fp8 with current scaling"
    else:
        fix, use = PRESETS["bf16"], "bf16"
    newer = (
        "a Hopper or newer GPU (H100, H200, B200)"
        if ctx.precision == "fp8"
        else "a Blackwell or newer GPU (B200, GB200)"
    )
    return [
        Hit(
            f"{lacks}, and raises at launch on this {ctx.precision} config; use {use} "
            f"(mixed_precision={fix}), or {newer}.",
            {"mixed_precision": fix},
        )
    ]


# override path -> the values Megatron-Core 0.19.2 / Bridge 0.6.2 accept (None: unset)
ENUMERATED: dict[str, tuple[str, ...]] = {
    "model.recompute_granularity": ("full", "selective"),
    "model.recompute_method": ("uniform", "block"),
    "model.moe_token_dispatcher_type": ("allgather", "alltoall", "flex"),
    "model.moe_flex_dispatcher_backend": ("deepep", "hybridep", "ncclep"),
    # "allgather" is Bridge's own spelling (models/glm_moe_dsa/glm5_bridge.py:128)
    "model.cp_comm_type": ("p2p", "all_gather", "allgather", "a2a", "a2a+p2p"),
}


# TransformerConfig's defaults (transformer_config.py:518, :529, :862, :869, :987)
ENUM_DEFAULTS: dict[str, str | None] = {
    "model.moe_token_dispatcher_type": "allgather",
    "model.moe_flex_dispatcher_backend": "deepep",
}


def _enum_raises(ctx: CheckContext, key: str) -> bool:
    """Whether Megatron raises on an unknown value of `key` here (else it ignores it)."""
    if key == "model.recompute_granularity":
        return True
    if key == "model.recompute_method":
        return ctx.get("model.recompute_granularity") is not None
    if key == "model.moe_token_dispatcher_type":
        return ctx.is_moe
    if key == "model.moe_flex_dispatcher_backend":
        return ctx.is_moe and ctx.get("model.moe_token_dispatcher_type") == "flex"
    return ctx.layout.cp > 1  # cp_comm_type


@rule(
    "AR314",
    "A value outside the closed set a Megatron field accepts",
    "error",
    """Some Megatron-Core fields take one of a few names, and a typo passes the override
    parser. Megatron-Core 0.19.2 (transformer/transformer_config.py) types them as
    Literals, which Python does not enforce; what happens to another value:
    - recompute_granularity {full, selective} or None: __post_init__ raises
      (transformer_config.py:518, :1725).
    - recompute_method {uniform, block} or None: raises when recompute_granularity is
      set (transformer_config.py:529, :1732); ignored otherwise (warning).
    - moe_token_dispatcher_type {allgather, alltoall, flex}: MoELayer raises
      "Unsupported token dispatcher type" at model build (transformer_config.py:862,
      transformer/moe/moe_layer.py:321); a dense model ignores it (warning).
    - moe_flex_dispatcher_backend {deepep, hybridep, ncclep}: MoEFlexTokenDispatcher raises
      "Invalid backend" with the flex dispatcher (transformer_config.py:869,
      transformer/moe/token_dispatcher.py:1797); ignored by the other dispatchers
      (warning).
    - cp_comm_type {p2p, all_gather (Bridge also writes allgather), a2a, a2a+p2p} or None,
      or a per-layer list of them: with CP > 1 TEDotProductAttention hands it to
      Transformer Engine's context-parallel attention, which raises on another name
      (transformer_config.py:987-991, extensions/transformer_engine.py:1882; Bridge
      training/config.py:1526 checks only its type); with CP = 1 it is unused (warning).
    The fix is the closest accepted value (errors.closest), else the field's default;
    when that would introduce an error, the next closest.""",
)
def enumerated_value(ctx: CheckContext) -> list[Hit]:
    hits = []
    for key, allowed in ENUMERATED.items():
        value = ctx.get(key)
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v is not None and str(v) not in allowed]
        if not bad or ctx.unknown(key):
            continue
        name = key.rsplit(".", 1)[-1]
        shown = [a for a in allowed if a != "allgather" or key != "model.cp_comm_type"]
        ranked = closest(str(bad[0]), shown, n=len(shown), cutoff=0.0)
        close = closest(str(bad[0]), shown, n=1, cutoff=0.5)
        default = ENUM_DEFAULTS.get(key)
        options: list[object] = list(dict.fromkeys([*close, default, *ranked]))
        raises = _enum_raises(ctx, key)
        hits.append(
            Hit(
                f"{name}={bad[0]} is not one of {', '.join(shown)}: "
                + ("the launch raises" if raises else "Megatron ignores it in this configuration")
                + (f"; closest: {close[0]}." if close else "."),
                {key: options[0]},
                None if raises else "warning",
                alternatives=tuple({key: v} for v in options[1:]),
            )
        )
    return hits
