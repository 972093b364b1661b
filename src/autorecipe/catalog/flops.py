"""Model FLOPs per token, as Megatron-Bridge's "model TFLOP/s" counts them.

Mirrors `num_floating_point_operations` in Megatron-Bridge 0.6.2
(training/utils/flop_utils.py) for a dense (BSHD) batch of sequences of length s:
`transformer_flops` for dense, MoE, MLA and gated-DeltaNet models and `hybrid_flops`
for Mamba hybrids. Conventions taken from there, on purpose:
- training = 3 x forward (forward, data gradient, weight gradient); 2 FLOPs per FMA;
- causal attention counts half the score matrix: the QK^T and AV terms use s/2 context;
  a sliding window W < s uses W - W(W-1)/(2s) instead;
- the logit layer uses the vocabulary padded to a multiple of 128 x TP;
- routers, norms, softmax, embeddings and recompute are not counted;
- MTP layers count as copies of the last layer plus their projections and logits;
- Mamba layers use d_inner = 2 x hidden (Bridge's convention, whatever the head count).

One known difference: Bridge's Gemma 2/3 providers set a window but no
window_attn_skip_freq, so its counter treats every layer as sliding-window; we count
the global layers as full attention, as the model computes them (+1.7% for
gemma-2-9b and +0.9% for gemma-3-27b at 8K; none below the window length).
"""

from __future__ import annotations

from autorecipe.catalog.layers import is_gated, layer_kinds
from autorecipe.catalog.spec import ModelSpec


