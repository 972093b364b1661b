"""Memory per GPU for one layout: model state, activations and reserves, per pipeline stage.

The model (shared/reference/megatron-parallelism-and-memory.md §3, §5):
- model state per parameter: bf16 weight 2 B, fp32 main grad 4 B, fp32 master + Adam m, v
  12 B; the distributed optimizer shards the 12 B over the dense DP×CP group and over
  expert-DP for expert weights; Megatron-FSDP (ZeRO-3) shards all 18 B; frozen (PEFT)
  weights cost 2 B and adapters the full optimizer rate. A recipe's settings (Knobs) change
  these: bf16 main grads, the precision-aware optimizer, fp8/fp4 parameters, Muon (8 B, and
  layer-wise sharded as dist_muon), frozen language / vision models;
- activations: the tensors Transformer Engine's layers save for backward (norm inputs and
  outputs, flash-attention Q, K, V and output, SwiGLU input, fc2 input; low-precision
  copies of GEMM inputs under FP8/FP4), which for a GPT layer is Korthikanti et al.'s
  (arXiv 2205.05198, Table 2) 34·s·b·h less the dropout masks Llama-style models do not
  keep; GQA and gated-MLP widths, MoE dispatch (k copies per token), MLA; SP/CP sharding,
  selective / full recompute, CPU and fine-grained offloading, and the in-flight
  microbatches of the 1F1B and interleaved schedules;
- the loss: the logits while the cross entropy runs, by kernel (LOGIT_BYTES): what the
  recipe's cross_entropy_fusion_impl keeps ("te" or "native"); Megatron-LM's fp32 term is
  the "megatron-lm" option;
- the stage that holds the most decides; the GPU's usable memory (catalog: capacity less
  the CUDA context) is compared with the total.
Where Megatron-LM's theoretical_memory_usage.py applies (its layer term; its loss term with
cross_entropy="megatron-lm"), the numbers agree with it (tests/test_memory_mlm.py);
estimate_memory uses the kernel the recipe runs instead, because Bridge's recipes fuse the
loss and do not keep fp32 logits. Where the formula ignores something (CP, GQA widths,
SwiGLU widths, MoE dispatch, MLA, uneven stages), this model says what it assumed instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from autorecipe.catalog import params
from autorecipe.catalog.layers import LayerKind, is_gated, layer_kinds
from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import Stage, decoder_layer_count, stage_split
from autorecipe.result import Memory, MemoryBreakdown

GIB = 1024**3
# NCCL communicator buffers plus cuBLAS / Transformer Engine workspaces, on top of the
# CUDA context that the catalog's usable memory already excludes.
RUNTIME_RESERVE_GIB = 1.0
# Caching-allocator fragmentation, as a share of what the tensors themselves need; Bridge's
# launcher sets PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True, which keeps it small.
FRAGMENTATION = 0.03
# Bytes per parameter of one low-precision cast of a linear weight, with its block scales.
# Transformer Engine keeps a row-wise and a column-wise cast: for the forward GEMM and for
# the backward ones. A per-tensor FP8 cast needs its column-wise (transposed) copy only where
# cuBLAS runs FP8 GEMMs in the TN layout alone: Hopper and Ada. Blackwell data-center GPUs
# (compute capability 10.x) run them in any layout, so Float8Tensor keeps no transpose
# (transformer_engine float8_tensor.update_usage, is_non_tn_fp8_gemm_supported). MXFP8 and
# NVFP4 keep both copies everywhere: their block scales run along different axes.
LOW_PRECISION_CAST_BYTES = {"fp8": 1.0, "mxfp8": 1.0 + 1.0 / 32, "nvfp4": 0.5 + 1.0 / 16}
NON_TN_FP8_ARCHS = ("Blackwell", "Blackwell Ultra")


def low_precision_weight_bytes(precision: str, gpu: GPUSpec | None) -> float:
    """Bytes per linear parameter of the low-precision weight copies (0 for bf16)."""
    cast = LOW_PRECISION_CAST_BYTES.get(precision, 0.0)
    one_copy = precision == "fp8" and gpu is not None and gpu.arch in NON_TN_FP8_ARCHS
    return cast if one_copy else 2 * cast


LORA_TARGETS = "linear_qkv, linear_proj, linear_fc1, linear_fc2"


# Where an activation lives: "rep" is whole on every TP rank unless SP shards the sequence,
# "split" is split over TP, "kv" is split over TP until TP exceeds the KV heads.
Act = tuple[str, str, float]  # (name, where, bytes per token at 16 bit)

# Selective-recompute modules → the activations they drop (Megatron recompute_modules).
# core_attn drops nothing here: with flash attention there is no s² term to drop.
# "layernorm" only acts on a norm that is its own module (TransformerLayer skips an
# IdentityOp): MLA's input norm and a MoE layer's pre-MLP norm; Transformer Engine fuses the
# others into the next linear (TELayerNormColumnParallelLinear). "mlp" checkpoints a dense
# MLP from its input, so its fused norm's output goes too.
RECOMPUTE_DROPS = {
    "layernorm": {"mla_ln_out", "moe_ln_out"},
    "mlp": {"mlp_ln_out", "mlp_fc1_out", "mlp_act_out"},
    "moe": {
        "moe_tokens",
        "moe_fc1_out",
        "moe_act_out",
        "shared_fc1_out",
        "shared_act_out",
        "shared_in_cast",
        "router",
    },
    "moe_act": {"moe_act_out"},
    "shared_experts": {"shared_fc1_out", "shared_act_out", "shared_in_cast"},
    "mla_up_proj": {"mla_up"},
}
# Fine-grained activation offloading (model.offload_modules) → the saved inputs it moves to
# the host: each module's input (Megatron-Core fine_grained_activation_offload.py; the docs
# name attn_norm, core_attn, attn_proj, mlp_norm, expert_fc1, moe_act)
OFFLOAD_DROPS = {
    "attn_norm": {"norm_in"},
    "core_attn": {"attn_q", "attn_kv", "mla_up"},
    "attn_proj": {"attn_out", "attn_gated_out"},
    "mlp_norm": {"mlp_norm_in"},
    "expert_fc1": {"moe_tokens"},
    "moe_act": {"moe_fc1_out"},
    "fused_group_mlp": {"moe_tokens"},
}
# Linear-layer inputs Transformer Engine saves for backward in the low-precision format (a
# MoE layer's norm output is also the router's input, which stays 16-bit)
LOW_PRECISION_INPUTS = {
    "ln_out",
    "mamba_out",
    "gdn_out",
    "mla_ln_out",
    "mlp_ln_out",
    "attn_out",
    "attn_gated_out",
    "mlp_act_out",
    "moe_tokens",
    "moe_act_out",
    "shared_act_out",
}
# Kept only in low precision: a GEMM's own cast of a 16-bit tensor that something else keeps
# too (in bf16 the GEMM saves that same tensor, nothing more)
LOW_PRECISION_ONLY = {"shared_in_cast"}
LOW_PRECISION_ACT_SCALE = {"bf16": 1.0, "fp8": 0.5, "mxfp8": 0.5 + 1 / 64, "nvfp4": 0.25 + 1 / 32}
# Saved twice in low precision: Transformer Engine's attention keeps its 16-bit output for its
# own backward (dO·O), and linear_proj keeps the low-precision cast of the same tensor
KEPT_BOTH = {"attn_out"}
# Bytes per token of the output layer's input (per hidden unit) and of the logits (per
# vocabulary entry) while the loss runs, by cross-entropy implementation:
# - "te": Transformer Engine's parallel_cross_entropy writes the gradient into the bf16
#   logits in place and saves that tensor (cross_entropy_fusion_impl="te");
# - "native": Megatron's fused and unfused vocab-parallel CE cast the bf16 logits to fp32
#   (calculate_logits_max) and save the fp32 softmax, while the caller still holds the bf16
#   logits: 2 + 4 B per entry at the peak;
# - "megatron-lm": theoretical_memory_usage.py's 4·s·b·h·(1 + V/h), fp32 input and logits.
LOGIT_BYTES = {"te": (2.0, 2.0), "native": (2.0, 6.0), "megatron-lm": (4.0, 4.0)}


@dataclass(frozen=True, eq=False)  # identity hashing: one shared object per layer kind
class LayerShape:
    """One kind of decoder layer: parameters by how they shard, activations per token."""

    label: str
    tp_split: int  # parameters split over TP (projections, dense MLP, shared experts)
    kv: int  # GQA K/V projections: split over TP, replicated once TP exceeds the KV heads
    replicated: int  # held whole by every TP rank (norms, router, MLA down-projections)
    routed: int  # routed experts, split over EP×ETP
    acts: tuple[Act, ...]  # what the layer keeps for backward, before TP/SP division
    lora: int  # LoRA adapter parameters at rank 1 (scale by the rank)


@dataclass(frozen=True)
class Shapes:
    """What the memory model needs of a model, computed once per spec."""

    h: int
    vocab: int
    tied: bool
    kv_heads: int
    experts: int
    topk: int
    layers: tuple[LayerShape, ...]
    mtp: LayerShape | None
    mtp_layers: int
    dropout: bool  # hidden dropout on: its 1-byte masks are kept for backward
    labels: frozenset[str] = frozenset()
    vision_params: int = 0  # a VLM's vision encoder (and projector), on the first stage

    @property
    def num_layers(self) -> int:
        return len(self.layers)


def _mixer_shape(spec: ModelSpec, mixer: str) -> tuple[int, int, int, list[Act], int]:
    """(tp_split, kv, replicated params, activations, LoRA rank-1 params) of a mixer."""
    h, a, g, d = spec.hidden_size, spec.num_attention_heads, spec.num_key_value_heads, spec.head_dim
    # the norm's input and output (the projection's input), 2 bytes per element each; MLA's
    # norm is a module of its own (it feeds two down-projections)
    out = "mla_ln_out" if mixer == "mla" else "ln_out"
    acts: list[Act] = [("norm_in", "rep", 2.0 * h), (out, "rep", 2.0 * h)]
    if mixer in ("attention", "swa"):
        q = a * d * (2 if spec.attention_output_gate else 1)
        kv = 2 * h * g * d
        total = params.attention_params(spec)
        # Q, K, V kept for flash attention's backward; its output is linear_proj's input
        if spec.attention_output_gate:
            # the gate (counted with Q) multiplies attention's output into a new tensor
            # (Megatron-Core attention.py _apply_output_gate) that only linear_proj keeps, so
            # attention's own output stays at 16 bit beside it in every precision
            acts += [("attn_q", "split", 2.0 * q), ("attn_core_out", "split", 2.0 * a * d)]
            acts += [("attn_gated_out", "split", 2.0 * a * d)]
        else:
            acts += [("attn_q", "split", 2.0 * q), ("attn_out", "split", 2.0 * a * d)]
        acts += [("attn_kv", "kv", 4.0 * g * d)]
        return total - kv, kv, 0, acts, h + q + 2 * g * d + a * d + h
    if mixer == "mla":
        nope, rope = spec.qk_nope_head_dim or 0, spec.qk_rope_head_dim or 0
        v, r_kv, r_q = spec.v_head_dim or nope, spec.kv_lora_rank or 0, spec.q_lora_rank or 0
        # down-projections and latent norms: TE builds them as duplicated (replicated) linears
        down = (h * r_q + r_q if r_q else 0) + h * (r_kv + rope) + r_kv
        total = params.mla_params(spec)
        acts += [
            ("mla_latent", "rep", 4.0 * (r_q + r_kv + rope)),
            # up-projected Q, K (nope + rope) and V
            ("mla_up", "split", 2.0 * (2 * a * (nope + rope) + a * v)),
            ("attn_out", "split", 2.0 * a * v),
        ]
        lora = (h + r_q + r_kv + rope) + (r_q or h) + r_kv + a * (2 * nope + rope + v) + a * v + h
        return total - down, 0, down, acts, lora
    if mixer == "mamba":
        heads, hd = spec.mamba_num_heads or 0, spec.mamba_head_dim or 0
        groups, state = spec.mamba_num_groups or 1, spec.mamba_state_dim or 0
        inner = heads * hd
        width = 2 * inner + 2 * groups * state + heads
        # Megatron's memory-efficient path (mamba_split_conv1d_scan_combined, use_mem_eff_path)
        # keeps in_proj's output and the ungated scan output and recomputes the convolution
        # in backward; the gated output is the norm's input, the norm's output out_proj's
        acts += [("mamba", "split", 2.0 * width + 4.0 * inner), ("mamba_out", "split", 2.0 * inner)]
        return params.mamba_params(spec), 0, 0, acts, h + width + inner + h
    if mixer == "gdn":
        la = spec.linear_attention or {}
        nk, nv = la.get("linear_num_key_heads", 16), la.get("linear_num_value_heads", 32)
        dk = la.get("linear_key_head_dim", 128)
        qk, vv = nk * dk, nv * la.get("linear_value_head_dim", 128)
        # Megatron-Core's GatedDeltaNet copies q, k, v, the gate, beta and alpha out of
        # in_proj's output, so that output is freed: what stays is the convolution's input
        # (causal_conv1d saves x and recomputes its output), the l2-normed q and k (fla's
        # l2norm saves its output), their copies repeated to the value heads when there are
        # more of them, and what fla's chunk_gated_delta_rule saves: q, k, v, beta, the
        # fp32 cumulative decay and the 64-wide intra-chunk matrix A per head at 16 bit; it
        # recomputes the chunk states in backward. The gated norm keeps the core output (the
        # RMSNorm's input), its output and the gate at 16 bit (torch.compile's graph around
        # the TE norm saves its inputs; eager PyTorch would keep the gate's fp32 SiLU too).
        # Per head, in fp32: the decay's softplus input and output, the cumulative decay,
        # l2norm's rstd for q and k; beta at 16 bit.
        repeated = nv * dk if nv > nk else 0
        core = 2.0 * (2 * qk + vv) + 2.0 * 2 * qk + 2.0 * 2 * repeated + 2.0 * vv
        core += 2.0 * 64 * nv + 6.0 * vv + 14.0 * nv + 8.0 * nk
        acts += [("gdn", "split", core), ("gdn_out", "split", 2.0 * vv)]
        return params.gdn_params(spec), 0, 0, acts, h + 2 * qk + 2 * vv + vv + h
    return 0, 0, 0, [], 0


def _layer_shape(spec: ModelSpec, kind: LayerKind) -> LayerShape:
    h = spec.hidden_size
    gated = is_gated(spec)
    fc1 = 2 if gated else 1  # fc1 is 2f wide when gated
    tp_split, kv, replicated, acts, lora = _mixer_shape(spec, kind.mixer)
    routed = 0
    if kind.mlp != "none":
        out = "moe_ln_out" if kind.mlp == "moe" else "mlp_ln_out"
        acts += [("mlp_norm_in", "rep", 2.0 * h), (out, "rep", 2.0 * h)]
    if kind.mlp == "dense":
        f = spec.intermediate_size or 0
        tp_split += params.mlp_params(h, f, gated)
        acts += [("mlp_fc1_out", "split", 2.0 * fc1 * f), ("mlp_act_out", "split", 2.0 * f)]
        lora += h + fc1 * f + f + h
    elif kind.mlp == "moe":
        routed_p, _, shared_p, router = params.moe_params(spec)
        f_e, f_sh = spec.moe_intermediate_size or 0, spec.shared_expert_intermediate_size or 0
        k, width = spec.num_experts_per_tok or 1, spec.moe_latent_size or h
        latent = 2 * h * spec.moe_latent_size if spec.moe_latent_size else 0
        routed = routed_p - latent
        tp_split += shared_p
        replicated += router + latent
        # router logits and probabilities (fp32); k routed copies of each token and the
        # expert MLP widths (balanced routing); the shared expert like a dense MLP
        acts += [
            ("router", "rep", 8.0 * (spec.num_experts or 0)),
            ("moe_tokens", "split", k * 2.0 * width + (4.0 * width if latent else 0)),
            ("moe_fc1_out", "split", k * 2.0 * fc1 * f_e),
            ("moe_act_out", "split", k * 2.0 * f_e),
            ("shared_fc1_out", "split", 2.0 * fc1 * f_sh),
            ("shared_act_out", "split", 2.0 * f_sh),
        ]
        if f_sh:
            # the shared expert's linear_fc1 (a plain TE linear: the norm is its own module)
            # saves its own low-precision cast of the norm output, which the router keeps at
            # 16 bit (RouterGatingLinearFunction saves its input as given)
            acts.append(("shared_in_cast", "rep", 2.0 * h))
        # one LoRA adapter shared by the local experts of a grouped linear
        lora += width + fc1 * f_e + f_e + width
    norm_count = 1 if spec.hybrid_layer_pattern else 2
    replicated += norm_count * h
    if float(spec.extra.get("hidden_dropout") or 0) > 0:
        masks = int(kind.mixer != "none") + int(kind.mlp != "none")
        acts.append(("mask", "rep", 1.0 * h * masks))
    return LayerShape(kind.label, tp_split, kv, replicated, routed, tuple(acts), lora)


def model_shapes(spec: ModelSpec) -> Shapes:
    """The per-layer shapes the memory model needs, from a ModelSpec (via catalog counts)."""
    kinds = layer_kinds(spec)
    cache: dict[LayerKind, LayerShape] = {}
    for k in kinds:
        if k not in cache:
            cache[k] = _layer_shape(spec, k)
    layers = tuple(cache[k] for k in kinds)
    mtp = int(spec.mtp_num_layers or 0)
    mtp_shape = None
    if mtp and layers:
        last = layers[-1]
        h = spec.hidden_size
        # an MTP block: a copy of the last layer plus the eh-projection (2h → h) and two norms
        mtp_shape = LayerShape(
            last.label + "+mtp",
            last.tp_split + 2 * h * h,
            last.kv,
            last.replicated + 2 * h,
            last.routed,
            last.acts + (("norm_in", "rep", 4.0 * h),),
            last.lora,
        )
    return Shapes(
        h=spec.hidden_size,
        vocab=spec.vocab_size,
        tied=spec.tie_word_embeddings,
        kv_heads=spec.num_attention_heads if spec.is_mla else spec.num_key_value_heads,
        experts=spec.num_experts or 0,
        topk=spec.num_experts_per_tok or 0,
        layers=layers,
        mtp=mtp_shape,
        mtp_layers=mtp,
        # Bridge's Llama/Qwen/DeepSeek providers set hidden_dropout=0 (no masks kept);
        # a spec says otherwise through extra["hidden_dropout"]
        dropout=float(spec.extra.get("hidden_dropout") or 0) > 0,
        labels=frozenset(k.label for k in kinds),
        vision_params=int((spec.extra.get("vision_encoder") or {}).get("params_computed") or 0),
    )


# --- parameters per GPU -------------------------------------------------------------------


@dataclass(frozen=True)
class StageParams:
    """Parameters one GPU of a stage holds: dense (sharded by DP×CP) and expert (by EDP)."""

    dense: float
    expert: float
    linear: float  # the part in linear layers (what FP8 casts and LoRA adapts)
    lora: float  # adapter parameters (PEFT), trainable
    vision: float = 0.0  # the part of `dense` in a VLM's vision encoder and projector


def _kv_factor(shapes: Shapes, tp: int) -> float:
    return max(shapes.kv_heads, tp) / shapes.kv_heads


def _layer_params(shapes: Shapes, layout: Layout, layer: LayerShape) -> tuple[float, float, float]:
    """(dense, expert, replicated) parameters of one layer on one GPU."""
    t = layout.tp
    dense = (layer.tp_split + layer.kv * _kv_factor(shapes, t)) / t + layer.replicated
    return dense, layer.routed / (layout.ep * layout.etp), layer.replicated


# The layout search asks for the same stages' members tens of thousands of times when it
# looks for the smallest GPU count that fits; kept per shapes object, as token_work is.
_MEMBERS: dict[tuple[int, tuple[int, ...], int], tuple[Shapes, Counter[LayerShape]]] = {}


def _members(shapes: Shapes, stage: Stage) -> Counter[LayerShape]:
    """How many layers of each kind the stage holds (MTP blocks included); not to mutate."""
    key = (id(shapes), stage.layers, stage.mtp_layers)
    hit = _MEMBERS.get(key)
    if hit is not None and hit[0] is shapes:
        return hit[1]
    members = Counter(shapes.layers[i] for i in stage.layers)
    if stage.mtp_layers and shapes.mtp is not None:
        members[shapes.mtp] += stage.mtp_layers
    if len(_MEMBERS) >= 4096:
        _MEMBERS.clear()
    _MEMBERS[key] = (shapes, members)
    return members


def stage_params(
    shapes: Shapes, layout: Layout, stage: Stage, *, lora_rank: int | None = None
) -> StageParams:
    """Parameters on one GPU of `stage`, split dense/expert, plus adapters for PEFT."""
    dense = expert = replicated = lora = 0.0
    for layer, count in _members(shapes, stage).items():
        d, e, r = _layer_params(shapes, layout, layer)
        dense += count * d
        expert += count * e
        replicated += count * r
        lora += count * (lora_rank or 0) * layer.lora / layout.tp
    embedding = shapes.vocab * shapes.h / layout.tp
    if stage.has_embedding:
        dense += embedding + shapes.vision_params / layout.tp
    if stage.has_output:
        dense += shapes.h  # final norm
        # untied: an output layer; tied with PP > 1: a synchronised copy on the last stage
        if not shapes.tied or layout.pp > 1:
            dense += embedding
    vision = shapes.vision_params / layout.tp if stage.has_embedding else 0.0
    return StageParams(
        dense=dense, expert=expert, linear=dense + expert - replicated, lora=lora, vision=vision
    )


# --- activations --------------------------------------------------------------------------


def layer_activation_bytes_per_token(
    shapes: Shapes,
    layout: Layout,
    layer: LayerShape,
    precision: str = "bf16",
    offload_modules: tuple[str, ...] = (),
) -> float:
    """Bytes one decoder layer keeps per token for backward, on one GPU.

    Korthikanti's 34·h per token (16-bit, MHA, f = 4h, with dropout) generalised: norm
    inputs and outputs 8h; attention Q, K, V and output 4·q + 4·kv (flash attention: no
    s² term); MLP fc1 output and activation 4f, or 6f when gated (fc1 is 2f wide); MoE:
    k routed copies of each token and the expert widths; 1-byte dropout masks when hidden
    dropout is on. Selective recompute drops what its modules recompute; low-precision
    training keeps the linear layers' saved inputs in that format (the attention output
    also at 16 bit, which attention's own backward needs). Without SP the "rep" part
    stays whole on every TP rank. These are the tensors Transformer Engine's layers save
    (fused norm + linear: norm input and output; flash/fused attention: Q, K, V, output
    and fp32 softmax statistics, which are small and left out; SwiGLU: fc1 output; fc2:
    the activation output), which for a GPT layer is Korthikanti's 34·h less the masks.
    """
    t = layout.tp
    dropped: set[str] = set()
    if layout.recompute == "selective":
        # None is Megatron's default (core_attn); an empty list recomputes nothing
        for module in layout.recompute_modules or ():
            dropped |= RECOMPUTE_DROPS.get(module, set())
    for module in offload_modules:
        dropped |= OFFLOAD_DROPS.get(module, set())
    scale = LOW_PRECISION_ACT_SCALE.get(precision, 1.0)
    rep = split = 0.0
    for name, where, size in layer.acts:
        if name in dropped:
            continue
        if name in LOW_PRECISION_ONLY:
            if scale == 1.0:
                continue
            size *= scale
        elif name in LOW_PRECISION_INPUTS and scale != 1.0:
            size *= scale + (1.0 if name in KEPT_BOTH else 0.0)
        if where == "rep":
            rep += size
        elif where == "kv":
            split += size * _kv_factor(shapes, t)
        else:
            split += size
    if layout.sp and t > 1:
        return (rep + split) / t
    return rep + split / t


def _stored_chunks(
    layout: Layout, rank: int, microbatches: int, ep_overlap: bool = False, group: int | None = None
) -> int:
    """Virtual-chunk activations rank `rank` holds at its peak (schedules.py warm-up + 1).

    With the EP all-to-all overlap (overlap_moe_expert_parallel_comm) the interleaved
    schedule runs one more warm-up forward (get_pp_rank_microbatches). Its steady state, and
    the combined 1F1B schedule without PP, overlap one microbatch's forward with another's
    backward layer by layer, so what the backward frees the forward takes: no more held.
    `group` is microbatch_group_size_per_vp_stage (Megatron's default: PP).
    """
    p, v = layout.pp, layout.vp or 1
    if p == 1:
        return 1
    if v == 1:
        return min(p - rank, microbatches)
    warmup = 2 * (p - rank - 1) + (v - 1) * (group or p) + int(ep_overlap)
    return min(warmup + 1, microbatches * v)


def stage_activation_bytes(
    shapes: Shapes,
    layout: Layout,
    stage: Stage,
    *,
    seq_len: int,
    microbatches: int,
    precision: str = "bf16",
    offloaded_layers: int = 0,
    cross_entropy: str = "native",
    offload_modules: tuple[str, ...] = (),
    ep_overlap: bool = False,
    vp_group: int | None = None,
) -> tuple[float, float]:
    """(stored activations, transient recompute/logits peak) in bytes on one GPU of `stage`.

    `cross_entropy` ("te", "native" or "megatron-lm") sets the loss's bytes (LOGIT_BYTES);
    "megatron-lm" reproduces theoretical_memory_usage.py's fp32 term.
    """
    if not stage.layers and not stage.mtp_layers:
        return 0.0, 0.0
    tokens = seq_len * layout.mbs / layout.cp
    sp_div = layout.tp if (layout.sp and layout.tp > 1) else 1
    chunks = _stored_chunks(layout, stage.rank, microbatches, ep_overlap, vp_group)
    v = len(stage.chunk_sizes) or 1
    # layer-microbatches held: `chunks` chunk-activations of (layers / v) layers each
    members = _members(shapes, stage)
    layers_here = sum(members.values())
    mean_layer = (
        sum(
            n * layer_activation_bytes_per_token(shapes, layout, x, precision, offload_modules)
            for x, n in members.items()
        )
        / layers_here
    )
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
    if offloaded_layers:
        # activation CPU offloading keeps only the layers it does not offload
        stored *= max(layers_here / v - offloaded_layers, 0) / (layers_here / v)
    if stage.has_embedding:
        # token ids (int64) and the embedding-dropout mask (sequence-sharded with SP), per
        # in-flight microbatch
        stored += (chunks / v) * tokens * (8 + (shapes.h / sp_div if shapes.dropout else 0))
    if stage.has_output:
        # the output layer's input and the logits over the local vocabulary while the loss runs
        per_h, per_v = LOGIT_BYTES[cross_entropy]
        transient += tokens * (per_h * shapes.h + per_v * shapes.vocab) / layout.tp
    if shapes.experts and layout.ep > 1:
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


@dataclass(frozen=True)
class Knobs:
    """Settings beyond the layout that change memory, named after Megatron-Bridge's config."""

    # main-grad buffer: fp32 with ddp.grad_reduce_in_fp32, else the param dtype (bf16)
    grad_bytes: float = 4.0
    # fp32 master weights + Adam m, v; the precision-aware optimizer can store them smaller
    optimizer_bytes: float = 12.0
    # fp8/fp4 param gather: weights kept only in the low-precision format (no bf16 copy)
    low_precision_params: bool = False
    # model.cpu_offloading_num_layers: activations of that many layers per chunk on the CPU
    offloaded_layers: int = 0
    # model.cross_entropy_fusion_impl when cross_entropy_loss_fusion is on ("te"), else
    # "native" (Megatron's default); see LOGIT_BYTES
    cross_entropy: str = "native"
    # optimizer.optimizer: "adam", or Muon ("muon"; "dist_muon" shards it layer-wise over DP)
    optimizer: str = "adam"
    # model.freeze_language_model / freeze_vision_model: "language", "vision"
    frozen: tuple[str, ...] = ()
    # model.offload_modules with fine_grained_activation_offloading: inputs kept on the host
    offload_modules: tuple[str, ...] = ()
    # comm_overlap.overlap_moe_expert_parallel_comm: one more microbatch in flight
    ep_overlap: bool = False
    # model.microbatch_group_size_per_vp_stage (None: PP), which sets the interleaved warm-up
    vp_group: int | None = None
    # The other communication overlaps, for the throughput model only. Without a recipe, what
    # Bridge's performance recipes enable; a recipe's own values otherwise.
    tp_comm_overlap: bool = True
    overlap_grad_reduce: bool = True
    overlap_param_gather: bool = True

    def overlap(self) -> dict[str, bool]:
        """The overlap switches of `estimate_throughput`."""
        return {switch: getattr(self, knob) for knob, switch in OVERLAP_KNOBS.items()}

    def speed_settings(self) -> dict[str, Any]:
        """What `estimate_throughput` takes from the recipe beyond the layout: its overlaps
        and the dtype its gradients are reduced in (bf16 in the performance recipes)."""
        return {"overlap": self.overlap(), "grad_bytes": self.grad_bytes}


# Knobs field -> estimate_throughput's overlap switch
OVERLAP_KNOBS = {
    "tp_comm_overlap": "tp_comm_overlap",
    "ep_overlap": "ep_comm_overlap",
    "overlap_grad_reduce": "overlap_grad_reduce",
    "overlap_param_gather": "overlap_param_gather",
}
DEFAULT_KNOBS = Knobs()
MUON_OPTIMIZERS = ("muon", "dist_muon")
MUON_BYTES = 8.0  # fp32 main weight + fp32 momentum (megatron/core/optimizer/muon.py)


def _trainable(params: StageParams, frozen: tuple[str, ...]) -> StageParams:
    """The parameters that get gradients and optimizer state (model.freeze_* switches)."""
    vision = 0.0 if "vision" in frozen else params.vision
    if "language" not in frozen:
        return replace(params, dense=params.dense - params.vision + vision)
    # a frozen language model: only the vision side (whose weights are replicated linears
    # in the estimate's accounting) still trains
    return StageParams(dense=vision, expert=0.0, linear=vision, lora=params.lora, vision=vision)


def _state_bytes(
    params: StageParams,
    layout: Layout,
    *,
    mode: str,
    precision: str,
    dp: int,
    edp: int,
    layers: int,
    knobs: Knobs = DEFAULT_KNOBS,
    gpu: GPUSpec | None = None,
) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes for the parameters on one GPU (`gpu` decides
    how many low-precision weight copies Transformer Engine keeps; None: two)."""
    total = params.dense + params.expert
    cast = low_precision_weight_bytes(precision, gpu)
    if knobs.low_precision_params and cast:
        # fp8/fp4 param gather: the weights live only in their low-precision copies
        weight_bytes = cast * params.linear + 2.0 * (total - params.linear)
    else:
        weight_bytes = 2.0 * total + cast * params.linear
    grad, optim = knobs.grad_bytes, knobs.optimizer_bytes
    dense_shard = dp * layout.cp
    if mode == "peft":
        shard = dense_shard if layout.use_distributed_optimizer else 1
        return weight_bytes + 2.0 * params.lora, grad * params.lora, optim * params.lora / shard
    # frozen parameters have no main grad (DDP leaves them out of its buffers) and no
    # optimizer state
    train = _trainable(params, knobs.frozen) if knobs.frozen else params
    trained = train.dense + train.expert
    if knobs.optimizer in MUON_OPTIMIZERS:
        # Megatron's Muon: fp32 main weights + one momentum buffer for the linear weights,
        # Adam (main weights + m, v) for the rest; "dist_muon" (LayerWiseDistributedOptimizer)
        # gives each DP rank whole parameters' state, ≈ 1/DP of it (experts over expert-DP)
        optim = (MUON_BYTES * train.linear + optim * (trained - train.linear)) / max(trained, 1)
        if knobs.optimizer != "dist_muon":
            return weight_bytes, grad * trained, optim * trained
        return (
            weight_bytes,
            grad * trained,
            optim * (train.dense / dense_shard + train.expert / edp),
        )
    if layout.use_megatron_fsdp:
        # ZeRO-3: weights, grads and optimizer all sharded
        sharded = params.dense / dense_shard + params.expert / edp
        trained_sharded = train.dense / dense_shard + train.expert / edp
        # the layer being computed and the one prefetched are gathered unsharded
        gathered = 2 * weight_bytes / max(layers, 1)
        return (
            weight_bytes * sharded / total + gathered,
            grad * trained_sharded,
            optim * trained_sharded,
        )
    if layout.use_distributed_optimizer:
        optimizer = optim * (train.dense / dense_shard + train.expert / edp)
    else:
        optimizer = optim * trained
    return weight_bytes, grad * trained, optimizer


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
    knobs: Knobs = DEFAULT_KNOBS,
    gpu: GPUSpec | None = None,
) -> list[StageMemory]:
    """Bytes per GPU on every pipeline stage (index = PP rank)."""
    shapes = shapes or model_shapes(spec)
    world = world_size or layout.world_size
    dp = world // (layout.tp * layout.pp * layout.cp)
    edp = max(world // (layout.etp * layout.ep * layout.pp), 1)
    microbatches = max(layout.gbs // (layout.mbs * dp), 1)
    stages = stage_split(shapes.num_layers, layout, shapes.mtp_layers)[0]
    out = []
    for stage in stages:
        params = stage_params(
            shapes, layout, stage, lora_rank=lora_rank if mode == "peft" else None
        )
        weights, grads, optim = _state_bytes(
            params, layout, mode=mode, precision=precision, dp=dp, edp=edp,
            layers=len(stage.layers), knobs=knobs, gpu=gpu,
        )  # fmt: skip
        stored, transient = stage_activation_bytes(
            shapes, layout, stage, seq_len=seq_len, microbatches=microbatches,
            precision=precision, offloaded_layers=knobs.offloaded_layers,
            cross_entropy=knobs.cross_entropy, offload_modules=knobs.offload_modules,
            ep_overlap=knobs.ep_overlap and layout.ep > 1, vp_group=knobs.vp_group,
        )  # fmt: skip
        tensors = weights + grads + optim + stored + transient
        other = RUNTIME_RESERVE_GIB * GIB + FRAGMENTATION * tensors + transient
        out.append(StageMemory(stage.rank, weights, grads, optim, stored, other))
    return out


def assumptions(
    spec: ModelSpec,
    layout: Layout,
    *,
    mode: str,
    precision: str,
    lora_rank: int,
    gpu: GPUSpec | None = None,
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
        "activations: what Transformer Engine's layers save (Korthikanti et al. 2022 without "
        "dropout masks; flash attention, no s² term), GQA and gated-MLP widths, 16-bit; the "
        "peak in-flight microbatches of the pipeline schedule",
        "other: usable memory already excludes the CUDA context; "
        f"{RUNTIME_RESERVE_GIB:g} GiB for NCCL buffers and cuBLAS/TE workspaces, "
        f"{FRAGMENTATION:.0%} allocator fragmentation, recompute buffers and the logits while "
        "the loss runs (bf16 logits + fp32 softmax; bf16 only with TE's fused cross entropy)",
        "the stage that holds the most is reported",
    ]
    if mode in ("sft", "peft"):
        # Bridge's fine-tuning datasets pad a batch to its longest sample unless packing or
        # pad_to_max_length fills it: the peak is the data's, at most this
        notes.append(
            "fine-tuning: every sample sized at the full sequence length (packed, or padded to "
            "it); without packing a batch is padded to its longest sample, so data shorter "
            "than the sequence length needs less activation and logit memory"
        )
    assumed = stage_split(decoder_layer_count(spec), layout, int(spec.mtp_num_layers or 0))[1]
    if assumed:
        notes.append(
            f"the {decoder_layer_count(spec)} layers do not split evenly over PP×VP = "
            f"{layout.pp}×{layout.vp or 1}: sized with {assumed} (set it, or "
            "num_layers_in_first/last_pipeline_stage)"
        )
    if spec.is_moe:
        notes.append(
            "MoE: balanced routing (no token dropping); dispatcher send/receive buffers for one "
            "layer; routing imbalance raises the real peak"
        )
    if spec.is_mla:
        notes.append("MLA: down-projections replicated over TP; latent activations kept per layer")
    if layout.recompute == "selective" and layout.recompute_modules == []:
        notes.append("selective recompute with no modules: nothing is recomputed")
    elif layout.recompute == "selective":
        modules = layout.recompute_modules or ["core_attn"]
        why = (
            " (core_attn saves little with flash attention, which has no s² term)"
            if "core_attn" in modules
            else ""
        )
        notes.append(
            f"selective recompute of {', '.join(modules)}: their outputs are not kept{why}"
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
            f"(+{low_precision_weight_bytes(precision, gpu):.2f} B per linear param); the linear "
            "layers' saved inputs are kept in that format, other activations at 16 bit"
        )
    if (spec.extra.get("vision_encoder") or {}).get("params_computed"):
        notes.append(
            "vision encoder: its parameters on the first stage, trained like the rest; its "
            "activations are not counted"
        )
    if not spec.supported:
        notes.append(f"approximate: {spec.unsupported_reason}")
    if spec.hybrid_layer_pattern:
        notes.append(
            "Mamba / linear-attention layers: in_proj, conv and scan outputs kept (approximate)"
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
    knobs: Knobs = DEFAULT_KNOBS,
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
        knobs=knobs,
        gpu=gpu,
    )
    return summarize(
        stages, spec, layout, gpu, mode=mode, precision=precision, lora_rank=lora_rank,
        peft_scheme=peft_scheme, knobs=knobs,
    )  # fmt: skip


def summarize(
    stages: list[StageMemory],
    spec: ModelSpec,
    layout: Layout,
    gpu: GPUSpec,
    *,
    mode: str,
    precision: str,
    lora_rank: int = 32,
    peft_scheme: str = "lora",
    knobs: Knobs = DEFAULT_KNOBS,
) -> Memory:
    """The Memory answer (GiB, most loaded stage, assumptions) from per-stage bytes."""
    worst = max(stages, key=lambda s: s.total)
    notes = assumptions(spec, layout, mode=mode, precision=precision, lora_rank=lora_rank, gpu=gpu)
    if knobs != DEFAULT_KNOBS:
        notes.append(
            f"recipe settings: main grads {knobs.grad_bytes:g} B/param, optimizer state "
            f"{knobs.optimizer_bytes:g} B/param"
            + (", weights kept only in low precision" if knobs.low_precision_params else "")
            + (
                f", {knobs.optimizer} (fp32 main weights + momentum for linear weights)"
                if knobs.optimizer in MUON_OPTIMIZERS
                else ""
            )
            + (
                f", activations of {knobs.offloaded_layers} layer(s) offloaded to CPU"
                if knobs.offloaded_layers
                else ""
            )
            + (
                f", inputs of {', '.join(knobs.offload_modules)} offloaded to CPU"
                if knobs.offload_modules
                else ""
            )
            + (f", frozen: {', '.join(knobs.frozen)}" if knobs.frozen else "")
        )
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
