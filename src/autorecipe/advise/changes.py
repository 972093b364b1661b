"""Change control: is an override a new experiment, a new execution mapping, or a shortcut?

The classes follow the seed skill's change-control notes and Megatron-Bridge's
recipe-recommender guidance (see shared/reference/):

- convergence: the trained model or its data differ — data, sequence length, global
  batch, optimizer and schedule, precision, packing, MoE routing and token dropping,
  the architecture itself. A new experiment: compare loss curves, not just speed.
- execution: the same maths mapped differently onto GPUs — TP/PP/VP/CP/EP/ETP/DP/SP,
  recompute, offload, overlap, fusions, CUDA graphs, dispatcher transport, logging and
  checkpoint plumbing. Loss curves should match within numerical noise.
- benchmark-only: shortcuts that make a throughput number but not a model — mock data,
  forced MoE load balancing, disabled numerical checks.

Micro batch size and gradient accumulation only re-slice a fixed global batch, so they
are execution changes while the global batch is held fixed, and convergence otherwise.
"""

from __future__ import annotations

from typing import Any

from autorecipe.result import ChangeClass

_CONV, _EXEC, _BENCH = "convergence", "execution", "benchmark-only"

# Exact leaf names (the last dotted component) -> (class, reason). Checked first.
_LEAF: dict[str, tuple[ChangeClass, str]] = {
    # parallel layout
    "tensor_model_parallel_size": (_EXEC, "tensor parallelism re-maps the same model onto GPUs"),
    "pipeline_model_parallel_size": (_EXEC, "pipeline parallelism re-maps layers onto GPUs"),
    "virtual_pipeline_model_parallel_size": (
        _EXEC,
        "virtual pipeline stages change the schedule, not the maths",
    ),
    "context_parallel_size": (_EXEC, "context parallelism splits the sequence across GPUs"),
    "expert_model_parallel_size": (_EXEC, "expert parallelism places experts on GPUs"),
    "expert_tensor_parallel_size": (_EXEC, "expert tensor parallelism splits expert weights"),
    "data_parallel_size": (
        _EXEC,
        "data parallelism replicates the model; the global batch is unchanged",
    ),
    "sequence_parallel": (_EXEC, "sequence parallelism shards activations within the TP group"),
    "cp_comm_type": (_EXEC, "context-parallel communication transport"),
    "hierarchical_context_parallel_sizes": (_EXEC, "context-parallel communication topology"),
    "pipeline_model_parallel_layout": (_EXEC, "which layers sit on which pipeline stage"),
    "num_layers_in_first_pipeline_stage": (_EXEC, "pipeline stage balancing"),
    "num_layers_in_last_pipeline_stage": (_EXEC, "pipeline stage balancing"),
    "account_for_embedding_in_pipeline_split": (_EXEC, "pipeline stage balancing"),
    "account_for_loss_in_pipeline_split": (_EXEC, "pipeline stage balancing"),
    "microbatch_group_size_per_vp_stage": (_EXEC, "interleaved-schedule grouping"),
    "use_distributed_optimizer": (
        _EXEC,
        "the distributed optimizer shards optimizer state; the update is the same",
    ),
    "use_megatron_fsdp": (_EXEC, "FSDP shards parameters, gradients and optimizer state"),
    "data_parallel_sharding_strategy": (_EXEC, "how FSDP shards state across data-parallel ranks"),
    "use_custom_fsdp": (_EXEC, "FSDP implementation choice"),
    # memory / speed
    "recompute_granularity": (_EXEC, "activation recompute trades compute for memory"),
    "recompute_method": (_EXEC, "activation recompute trades compute for memory"),
    "recompute_num_layers": (_EXEC, "activation recompute trades compute for memory"),
    "recompute_modules": (_EXEC, "activation recompute trades compute for memory"),
    "distribute_saved_activations": (_EXEC, "where recompute checkpoints live"),
    "cuda_graph_impl": (_EXEC, "CUDA graphs replay the same kernels with less launch overhead"),
    "cuda_graph_scope": (_EXEC, "CUDA graphs replay the same kernels with less launch overhead"),
    "cuda_graph_modules": (_EXEC, "CUDA graphs replay the same kernels with less launch overhead"),
    "cuda_graph_warmup_steps": (_EXEC, "CUDA graph capture timing"),
    "use_te_rng_tracker": (_EXEC, "RNG state tracking needed for graph capture"),
    "te_rng_tracker": (_EXEC, "RNG state tracking needed for graph capture"),
    "moe_token_dispatcher_type": (_EXEC, "MoE dispatcher transport moves the same tokens"),
    "moe_flex_dispatcher_backend": (_EXEC, "MoE dispatcher transport moves the same tokens"),
    "moe_enable_deepep": (_EXEC, "MoE dispatcher transport moves the same tokens"),
    "moe_grouped_gemm": (_EXEC, "grouped GEMM computes the same expert products"),
    "moe_shared_expert_overlap": (_EXEC, "overlaps shared-expert compute with dispatch"),
    "transformer_impl": (_EXEC, "kernel implementation choice"),
    "attention_backend": (_EXEC, "attention kernel choice"),
    "manual_gc": (_EXEC, "garbage-collection timing"),
    "manual_gc_interval": (_EXEC, "garbage-collection timing"),
    "bucket_size": (_EXEC, "gradient-reduction bucketing"),
    "nccl_ub": (_EXEC, "NCCL user-buffer registration"),
    "use_tp_pp_dp_mapping": (_EXEC, "rank ordering of the process grid"),
    # batch
    "global_batch_size": (
        _CONV,
        "the global batch sets the gradient noise and the number of updates",
    ),
    "rampup_batch_size": (_CONV, "batch-size ramp-up changes the optimisation trajectory"),
    "seq_length": (_CONV, "the sequence length changes what each sample contains"),
    "sequence_length": (_CONV, "the sequence length changes what each sample contains"),
    "max_position_embeddings": (_CONV, "changes the positional range of the model"),
    "train_iters": (_CONV, "the number of steps is part of the training schedule"),
    "train_samples": (_CONV, "the number of samples is part of the training schedule"),
    "seed": (_CONV, "a different seed is a different run"),
    "pretrained_checkpoint": (_CONV, "a different starting checkpoint is a different experiment"),
    "lr": (_CONV, "the learning rate changes the updates"),
    "min_lr": (_CONV, "the learning rate schedule changes the updates"),
    # MoE routing / token dropping (force_load_balancing is handled below)
    "moe_expert_capacity_factor": (_CONV, "a capacity factor drops tokens: MoE routing changes"),
    "moe_pad_expert_input_to_capacity": (_CONV, "pad-to-capacity changes MoE token dropping"),
    "moe_token_drop_policy": (_CONV, "changes which tokens MoE drops"),
    "moe_aux_loss_coeff": (_CONV, "changes the MoE load-balancing loss"),
    "moe_z_loss_coeff": (_CONV, "changes the MoE router loss"),
    "moe_router_topk": (_CONV, "changes MoE routing"),
    "moe_router_load_balancing_type": (_CONV, "changes MoE routing"),
    # precision
    "fp8": (_CONV, "low precision changes the numerics"),
    "fp8_recipe": (_CONV, "low-precision scaling recipe changes the numerics"),
    "fp4": (_CONV, "low precision changes the numerics"),
    "fp4_recipe": (_CONV, "low-precision scaling recipe changes the numerics"),
    "bf16": (_CONV, "precision changes the numerics"),
    "fp16": (_CONV, "precision changes the numerics"),
    "params_dtype": (_CONV, "parameter precision changes the numerics"),
    "mixed_precision": (_CONV, "precision changes the numerics"),
    "fp8_param_gather": (_CONV, "low-precision parameter gather changes the numerics"),
    "fp8_param": (_CONV, "low-precision parameters change the numerics"),
    "grad_reduce_in_fp32": (_CONV, "gradient reduction precision changes the numerics"),
    "first_last_layers_bf16": (_CONV, "which layers run in low precision changes the numerics"),
    # packing
    "packed_sequence": (
        _CONV,
        "packing changes which tokens share a sample and the loss normalisation",
    ),
    "packed_sequence_size": (_CONV, "packing changes which tokens share a sample"),
    "pad_to_max_length": (_CONV, "padding changes what each sample contains"),
    "calculate_per_token_loss": (_CONV, "changes the loss normalisation"),
    "average_in_collective": (_CONV, "changes how gradients are averaged"),
    # benchmark-only
    "mock": (_BENCH, "mock data makes a throughput number, not a model"),
    "moe_router_force_load_balancing": (
        _BENCH,
        "forced balancing ignores the router: throughput only",
    ),
}

