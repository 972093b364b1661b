"""Memory per GPU for one layout: model state, activations and reserves, per pipeline stage.

The model (shared/reference/megatron-parallelism-and-memory.md §3, §5):
- model state per parameter: bf16 weight 2 B, fp32 main grad 4 B, fp32 master + Adam m, v
  12 B; the distributed optimizer shards the 12 B over the dense DP×CP group and over
  expert-DP for expert weights; Megatron-FSDP (ZeRO-3) shards all 18 B; frozen (PEFT)
  weights cost 2 B and adapters the full optimizer rate;
- activations per Korthikanti et al. (arXiv 2205.05198, Table 2) with flash attention
  (no s² term), generalised to GQA widths and gated MLPs, with SP/CP sharding, selective /
  full recompute and the in-flight microbatches of the 1F1B and interleaved schedules;
- the stage that holds the most decides; the GPU's usable memory (catalog: capacity less
  the CUDA context) is compared with the total.
Where Megatron-LM's theoretical_memory_usage.py applies, the numbers agree with it
(tests/test_memory_mlm.py); where it ignores something (CP, GQA widths, SwiGLU widths,
MoE dispatch, MLA, uneven stages), this model says what it assumed instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import Stage, layers_per_stage
from autorecipe.result import Memory, MemoryBreakdown

GIB = 1024**3
# NCCL communicator buffers plus cuBLAS / Transformer Engine workspaces, on top of the
# CUDA context that the catalog's usable memory already excludes.
RUNTIME_RESERVE_GIB = 1.0
# Caching-allocator fragmentation, as a share of what the tensors themselves need.
FRAGMENTATION = 0.05
# Bytes per parameter of the extra low-precision weight copies Transformer Engine keeps
# (row-wise and column-wise casts) for the linear layers.
LOW_PRECISION_WEIGHT_BYTES = {
    "bf16": 0.0,
    "fp8": 2.0,
    "mxfp8": 2.0 + 2.0 / 32,
    "nvfp4": 1.0 + 2.0 / 16,
}
LORA_TARGETS = "linear_qkv, linear_proj, linear_fc1, linear_fc2"


@dataclass(frozen=True)
class Shapes:
    """Per-layer parameter and activation widths of a model, computed once per spec."""

    h: int
    vocab: int
    tied: bool
    gated: bool
    norm_params: int  # per norm (1 for RMSNorm, 2 for LayerNorm) × h
    # attention: TP-sharded and replicated parameter counts (KV at full width)
    attn_sharded: int
    attn_kv: int  # K and V projection params (replicated when TP > KV heads)
    attn_replicated: int
    q_width: int  # a·d_h (or a·d_v for MLA output)
    kv_width: int  # g·d_h (MLA: the up-projected K and V widths per token)
    kv_heads: int
    mla_latent: int  # per-token latent widths kept (MLA only)
    ffn: int
    moe_ffn: int
    experts: int
    topk: int
    shared_ffn: int
    moe_layers: frozenset[int]
    num_layers: int
    mtp_layers: int
    dropout: bool  # hidden dropout on: its 1-byte masks are kept for backward

    def is_moe(self, layer: int) -> bool:
        return layer in self.moe_layers


def model_shapes(spec: ModelSpec) -> Shapes:
    """The widths the memory model needs, from a ModelSpec."""
    h, a, g = spec.hidden_size, spec.num_attention_heads, spec.num_key_value_heads
    d_h = spec.head_dim
    gated = spec.activation in ("swiglu", "geglu", "silu_glu")
    if spec.is_mla:
        d_qk = spec.qk_nope_head_dim or d_h
        d_rope = spec.qk_rope_head_dim or 0
        d_v = spec.v_head_dim or d_h
        r_kv = spec.kv_lora_rank or 0
        r_q = spec.q_lora_rank
        q_up = r_q * a * (d_qk + d_rope) if r_q else h * a * (d_qk + d_rope)
        attn_sharded = q_up + r_kv * a * (d_qk + d_v) + a * d_v * h
        # down-projections and latent norms are replicated over TP (TE duplicated linears)
        attn_replicated = (r_q * h + r_q if r_q else 0) + h * (r_kv + d_rope) + r_kv
        attn_kv = 0
        q_width, kv_width = a * (d_qk + d_rope), a * (d_qk + d_rope + d_v)
        mla_latent = (r_q or 0) + r_kv + d_rope
        kv_heads = a
    else:
        attn_sharded = 2 * h * a * d_h
        attn_kv = 2 * h * g * d_h
        attn_replicated = 0
        q_width, kv_width, mla_latent, kv_heads = a * d_h, g * d_h, 0, g
    layers = spec.num_hidden_layers
    if spec.is_moe:
        first_dense = spec.first_k_dense_replace or 0
        moe_layers = frozenset(range(first_dense, layers))
        shared = spec.shared_expert_intermediate_size or (
            (spec.n_shared_experts or 0) * (spec.moe_intermediate_size or 0)
        )
    else:
        moe_layers, shared = frozenset(), 0
    mtp = int(spec.extra.get("mtp_num_layers") or spec.extra.get("num_nextn_predict_layers") or 0)
    return Shapes(
        h=h,
        vocab=spec.vocab_size,
        tied=spec.tie_word_embeddings,
        gated=gated,
        norm_params=(2 if spec.norm == "LayerNorm" else 1) * h,
        attn_sharded=attn_sharded,
        attn_kv=attn_kv,
        attn_replicated=attn_replicated,
        q_width=q_width,
        kv_width=kv_width,
        kv_heads=kv_heads,
        mla_latent=mla_latent,
        ffn=spec.intermediate_size or 0,
        moe_ffn=spec.moe_intermediate_size or 0,
        experts=spec.num_experts or 0,
        topk=spec.num_experts_per_tok or 0,
        shared_ffn=shared,
        moe_layers=moe_layers,
        num_layers=layers,
        mtp_layers=mtp,
        # Bridge's Llama/Qwen/DeepSeek providers set hidden_dropout=0 (no masks kept);
        # a spec says otherwise through extra["hidden_dropout"]
        dropout=float(spec.extra.get("hidden_dropout") or 0) > 0,
    )


# --- parameters per GPU -------------------------------------------------------------------


@dataclass(frozen=True)
class StageParams:
    """Parameters one GPU of a stage holds: dense (sharded by DP×CP) and expert (by EDP)."""

    dense: float
    expert: float
    linear: float  # the part in linear layers (what FP8 casts and LoRA adapts)
    lora: float  # adapter parameters (PEFT), trainable


def _mlp_mult(shapes: Shapes) -> int:
    return 3 if shapes.gated else 2


def _layer_params(shapes: Shapes, layout: Layout, layer: int) -> tuple[float, float]:
    """(dense-per-GPU, expert-per-GPU) parameters of one decoder layer."""
    t = layout.tp
    kv = shapes.attn_kv * max(shapes.kv_heads, t) / shapes.kv_heads if shapes.attn_kv else 0
    dense = (shapes.attn_sharded + kv) / t + shapes.attn_replicated + 2 * shapes.norm_params
    expert = 0.0
    if shapes.is_moe(layer):
        h = shapes.h
        expert = _mlp_mult(shapes) * h * shapes.moe_ffn * shapes.experts / (layout.ep * layout.etp)
        dense += _mlp_mult(shapes) * h * shapes.shared_ffn / t + h * shapes.experts
    else:
        dense += _mlp_mult(shapes) * shapes.h * shapes.ffn / t
    return dense, expert


def _lora_layer_params(shapes: Shapes, layout: Layout, layer: int, rank: int) -> float:
    """Adapter parameters per GPU for one layer: r·(in + out) per adapted linear, over TP."""
    h, t = shapes.h, layout.tp
    qkv_out = shapes.q_width + 2 * shapes.kv_width if not shapes.mla_latent else shapes.q_width
    attn = rank * (h + qkv_out) + rank * (shapes.q_width + h)
    if shapes.is_moe(layer):
        f = shapes.moe_ffn
        # one adapter shared by the local experts of a grouped linear (share_expert_adapters)
        mlp = rank * (h + (2 if shapes.gated else 1) * f) + rank * (f + h)
    else:
        f = shapes.ffn
        mlp = rank * (h + (2 if shapes.gated else 1) * f) + rank * (f + h)
    return (attn + mlp) / t


def stage_params(
    shapes: Shapes, layout: Layout, stage: Stage, *, lora_rank: int | None = None
) -> StageParams:
    """Parameters on one GPU of `stage`, split dense/expert, plus adapters for PEFT."""
    dense = expert = lora = 0.0
    for layer in stage.layers:
        d, e = _layer_params(shapes, layout, layer)
        dense += d
        expert += e
        if lora_rank:
            lora += _lora_layer_params(shapes, layout, layer, lora_rank)
    if stage.mtp_layers:
        last = shapes.num_layers - 1
        d, e = _layer_params(shapes, layout, last)
        # each MTP block adds an eh-projection (2h→h) and two norms
        dense += stage.mtp_layers * (
            d + 2 * shapes.h * shapes.h / layout.tp + 2 * shapes.norm_params
        )
        expert += stage.mtp_layers * e
    embedding = shapes.vocab * shapes.h / layout.tp
    if stage.has_embedding:
        dense += embedding
    if stage.has_output:
        dense += shapes.norm_params
        # untied: an output layer; tied with PP > 1: a synchronised copy on the last stage
        if not shapes.tied or layout.pp > 1:
            dense += embedding
    linear = dense + expert - 2 * shapes.norm_params * len(stage.layers)
    return StageParams(dense=dense, expert=expert, linear=linear, lora=lora)


# --- activations --------------------------------------------------------------------------


def layer_activation_bytes_per_token(shapes: Shapes, layout: Layout, layer: int) -> float:
    """Bytes one decoder layer keeps per token for backward, on one GPU, without recompute.

    Korthikanti's 34·h per token (16-bit, flash attention, MHA, f = 4h) generalised:
    LayerNorm inputs 4h; attention 2h + 4·q + 4·kv (QKV input, Q/K/V, projection input);
    MLP 2h + 4f (non-gated) or 6f (gated: fc1 is 2f wide); plus two 1-byte dropout masks
    (h each) when hidden dropout is on. Without SP the norms, inputs and masks (8h or 10h)
    are replicated over TP and the rest is split.
    """
    h, t = shapes.h, layout.tp
    kv_local = shapes.kv_width * max(shapes.kv_heads, t) / shapes.kv_heads
    sharded = 4 * shapes.q_width + 4 * kv_local
    replicated = (10.0 if shapes.dropout else 8.0) * h + 4 * shapes.mla_latent
    act = 6 if shapes.gated else 4
    if shapes.is_moe(layer):
        # router logits and probabilities in fp32, replicated over TP
        replicated += 8 * shapes.experts
        # routed tokens: k copies of the input (2h) and the expert MLP widths, split over
        # TP×ETP / ETP (tokens gathered over ETP, FFN split over ETP); balanced routing assumed
        sharded += shapes.topk * (2 * h + act * shapes.moe_ffn)
        sharded += act * shapes.shared_ffn
    else:
        sharded += act * shapes.ffn
    if layout.sp and t > 1:
        return (replicated + sharded) / t
    return replicated + sharded / t


def _stored_chunks(layout: Layout, rank: int, microbatches: int) -> int:
    """Virtual-chunk activations rank `rank` holds at its peak (schedules.py warm-up + 1)."""
    p, v = layout.pp, layout.vp or 1
    if p == 1:
        return 1
    if v == 1:
        return min(p - rank, microbatches)
    warmup = 2 * (p - rank - 1) + (v - 1) * p
    return min(warmup + 1, microbatches * v)


def stage_activation_bytes(
    shapes: Shapes, layout: Layout, stage: Stage, *, seq_len: int, microbatches: int
) -> tuple[float, float]:
    """(stored activations, transient recompute/logits peak) in bytes on one GPU of `stage`."""
    if not stage.layers and not stage.mtp_layers:
        return 0.0, 0.0
    tokens = seq_len * layout.mbs / layout.cp
    sp_div = layout.tp if (layout.sp and layout.tp > 1) else 1
    chunks = _stored_chunks(layout, stage.rank, microbatches)
    v = len(stage.chunk_sizes) or 1
    # layer-microbatches held: `chunks` chunk-activations of (layers / v) layers each
    per_layer = [layer_activation_bytes_per_token(shapes, layout, i) for i in stage.layers]
    if stage.mtp_layers:
        per_layer += [layer_activation_bytes_per_token(shapes, layout, shapes.num_layers - 1)] * (
            stage.mtp_layers
        )
    mean_layer = sum(per_layer) / len(per_layer)
    layers_here = len(per_layer)
    held = chunks * layers_here / v  # layer-microbatches
    transient = 0.0
    if layout.recompute == "full":
        unit = layout.recompute_num_layers or 1
        if layout.recompute_method == "block":
            kept_full = max(layers_here / v - unit, 0) * chunks
            checkpointed = min(unit, layers_here / v) * chunks
            stored = tokens * (kept_full * mean_layer + checkpointed * 2 * shapes.h / sp_div)
        else:
            stored = tokens * held * 2 * shapes.h / sp_div
        # one checkpoint unit is rebuilt in full during its backward
        transient = tokens * min(unit, layers_here) * mean_layer
    else:
        stored = tokens * held * mean_layer
    if stage.has_embedding:
        # token ids (int64) and the embedding-dropout mask, per in-flight microbatch
        stored += (chunks / v) * tokens * (8 + (shapes.h if shapes.dropout else 0))
    if stage.has_output:
        # output-layer input (fp32 after the final norm) and fp32 logits over the local vocab
        transient += 4 * tokens * (shapes.h + shapes.vocab) / layout.tp
    if shapes.moe_layers and layout.ep > 1:
        # all-to-all dispatch send + receive buffers for one layer's routed tokens
        transient += 2 * shapes.topk * (tokens / sp_div) * shapes.h * 2
    return stored, transient


# --- the whole estimate -------------------------------------------------------------------


@dataclass(frozen=True)
class StageMemory:
    """Bytes on one GPU of one pipeline stage."""

    rank: int
    weights: float
    gradients: float
    optimizer: float
    activations: float
    other: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations + self.other


def _state_bytes(
    params: StageParams,
    layout: Layout,
    *,
    mode: str,
    precision: str,
    dp: int,
    edp: int,
    layers: int,
) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes for the parameters on one GPU."""
    extra = LOW_PRECISION_WEIGHT_BYTES.get(precision, 0.0) * params.linear
    dense_shard = dp * layout.cp
    if mode == "peft":
        base = 2.0 * (params.dense + params.expert) + extra
        shard = dense_shard if layout.use_distributed_optimizer else 1
        return base + 2.0 * params.lora, 4.0 * params.lora, 12.0 * params.lora / shard
    if layout.use_megatron_fsdp:
        # ZeRO-3: weights, grads and optimizer all sharded; two layers' weights gathered
        sharded = params.dense / dense_shard + params.expert / edp
        # the layer being computed and the one prefetched are gathered unsharded (bf16)
        gathered = 2 * 2.0 * (params.dense + params.expert) / max(layers, 1)
        return 2.0 * sharded + gathered + extra, 4.0 * sharded, 12.0 * sharded
    if layout.use_distributed_optimizer:
        optimizer = 12.0 * (params.dense / dense_shard + params.expert / edp)
    else:
        optimizer = 12.0 * (params.dense + params.expert)
    total = params.dense + params.expert
    return 2.0 * total + extra, 4.0 * total, optimizer


