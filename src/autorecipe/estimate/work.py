"""How a model's per-token training work splits into the parts that run at different speeds.

The total model FLOPs per token come from the catalog (`autorecipe.catalog.flops`, Megatron-
Bridge's accounting: one source of truth). Here we only separate out the parts the step-time
model treats differently: core attention (flash attention, bf16 even in FP8 runs), routed-
expert GEMMs (grouped GEMMs whose size depends on the EP layout) and the output logits (on the
last pipeline stage). The rest is dense GEMM work in the training precision.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorecipe.catalog.flops import recurrent_core_flops_per_token, training_flops_per_token
from autorecipe.catalog.layers import is_gated, layer_kinds
from autorecipe.catalog.spec import ModelSpec

_ATTENTION_MIXERS = ("attention", "swa", "mla")


@dataclass(frozen=True)
class LayerCounts:
    attention: int
    moe: int
    total: int


@dataclass(frozen=True)
class TokenWork:
    """Training FLOPs per token (forward + backward), by kind, and the layer counts."""

    total: float
    attention_core: float  # all attention layers, sliding-window ones included
    window_core: float  # the sliding-window layers' share of attention_core
    window: int | None
    # Query/key plus value width per head: an attention score costs 6x this in training FLOPs
    # (QK^T and AV, forward + backward), and one softmax exponential forward, one backward.
    score_width: float
    expert_gemm: float
    logits: float
    layers: LayerCounts
    # recurrent mixers' core: Mamba's state-space scan, gated DeltaNet's delta rule (chunked
    # Triton kernels in bf16/fp32, no GEMM)
    scan: float = 0.0
    # Parts of the dense GEMM work that selective recompute can re-run on their own
    # (Megatron-Core's recompute_modules "mlp", "shared_experts", "mla_up_proj")
    mlp_gemm: float = 0.0
    shared_gemm: float = 0.0
    mla_up_gemm: float = 0.0

    @property
    def dense_gemm(self) -> float:
        rest = self.attention_core + self.expert_gemm + self.logits + self.scan
        return max(self.total - rest, 0.0)


def _core_per_layer(spec: ModelSpec, mixer: str, seq_len: int) -> float:
    """Causal QK^T and AV multiply-adds per token for one layer (the catalog's convention)."""
    a = spec.num_attention_heads
    if mixer == "mla":
        nope, rope = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0
        return a * (nope + rope + (spec.v_head_dim or nope)) * seq_len / 2
    window = spec.sliding_window if mixer == "swa" else None
    if window is not None and window < seq_len:
        context = window - window * (window - 1) / (2 * seq_len)
    else:
        context = seq_len / 2
    return 2 * a * spec.head_dim * context


# Ranking estimates hundreds of layouts of one model; the per-token work does not depend on
# the layout (TP only pads the vocabulary), so it is kept per spec object (specs are not
# mutated after they are built).
_CACHE: dict[tuple[int, int, int], tuple[ModelSpec, TokenWork]] = {}


def token_work(spec: ModelSpec, seq_len: int, *, tp: int = 1) -> TokenWork:
    key = (id(spec), seq_len, tp)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    work = _token_work(spec, seq_len, tp)
    if len(_CACHE) >= 512:
        _CACHE.clear()
    _CACHE[key] = (spec, work)
    return work


def _token_work(spec: ModelSpec, seq_len: int, tp: int) -> TokenWork:
    kinds = layer_kinds(spec)
    counts = LayerCounts(
        attention=sum(k.mixer in _ATTENTION_MIXERS for k in kinds),
        moe=sum(k.mlp == "moe" for k in kinds),
        total=len(kinds),
    )
    h = spec.hidden_size
    glu = 3 if is_gated(spec) else 2
    experts = 0.0
    if counts.moe:
        f_e = spec.moe_intermediate_size or spec.intermediate_size or 0
        k = spec.num_experts_per_tok or 1
        latent = spec.moe_latent_size
        routed = f_e * k * glu * (latent / h if latent else 1) + (2 * latent if latent else 0)
        experts = 6.0 * h * routed * counts.moe
    core = sum(
        _core_per_layer(spec, k.mixer, seq_len) for k in kinds if k.mixer in _ATTENTION_MIXERS
    )
    window_core = sum(_core_per_layer(spec, k.mixer, seq_len) for k in kinds if k.mixer == "swa")
    dense_mlps = sum(k.mlp == "dense" for k in kinds)
    mla_up = 0.0
    if spec.is_mla:
        nope, rope = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0
        v = spec.v_head_dim or nope
        score_width = float(nope + rope + v)
        # the up-projections from the compressed query and key/value latents
        heads = spec.num_attention_heads
        per_layer = (spec.q_lora_rank or 0) * heads * (nope + rope) + (
            spec.kv_lora_rank or 0
        ) * heads * (nope + v)
        mla_up = 6.0 * per_layer * sum(k.mixer == "mla" for k in kinds)
    else:
        score_width = 2.0 * spec.head_dim
    return TokenWork(
        total=training_flops_per_token(spec, seq_len, tp=tp),
        attention_core=6.0 * core,
        window_core=6.0 * window_core,
        window=spec.sliding_window if window_core else None,
        score_width=score_width,
        expert_gemm=experts,
        logits=6.0 * h * spec.vocab_size,
        layers=counts,
        scan=recurrent_core_flops_per_token(spec),
        mlp_gemm=6.0 * h * (spec.intermediate_size or 0) * glu * dense_mlps,
        shared_gemm=6.0 * h * (spec.shared_expert_intermediate_size or 0) * glu * counts.moe,
        mla_up_gemm=mla_up,
    )
