"""FLOPs per token follow Megatron-Bridge's model-FLOP accounting (flop_utils.py, 0.6.2)."""

from __future__ import annotations

import pytest

from autorecipe.catalog.flops import forward_flops_per_token, padded_vocab, training_flops_per_token
from autorecipe.catalog.models import catalog_spec


@pytest.mark.parametrize(
    ("hf_id", "seq_len", "per_sequence"),
    [
        # Golden values of Bridge's tests/functional_tests/.../test_flop_utils.py, GBS = 1
        # (reference/megatron-parallelism-and-memory.md §4.5).
        ("meta-llama/Meta-Llama-3-8B", 8192, 4.22e14),
        ("meta-llama/Meta-Llama-3-70B", 8192, 3.68e15),
        ("Qwen/Qwen3-30B-A3B", 4096, 9.42e13),
        ("Qwen/Qwen3-235B-A22B", 4096, 6.06e14),
    ],
)
def test_bridge_golden_values(hf_id, seq_len, per_sequence):
    got = training_flops_per_token(catalog_spec(hf_id), seq_len) * seq_len
    assert got == pytest.approx(per_sequence, rel=2e-3)


def test_llama3_8b_by_hand():
    h, a, g, d, f, s, L = 4096, 32, 8, 128, 14336, 8192, 32
    vocab = 128256  # already a multiple of 128
    per_layer = h * (a * d + 2 * g * d) + a * d * h + a * d * s  # projections + causal core
    expected = 6 * (h * 3 * f * L + h * vocab) + 6 * L * per_layer
    assert training_flops_per_token(catalog_spec("meta-llama/Meta-Llama-3-8B"), s) == expected


def test_deepseek_v3_mla_moe_mtp_by_hand():
    h, a, s, L, mtp = 7168, 128, 4096, 61, 1
    nope, rope, v, rq, rkv = 128, 64, 128, 1536, 512
    attn = (
        rq * (h + a * (nope + rope) + 1)
        + rkv * (h + a * (nope + v) + 1)
        + h * rope
        + a * v * h
        + s * a * (nope + rope) / 2
        + s * a * v / 2
    )
    dense, moe = 3, 58 + mtp  # the MTP layer copies the last (MoE) layer
    mlp = h * (18432 * 3 * dense + 2048 * 8 * 3 * moe + 2048 * 3 * moe)
    vocab = 129280  # multiple of 128
    expected = 6 * (mlp + mtp * (3 * h + 2 * h * h) + h * vocab * (mtp + 1)) + 6 * (L + mtp) * attn
    got = training_flops_per_token(catalog_spec("deepseek-ai/DeepSeek-V3"), s)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got * s == pytest.approx(1.065e15, rel=2e-3)  # reference §4.5


def test_nemotron_h_hybrid_by_hand():
    # Bridge hybrid_flops: 4 attention, 24 MLP, 24 Mamba layers (pattern of Nemotron-H 8B).
    h, s, vocab = 4096, 8192, 131072
    attn = 4 * h * 1 * (h + h * 8 / 32) + 2 * h * 1 * s  # kv_channels*heads == hidden
    mlp = 4 * (21504 / h) * 1.0 * h * h  # squared ReLU: not gated
    d_in = 2 * h
    mamba = 2 * h * (2 * d_in + 2 * 8 * 128 + 128) + 7 * d_in * 128 + 2 * d_in * h
    expected = 3 * (4 * attn + 24 * mlp + 24 * mamba + 2 * h * vocab)
    assert training_flops_per_token(
        catalog_spec("nvidia/Nemotron-H-8B-Base-8K"), s
    ) == pytest.approx(expected, rel=1e-12)


def test_qwen3_next_gated_deltanet_by_hand():
    h, s, vocab = 2048, 4096, 151936
    q, kv = 16 * 256, 2 * 256
    full = h * (q + 2 * kv + q) + q * h + q * s  # output gate doubles the query projection
    qk, vd = 16 * 128, 32 * 128
    gdn = h * (2 * qk + 2 * vd + 2 * 32) + 4 * (2 * qk + vd) + 32 * 128 * 128 * 4 + h * vd
    mlp = h * (512 * 10 * 3 + 512 * 3) * 48
    expected = 6 * (mlp + h * vocab) + 6 * (12 * full + 36 * gdn)
    spec = catalog_spec("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert training_flops_per_token(spec, s, mtp_num_layers=0) == pytest.approx(expected, rel=1e-12)


def test_sliding_window_layers_by_hand():
    # gpt-oss-20b: 12 sliding (window 128) + 12 full attention layers, all MoE.
    h, s, W = 2880, 4096, 128
    q, kv = 64 * 64, 8 * 64
    proj = h * (q + 2 * kv) + q * h
    swa_context = W - W * (W - 1) / (2 * s)
    attn = 12 * (proj + q * s) + 12 * (proj + q * swa_context * 2)
    vocab = padded_vocab(201088)
    expected = 6 * (h * 2880 * 4 * 3 * 24 + h * vocab) + 6 * attn
    assert training_flops_per_token(catalog_spec("openai/gpt-oss-20b"), s) == pytest.approx(
        expected, rel=1e-12
    )


def test_vocab_padding_and_forward_share():
    assert padded_vocab(151552) == 151552 and padded_vocab(32001) == 32128
    assert padded_vocab(32001, tp=8) == 32768
    spec = catalog_spec("google/gemma-2-9b")
    assert forward_flops_per_token(spec, 4096) * 3 == pytest.approx(
        training_flops_per_token(spec, 4096)
    )


def test_attention_grows_with_sequence_length():
    spec = catalog_spec("meta-llama/Meta-Llama-3-8B")
    short, long = training_flops_per_token(spec, 4096), training_flops_per_token(spec, 8192)
    assert long - short == pytest.approx(6 * 32 * 4096 * (8192 - 4096))


def test_bad_sequence_length():
    with pytest.raises(ValueError):
        training_flops_per_token(catalog_spec("meta-llama/Meta-Llama-3-8B"), 0)