def padded_vocab(vocab_size: int, multiple: int = 128, tp: int = 1) -> int:
    """Vocabulary padded the way Megatron pads it (to a multiple of `multiple` x TP)."""
    step = multiple * tp
    return -(-vocab_size // step) * step


def training_flops_per_token(
    spec: ModelSpec, seq_len: int, *, mtp_num_layers: int | None = None, tp: int = 1
) -> float:
    """Training (forward + backward) model FLOPs per token at sequence length `seq_len`.

    `mtp_num_layers` defaults to the model's own MTP depth (0 when it has none): pass
    the recipe's value when it differs. `tp` only changes the vocabulary padding.

    Example:
        >>> from autorecipe.catalog.models import resolve_model
        >>> f"{training_flops_per_token(resolve_model('llama3-8b'), 8192) * 8192:.3g}"
        '4.22e+14'
    """
    if seq_len <= 0:
        raise ValueError(f"seq_len must be positive, got {seq_len}")
    mtp = (spec.mtp_num_layers or 0) if mtp_num_layers is None else mtp_num_layers
    vocab = padded_vocab(spec.vocab_size, tp=tp)
    if spec.hybrid_layer_pattern:
        return 3 * _hybrid_forward(spec, seq_len, vocab, mtp)
    return _transformer_training(spec, seq_len, vocab, mtp)


def forward_flops_per_token(
    spec: ModelSpec, seq_len: int, *, mtp_num_layers: int | None = None, tp: int = 1
) -> float:
    """Forward-only model FLOPs per token (one third of the training count)."""
    return training_flops_per_token(spec, seq_len, mtp_num_layers=mtp_num_layers, tp=tp) / 3


def _causal_context(seq_len: int, window: int | None) -> float:
    """Mean number of keys a query attends to (the s/2 of causal attention, or a window's)."""
    if window is not None and window < seq_len:
        return window - window * (window - 1) / (2 * seq_len)
    return seq_len / 2


def _transformer_training(spec: ModelSpec, s: int, vocab: int, mtp: int) -> float:
    h = spec.hidden_size
    kinds = layer_kinds(spec)
    kinds = kinds + [kinds[-1]] * mtp  # an MTP layer repeats the last layer's kind
    glu = 3 if is_gated(spec) else 2
    dense = sum(k.mlp == "dense" for k in kinds)
    moe = sum(k.mlp == "moe" for k in kinds)
    k_routed = spec.num_experts_per_tok or 1
    f_e = spec.moe_intermediate_size or spec.intermediate_size or 0
    if spec.moe_latent_size:
        routed = f_e * k_routed * glu * spec.moe_latent_size / h + 2 * spec.moe_latent_size
    else:
        routed = f_e * k_routed * glu
    mlp = h * (
        (spec.intermediate_size or 0) * glu * dense
        + routed * moe
        + (spec.shared_expert_intermediate_size or 0) * glu * moe
    )
    attn = sum(_attention_term(spec, k.mixer, s) for k in kinds)
    mtp_proj = mtp * (3 * h + 2 * h * h)
    logits = h * vocab * (mtp + 1)
    return 6 * (mlp + mtp_proj + logits) + 6 * attn


def _attention_term(spec: ModelSpec, mixer: str, s: int) -> float:
    """FMAs per token of one layer's token mixer (projections + core attention)."""
    h, a = spec.hidden_size, spec.num_attention_heads
    if mixer == "mla":
        nope, rope = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0
        v = spec.v_head_dim or nope
        if spec.q_lora_rank:
            q = spec.q_lora_rank * (h + a * (nope + rope) + 1)
        else:
            q = h * a * (nope + rope)
        kv = (spec.kv_lora_rank or 0) * (h + a * (nope + v) + 1) + h * rope
        core = s * a * (nope + rope) / 2 + s * a * v / 2
        return q + kv + a * v * h + core
    if mixer == "gdn":
        la = spec.linear_attention or {}
        nk, nv = la.get("linear_num_key_heads", 16), la.get("linear_num_value_heads", 32)
        qk = nk * la.get("linear_key_head_dim", 128)
        vd = nv * la.get("linear_value_head_dim", 128)
        return h * (2 * qk + 2 * vd + 2 * nv) + _gdn_recurrence(spec) + h * vd
    q = a * spec.head_dim
    kv = spec.num_key_value_heads * spec.head_dim
    gate = q if spec.attention_output_gate else 0
    proj = h * (q + 2 * kv + gate) + q * h
    window = spec.sliding_window if mixer == "swa" else None
    return proj + q * _causal_context(s, window) * 2


def _mamba_dims(spec: ModelSpec) -> tuple[int, int, int, int]:
    """(d_inner, groups, state, heads) as Bridge's hybrid_flops takes them."""
    d_in = 2 * spec.hidden_size
    groups, state = spec.mamba_num_groups or 8, spec.mamba_state_dim or 128
    heads = spec.mamba_num_heads or d_in // (spec.mamba_head_dim or 64)
    return d_in, groups, state, heads


def _gdn_recurrence(spec: ModelSpec) -> float:
    """FMAs per token of one gated-DeltaNet layer's delta-rule state update and convolution."""
    la = spec.linear_attention or {}
    nk, nv = la.get("linear_num_key_heads", 16), la.get("linear_num_value_heads", 32)
    dk, dv = la.get("linear_key_head_dim", 128), la.get("linear_value_head_dim", 128)
    conv = la.get("linear_conv_kernel_dim", 4)
    return conv * (2 * nk * dk + nv * dv) + nv * dv * dv * 4


def recurrent_core_flops_per_token(spec: ModelSpec) -> float:
    """Training FLOPs per token of the recurrent mixers' work that is no GEMM: Mamba's
    state-space scan (hybrid_flops' 7·d_inner·state a layer) and gated DeltaNet's delta-rule
    recurrence and convolution, as the model FLOPs count them."""
    kinds = layer_kinds(spec)
    flops = 6 * _gdn_recurrence(spec) * sum(k.mixer == "gdn" for k in kinds)
    if spec.hybrid_layer_pattern:
        d_in, _, state, _ = _mamba_dims(spec)
        flops += 3 * 7 * d_in * state * sum(k.mixer == "mamba" for k in kinds)
    return flops


def _hybrid_forward(spec: ModelSpec, s: int, vocab: int, mtp: int) -> float:
    """Bridge `hybrid_flops` per token, forward only (Mamba / attention / MLP / MoE layers)."""
    h = spec.hidden_size
    kinds = layer_kinds(spec)
    n_attn = sum(k.mixer == "attention" for k in kinds)
    n_mamba = sum(k.mixer == "mamba" for k in kinds)
    n_mlp = sum(k.mlp == "dense" for k in kinds)
    n_moe = sum(k.mlp == "moe" for k in kinds)
    gated = 1.5 if is_gated(spec) else 1.0

    a, g = spec.num_attention_heads, spec.num_key_value_heads
    p = spec.head_dim * a / h
    attn = 4 * h * p * (h + h * g / a) + 2 * h * p * s

    mlp = 4 * (spec.intermediate_size or 0) * gated * h

    f_e, k = spec.moe_intermediate_size or 0, spec.num_experts_per_tok or 1
    if spec.moe_latent_size:
        lat = spec.moe_latent_size
        moe = 4 * lat * f_e * k * gated + 4 * h * lat
    else:
        moe = 4 * h * f_e * k * gated
    moe += 4 * h * (spec.shared_expert_intermediate_size or 0) * gated

    d_in, groups, state, heads = _mamba_dims(spec)
    mamba = 2 * h * (2 * d_in + 2 * groups * state + heads) + 7 * d_in * state + 2 * d_in * h

    logits = 2 * h * vocab * (1 + mtp)
    return n_attn * attn + n_mlp * mlp + n_moe * moe + n_mamba * mamba + logits
