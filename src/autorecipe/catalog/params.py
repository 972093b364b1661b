"""Parameter counts of a ModelSpec: total, active per token, and per layer.

Counted as a Hugging Face checkpoint holds them: every weight matrix, norm weights,
embeddings and the output layer when untied; multi-token-prediction (MTP) blocks and
vision/audio encoders are reported apart and left out of `total` (published totals
such as DeepSeek-V3's 671B leave them out too). Biases are counted where the
architecture has them on attention projections (Qwen2 QKV), as are QK-norm weights and
shared-expert gates; expert biases and router score-correction biases (well under 0.1%)
are not.
"""

from __future__ import annotations

from itertools import groupby

from pydantic import BaseModel, Field

from autorecipe.catalog.layers import LayerKind, is_gated, layer_kinds
from autorecipe.catalog.spec import ModelSpec

_QKV_BIAS_TYPES = {"qwen2", "qwen2_5_vl", "qwen2_audio"}
_FOUR_NORM_TYPES = {"gemma2", "gemma3", "gemma3_text"}  # pre- and post- attention/MLP norms
# Per-head RMSNorm on queries and keys (head_dim weights each).
_QK_NORM_TYPES = {
    "qwen3",
    "qwen3_moe",
    "qwen3_next",
    "qwen3_5",
    "qwen3_5_moe",
    "qwen3_vl",
    "qwen3_vl_moe",
    "qwen3_omni_moe",
    "gemma3",
    "gemma3_text",
}
# A sigmoid gate (hidden -> 1) on the shared expert's output.
_SHARED_GATE_TYPES = {"qwen2_moe", "qwen3_next", "qwen3_5_moe"}


class LayerGroup(BaseModel):
    """Consecutive decoder layers of one kind, with the parameters of one such layer."""

    first: int
    last: int
    kind: str
    params_per_layer: int
    active_per_layer: int
    components: dict[str, int]


class ParamCounts(BaseModel):
    total: int
    active: int
    # Summed over the model, by component: embedding, output_layer, attention, mla,
    # mamba, linear_attention, mlp, routed_experts, shared_experts, router, norms.
    components: dict[str, int]
    active_components: dict[str, int]
    layers: list[LayerGroup]
    mtp: int = 0
    vision_encoder: int | None = None
    notes: list[str] = Field(default_factory=list)


def count_params(spec: ModelSpec) -> ParamCounts:
    """Total and active parameters with a per-layer breakdown.

    Example:
        >>> from autorecipe.catalog.models import resolve_model
        >>> round(count_params(resolve_model("llama3-8b")).total / 1e9, 2)
        8.03
    """
    kinds = layer_kinds(spec)
    per_layer = [_layer(spec, k) for k in kinds]
    components: dict[str, int] = {}
    active_components: dict[str, int] = {}
    for full, active in per_layer:
        _add(components, full)
        _add(active_components, active)
    embed = spec.vocab_size * spec.hidden_size
    top = {"embedding": embed, "output_layer": 0 if spec.tie_word_embeddings else embed}
    top["norms"] = spec.hidden_size  # final norm
    _add(components, top)
    _add(active_components, top)

    groups = []
    index = 0
    for kind, run in groupby(zip(kinds, per_layer, strict=True), key=lambda x: x[0]):
        items = list(run)
        full, active = items[0][1]
        groups.append(
            LayerGroup(
                first=index,
                last=index + len(items) - 1,
                kind=kind.label,
                params_per_layer=sum(full.values()),
                active_per_layer=sum(active.values()),
                components=full,
            )
        )
        index += len(items)

    mtp = 0
    notes = []
    if spec.mtp_num_layers and kinds:
        # One MTP block = a copy of the last layer + eh-projection (2h x h) + 2 norms.
        last = sum(per_layer[-1][0].values())
        mtp = last + 2 * spec.hidden_size**2 + 2 * spec.hidden_size
        notes.append(
            f"MTP block(s) ({spec.mtp_num_layers} deep, shared weights counted once) not in total"
        )
    vision = (spec.extra.get("vision_encoder") or {}).get("params_computed")
    if not spec.supported:
        notes.append(f"approximate: {spec.unsupported_reason}")
    return ParamCounts(
        total=sum(components.values()),
        active=sum(active_components.values()),
        components=components,
        active_components=active_components,
        layers=groups,
        mtp=mtp,
        vision_encoder=vision,
        notes=notes,
    )


def _add(into: dict[str, int], parts: dict[str, int]) -> None:
    for k, v in parts.items():
        if v:
            into[k] = into.get(k, 0) + v