# The key's first component (the ConfigContainer section) -> (class, reason).
_SECTION: dict[str, tuple[ChangeClass, str]] = {
    "optimizer": (_CONV, "optimizer settings change the updates"),
    "scheduler": (_CONV, "the learning-rate schedule changes the updates"),
    "dataset": (_CONV, "the data is part of the experiment"),
    "tokenizer": (_CONV, "the tokenizer changes the data the model sees"),
    "peft": (_CONV, "adapter settings change what is trained"),
    "mixed_precision": (_CONV, "precision changes the numerics"),
    "comm_overlap": (_EXEC, "communication overlap hides the same communication"),
    "logger": (_EXEC, "logging does not change training"),
    "checkpoint": (_EXEC, "checkpoint plumbing does not change training"),
    "profiling": (_EXEC, "profiling does not change training"),
    "dist": (_EXEC, "process-group setup does not change training"),
    "ft": (_EXEC, "fault tolerance does not change training"),
    "straggler": (_EXEC, "straggler detection does not change training"),
    "nvrx_straggler": (_EXEC, "straggler detection does not change training"),
    "inprocess_restart": (_EXEC, "restart plumbing does not change training"),
    "env_vars": (_EXEC, "environment settings for kernels and communication"),
    "rerun_state_machine": (_EXEC, "result-validation machinery does not change training"),
}

