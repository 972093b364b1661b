"""ModelSpec and GPUSpec: the shapes every estimate is computed from.

Field names follow Hugging Face config.json (normalised across architectures, see
shared/data/model-architectures.json `_meta.field_conventions`). Add fields freely;
do not rename: the planner, memory and throughput models read these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ModelSpec(BaseModel):
    hf_id: str | None = None
    model_type: str | None = None
    family: str | None = None
    # dense | moe | mla_moe | hybrid_mamba | hybrid_mamba_moe | hybrid_linear_moe | ... (catalog's own)
    architecture_type: str = "dense"
    num_hidden_layers: int
    hidden_size: int
    intermediate_size: int | None = None
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    vocab_size: int
    max_position_embeddings: int | None = None
    tie_word_embeddings: bool = False
    activation: str = "swiglu"
    norm: str = "RMSNorm"
    # MoE
    num_experts: int | None = None
    num_experts_per_tok: int | None = None
    moe_intermediate_size: int | None = None
    n_shared_experts: int | None = None
    shared_expert_intermediate_size: int | None = None
    first_k_dense_replace: int | None = None
    # MLA
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_nope_head_dim: int | None = None
    qk_rope_head_dim: int | None = None
    v_head_dim: int | None = None
    # Hybrid (Mamba / linear attention): one character per layer, e.g. "M-M*M-..."
    hybrid_layer_pattern: str | None = None
    mamba_num_heads: int | None = None
    mamba_head_dim: int | None = None
    mamba_state_dim: int | None = None
    mamba_num_groups: int | None = None
    linear_attention: dict[str, Any] | None = None
    # Attention variants: sliding window size and, per layer, "sliding_attention" or
    # "full_attention" (HF `layer_types`); gated attention output (Qwen3-Next/3.5).
    sliding_window: int | None = None
    layer_types: list[str] | None = None
    attention_output_gate: bool = False
    # Latent MoE (Nemotron 3 Super/Ultra): routed experts run in this width.
    moe_latent_size: int | None = None
    # Multi-token-prediction layers shipped with the checkpoint (not in num_hidden_layers).
    mtp_num_layers: int | None = None
    # Provenance
    source: str | None = None
    other_sources: list[str] = Field(default_factory=list)
    unverified: bool = False
    verification: str | None = None
    notes: str | None = None
    aliases: list[str] = Field(default_factory=list)
    published_total_params: str | None = None
    published_active_params: str | None = None
    # False: an architecture whose counts we cannot model; the reason says what is missing.
    supported: bool = True
    unsupported_reason: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts and self.num_experts > 1)

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None


class GPUSpec(BaseModel):
    key: str  # catalog key, e.g. "H100"
    name: str
    arch: str | None = None
    memory_gib: float
    usable_memory_gib: float
    hbm_bandwidth_tb_s: float | None = None
    # dense peak TFLOP/s by precision name: bf16, fp8, fp4
    peak_tflops: dict[str, float | None]
    nvlink_domain_size: int = 8
    nvlink_gb_s_per_gpu_bidirectional: float | None = None
    internode_network_per_gpu_gbps: float | None = None
    # bf16 tensor-core FLOPs in the time the special-function units take for one softmax
    # exponential: what attention's softmax costs next to its GEMMs (scripts/build_catalog.py).
    bf16_flops_per_exp: float | None = None
    sources: list[str] = Field(default_factory=list)
    preliminary: bool = False
    notes: str | None = None
