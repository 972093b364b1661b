"""Our memory model against Megatron-LM's theoretical formula, where that formula applies.

Megatron-LM megatron/training/theoretical_memory_usage.py (read, not imported):
- compute_weight_and_optimizer_memory: most-loaded shard = (block/PP + MTP + embedding)/TP
  (+ a second embedding when untied and PP = 1), times 6 + 12/DP with the distributed
  optimizer (18 without); block = dense layers × (2h(f·γ + ν) + attention) + final norm.
- compute_activation_memory (SP + selective recompute): first stage,
  s·b·h·(18 + 4f/h)·L + 8·s·b·p + s·b·h·p, times the schedule factor, plus
  4·s·b·h·(1 + V/h) when PP = 1, all over TP.
The expected values below are that arithmetic, written out by hand for each case. The
formula applies when: CP = 1 (it ignores CP), EP = 1 with ETP = TP (it shards experts like
dense weights), and for activations a non-gated MHA model with dropout (its 18 + 4f/h is
Korthikanti's 34 at f = 4h) — GPT-3, the model of Korthikanti et al.
"""

from __future__ import annotations

import pytest

from autorecipe.catalog.models import resolve_model
from autorecipe.catalog.spec import ModelSpec
from autorecipe.estimate.memory import (
    memory_by_stage,
    model_shapes,
    stage_activation_bytes,
)
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import layers_per_stage

# GPT-3 175B (Brown et al. 2020, Table 2.1; Korthikanti et al. 2022, Table 3): 96 layers,
# h 12288, 96 heads of 128, FFN 4h, GeLU, LayerNorm, dropout 0.1, GPT-2 BPE vocab 50257
# padded by Megatron to a multiple of 128·TP (51200 at TP 8).
GPT3_175B = ModelSpec(
    hf_id="gpt3-175b (Brown et al. 2020)",
    num_hidden_layers=96,
    hidden_size=12288,
    intermediate_size=4 * 12288,
    num_attention_heads=96,
    num_key_value_heads=96,
    head_dim=128,
    vocab_size=51200,
    activation="gelu",
    norm="LayerNorm",
    extra={"hidden_dropout": 0.1},
)
# GPT-3 1.3B (Brown et al. 2020, Table 2.1): 24 layers, h 2048, 16 heads of 128.
GPT3_1B3 = GPT3_175B.model_copy(
    update={
        "hf_id": "gpt3-1.3b (Brown et al. 2020)",
        "num_hidden_layers": 24,
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "vocab_size": 50304,
    }
)


def close(ours: float, theirs: float, tol: float = 0.01) -> bool:
    return abs(ours - theirs) / theirs < tol


def model_state(spec, layout, world, seq_len=4096) -> float:
    """Weights + grads + optimizer bytes on the stage that holds the most."""
    stages = memory_by_stage(spec, layout, seq_len=seq_len, world_size=world)
    return max(s.weights + s.gradients + s.optimizer for s in stages)


def test_weights_llama3_8b_tp2_dp4():
    spec = resolve_model("llama3-8b")
    h, f, L, V = 4096, 14336, 32, 128256  # 128256 = 501·256: already padded at TP 2
    attn = 2 * h * h * (1 + 8 / 32) * 1.0
    layer = 2 * h * (f * 1.5 + 1) + attn
    block = layer * L + h
    emb = h * V
    shard = (block / 1 + emb) / 2 + emb / 2  # untied, PP = 1: the output layer too
    expected = shard * (6 + 12 / 4)
    ours = model_state(spec, Layout(tp=2, dp=4, sp=True, gbs=64), 8)
    assert close(ours, expected), (ours, expected)


