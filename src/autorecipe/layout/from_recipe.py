"""A recipe's own layout, read from its index entry (Megatron field names → Layout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autorecipe.estimate.memory import Knobs
from autorecipe.layout.schema import Layout
from autorecipe.result import Memory

# Pipeline-layout entries as Bridge recipes write them (lists of lists) → layout tokens
_LAYOUT_TOKENS = {"embedding": "E", "decoder": "t", "mtp": "m", "loss": "L"}
# recipe precision names → the memory model's
_PRECISION = {"fp8-blockwise": "fp8", "fp8cs": "fp8", "fp8mx": "mxfp8"}
_DTYPE_BYTES = {
    "torch.float32": 4.0,
    "torch.bfloat16": 2.0,
    "torch.float16": 2.0,
    "torch.uint8": 1.0,
}
_LAYOUT_FIELDS = (
    "pipeline_model_parallel_layout",
    "num_layers_in_first_pipeline_stage",
    "num_layers_in_last_pipeline_stage",
    "virtual_pipeline_model_parallel_size",
    "pipeline_model_parallel_size",
    "tensor_model_parallel_size",
    "context_parallel_size",
    "expert_model_parallel_size",
)


@dataclass(frozen=True)
class RecipeLayout:
    layout: Layout
    seq_len: int
    precision: str
    mode: str
    lora_rank: int
    world_size: int | None
    knobs: Knobs
    # layout fields the recipe sets at run time that the index could not resolve
    unknown: tuple[str, ...]


def _int(fields: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = fields.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def pipeline_layout_text(value: Any) -> str | None:
    """Bridge's pipeline_model_parallel_layout (a string or a list of stage lists) as a string."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(stage, list) for stage in value):
        return "|".join("".join(_LAYOUT_TOKENS.get(str(x), "?") for x in stage) for stage in value)
    return None


def recipe_layout(recipe: Any) -> RecipeLayout:
    """The Layout a recipe index entry sets, with Bridge's defaults for what it leaves unset.

    Example:
        >>> recipe_layout(find_recipe(load_index(), "llama3_8b_pretrain_config")).layout.cp
        2
    """
    f = recipe.fields
    tp = _int(f, "tensor_model_parallel_size", 1) or 1
    pp = _int(f, "pipeline_model_parallel_size", 1) or 1
    cp = _int(f, "context_parallel_size", 1) or 1
    ep = _int(f, "expert_model_parallel_size", 1) or 1
    # Bridge >= 0.6: ETP unset means 1 when EP > 1, else TP
    etp = _int(f, "expert_tensor_parallel_size", 1 if ep > 1 else tp) or 1
    vp = _int(f, "virtual_pipeline_model_parallel_size")
    world = recipe.num_gpus
    dp = world // (tp * pp * cp) if world and world % (tp * pp * cp) == 0 else 1
    granularity = f.get("recompute_granularity") or "none"
    modules = f.get("recompute_modules")
    layout = Layout(
        tp=tp,
        pp=pp,
        vp=vp if vp and vp > 1 else None,
        cp=cp,
        ep=ep,
        etp=etp,
        dp=dp,
        # Bridge turns SP off at TP = 1
        sp=bool(f.get("sequence_parallel")) and tp > 1,
        mbs=_int(f, "micro_batch_size", 1) or 1,
        gbs=_int(f, "global_batch_size", dp) or dp,
        cp_comm_type=f.get("cp_comm_type") if cp > 1 else None,
        recompute=granularity if granularity in ("none", "selective", "full") else "none",
        recompute_method=f.get("recompute_method") if granularity == "full" else None,
        recompute_num_layers=_int(f, "recompute_num_layers") if granularity == "full" else None,
        recompute_modules=modules
        if granularity == "selective" and isinstance(modules, list)
        else None,
        # Bridge syncs the DDP and optimizer flags: either one on turns both on
        use_distributed_optimizer=bool(
            f.get("use_distributed_optimizer", True) or f.get("optimizer.use_distributed_optimizer")
        ),
        use_megatron_fsdp=bool(f.get("use_megatron_fsdp", False)),
        pipeline_layout=pipeline_layout_text(f.get("pipeline_model_parallel_layout")),
        first_stage_layers=_int(f, "num_layers_in_first_pipeline_stage"),
        last_stage_layers=_int(f, "num_layers_in_last_pipeline_stage"),
        account_for_embedding=bool(f.get("account_for_embedding_in_pipeline_split")),
        account_for_loss=bool(f.get("account_for_loss_in_pipeline_split")),
    )
    seq = _int(f, "dataset.seq_length") or _int(f, "seq_length") or 4096
    # "not set by the recipe" means Bridge's default applies, which is what we assume
    unknown = tuple(
        k
        for k, reason in (recipe.unknown or {}).items()
        if k in _LAYOUT_FIELDS and not str(reason).startswith("not set by the recipe")
    )
    precision = recipe.precision or "bf16"
    return RecipeLayout(
        layout=layout,
        seq_len=seq,
        precision=_PRECISION.get(precision, precision),
        mode=recipe.mode or "pretrain",
        lora_rank=_int(f, "peft.dim", 32) or 32,
        world_size=world,
        knobs=recipe_knobs(f),
        unknown=unknown,
    )


