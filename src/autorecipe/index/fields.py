"""How index `fields` keys map to ConfigContainer paths (the KEY of a KEY=VALUE override).

DESIGN.md's contract names fields by Megatron's own attribute names. Those below are
stored under their plain name; every other extracted attribute is stored under its
dotted path (``dataset.seq_length``, ``rng.te_rng_tracker``, ``peft.dim``), which is
also how a user overrides it on the run_recipe.py command line.
"""

from __future__ import annotations

PLAIN_FIELDS: dict[str, str] = {
    # model (TransformerConfig / model provider)
    "tensor_model_parallel_size": "model.tensor_model_parallel_size",
    "pipeline_model_parallel_size": "model.pipeline_model_parallel_size",
    "virtual_pipeline_model_parallel_size": "model.virtual_pipeline_model_parallel_size",
    "context_parallel_size": "model.context_parallel_size",
    "expert_model_parallel_size": "model.expert_model_parallel_size",
    "expert_tensor_parallel_size": "model.expert_tensor_parallel_size",
    "sequence_parallel": "model.sequence_parallel",
    "seq_length": "model.seq_length",
    "pipeline_model_parallel_layout": "model.pipeline_model_parallel_layout",
    "num_layers_in_first_pipeline_stage": "model.num_layers_in_first_pipeline_stage",
    "num_layers_in_last_pipeline_stage": "model.num_layers_in_last_pipeline_stage",
    "account_for_embedding_in_pipeline_split": "model.account_for_embedding_in_pipeline_split",
    "account_for_loss_in_pipeline_split": "model.account_for_loss_in_pipeline_split",
    "recompute_granularity": "model.recompute_granularity",
    "recompute_method": "model.recompute_method",
    "recompute_num_layers": "model.recompute_num_layers",
    "recompute_modules": "model.recompute_modules",
    "cp_comm_type": "model.cp_comm_type",
    "cuda_graph_impl": "model.cuda_graph_impl",
    "cuda_graph_scope": "model.cuda_graph_scope",
    "use_te_rng_tracker": "model.use_te_rng_tracker",
    "moe_token_dispatcher_type": "model.moe_token_dispatcher_type",
    "moe_flex_dispatcher_backend": "model.moe_flex_dispatcher_backend",
    "moe_grouped_gemm": "model.moe_grouped_gemm",
    "moe_permute_fusion": "model.moe_permute_fusion",
    "moe_router_force_load_balancing": "model.moe_router_force_load_balancing",
    "moe_shared_expert_overlap": "model.moe_shared_expert_overlap",
    "fine_grained_activation_offloading": "model.fine_grained_activation_offloading",
    "transformer_impl": "model.transformer_impl",
    "attention_backend": "model.attention_backend",
    # train
    "global_batch_size": "train.global_batch_size",
    "micro_batch_size": "train.micro_batch_size",
    "train_iters": "train.train_iters",
    # ddp
    "use_distributed_optimizer": "ddp.use_distributed_optimizer",
    "use_megatron_fsdp": "ddp.use_megatron_fsdp",
    "overlap_grad_reduce": "ddp.overlap_grad_reduce",
    "overlap_param_gather": "ddp.overlap_param_gather",
    "data_parallel_sharding_strategy": "ddp.data_parallel_sharding_strategy",
    # optimizer
    "lr": "optimizer.lr",
    "min_lr": "optimizer.min_lr",
}

PATH_TO_PLAIN: dict[str, str] = {path: name for name, path in PLAIN_FIELDS.items()}


def field_key(path: str) -> str:
    """The index key for a ConfigContainer path: its plain name if it has one."""
    return PATH_TO_PLAIN.get(path, path)


def override_path(key: str) -> str:
    """The ConfigContainer path (override KEY) for an index key."""
    return PLAIN_FIELDS.get(key, key)