def test_weights_llama3_70b_tp8_pp4_dp2():
    spec = resolve_model("llama3-70b")
    h, f, L, V = 8192, 28672, 80, 128256  # padded to 129024 at TP 8 (multiple of 1024)
    v_pad = -(-V // 1024) * 1024
    attn = 2 * h * h * (1 + 8 / 64)
    layer = 2 * h * (f * 1.5 + 1) + attn
    block = layer * L + h
    shard = (block / 4 + h * v_pad) / 8
    expected = shard * (6 + 12 / 2)
    ours = model_state(spec, Layout(tp=8, pp=4, dp=2, sp=True, gbs=64), 64)
    assert close(ours, expected), (ours, expected)


def test_weights_without_distributed_optimizer_is_18_bytes():
    spec = resolve_model("llama3-8b")
    h, f, L, V = 4096, 14336, 32, 128256
    layer = 2 * h * (f * 1.5 + 1) + 2 * h * h * 1.25
    shard = (layer * L + h + 2 * h * V) / 1
    ours = model_state(
        spec, Layout(tp=1, dp=8, gbs=64, use_distributed_optimizer=False), 8, seq_len=2048
    )
    assert close(ours, shard * 18), (ours, shard * 18)


def test_weights_mixtral_with_experts_sharded_like_dense():
    # EP = 1 and ETP = TP: expert-DP equals DP, so the formula's single shard rule applies
    spec = resolve_model("mixtral-8x7b")
    h, f_e, E, L, V = 4096, 14336, 8, 32, 32000  # 32000 = 250·128: padded at TP 4 is 32256
    v_pad = -(-V // 512) * 512
    attn = 2 * h * h * (1 + 8 / 32)
    layer = 2 * h * (f_e * E * 1.5 + 0 + 1) + attn
    block = layer * L + h
    shard = (block + h * v_pad) / 4 + h * v_pad / 4
    expected = shard * (6 + 12 / 2)
    ours = model_state(spec, Layout(tp=4, etp=4, ep=1, dp=2, sp=True, gbs=64), 8)
    assert close(ours, expected), (ours, expected)


def _first_stage_activations(spec, layout, seq_len, world, cross_entropy="native"):
    shapes = model_shapes(spec)
    stage = layers_per_stage(shapes.num_layers, layout)[0]
    dp = world // (layout.tp * layout.pp * layout.cp)
    stored, transient = stage_activation_bytes(
        shapes, layout, stage, seq_len=seq_len, microbatches=layout.gbs // (layout.mbs * dp),
        cross_entropy=cross_entropy,
    )  # fmt: skip
    return stored, transient


@pytest.mark.parametrize("mbs", [1, 2])
def test_activations_gpt3_175b_tp8_pp8_1f1b(mbs):
    s, b, h, L, p, t = 2048, mbs, 12288, 96, 8, 8
    expected = (s * b * h * (18 + 4 * 4) * L + 8 * s * b * p + s * b * h * p) / t
    layout = Layout(tp=8, pp=8, dp=2, sp=True, mbs=mbs, gbs=64, recompute="selective")
    stored, _ = _first_stage_activations(GPT3_175B, layout, s, 128)
    assert close(stored, expected), (stored, expected)


def test_activations_gpt3_175b_fewer_microbatches_than_stages():
    # m = 4 < p = 8: the formula scales by m/p; stage 0 holds 4 microbatches
    s, h, L, p, t, m = 2048, 12288, 96, 8, 8, 4
    expected = (s * h * 34 * L + 8 * s * p + s * h * p) * (m / p) / t
    layout = Layout(tp=8, pp=8, dp=1, sp=True, gbs=4, recompute="selective")
    stored, _ = _first_stage_activations(GPT3_175B, layout, s, 64)
    assert close(stored, expected), (stored, expected)


def test_activations_gpt3_175b_interleaved():
    s, h, L, p, v, t = 2048, 12288, 96, 8, 2, 8
    penalty = 1 + (p - 1) / (p * v)
    expected = (s * h * 34 * L + 8 * s * p + s * h * p) * penalty / t
    layout = Layout(tp=8, pp=8, vp=2, dp=1, sp=True, gbs=16, recompute="selective")
    stored, _ = _first_stage_activations(GPT3_175B, layout, s, 64)
    assert close(stored, expected), (stored, expected)


def test_activations_gpt3_1b3_no_pipeline_includes_logits():
    # PP = 1: the formula adds the output layer's input and the fp32 logits, 4·s·b·(h + V);
    # the "megatron-lm" cross-entropy option reproduces that term
    s, h, L, V, t = 2048, 2048, 24, 50304, 2
    expected = (s * h * 34 * L + 8 * s + s * h + 4 * s * h * (1 + V / h)) / t
    layout = Layout(tp=2, dp=4, sp=True, gbs=64, recompute="selective")
    stored, transient = _first_stage_activations(GPT3_1B3, layout, s, 8, "megatron-lm")
    assert close(stored + transient, expected), (stored + transient, expected)


@pytest.mark.parametrize("kernel, per_h, per_v", [("native", 2, 6), ("te", 2, 2)])
def test_logits_by_cross_entropy_kernel(kernel, per_h, per_v):
    # what estimate_memory uses: bf16 output-layer input; Megatron's native CE keeps the bf16
    # logits while it builds an fp32 softmax (6 B per vocab entry), TE's writes the gradient
    # into the bf16 logits in place (2 B); the layers' part is the same as the formula's
    s, h, V, t = 2048, 2048, 50304, 2
    layout = Layout(tp=2, dp=4, sp=True, gbs=64, recompute="selective")
    stored, transient = _first_stage_activations(GPT3_1B3, layout, s, 8, kernel)
    mlm_stored, mlm_transient = _first_stage_activations(GPT3_1B3, layout, s, 8, "megatron-lm")
    assert stored == mlm_stored
    assert close(transient, s * (per_h * h + per_v * V) / t), transient
    assert (transient < mlm_transient) == (kernel == "te")


def test_tp_without_sp_matches_korthikanti_per_layer():
    # Korthikanti Table 2, TP without SP (selective): s·b·h·(10 + 24/t) per layer; MLM's
    # compute_activation_memory_without_sp uses the same per-layer term (before its 1.05)
    s, h, L, p, t = 2048, 12288, 96, 8, 8
    expected = (s * h * (10 + 24 / t) * L) + (8 * s * p + s * h * p)
    layout = Layout(tp=8, pp=8, dp=1, sp=False, gbs=8, recompute="selective")
    stored, _ = _first_stage_activations(GPT3_175B, layout, s, 64)
    assert close(stored, expected), (stored, expected)
