"""The throughput model's parameters, loaded from data/throughput_params.json.

Every number the step-time model uses that is not a hardware fact or a model shape lives in
that file, next to how it was obtained (fitted by benchmarks/calibrate.py on the public
Megatron-Bridge / NeMo measurements, or fixed from first principles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any

# The GPUs perf-calibration.csv has runs on (catalog key -> its ThroughputParams.peak_scale_*
# field). Any other GPU is estimated at scale 1: the calibration holds the scales' geometric
# mean at 1, so that is the share of its data-sheet peaks an average calibrated GPU sustains.
PEAK_SCALE_OF = {
    "H100-SXM": "peak_scale_h100",
    "B200": "peak_scale_b200",
    "B300": "peak_scale_b300",
    "GB200-NVL72": "peak_scale_gb200",
    "GB300-NVL72": "peak_scale_gb300",
}


@dataclass(frozen=True)
class ThroughputParams:
    # Fraction of the dense tensor-core peak a large GEMM reaches, by training precision.
    gemm_eff_bf16: float
    gemm_eff_fp8: float
    gemm_eff_mxfp8: float
    gemm_eff_nvfp4: float
    # GEMM size (elements) at which efficiency halves: eff = max / (1 + g0/dim + g0/tokens).
    gemm_half_size: float
    # A routed-expert grouped GEMM's efficiency relative to a dense GEMM of the same shape
    # (many small GEMMs in one launch, uneven token counts, the permute/unpermute around it).
    expert_gemm_eff: float
    # Tokens per expert at which a routed-expert GEMM's efficiency halves: its per-expert fixed
    # cost in tokens' worth of work (FP8 per-expert quantize/padding kernels, ragged tiles).
    expert_tokens_half: float
    # Fraction of the bf16 peak fused (flash) attention reaches; attention stays bf16 in FP8 runs.
    attn_eff: float
    # Softmax exponentials per attention score on the critical path, forward + backward.
    attn_exps_per_score: float
    # HBM bytes moved by element-wise work (norms, activations, casts, residuals) per token,
    # per hidden unit, per layer, forward + backward.
    elementwise_bytes: float
    # Host time per layer per microbatch, forward + backward (launches, MoE token-count syncs),
    # seconds; a layer takes the longer of this and its GPU time.
    layer_overhead_s: float
    moe_layer_overhead_s: float
    # Achieved fraction of link bandwidth for collectives.
    nvlink_bw_eff: float
    network_bw_eff: float
    # Fraction of each communication that stays on the critical path where Megatron can
    # overlap it with compute (TP comm overlap, CP ring's first exchange, EP all-to-all, PP p2p).
    tp_exposed: float
    cp_exposed: float
    ep_exposed: float
    pp_p2p_exposed: float
    # Host and link latency of one context-parallel ring step (a send/recv and the attention
    # kernels of one chunk), seconds: a ring takes at least this per step, however small
    # the chunks.
    cp_step_latency_s: float
    # Lower bound on the exposed share of DP gradient/parameter traffic even when overlapped.
    dp_exposed_min: float
    # Bytes per parameter of the gradient reduce-scatter (fp32 grads) and parameter all-gather.
    grad_bytes: float
    param_gather_bytes: float
    # HBM bytes read+written per local optimizer-state element in the Adam step.
    optimizer_bytes_per_param: float
    # Tensor throughput a GPU sustains in training relative to its spec-sheet peak, as a
    # multiple of the calibrated GPUs' average (their geometric mean is held at 1): the sheets
    # give GB200 and GB300 the same dense peaks, yet every layout both published runs faster
    # on GB300. A GPU without a measured run keeps 1 (PEAK_SCALE_OF says which field is whose).
    peak_scale_h100: float
    peak_scale_b200: float
    peak_scale_b300: float
    peak_scale_gb200: float
    peak_scale_gb300: float

    def peak_scale(self, gpu_key: str) -> float:
        name = PEAK_SCALE_OF.get(gpu_key)
        return getattr(self, name) if name else 1.0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def replace(self, **values: float) -> ThroughputParams:
        return ThroughputParams(**{**self.as_dict(), **values})

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.names()}


def params_document() -> dict[str, Any]:
    """The whole JSON document: values, how each was obtained, and the calibration summary."""
    text = (
        resources.files("autorecipe.estimate").joinpath("data/throughput_params.json").read_text()
    )
    return json.loads(text)


@lru_cache(maxsize=1)
def default_params() -> ThroughputParams:
    """The bundled, calibrated parameters."""
    doc = params_document()
    return ThroughputParams(
        **{name: float(doc["params"][name]["value"]) for name in ThroughputParams.names()}
    )
