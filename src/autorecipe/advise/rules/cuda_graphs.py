"""CUDA-graph pitfalls (AR2xx): what Megatron-Core and Bridge reject about graph capture."""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import CheckContext

_RNG_FIX = {"model.use_te_rng_tracker": True, "rng.te_rng_tracker": True}


def _graphs_on(ctx: CheckContext) -> bool:
    return ctx.cuda_graph_impl != "none"


@rule(
    "AR201",
    "CUDA graphs need Transformer Engine's RNG tracker",
    "error",
    """GPTModelProvider.provide asserts "Transformer engine's RNG tracker is required for
    cudagraphs" when cuda_graph_impl is not none and use_te_rng_tracker is off. It fires at
    model build, after the job has been queued and started. Bridge keeps
    model.use_te_rng_tracker and rng.te_rng_tracker in sync since MB #682, so either flag
    is enough; the fix sets both, as the shipped graph recipes do. Evidence: MB
    gpt_provider.py; MLM #2572; pitfalls-evidence #26; acceptance case 8.""",
)
def te_rng_tracker(ctx: CheckContext) -> list[Hit]:
    if not _graphs_on(ctx):
        return []
    keys = ("model.use_te_rng_tracker", "rng.te_rng_tracker")
    if any(ctx.get(k) for k in keys):
        return []
    unknown = [f"{k} {ctx.unknown(k)}" for k in keys if ctx.unknown(k)]
    if unknown:
        return [Hit(f"Not checked: {'; '.join(unknown)}.", _RNG_FIX, "info")]
    return [
        Hit(
            f"cuda_graph_impl={ctx.cuda_graph_impl} without the TE RNG tracker "
            "(model.use_te_rng_tracker and rng.te_rng_tracker are both off): model build asserts.",
            _RNG_FIX,
        )
    ]


@rule(
    "AR202",
    "CUDA graphs with full activation recompute",
    "error",
    """TransformerConfig.__post_init__ raises "full recompute is only supported with full
    iteration CUDA graph" when recompute_granularity=full is combined with per-layer graphs
    (transformer_engine, or local with scopes). Use selective recompute, or full-iteration
    graphs (cuda_graph_impl=full_iteration in the Megatron-Core 0.6.2 ships with), or turn
    graphs off. Evidence: pitfalls-evidence #25 (the seed's "switch to local" is outdated:
    Bridge rejects local per-layer graphs, see AR204).""",
)
def graphs_with_full_recompute(ctx: CheckContext) -> list[Hit]:
    if not _graphs_on(ctx) or ctx.full_iteration_graph:
        return []
    if ctx.get("model.recompute_granularity") != "full":
        return []
    return [
        Hit(
            f"cuda_graph_impl={ctx.cuda_graph_impl} with recompute_granularity=full: "
            "Megatron-Core accepts full recompute only with full-iteration graphs.",
            {
                "model.recompute_granularity": "selective",
                "model.recompute_method": None,
                "model.recompute_num_layers": None,
            },
        )
    ]


@rule(
    "AR203",
    "CUDA graphs with packed (THD) sequences",
    "error",
    """Graphs need static shapes. Bridge's ConfigContainer.validate (0.6.2) raises "Offline
    packing with CUDA graphs requires dataset pad_to_max_length=True" and, for graphs that
    capture packed attention (full-iteration, whole-layer, or the attn scope), "Packed
    attention CUDA graphs require offline_packing_specs.pad_cu_seqlens=True". Older
    Megatron-Core raised "CUDA graph accepts only Tensor inputs" for the same case. Either
    leave attention out of the scope (e.g. [moe_router, moe_preprocess] for MoE) or pad:
    pad_to_max_length and pad_cu_seqlens. Evidence: pitfalls-evidence #24.""",
)
def graphs_with_packing(ctx: CheckContext) -> list[Hit]:
    if not _graphs_on(ctx) or not ctx.offline_packing:
        return []
    uses_training_graphs = ctx.full_iteration_graph or ctx.cuda_graph_impl == "transformer_engine"
    kwargs = ctx.get("dataset.dataset_kwargs")
    pad_max = bool(ctx.get("dataset.pad_to_max_length")) or (
        isinstance(kwargs, dict) and kwargs.get("pad_to_max_length") is True
    )
    pad_cu = bool(ctx.get("dataset.offline_packing_specs.pad_cu_seqlens"))
    modules = ctx.cuda_graph_modules
    captures_attn = ctx.full_iteration_graph or (
        ctx.cuda_graph_impl == "transformer_engine" and (not modules or "attn" in modules)
    )
    hits = []
    if uses_training_graphs and not pad_max:
        hits.append(
            Hit(
                f"Packed sequences with cuda_graph_impl={ctx.cuda_graph_impl} but "
                "dataset.pad_to_max_length is off: Bridge rejects it.",
                {"dataset.pad_to_max_length": True},
            )
        )
    if captures_attn and not pad_cu:
        scope = modules or ["whole layer"]
        hits.append(
            Hit(
                f"Packed sequences with graphs that capture attention (scope {scope}) but "
                "offline_packing_specs.pad_cu_seqlens is off: Bridge rejects it.",
                {
                    "dataset.offline_packing_specs.pad_cu_seqlens": True,
                    "dataset.pad_to_max_length": True,
                },
            )
        )
    return hits


