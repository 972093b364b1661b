"""TEMPORARY stand-in for autorecipe.catalog.flops.training_flops_per_token (being written).

Reference §4.2/4.3 (Bridge `transformer_flops`), without MTP. Delete when the catalog's lands.
"""

from __future__ import annotations

from autorecipe.catalog.spec import ModelSpec
from autorecipe.estimate.work import _is_gated


def training_flops_per_token(spec: ModelSpec, seq_len: int) -> float:
    h, a, dh, g = (
        spec.hidden_size,
        spec.num_attention_heads,
        spec.head_dim,
        spec.num_key_value_heads,
    )
    gate = 3.0 if _is_gated(spec.activation) else 2.0
    pattern = spec.hybrid_layer_pattern
    if pattern:
        l_att, l_moe, l_dense, l_mamba = (pattern.count(c) for c in "*E-M")
    else:
        l_att = spec.num_hidden_layers
        l_moe = l_att - (spec.first_k_dense_replace or 0) if spec.is_moe else 0
        l_dense, l_mamba = l_att - l_moe, 0
    shared = spec.shared_expert_intermediate_size or (spec.n_shared_experts or 0) * (
        spec.moe_intermediate_size or 0
    )
    mlp = (
        h
        * gate
        * (
            (spec.intermediate_size or 0) * l_dense
            + (spec.num_experts_per_tok or 0) * (spec.moe_intermediate_size or 0) * l_moe
            + shared * l_moe
        )
    )
    if spec.is_mla:
        nope, rope, v = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0, spec.v_head_dim or 0
        q = (
            spec.q_lora_rank * (h + a * (nope + rope) + 1)
            if spec.q_lora_rank
            else h * a * (nope + rope)
        )
        proj = q + spec.kv_lora_rank * (h + a * (nope + v) + 1) + h * rope + a * v * h
        core = seq_len * a * (nope + rope + v) / 2
    else:
        proj = h * (a * dh + 2 * g * dh) + a * dh * h
        core = seq_len * a * dh
    mamba = 0.0
    if l_mamba:
        d_in = (spec.mamba_num_heads or 0) * (spec.mamba_head_dim or 0)
        n = (spec.mamba_num_groups or 1) * (spec.mamba_state_dim or 0)
        mamba = l_mamba * (h * (2 * d_in + 2 * n + (spec.mamba_num_heads or 0)) + d_in * h)
    return 6.0 * (mlp + l_att * (proj + core) + mamba + h * spec.vocab_size)
