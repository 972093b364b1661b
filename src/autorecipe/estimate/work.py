"""How a model's per-token training work splits into the parts that run at different speeds.

The total model FLOPs per token come from the catalog (one source of truth, Megatron-Bridge's
accounting). Here we only separate out the parts the step-time model treats differently:
core attention (flash attention, bf16 even in FP8 runs), routed-expert GEMMs (grouped GEMMs
whose size depends on the EP layout) and the output logits (on the last pipeline stage).
The rest is dense GEMM work in the training precision.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorecipe.catalog.spec import ModelSpec


@dataclass(frozen=True)
class LayerCounts:
    attention: int
    moe: int
    total: int


@dataclass(frozen=True)
class TokenWork:
    """Training FLOPs per token (forward + backward), by kind."""

    total: float
    attention_core: float
    expert_gemm: float
    logits: float

    @property
    def dense_gemm(self) -> float:
        return max(self.total - self.attention_core - self.expert_gemm - self.logits, 0.0)


def _is_gated(activation: str) -> bool:
    # Catalog activations are free text such as "swiglu (gpt-oss variant ...)".
    return activation.lower().startswith(("swiglu", "geglu", "glu", "silu-gated", "gated"))


def layer_counts(spec: ModelSpec) -> LayerCounts:
    pattern = spec.hybrid_layer_pattern
    if pattern:
        return LayerCounts(attention=pattern.count("*"), moe=pattern.count("E"), total=len(pattern))
    total = spec.num_hidden_layers
    moe = total - (spec.first_k_dense_replace or 0) if spec.is_moe else 0
    return LayerCounts(attention=total, moe=moe, total=total)


def attention_core_flops_per_token(spec: ModelSpec, seq_len: int) -> float:
    """Causal QK^T and AV, forward + backward, per token (Bridge's `6·Q2·L·a·d_h` over T)."""
    layers = layer_counts(spec).attention
    if spec.is_mla:
        width = (spec.qk_nope_head_dim or 0) + (spec.qk_rope_head_dim or 0) + (spec.v_head_dim or 0)
        return 6.0 * seq_len * layers * spec.num_attention_heads * width / 2.0
    return 6.0 * seq_len * layers * spec.num_attention_heads * spec.head_dim


def token_work(spec: ModelSpec, seq_len: int, total_flops_per_token: float) -> TokenWork:
    gate = 3.0 if _is_gated(spec.activation) else 2.0
    experts = 0.0
    if spec.is_moe:
        experts = (
            6.0
            * spec.hidden_size
            * gate
            * (spec.num_experts_per_tok or 1)
            * (spec.moe_intermediate_size or 0)
            * layer_counts(spec).moe
        )
    return TokenWork(
        total=total_flops_per_token,
        attention_core=attention_core_flops_per_token(spec, seq_len),
        expert_gemm=experts,
        logits=6.0 * spec.hidden_size * spec.vocab_size,
    )