# Substrings of the leaf name, checked after the exact names and before the sections.
_PATTERNS: tuple[tuple[str, ChangeClass, str], ...] = (
    ("offload", _EXEC, "offloading moves tensors to the host to save GPU memory"),
    ("overlap", _EXEC, "communication overlap hides the same communication"),
    ("fusion", _EXEC, "a fused kernel computes the same result"),
    ("fused", _EXEC, "a fused kernel computes the same result"),
    ("cuda_graph", _EXEC, "CUDA graphs replay the same kernels"),
    ("_comm", _EXEC, "communication settings do not change the maths"),
    ("moe_router_", _CONV, "changes MoE routing"),
    ("moe_aux_loss", _CONV, "changes the MoE load-balancing loss"),
    ("_lr", _CONV, "the learning rate changes the updates"),
)

_MBS_KEYS = {"micro_batch_size", "gradient_accumulation_steps", "num_microbatches"}


def classify_change(
    key: str, value: Any, *, old: Any = None, gbs_fixed: bool = True
) -> tuple[ChangeClass, str]:
    """Class one override and say why.

    `key` is the override path (``model.tensor_model_parallel_size``) or an index field
    name; `old` is the recipe's value if known; `gbs_fixed` says whether the global batch
    stays as the recipe set it (micro batch and accumulation are then execution only).

    >>> classify_change("model.tensor_model_parallel_size", 4)
    ('execution', 'tensor parallelism re-maps the same model onto GPUs')
    >>> classify_change("train.micro_batch_size", 2, gbs_fixed=False)[0]
    'convergence'
    """
    parts = key.split(".")
    leaf, section = parts[-1], parts[0] if len(parts) > 1 else ""

    if leaf in _MBS_KEYS:
        if gbs_fixed:
            return (
                _EXEC,
                "re-slices a fixed global batch into micro-batches; the update is the same",
            )
        return _CONV, "with the global batch changing too, the update changes"

    if old is not None and value == old:
        return _EXEC, "same value as the recipe: no change"
    if key == "mixed_precision" and isinstance(value, str) and isinstance(old, str):
        # Bridge looks presets up with "-" read as "_": bf16-mixed is bf16_mixed
        if value.replace("-", "_") == old.replace("-", "_"):
            return _EXEC, "the recipe's own precision preset, spelled with '-': no change"

    if leaf.startswith("check_for_"):
        if value is False:
            return _BENCH, "disabling a numerical check hides failures: benchmark only"
        return _EXEC, "enabling a numerical check does not change training"

    if leaf == "moe_router_force_load_balancing":
        if value:
            return _LEAF[leaf]
        return _CONV, "restores learned MoE routing"

    if leaf == "mock" or (
        isinstance(value, str) and "mock" in value.lower() and section == "dataset"
    ):
        return _BENCH, "mock data makes a throughput number, not a model"

    if leaf in _LEAF:
        return _LEAF[leaf]
    for pattern, cls, reason in _PATTERNS:
        if pattern in leaf:
            return cls, reason
    if section in _SECTION:
        return _SECTION[section]
    return _CONV, "not a known execution-only setting, so treated as a new experiment"