def _layer(spec: ModelSpec, kind: LayerKind) -> tuple[dict[str, int], dict[str, int]]:
    """(all parameters, parameters one token passes through) of one layer, by component."""
    h = spec.hidden_size
    full: dict[str, int] = {}
    if kind.mixer in ("attention", "swa"):
        full["attention"] = attention_params(spec)
    elif kind.mixer == "mla":
        full["mla"] = mla_params(spec)
    elif kind.mixer == "mamba":
        full["mamba"] = mamba_params(spec)
    elif kind.mixer == "gdn":
        full["linear_attention"] = gdn_params(spec)
    active = dict(full)
    if kind.mlp == "dense":
        full["mlp"] = active["mlp"] = mlp_params(h, spec.intermediate_size or 0, is_gated(spec))
    elif kind.mlp == "moe":
        routed, routed_active, shared, router = moe_params(spec)
        full.update(routed_experts=routed, shared_experts=shared, router=router)
        active.update(routed_experts=routed_active, shared_experts=shared, router=router)
    norms = h * (
        1 if spec.hybrid_layer_pattern else 4 if spec.model_type in _FOUR_NORM_TYPES else 2
    )
    full["norms"] = active["norms"] = norms
    return full, active


def attention_params(spec: ModelSpec) -> int:
    """Q, K, V, O projections (GQA), the output gate when present, and QKV biases."""
    h, a, g, d = spec.hidden_size, spec.num_attention_heads, spec.num_key_value_heads, spec.head_dim
    q = a * d * (2 if spec.attention_output_gate else 1)
    bias = (a * d + 2 * g * d) if spec.model_type in _QKV_BIAS_TYPES else 0
    if spec.model_type in _QK_NORM_TYPES:
        bias += 2 * d
    elif spec.model_type == "olmoe":  # OLMoE normalises the whole q and k projections
        bias += a * d + g * d
    return h * q + 2 * h * g * d + a * d * h + bias


def mla_params(spec: ModelSpec) -> int:
    """Multi-latent attention: low-rank Q (or full Q), compressed KV, their norms, O."""
    h, a = spec.hidden_size, spec.num_attention_heads
    nope, rope = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0
    v, r_kv = spec.v_head_dim or nope, spec.kv_lora_rank or 0
    if spec.q_lora_rank:
        q = h * spec.q_lora_rank + spec.q_lora_rank + spec.q_lora_rank * a * (nope + rope)
    else:
        q = h * a * (nope + rope)
    kv = h * (r_kv + rope) + r_kv + r_kv * a * (nope + v)
    return q + kv + a * v * h


def mlp_params(hidden: int, ffn: int, gated: bool) -> int:
    return (3 if gated else 2) * hidden * ffn


def moe_params(spec: ModelSpec) -> tuple[int, int, int, int]:
    """(routed experts, routed experts one token uses, shared experts, router) of one MoE layer."""
    h, e, k = spec.hidden_size, spec.num_experts or 0, spec.num_experts_per_tok or 1
    gated = is_gated(spec)
    if spec.moe_latent_size:
        lat = spec.moe_latent_size
        one = mlp_params(lat, spec.moe_intermediate_size or 0, gated)
        proj = 2 * h * lat  # into and out of the latent space, shared by all experts
        routed, routed_active = e * one + proj, k * one + proj
    else:
        one = mlp_params(h, spec.moe_intermediate_size or 0, gated)
        routed, routed_active = e * one, k * one
    shared = mlp_params(h, spec.shared_expert_intermediate_size or 0, gated)
    if shared and spec.model_type in _SHARED_GATE_TYPES:
        shared += h
    return routed, routed_active, shared, h * e


def mamba_params(spec: ModelSpec) -> int:
    """Mamba-2 mixer: in_proj (z, x, B, C, dt), depthwise conv (kernel 4), A, D, dt bias,
    gated norm and out_proj."""
    h = spec.hidden_size
    heads, head_dim = spec.mamba_num_heads or 0, spec.mamba_head_dim or 0
    groups, state = spec.mamba_num_groups or 1, spec.mamba_state_dim or 0
    d_inner = heads * head_dim
    conv_dim = d_inner + 2 * groups * state
    in_proj = h * (2 * d_inner + 2 * groups * state + heads)
    conv = conv_dim * 4 + conv_dim
    return in_proj + conv + 3 * heads + d_inner + d_inner * h


def gdn_params(spec: ModelSpec) -> int:
    """Gated DeltaNet: qkvz and ba projections, depthwise conv, A/dt, gated norm, out_proj."""
    la = spec.linear_attention or {}
    h = spec.hidden_size
    nk, nv = la.get("linear_num_key_heads", 16), la.get("linear_num_value_heads", 32)
    dk, dv = la.get("linear_key_head_dim", 128), la.get("linear_value_head_dim", 128)
    kernel = la.get("linear_conv_kernel_dim", 4)
    qk, v = nk * dk, nv * dv
    return h * (2 * qk + 2 * v) + h * 2 * nv + (2 * qk + v) * kernel + 2 * nv + dv + v * h