def memory_by_stage(
    spec: ModelSpec,
    layout: Layout,
    *,
    seq_len: int,
    mode: str = "pretrain",
    precision: str = "bf16",
    lora_rank: int = 32,
    shapes: Shapes | None = None,
    world_size: int | None = None,
) -> list[StageMemory]:
    """Bytes per GPU on every pipeline stage (index = PP rank)."""
    shapes = shapes or model_shapes(spec)
    world = world_size or layout.world_size
    dp = world // (layout.tp * layout.pp * layout.cp)
    edp = max(world // (layout.etp * layout.ep * layout.pp), 1)
    microbatches = max(layout.gbs // (layout.mbs * dp), 1)
    stages = layers_per_stage(shapes.num_layers, layout, shapes.mtp_layers)
    out = []
    for stage in stages:
        params = stage_params(
            shapes, layout, stage, lora_rank=lora_rank if mode == "peft" else None
        )
        weights, grads, optim = _state_bytes(
            params, layout, mode=mode, precision=precision, dp=dp, edp=edp, layers=len(stage.layers)
        )
        stored, transient = stage_activation_bytes(
            shapes, layout, stage, seq_len=seq_len, microbatches=microbatches
        )
        tensors = weights + grads + optim + stored + transient
        other = RUNTIME_RESERVE_GIB * GIB + FRAGMENTATION * tensors + transient
        out.append(StageMemory(stage.rank, weights, grads, optim, stored, other))
    return out


def assumptions(
    spec: ModelSpec, layout: Layout, *, mode: str, precision: str, lora_rank: int
) -> list[str]:
    """What the estimate assumed, in words (for the Memory answer)."""
    notes = [
        "bf16 weights 2 B/param, fp32 main grads 4 B/param, fp32 master weights + Adam m, v 12 B/param",
        (
            "distributed optimizer: optimizer state sharded over DP×CP (dense) and expert-DP (experts)"
            if layout.use_distributed_optimizer and not layout.use_megatron_fsdp
            else "Megatron-FSDP (optim_grads_params): weights, grads and optimizer sharded over DP×CP"
            if layout.use_megatron_fsdp
            else "no distributed optimizer: full optimizer state on every GPU"
        ),
        "activations: Korthikanti et al. 2022 with flash attention (no s² term), GQA and "
        "gated-MLP widths, 16-bit; the peak in-flight microbatches of the pipeline schedule",
        "other: usable memory already excludes the CUDA context; "
        f"{RUNTIME_RESERVE_GIB:g} GiB for NCCL buffers and cuBLAS/TE workspaces, "
        f"{FRAGMENTATION:.0%} allocator fragmentation, transient logits (fp32) and recompute buffers",
        "the stage that holds the most is reported",
    ]
    if spec.is_moe:
        notes.append(
            "MoE: balanced routing (no token dropping); dispatcher send/receive buffers for one "
            "layer; routing imbalance raises the real peak"
        )
    if spec.is_mla:
        notes.append("MLA: down-projections replicated over TP; latent activations kept per layer")
    if layout.recompute == "selective":
        notes.append(
            "selective recompute of core attention saves little with flash attention (no s² term)"
        )
    if layout.recompute == "full":
        notes.append(
            f"full recompute ({layout.recompute_method}, {layout.recompute_num_layers} layer(s) per "
            "unit): layer inputs kept, one unit rebuilt during backward"
        )
    if mode == "peft":
        notes.append(
            f"LoRA rank {lora_rank} on {LORA_TARGETS}: base weights frozen at 2 B/param, adapters "
            "trained; activations as in full fine-tuning"
        )
    if precision != "bf16":
        notes.append(
            f"{precision}: Transformer Engine keeps low-precision weight copies "
            f"(+{LOW_PRECISION_WEIGHT_BYTES.get(precision, 0):.2f} B per linear param); activations "
            "counted at 16 bit (an upper bound)"
        )
    if spec.hybrid_layer_pattern:
        notes.append(
            "hybrid Mamba/linear-attention layers are estimated as attention layers (approximate)"
        )
    return notes


def estimate_memory(
    spec: ModelSpec,
    layout: Layout,
    gpu: GPUSpec,
    *,
    seq_len: int,
    mode: str = "pretrain",
    precision: str = "bf16",
    peft_scheme: str = "lora",
    lora_rank: int = 32,
    world_size: int | None = None,
) -> Memory:
    """Memory per GPU on the most loaded pipeline stage, with a breakdown in GiB.

    Example:
        >>> m = estimate_memory(llama3_8b, Layout(tp=1, dp=8, gbs=128), h100, seq_len=8192)
        >>> m.fits, m.breakdown.optimizer
    """
    stages = memory_by_stage(
        spec,
        layout,
        seq_len=seq_len,
        mode=mode,
        precision=precision,
        lora_rank=lora_rank,
        world_size=world_size,
    )
    worst = max(stages, key=lambda s: s.total)
    notes = assumptions(spec, layout, mode=mode, precision=precision, lora_rank=lora_rank)
    if mode == "peft" and peft_scheme == "dora":
        notes.append("DoRA: its magnitude vectors (one value per output feature) are not counted")
    if len(stages) > 1:
        notes.append(f"most loaded: pipeline stage {worst.rank} of {len(stages)}")
    breakdown = MemoryBreakdown(
        weights=round(worst.weights / GIB, 3),
        gradients=round(worst.gradients / GIB, 3),
        optimizer=round(worst.optimizer / GIB, 3),
        activations=round(worst.activations / GIB, 3),
        other=round(worst.other / GIB, 3),
    )
    total = worst.total / GIB
    return Memory(
        per_gpu_gib=round(total, 2),
        capacity_gib=gpu.usable_memory_gib,
        fits=total <= gpu.usable_memory_gib,
        breakdown=breakdown,
        assumptions=notes,
    )