@rule(
    "AR204",
    "cuda_graph_impl=local with per-layer scopes",
    "error",
    """Bridge 0.6.2 (validate_cuda_graph_configuration) allows cuda_graph_impl="local" only
    for full-iteration graphs (or inference layer/block graphs); scoped capture such as
    attn or mlp must use transformer_engine. Before the guard it crashed with
    AttributeError 'TransformerLayer' object has no attribute 'is_moe_layer'. Evidence: MB
    #4583, #4607; pitfalls-evidence #27.""",
)
def local_with_scopes(ctx: CheckContext) -> list[Hit]:
    if ctx.cuda_graph_impl != "local" or ctx.full_iteration_graph:
        return []
    modules = ctx.cuda_graph_modules
    return [
        Hit(
            f"cuda_graph_impl=local with scopes {modules or '(none: whole layer)'}: Bridge "
            "accepts local graphs only for full-iteration capture.",
            {"model.cuda_graph_impl": "transformer_engine"},
        )
    ]


@rule(
    "AR205",
    "CUDA graph scope does not fit the model",
    "error",
    """TransformerConfig checks the scopes against the model: moe_preprocess needs
    moe_router; moe and moe_router are exclusive; the moe scope needs drop-and-pad MoE
    (capacity factor and pad-to-capacity); mlp needs dense layers; MoE scopes need an MoE
    model. Evidence: MCore TransformerConfig; pitfalls-evidence #28.""",
)
def scope_fits_model(ctx: CheckContext) -> list[Hit]:
    if ctx.cuda_graph_impl != "transformer_engine":
        return []
    modules = set(ctx.cuda_graph_modules)
    hits = []
    if "moe_preprocess" in modules and "moe_router" not in modules:
        hits.append(
            Hit(
                "cuda_graph_scope has moe_preprocess without moe_router.",
                "add moe_router to the scope",
            )
        )
    if {"moe", "moe_router"} <= modules:
        hits.append(
            Hit(
                "cuda_graph_scope has both moe and moe_router; they are exclusive.",
                "keep one of them",
            )
        )
    moe_scopes = modules & {"moe", "moe_router", "moe_preprocess"}
    if moe_scopes and not ctx.is_moe:
        hits.append(
            Hit(f"MoE graph scopes {sorted(moe_scopes)} on a dense model.", "use attn/mlp scopes")
        )
    if "moe" in modules and ctx.is_moe:
        dropless = ctx.get("model.moe_expert_capacity_factor") is None or not ctx.get(
            "model.moe_pad_expert_input_to_capacity"
        )
        if dropless:
            hits.append(
                Hit(
                    "cuda_graph_scope moe needs drop-and-pad MoE (capacity factor and "
                    "pad-to-capacity); this MoE is dropless.",
                    {"model.cuda_graph_scope": ["attn", "moe_router", "moe_preprocess"]},
                )
            )
    spec = ctx.spec
    if (
        "mlp" in modules
        and spec is not None
        and spec.is_moe
        and not (spec.first_k_dense_replace or 0)
    ):
        hits.append(
            Hit(
                "cuda_graph_scope mlp on a model with no dense MLP layers.",
                {"model.cuda_graph_scope": ["attn", "moe_router", "moe_preprocess"]},
            )
        )
    return hits


@rule(
    "AR206",
    "Full-iteration CUDA graphs with the NaN-in-loss check",
    "error",
    """Bridge's ConfigContainer.validate asserts "check_for_nan_in_loss must be disabled when
    using full_iteration CUDA graph". Turning the check off is a benchmark-style shortcut:
    watch the loss yourself. Evidence: MB config.py; pitfalls-evidence #28.""",
)
def full_iteration_nan_check(ctx: CheckContext) -> list[Hit]:
    if not ctx.full_iteration_graph:
        return []
    key = "rerun_state_machine.check_for_nan_in_loss"
    fix = {key: False}
    unknown = ctx.unknown(key)
    if unknown:
        # shipped full-iteration recipes turn it off in a helper (_benchmark_common)
        if not ctx.overridden("model.cuda_graph_impl") and not ctx.overridden(
            "model.cuda_graph_scope"
        ):
            return []
        return [
            Hit(
                f"Full-iteration CUDA graphs: check_for_nan_in_loss must be off ({unknown}; "
                "it is on by default).",
                fix,
                "warning",
            )
        ]
    if ctx.get(key, True) is False:
        return []
    return [Hit("Full-iteration CUDA graphs with check_for_nan_in_loss on: Bridge asserts.", fix)]


@rule(
    "AR207",
    "Per-layer CUDA graphs with CPU offloading",
    "error",
    """TransformerConfig rejects per-layer CUDA graphs together with CPU activation
    offloading ("CUDA graphs not supported with CPU offloading"). Evidence: MCore
    TransformerConfig; pitfalls-evidence #28.""",
)
def graphs_with_offload(ctx: CheckContext) -> list[Hit]:
    if not _graphs_on(ctx) or ctx.full_iteration_graph or not ctx.get("model.cpu_offloading"):
        return []
    return [
        Hit(
            f"cuda_graph_impl={ctx.cuda_graph_impl} with model.cpu_offloading=True.",
            {"model.cpu_offloading": False},
        )
    ]