def recipe_knobs(f: dict[str, Any]) -> Knobs:
    """Settings beyond the layout that change memory or speed, as the recipe resolves them
    in Bridge. An overlap the recipe leaves unset is off: TransformerConfig.tp_comm_overlap
    and the DDP config's overlap_grad_reduce / overlap_param_gather default to False, and
    Bridge applies no CommOverlapConfig when comm_overlap is None."""
    # Bridge's mixed-precision config overrides the DDP field when it sets one
    fp32_grads = f.get(
        "mixed_precision.grad_reduce_in_fp32", f.get("ddp.grad_reduce_in_fp32", True)
    )
    optimizer = 12.0
    if f.get("optimizer.use_precision_aware_optimizer"):
        optimizer = sum(
            _DTYPE_BYTES.get(str(f.get(key, "torch.float32")), 4.0)
            for key in (
                "optimizer.main_params_dtype",
                "optimizer.exp_avg_dtype",
                "optimizer.exp_avg_sq_dtype",
            )
        )
    low_params = any(
        f.get(key) is True
        for key in ("mixed_precision.fp8_param_gather", "mixed_precision.fp4_param_gather",
                    "model.fp8_param_gather", "mixed_precision.fp8_param", "model.fp8_param")
    )  # fmt: skip
    offloaded = (
        _int(f, "model.cpu_offloading_num_layers", 0) if f.get("model.cpu_offloading") else 0
    )
    # Megatron-Core's TE cross entropy only runs when the loss fusion is on
    te_loss = f.get("model.cross_entropy_loss_fusion", True) is not False and (
        f.get("model.cross_entropy_fusion_impl") == "te"
    )
    return Knobs(
        grad_bytes=4.0 if fp32_grads is not False else 2.0,
        optimizer_bytes=optimizer,
        low_precision_params=low_params,
        offloaded_layers=offloaded or 0,
        cross_entropy="te" if te_loss else "native",
        optimizer=str(f.get("optimizer.optimizer") or "adam"),
        frozen=tuple(
            part for part in ("language", "vision") if f.get(f"model.freeze_{part}_model") is True
        ),
        offload_modules=tuple(f.get("model.offload_modules") or ())
        if f.get("fine_grained_activation_offloading") is True
        else (),
        ep_overlap=f.get("comm_overlap.overlap_moe_expert_parallel_comm") is True,
        vp_group=_int(f, "model.microbatch_group_size_per_vp_stage"),
        tp_comm_overlap=f.get("comm_overlap.tp_comm_overlap") is True,
        overlap_grad_reduce=f.get("overlap_grad_reduce", f.get("comm_overlap.overlap_grad_reduce"))
        is True,
        overlap_param_gather=f.get(
            "overlap_param_gather", f.get("comm_overlap.overlap_param_gather")
        )
        is True,
    )


@dataclass(frozen=True)
class RecipeFit:
    """A recipe at its own layout, GPU count and GPU: valid? fits? (or why not known)."""

    name: str
    status: str  # fits | oom | invalid | unknown (model, GPU, count or layout not resolved)
    detail: str
    memory: Memory | None = None


def evaluate_recipe(recipe: Any) -> RecipeFit:
    """Check a recipe's own layout with Megatron-Core's rules and estimate its memory.

    Example:
        >>> evaluate_recipe(find_recipe(load_index(), "qwen3_30b_a3b_sft_config")).status
        'fits'
    """
    from autorecipe.catalog.gpus import resolve_gpu
    from autorecipe.catalog.models import resolve_model
    from autorecipe.errors import UserError
    from autorecipe.estimate.memory import estimate_memory
    from autorecipe.layout.rules import check_layout

    if not (recipe.hf_model_id and recipe.num_gpus and recipe.gpu_type):
        return RecipeFit(recipe.name, "unknown", "model, GPU count or GPU type not in the index")
    try:
        spec = resolve_model(recipe.hf_model_id)
        gpu = resolve_gpu(recipe.gpu_type)
    except UserError as exc:
        return RecipeFit(recipe.name, "unknown", str(exc))
    rl = recipe_layout(recipe)
    if rl.unknown:
        return RecipeFit(recipe.name, "unknown", f"set at run time: {', '.join(rl.unknown)}")
    errors = [
        v
        for v in check_layout(
            rl.layout, spec, world_size=recipe.num_gpus, seq_len=rl.seq_len, gpu=gpu, mode=rl.mode
        )
        if v.severity == "error"
    ]
    if errors:
        return RecipeFit(recipe.name, "invalid", f"[{errors[0].rule}] {errors[0].message}")
    memory = estimate_memory(
        spec, rl.layout, gpu, seq_len=rl.seq_len, mode=rl.mode, precision=rl.precision,
        lora_rank=rl.lora_rank, world_size=recipe.num_gpus, knobs=rl.knobs,
    )  # fmt: skip
    b = memory.breakdown
    detail = (
        f"{memory.per_gpu_gib:.1f}/{memory.capacity_gib:g} GiB (weights {b.weights:.1f}, grads "
        f"{b.gradients:.1f}, optimizer {b.optimizer:.1f}, activations {b.activations:.1f}, "
        f"other {b.other:.1f})"
    )
    return RecipeFit(recipe.name, "fits" if memory.fits else "oom", detail, memory)
