"""Step time, tokens/s/GPU, model TFLOP/s/GPU and MFU for one layout.

The model, per pipeline stage and microbatch (forward + backward):

- compute: dense GEMMs at the precision's peak x an efficiency that falls as the GEMMs the
  layout produces shrink (hidden/TP, expert FFN/ETP, tokens per microbatch, tokens per
  expert); core attention at the bf16 peak (flash attention is bf16 in FP8 runs too), less
  efficient for short windows, plus its softmax exponentials at the GPU's special-function
  rate (the tensor cores wait for them; narrow heads pay most); element-wise work as HBM
  traffic; a host cost per layer (launches, MoE token-count syncs) that sets the pace only
  when it exceeds the layer's GPU time (the host otherwise runs ahead); logits on the last
  stage; recompute re-runs the forward of what it checkpoints (full: whole layers, all or
  the block method's first N of each model chunk, their collectives included; selective:
  each of Megatron-Core's recompute_modules on its own); PEFT skips base weight-grads (and
  counts its model FLOPs without them, as Bridge does for LoRA).
- exposed communication: TP/SP all-gather + reduce-scatter, CP by its type (the ring's K/V
  exchange hidden behind attention where it can be, all-to-all and all-gather exposed), EP
  all-to-all (NVLink inside the domain, the network beyond it; overlapped only where the
  recipe turns it on and Megatron-Core can run it), PP point-to-point. Each is bytes /
  achieved bandwidth x an exposed fraction.
- the step: (M + (PP-1)/VP) x the slowest stage's microbatch (the bubble), plus the DP
  gradient reduce-scatter / parameter all-gather not hidden behind the last microbatch,
  plus the optimizer step.

Every fitted number is in data/throughput_params.json (see throughput_params.py), fitted by
benchmarks/calibrate.py on Megatron-Bridge's published measurements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError
from autorecipe.estimate.throughput_params import PEAK_SCALE_OF, ThroughputParams, default_params
from autorecipe.estimate.work import token_work
from autorecipe.layout.schema import Layout
from autorecipe.result import Throughput

# Training precision -> the tensor-core peak it runs its GEMMs at.
PEAK_KEY = {"bf16": "bf16", "fp8": "fp8", "mxfp8": "fp8", "nvfp4": "fp4"}
MODES = ("pretrain", "sft", "peft")
# What Megatron-Bridge's performance recipes enable; a recipe that turns one off passes False.
# The EP all-to-all overlap (comm_overlap.overlap_moe_expert_parallel_comm) is off unless a
# recipe turns it on: Megatron-Core's default, and about half the 0.6.2 MoE presets keep it.
DEFAULT_OVERLAP = {
    "tp_comm_overlap": True,
    "ep_comm_overlap": False,
    "overlap_grad_reduce": True,
    "overlap_param_gather": True,
}
BF16_BYTES = 2.0
# HBM bandwidth (TB/s) assumed for a GPU that publishes none (an A100-class figure); said in
# the estimate's assumptions whenever it is used.
ASSUMED_HBM_TB_S = 2.0
# A GPU described by hand may omit its links; NVLink 4 (H100-class) is then assumed and said.
ASSUMED_NVLINK_GB_S = 900.0
ASSUMED_NETWORK_GBPS = 400.0  # NDR InfiniBand, one NIC per GPU
ASSUMED_FLOPS_PER_EXP = 256.0  # Hopper's tensor-core : exponential-unit ratio


def precision_unsupported(gpu: GPUSpec, precision: str) -> str | None:
    """Why `gpu`'s tensor cores cannot run `precision`, or None if they can or we cannot tell.

    Judged on the catalog's `arch` only, and only for architectures known to lack the format
    (a GPU without an arch, e.g. a custom one, or a newer one, is left to its peaks):
    - fp8: FP8 tensor cores start with Ada (sm_89) and Hopper (sm_90); Transformer Engine's
      check_fp8_support requires compute capability 8.9+, so Ampere (A100) raises.
    - mxfp8, nvfp4: block-scaled MXFP8 / NVFP4 GEMMs first appeared in Blackwell (SM 10.0; TE
      docs, features/low_precision_training/mxfp8); TE's check_mxfp8_support and
      check_nvfp4_support require compute capability 10.0+, asserted when the
      MXFP8BlockScaling / NVFP4BlockScaling autocast is entered, so H100/H200 raise. Rubin
      runs them all (its peaks are not published yet: peak_flops says so).

    >>> from autorecipe.catalog.gpus import resolve_gpu
    >>> precision_unsupported(resolve_gpu("h100"), "fp8") is None
    True
    >>> precision_unsupported(resolve_gpu("h100"), "mxfp8").split(":")[0]
    'H100-SXM (Hopper) has no MXFP8 tensor cores'
    """
    pre_fp8 = {"Volta", "Turing", "Ampere"}
    if precision == "fp8":
        lacking, runs = pre_fp8, "compute capability 8.9 (Ada, Hopper) and later"
    elif precision in ("mxfp8", "nvfp4"):
        lacking = pre_fp8 | {"Ada", "Ada Lovelace", "Hopper"}
        runs = "Blackwell (compute capability 10.0) and later"
    else:
        return None
    if gpu.arch not in lacking:
        return None
    fmt = precision.upper()
    return (
        f"{gpu.key} ({gpu.arch}) has no {fmt} tensor cores: Transformer Engine runs {fmt} on {runs}"
    )


def peak_flops(gpu: GPUSpec, precision: str) -> float:
    """Dense FLOP/s `gpu` runs `precision` GEMMs at; UserError where it cannot run them
    (A100 and FP8, H100 and MXFP8/NVFP4: no such tensor cores, see precision_unsupported) or
    the catalog has no peak (Rubin: not published yet; a custom GPU given none)."""
    if precision not in PEAK_KEY:
        raise UserError(f"unknown precision {precision!r}; use one of: {', '.join(PEAK_KEY)}")
    lacks = precision_unsupported(gpu, precision)
    if lacks:
        runs = [p for p in ("fp8",) if p != precision and not precision_unsupported(gpu, p)]
        use = " or ".join([*(f"{p} (current scaling)" for p in runs), "bf16"])
        raise UserError(f"{lacks}; use {use}, or another GPU")
    tflops = gpu.peak_tflops.get(PEAK_KEY[precision])
    if not tflops:
        other = "bf16" if precision != "bf16" and gpu.peak_tflops.get("bf16") else None
        raise UserError(
            f"{gpu.key} has no published dense {PEAK_KEY[precision]} peak, so {precision} cannot be "
            f"estimated on it; use "
            + (f"a precision it supports ({other}) or another GPU" if other else "another GPU")
        )
    return tflops * 1e12


class _Links:
    """Achieved per-GPU bandwidths (bytes/s, one direction) and the NVLink domain size."""

    def __init__(self, gpu: GPUSpec, p: ThroughputParams) -> None:
        self.domain = gpu.nvlink_domain_size
        self.assumptions: list[str] = []
        nvlink = gpu.nvlink_gb_s_per_gpu_bidirectional
        if not nvlink:
            nvlink = ASSUMED_NVLINK_GB_S
            self.assumptions.append(
                f"{gpu.key} has no published NVLink bandwidth: collectives inside its "
                f"{gpu.nvlink_domain_size}-GPU domain assume {ASSUMED_NVLINK_GB_S:g} GB/s per GPU "
                "(give nvlink= for this GPU to replace it)"
            )
        self.nvlink = nvlink / 2 * 1e9 * p.nvlink_bw_eff
        net = gpu.internode_network_per_gpu_gbps
        # Said only if some traffic really leaves the NVLink domain (see `_network`).
        self._network_note = (
            None
            if net
            else f"{gpu.key} has no published inter-node network bandwidth: traffic between "
            f"nodes assumes {ASSUMED_NETWORK_GBPS:g} Gb/s per GPU (give net= to replace it)"
        )
        self.network = (net or ASSUMED_NETWORK_GBPS) / 8 * 1e9 * p.network_bw_eff
        self.key = gpu.key

    def _network(self) -> float:
        if self._network_note and self._network_note not in self.assumptions:
            self.assumptions.append(self._network_note)
        return self.network

    def group(self, size: int, stride: int) -> float:
        """Bandwidth of a ring collective over `size` ranks placed `stride` apart.

        Across domains NCCL spreads the rings over every NIC of the domain, so the ring runs at
        the network bandwidth times the group's ranks per domain, up to NVLink's.
        """
        if size * stride <= self.domain:
            return self.nvlink
        local = max(1, self.domain // stride)
        return min(self.nvlink, local * self._network())

    def all_to_all_time(self, sent_bytes: float, size: int, stride: int) -> float:
        """Time for each rank to scatter `sent_bytes` evenly over the other ranks of the group;
        what leaves the NVLink domain goes through the rank's own NIC."""
        if size <= 1:
            return 0.0
        local = min(size, max(1, self.domain // stride))
        intra = sent_bytes * (local - 1) / (size - 1)
        inter = sent_bytes - intra
        t_inter = inter / self._network() if inter > 0 else 0.0
        return max(intra / self.nvlink, t_inter)


def _cp_time(
    spec: ModelSpec, layout: Layout, links: _Links, p: ThroughputParams, n_tok: float, t_attn: float
) -> float:
    """Exposed context-parallel communication per layer, forward + backward, by Transformer
    Engine's cp_comm_type (None: p2p, Megatron's default). `n_tok` counts only the tokens that
    attention layers see (hybrid models have fewer attention layers than layers)."""
    tp, cp = layout.tp, layout.cp
    kind = (layout.cp_comm_type or "p2p").replace("allgather", "all_gather")
    heads, kv_heads = spec.num_attention_heads, spec.num_key_value_heads
    if spec.is_mla:
        qk = (spec.qk_nope_head_dim or 0) + (spec.qk_rope_head_dim or 0)
        q_width = heads * qk
        kv_width = heads * (qk + (spec.v_head_dim or 0))
        o_width = heads * (spec.v_head_dim or 0)
    else:
        q_width = o_width = heads * spec.head_dim
        kv_width = 2 * kv_heads * spec.head_dim
    local_kv = n_tok * kv_width * BF16_BYTES / tp  # this rank's K and V

    def all_to_all(size: int) -> float:
        # Ulysses: Q, K, V scattered by heads before attention and O gathered back after,
        # then the same for their gradients; nothing to hide them behind.
        per_pass = n_tok * (q_width + o_width) * BF16_BYTES / tp + local_kv
        return 2 * links.all_to_all_time(per_pass * (size - 1) / size, size, tp)

    def ring(size: int, stride: int) -> float:
        # each K/V exchange hides behind the previous chunk's attention, except the first
        # one; what attention cannot cover stays exposed as well
        t_ring = 3 * (size - 1) * local_kv / links.group(size, stride)
        t_step = t_ring / (size - 1)
        exposed = p.cp_exposed * t_step + max(0.0, t_ring - t_step - t_attn)
        # forward and backward each walk the ring: never faster than its steps' latency
        floor = 2 * size * p.cp_step_latency_s
        return max(exposed, floor - t_attn)

    if kind == "a2a":
        return all_to_all(cp)
    if kind == "all_gather":
        # K/V gathered before attention (and again for backward), dK/dV reduce-scattered after
        return 3 * (cp - 1) * local_kv / links.group(cp, tp)
    if kind == "a2a+p2p":
        # hierarchical: all-to-all inside the NVLink domain, the ring across domains
        inner = max(1, min(cp, links.domain // tp))
        while cp % inner:
            inner -= 1
        outer = cp // inner
        return (all_to_all(inner) if inner > 1 else 0.0) + (
            ring(outer, tp * inner) if outer > 1 else 0.0
        )
    return ring(cp, tp)


def _full_recompute_share(layout: Layout, layers: int) -> float:
    """The share of layers full recompute re-runs: all of them, except with the block method,
    which checkpoints the first recompute_num_layers of each model chunk (a pipeline stage's
    share of the layers, or its virtual stage's)."""
    if layout.recompute_method != "block" or not layout.recompute_num_layers:
        return 1.0
    per_chunk = layers / (layout.pp * (layout.vp or 1))
    return min(layout.recompute_num_layers / per_chunk, 1.0)


def _stage_layers(layout: Layout, layers: int) -> list[float]:
    """Layers per pipeline stage (fractional when they do not split evenly and no split is given)."""
    pp = layout.pp
    if pp == 1:
        return [float(layers)]
    first, last = layout.first_stage_layers, layout.last_stage_layers
    fixed = [s for s in (first, last) if s is not None]
    free = pp - len(fixed)
    even = (layers - sum(fixed)) / free if free else 0.0
    stages = [even] * pp
    if first is not None:
        stages[0] = float(first)
    if last is not None:
        stages[-1] = float(last)
    return stages


def estimate_throughput(
    spec: ModelSpec,
    layout: Layout,
    gpu: GPUSpec,
    *,
    seq_len: int,
    precision: str = "bf16",
    mode: str = "pretrain",
    world_size: int,
    tokens: float | None = None,
    overlap: Mapping[str, bool] | None = None,
    params: ThroughputParams | None = None,
    grad_bytes: float | None = None,
) -> Throughput:
    """Predicted step time, tokens/s/GPU, model TFLOP/s/GPU and MFU of one training layout.

    `model_tflops_per_gpu` uses Megatron-Bridge's model-FLOP accounting (no recompute, no
    padding); `mfu` is that over the GPU's dense peak for the training precision (fp8 and
    mxfp8: the FP8 peak; nvfp4: the FP4 peak). `breakdown` gives the seconds of each part of
    the step (they add up to `step_time_s`). With `tokens`, also the time and GPU-hours to
    train on that many tokens. `overlap` switches off overlaps Bridge's performance recipes
    enable (keys: tp_comm_overlap, overlap_grad_reduce, overlap_param_gather) or turns on
    ep_comm_overlap (the EP all-to-all overlap, off by default as in Megatron-Core).
    `grad_bytes` is the recipe's gradient-reduce dtype (2: bf16, as the performance recipes
    set ddp.grad_reduce_in_fp32=False; 4: fp32); None takes the parameters' default.

    Example:
        >>> t = estimate_throughput(llama3_8b, Layout(tp=1, cp=2, dp=4, mbs=1, gbs=128),
        ...                         h100, seq_len=8192, precision="fp8", world_size=8)
        >>> round(t.tokens_per_sec_per_gpu, -2)  # doctest: +SKIP
        13900.0
    """
    p = params or default_params()
    if mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    if layout.world_size != world_size:
        raise UserError(
            f"layout TP*PP*CP*DP = {layout.tp}*{layout.pp}*{layout.cp}*{layout.dp} = "
            f"{layout.world_size} does not match the {world_size} GPUs"
        )
    ov = dict(DEFAULT_OVERLAP)
    for key, value in (overlap or {}).items():
        if key not in ov:
            raise UserError(f"unknown overlap switch {key!r}; use: {', '.join(DEFAULT_OVERLAP)}")
        ov[key] = bool(value)

    peak = peak_flops(gpu, precision)
    peak_bf16 = peak_flops(gpu, "bf16")
    # What the GPU sustains, for timing; MFU stays a share of the spec-sheet peak.
    scale = p.peak_scale(gpu.key)
    rate, rate_bf16 = peak * scale, peak_bf16 * scale
    gemm_eff = getattr(p, f"gemm_eff_{precision}")
    links = _Links(gpu, p)
    assumptions = links.assumptions  # grows while the links are used below
    if gpu.key not in PEAK_SCALE_OF:
        assumptions.append(
            f"no published run on {gpu.key} is among the calibration's: its speed assumes it "
            "sustains the share of its data-sheet peaks that the calibrated GPUs (H100, B200, "
            "B300, GB200, GB300) sustain on average"
        )
    if gpu.hbm_bandwidth_tb_s:
        hbm = gpu.hbm_bandwidth_tb_s * 1e12
    else:
        hbm = ASSUMED_HBM_TB_S * 1e12
        assumptions.append(
            f"{gpu.key} has no published HBM bandwidth: element-wise and optimizer time assume "
            f"{ASSUMED_HBM_TB_S:g} TB/s (give hbm= for this GPU to replace it)"
        )

    tp, pp, cp, dp = layout.tp, layout.pp, layout.cp, layout.dp
    work = token_work(spec, seq_len, tp=tp)
    flops_per_token = work.total
    if mode == "peft":
        # LoRA as Megatron-Bridge and NeMo count it (flop_utils: frozen model FLOPs x 2/3 plus
        # attention in full): frozen weights get no weight gradients, attention has no weights
        core = work.attention_core + work.scan
        flops_per_token = (work.total - core) * 2.0 / 3.0 + core
    counts = work.layers
    ep, etp = layout.ep, layout.etp
    vp = layout.vp or 1
    micro = max(layout.gbs // (layout.mbs * dp), 1)
    h = spec.hidden_size
    sp_split = (
        tp if (layout.sp or tp > 1) else 1
    )  # Megatron needs SP for TP with MoE; Bridge sets it
    n_tok = layout.mbs * seq_len / cp  # tokens in one microbatch on one CP rank
    mb_share = (
        layout.mbs * seq_len / (tp * cp)
    )  # FLOP share of one GPU per microbatch, per layer-set

    # GEMM efficiency falls as the matrices the layout produces shrink.
    g0 = p.gemm_half_size
    eff_dense = gemm_eff / (1 + g0 / (h / tp) + g0 / n_tok)
    eff_expert = eff_dense
    if spec.is_moe and work.expert_gemm:
        tokens_per_expert = (
            n_tok / tp * etp * ep * (spec.num_experts_per_tok or 1) / spec.num_experts
        )
        ffn = (spec.moe_intermediate_size or h) / etp
        # Each local expert's GEMM also pays a fixed cost (its own quantize/cast and padding
        # kernels, ragged last tiles, per-group scheduling): a constant number of tokens'
        # worth of work, so it weighs by tokens per expert on a scale of its own.
        eff_expert = (
            gemm_eff * p.expert_gemm_eff / (1 + g0 / ffn + p.expert_tokens_half / tokens_per_expert)
        )
    # Flash attention's tiles shrink with the keys a query sees on this rank: a sliding
    # window bounds them, ring CP splits them over the ranks, all-to-all CP does not (each rank
    # gets whole sequences for a share of the heads).
    keys = seq_len if layout.cp_comm_type == "a2a" else seq_len / cp
    eff_attn = p.attn_eff / (1 + g0 / keys)
    eff_window = p.attn_eff / (1 + g0 / min(work.window or seq_len, keys))
    flops_per_exp = gpu.bf16_flops_per_exp
    if not flops_per_exp:
        flops_per_exp = ASSUMED_FLOPS_PER_EXP
        assumptions.append(
            f"{gpu.key} has no published exponential-unit rate: softmax assumes Hopper's "
            f"{ASSUMED_FLOPS_PER_EXP:g} bf16 FLOPs per exponential (give exp= to replace it)"
        )
    exp_rate = rate_bf16 / flops_per_exp
    # PEFT: base weights are frozen, so their weight-gradient GEMMs (1/3 of the work) do not run.
    gemm_factor = 2.0 / 3.0 if mode == "peft" else 1.0
    if mode == "peft":
        assumptions.append(
            "PEFT: model FLOPs count the frozen weights' GEMMs at 2/3 (no weight gradients) "
            "and attention in full, as Megatron-Bridge's LoRA accounting and the published "
            "LoRA runs do"
        )

    per_layer = counts.total

    def dense_time(flops: float) -> float:
        """Seconds per layer and microbatch of `flops` (per token) dense GEMM work."""
        return flops * mb_share / per_layer / (rate * eff_dense) * gemm_factor

    t_dense_l = dense_time(work.dense_gemm)
    t_expert_l = work.expert_gemm * mb_share / per_layer / (rate * eff_expert) * gemm_factor
    full_core = work.attention_core - work.window_core
    t_attn_l = (
        (full_core / eff_attn + work.window_core / eff_window) * mb_share / per_layer / rate_bf16
    )
    # Softmax exponentials run on the special-function units between attention's two GEMMs,
    # whose tensor cores wait: they cost most where heads are narrow and tensor cores fast.
    scores = work.attention_core / (6 * work.score_width)
    t_attn_l += p.attn_exps_per_score * scores * mb_share / per_layer / exp_rate
    # Mamba's scan and DeltaNet's recurrence run as chunked attention-like kernels in bf16,
    # not as GEMMs.
    t_attn_l += work.scan * mb_share / per_layer / (rate_bf16 * p.attn_eff)
    moe_share = counts.moe / per_layer
    k = spec.num_experts_per_tok or 0
    elem_bytes_l = p.elementwise_bytes * n_tok / sp_split * h * (1 + k * moe_share)
    t_elem_l = elem_bytes_l / hbm
    t_ovh_l = p.layer_overhead_s * (1 - moe_share) + p.moe_layer_overhead_s * moe_share
    # The host queues kernels ahead of the GPU; it only sets the pace when it is the slower.
    t_layer = max(t_dense_l + t_expert_l + t_attn_l + t_elem_l, t_ovh_l)
    t_logits = work.logits * layout.mbs * seq_len / (tp * cp) / (rate * eff_dense) * gemm_factor

    # Communication per layer per microbatch.
    tp_exposed = p.tp_exposed if ov["tp_comm_overlap"] else 1.0
    t_tp_l = 0.0
    if tp > 1:
        tp_bytes = 8 * (tp - 1) / tp * n_tok * h * BF16_BYTES
        t_tp_l = tp_bytes / links.group(tp, 1) * tp_exposed
    t_cp_l = 0.0
    if cp > 1:
        t_cp_l = _cp_time(spec, layout, links, p, n_tok * counts.attention / per_layer, t_attn_l)
    t_ep_l = 0.0
    domains = -(-ep * etp // links.domain)
    if spec.is_moe and domains > 1:
        assumptions.append(
            f"the expert all-to-all spans {domains} NVLink domains (EP×ETP = {ep * etp}): the "
            "least certain part of this estimate, since the published runs disagree on what it "
            "costs; compare layouts that differ here with a measurement"
        )
    if spec.is_moe and ep > 1:
        sent = n_tok / sp_split * k * h * BF16_BYTES * (ep - 1) / ep
        t_a2a = 4 * links.all_to_all_time(sent, ep, etp)
        # Overlapped, it hides behind another microbatch's compute, never more than that.
        # Megatron-Core runs the overlap only with a virtual pipeline when PP > 1 and without
        # full recompute (the preconditions rule AR403 checks).
        overlapped = ov["ep_comm_overlap"] and (pp == 1 or vp > 1) and layout.recompute != "full"
        ep_exposed = p.ep_exposed if overlapped else 1.0
        t_ep_l = max(ep_exposed * t_a2a, t_a2a - (t_dense_l + t_expert_l + t_attn_l)) * moe_share

    # Recompute re-runs forward passes: 1/3 of a GEMM's fwd+bwd time, a third of attention's
    # and of the element-wise work, the forward half of the TP and EP collectives.
    fwd = 1.0 / 3.0 / gemm_factor
    if layout.recompute == "full":
        t_recompute_l = _full_recompute_share(layout, per_layer) * (
            (t_dense_l + t_expert_l) * fwd
            + (t_attn_l + t_elem_l + t_ovh_l) / 3
            + (t_tp_l + t_ep_l) / 2
        )
    elif layout.recompute == "selective":
        # SwiGLU reads fc1's two halves and writes one: 3 values a routed token and channel
        expert_act = 3 * BF16_BYTES * k * (spec.moe_intermediate_size or 0) * n_tok / tp
        mla_share = counts.attention / per_layer if spec.is_mla else 0.0
        listed = layout.recompute_modules
        modules = set(["core_attn"] if listed is None else listed)
        forward = {
            "core_attn": t_attn_l / 3,
            "mlp": dense_time(work.mlp_gemm) * fwd,
            "mla_up_proj": dense_time(work.mla_up_gemm) * fwd,
            "shared_experts": dense_time(work.shared_gemm) * fwd,
            "moe_act": expert_act / hbm * moe_share,
            # Megatron's own norms (MLA's input norm, a MoE layer's pre-MLP norm; Transformer
            # Engine fuses the rest into the next linear): read and write h values a token
            "layernorm": 2 * BF16_BYTES * h * n_tok / sp_split / hbm * (moe_share + mla_share),
        }
        if "moe" in modules:
            # the whole MoE layer forward: dispatch, experts, activation, combine
            modules |= {"shared_experts", "moe_act"}
            forward["moe"] = t_expert_l * fwd + t_ep_l / 2
        t_recompute_l = sum(forward.get(m, 0.0) for m in modules)
    else:
        t_recompute_l = 0.0

    stages = _stage_layers(layout, per_layer)
    stage_times = []
    for i, layers in enumerate(stages):
        t = layers * (t_layer + t_recompute_l + t_tp_l + t_cp_l + t_ep_l)
        stage_times.append(t + (t_logits if i == len(stages) - 1 else 0.0))
    slowest = max(range(pp), key=stage_times.__getitem__)
    layers_s = stages[slowest]
    t_pp = 0.0
    if pp > 1:
        pp_bytes = 2 * vp * n_tok / sp_split * h * BF16_BYTES
        # Stages are Megatron's outermost dimension, so a pipeline over more GPUs than one
        # NVLink domain hands activations across the network at one boundary at least, and
        # every microbatch passes every boundary: the slowest link sets the pace.
        stride = tp * cp * dp if world_size <= links.domain else links.domain
        t_p2p = pp_bytes / links.group(2, stride)
        # Overlapped with the stage's compute (Megatron's overlap_p2p_comm), never beyond it.
        t_pp = max(p.pp_p2p_exposed * t_p2p, t_p2p - stage_times[slowest])
    t_mb = stage_times[slowest] + t_pp
    bubble = (pp - 1) / vp * t_mb

    # DP gradient reduce-scatter and parameter all-gather (distributed optimizer), or all-reduce.
    p_expert = work.expert_gemm / 6 * (spec.num_experts or 1) / max(k, 1)
    p_dense = (work.dense_gemm / 6 / pp + h * spec.vocab_size) / tp
    p_expert_local = p_expert / (ep * etp * pp)
    edp = max(layout.edp, 1) if spec.is_moe else dp
    grad = grad_bytes or p.grad_bytes
    t_dp = 0.0
    t_opt = 0.0
    if mode != "peft":
        if layout.use_megatron_fsdp:
            per_byte = micro * (2 * p.param_gather_bytes + grad)
            t_fsdp = p_dense * (dp - 1) / dp * per_byte / links.group(dp, tp * cp)
            t_fsdp += p_expert_local * (edp - 1) / edp * per_byte / links.group(edp, etp * ep)
            t_dp = max(p.dp_exposed_min * t_fsdp, t_fsdp - micro * t_mb)
        else:
            rs_bytes = grad if layout.use_distributed_optimizer else 2 * grad
            ag_bytes = p.param_gather_bytes if layout.use_distributed_optimizer else 0.0
            bw_dense = links.group(dp, tp * cp) if dp > 1 else 1.0
            bw_exp = links.group(edp, etp * ep) if edp > 1 else 1.0
            share_dense = p_dense * (dp - 1) / dp
            share_exp = p_expert_local * (edp - 1) / edp
            t_rs = share_dense * rs_bytes / bw_dense + share_exp * rs_bytes / bw_exp
            t_ag = share_dense * ag_bytes / bw_dense + share_exp * ag_bytes / bw_exp
            if ov["overlap_grad_reduce"]:
                t_rs = max(p.dp_exposed_min * t_rs, t_rs - 2.0 / 3.0 * t_mb)
            if ov["overlap_param_gather"]:
                t_ag = max(p.dp_exposed_min * t_ag, t_ag - 1.0 / 3.0 * t_mb)
            t_dp = t_rs + t_ag
        shard = dp if layout.use_distributed_optimizer or layout.use_megatron_fsdp else 1
        t_opt = (
            (p_dense / shard + p_expert_local / (edp if shard > 1 else 1))
            * p.optimizer_bytes_per_param
            / hbm
        )

    pipeline = micro * t_mb
    step = pipeline + bubble + t_dp + t_opt
    world_tokens = layout.gbs * seq_len
    tokens_per_gpu = world_tokens / step / world_size
    model_tflops = flops_per_token * tokens_per_gpu / 1e12
    per_mb: dict[str, float] = {
        "compute": layers_s * t_layer,
        "tp_comm": layers_s * t_tp_l,
        "cp_comm": layers_s * t_cp_l,
        "ep_comm": layers_s * t_ep_l,
        "recompute": layers_s * t_recompute_l,
        "pp_comm": t_pp,
    }
    per_mb["compute"] += stage_times[slowest] + t_pp - sum(per_mb.values())  # logits stage
    breakdown = {name: micro * t for name, t in per_mb.items()}
    breakdown.update(pp_bubble=bubble, dp_comm=t_dp, optimizer=t_opt)
    result: dict[str, Any] = {
        "step_time_s": step,
        "tokens_per_sec_per_gpu": tokens_per_gpu,
        "model_tflops_per_gpu": model_tflops,
        "mfu": model_tflops * 1e12 / peak,
        "breakdown": breakdown,
        "assumptions": assumptions,
    }
    estimate = Throughput(**result)
    return estimate if tokens is None else with_token_budget(estimate, tokens, world_size)


def with_token_budget(throughput: Throughput, tokens: float, world_size: int) -> Throughput:
    """`throughput` with the wall-clock time and GPU-hours to train on `tokens` tokens.

    Example:
        >>> t = with_token_budget(t, parse_tokens("1T"), world_size=8)
        >>> t.training_time_s, t.gpu_hours  # doctest: +SKIP
    """
    if tokens <= 0:
        raise UserError(f"token budget must be positive (got {tokens:g}); e.g. 1T or 500B")
    seconds = tokens / (throughput.tokens_per_sec_per_gpu * world_size)
    return throughput.model_copy(
        update={"training_time_s": seconds, "gpu_hours": seconds * world_size / 3600}
    )
