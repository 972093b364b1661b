"""Memory model behaviour on real models: sharding, recompute, CP, PEFT, FP8, FSDP, MoE.

Model-state targets come from shared/reference/megatron-parallelism-and-memory.md §3.7
(derived there from §3.1–3.3, independently of this code).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.estimate.memory import (
    GIB,
    Knobs,
    estimate_memory,
    layer_activation_bytes_per_token,
    memory_by_stage,
    model_shapes,
    stage_activation_bytes,
)
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import StageSplitError, balanced_layout, layers_per_stage

H100 = resolve_gpu("h100")
DSV3_PP16 = "Et*4|" + "|".join(["t*4"] * 14) + "|tmL"  # Bridge's (16, 1) layout


def state_parts(model, layout, world, knobs):
    spec = resolve_model(model) if isinstance(model, str) else model
    stages = memory_by_stage(spec, layout, seq_len=4096, world_size=world, knobs=knobs)
    return max(stages, key=lambda s: s.weights + s.gradients + s.optimizer)


def state_gib(name, layout, world, **kw):
    stages = memory_by_stage(resolve_model(name), layout, seq_len=4096, world_size=world, **kw)
    return max(s.weights + s.gradients + s.optimizer for s in stages) / GIB


@pytest.mark.parametrize(
    "name, layout, world, target",
    [
        ("qwen3-30b-a3b", Layout(tp=1, dp=8, ep=8, gbs=64), 8, 71.5),
        (
            "qwen3-235b-a22b",
            Layout(tp=4, pp=16, cp=2, dp=4, ep=8, etp=1, sp=True, gbs=512,
                   account_for_embedding=True, account_for_loss=True),
            512,
            16.0,
        ),
        (
            "qwen3-235b-a22b",
            Layout(tp=4, pp=16, cp=2, dp=4, ep=8, etp=4, sp=True, gbs=512,
                   account_for_embedding=True, account_for_loss=True),
            512,
            8.4,
        ),
        (
            "deepseek-v3",
            Layout(tp=2, pp=16, dp=64, ep=64, etp=1, sp=True, gbs=8192, pipeline_layout=DSV3_PP16),
            2048,
            10.6,
        ),
        (
            "deepseek-v3",
            Layout(tp=2, pp=16, dp=64, ep=64, etp=2, sp=True, gbs=8192, pipeline_layout=DSV3_PP16),
            2048,
            9.9,
        ),
    ],
)  # fmt: skip
def test_model_state_matches_reference_worked_numbers(name, layout, world, target):
    # within 2%: the reference treats MLA down-projections as TP-sharded; we replicate them
    assert state_gib(name, layout, world) == pytest.approx(target, rel=0.02)


def test_expert_dp_of_one_leaves_expert_optimizer_unsharded():
    # Qwen3-30B-A3B on 8 GPUs: EP8 → EDP 1 (18 B/param for experts); on 16 GPUs EDP 2
    on8 = state_gib("qwen3-30b-a3b", Layout(dp=8, ep=8, gbs=64), 8)
    on16 = state_gib("qwen3-30b-a3b", Layout(dp=16, ep=8, gbs=64), 16)
    assert on16 < on8 - 20


def test_distributed_optimizer_shards_over_dp_and_cp():
    spec = resolve_model("llama3-8b")
    base = dict(seq_len=8192, world_size=16)
    dp16 = memory_by_stage(spec, Layout(dp=16, gbs=64), **base)[0]
    cp2 = memory_by_stage(spec, Layout(cp=2, dp=8, gbs=64), **base)[0]
    plain = memory_by_stage(spec, Layout(dp=16, gbs=64, use_distributed_optimizer=False), **base)[0]
    assert cp2.optimizer == pytest.approx(dp16.optimizer)  # DP×CP = 16 either way
    assert plain.optimizer == pytest.approx(16 * dp16.optimizer)
    assert cp2.activations == pytest.approx(dp16.activations / 2, rel=0.01)


def test_recompute_reduces_activations():
    spec = resolve_model("llama3-70b")
    kw = dict(seq_len=8192, world_size=64)
    lo = Layout(tp=8, pp=4, dp=2, sp=True, gbs=64)
    none = memory_by_stage(spec, lo, **kw)[0]
    full = memory_by_stage(
        spec,
        lo.model_copy(
            update={"recompute": "full", "recompute_method": "uniform", "recompute_num_layers": 1}
        ),
        **kw,
    )[0]
    # only each layer's input (2·s·h/t bytes) is kept: about 2/(per-layer bytes/h) of the rest
    assert full.activations < none.activations / 10


def test_selective_recompute_notes_name_what_is_recomputed():
    # Megatron-Core: recompute_modules None means its default, core_attn; an empty list (as
    # several DeepSeek-V3 benchmark recipes set) recomputes nothing
    spec = resolve_model("Qwen/Qwen3-30B-A3B")
    gpu = resolve_gpu("H100")
    base = Layout(ep=8, dp=8, mbs=1, gbs=64, recompute="selective")

    def notes(modules):
        layout = base.model_copy(update={"recompute_modules": modules})
        m = estimate_memory(spec, layout, gpu, seq_len=4096, world_size=8)
        return [n for n in m.assumptions if "selective recompute" in n], m.per_gpu_gib

    empty, empty_gib = notes([])
    assert empty == ["selective recompute with no modules: nothing is recomputed"]
    default, default_gib = notes(None)
    assert any("core_attn" in n and "flash attention" in n for n in default)
    assert default_gib == empty_gib  # core_attn drops nothing with flash attention
    act, act_gib = notes(["moe_act"])
    assert any("of moe_act" in n for n in act) and not any("core_attn" in n for n in act)
    assert act_gib < empty_gib


def test_peft_keeps_frozen_weights_only():
    full = estimate_memory(
        resolve_model("llama3-8b"), Layout(dp=8, gbs=64), H100, seq_len=4096, mode="sft"
    )
    lora = estimate_memory(
        resolve_model("llama3-8b"), Layout(dp=8, gbs=64), H100, seq_len=4096, mode="peft"
    )
    # adapters: about 71M parameters (rank 32 on qkv, proj, fc1, fc2 of 32 layers)
    assert 0.2 < lora.breakdown.gradients < 0.35 and lora.breakdown.optimizer < 0.2
    assert lora.breakdown.weights == pytest.approx(full.breakdown.weights, rel=0.02)
    assert any("LoRA rank 32" in a for a in lora.assumptions)


def test_case2_qwen3_235b_peft_on_16_h100_fits():
    layout = Layout(tp=4, pp=4, dp=1, ep=4, sp=True, gbs=32, account_for_embedding=True,
                    account_for_loss=True, recompute="full", recompute_method="uniform",
                    recompute_num_layers=1)  # fmt: skip
    mem = estimate_memory(
        resolve_model("qwen3-235b-a22b"), layout, H100, seq_len=2048, mode="peft", world_size=16
    )
    assert mem.fits, mem


def test_fp8_adds_weight_copies():
    spec = resolve_model("llama3-8b")
    bf16 = estimate_memory(spec, Layout(dp=8, gbs=64), H100, seq_len=4096)
    fp8 = estimate_memory(spec, Layout(dp=8, gbs=64), H100, seq_len=4096, precision="fp8")
    # about 2 B per linear parameter (≈ 7B of the 8B)
    assert 12 < fp8.breakdown.weights - bf16.breakdown.weights < 16


def test_blackwell_keeps_no_fp8_transpose():
    # Per-tensor FP8 runs in any GEMM layout on compute capability 10.x, so Transformer Engine
    # keeps one FP8 copy of each linear weight there (two on Hopper); MXFP8 keeps two on both
    spec = resolve_model("llama3-8b")
    b200 = resolve_gpu("B200")
    layout = Layout(dp=8, gbs=64)
    weights = {
        (gpu.key, p): estimate_memory(
            spec, layout, gpu, seq_len=4096, precision=p
        ).breakdown.weights
        for gpu in (H100, b200)
        for p in ("bf16", "fp8", "mxfp8")
        if (gpu.key, p) != ("H100-SXM", "mxfp8")
    }
    hopper = weights[("H100-SXM", "fp8")] - weights[("H100-SXM", "bf16")]
    blackwell = weights[("B200", "fp8")] - weights[("B200", "bf16")]
    assert blackwell == pytest.approx(hopper / 2, abs=2e-3)  # GiB, rounded to 3 places
    assert weights[("B200", "mxfp8")] - weights[("B200", "bf16")] > hopper


def test_megatron_fsdp_shards_weights_and_grads():
    spec = resolve_model("llama3-8b")
    dist = estimate_memory(spec, Layout(dp=8, gbs=64), H100, seq_len=4096)
    fsdp = estimate_memory(spec, Layout(dp=8, gbs=64, use_megatron_fsdp=True), H100, seq_len=4096)
    assert fsdp.breakdown.gradients == pytest.approx(dist.breakdown.gradients / 8, rel=0.01)
    assert fsdp.breakdown.weights < dist.breakdown.weights / 4


def test_kv_replication_costs_memory_beyond_kv_heads():
    spec = resolve_model("llama3-8b")
    tp8 = memory_by_stage(spec, Layout(tp=8, dp=2, sp=True, gbs=16), seq_len=4096, world_size=16)[0]
    tp16 = memory_by_stage(spec, Layout(tp=16, dp=1, sp=True, gbs=16), seq_len=4096, world_size=16)[
        0
    ]
    # perfect halving would be tp8/2; replicated KV heads keep TP16 above it
    assert tp16.weights > tp8.weights / 2 * 1.01


def test_most_loaded_stage_is_reported():
    spec = resolve_model("llama3-70b")
    layout = Layout(tp=8, pp=4, dp=2, sp=True, gbs=64)
    stages = memory_by_stage(spec, layout, seq_len=8192, world_size=64)
    mem = estimate_memory(spec, layout, H100, seq_len=8192, world_size=64)
    assert mem.per_gpu_gib == pytest.approx(max(s.total for s in stages) / GIB, abs=0.01)
    # stage 0 holds PP in-flight microbatches, the last stage one
    assert stages[0].activations > 3 * stages[-1].activations


LLAMA3_8B = resolve_model("meta-llama/Meta-Llama-3-8B")


def test_te_layer_activations_llama3_8b_by_hand():
    # h = 4096, 8 KV heads × 128 = 1024, f = 14336, 16 bit, TP 1, bytes per token per layer:
    # norm in + out 2×(2h+2h), Q 2h, K+V 2·2·1024, attention output 2h, fc1 out 2·2f,
    # SwiGLU out 2f = 12h + 4096 + 6f = 139264
    shapes = model_shapes(LLAMA3_8B)
    layout = Layout(dp=8, gbs=64)
    bf16 = layer_activation_bytes_per_token(shapes, layout, shapes.layers[0], "bf16")
    assert bf16 == 12 * 4096 + 4096 + 6 * 14336
    # FP8: the two norm outputs and the SwiGLU output are kept as fp8 GEMM inputs (−2h − f);
    # the attention output is kept twice, 16-bit for attention's backward, fp8 for
    # linear_proj's (+h)
    fp8 = layer_activation_bytes_per_token(shapes, layout, shapes.layers[0], "fp8")
    assert fp8 == bf16 - 2 * 4096 - 14336 + 4096


def test_mamba_layer_activations_by_hand():
    # Nemotron-H 8B's Mamba layer (h 4096; 128 heads of 64 → inner 8192; 8 groups of state
    # 128): Megatron's memory-efficient path keeps in_proj's output (2·inner + 2·8·128 + 128
    # wide), the ungated scan output and the norm's input (inner each), and out_proj's input
    # (inner, fp8 in FP8 runs); the convolution is recomputed in backward. Plus the layer
    # norm's input and output (h each). 16 bit, TP 1:
    spec = resolve_model("nvidia/Nemotron-H-8B-Base-8K")
    shapes = model_shapes(spec)
    mamba = next(k for k in shapes.layers if any(a[0] == "mamba" for a in k.acts))
    layout = Layout(dp=8, gbs=64)
    width = 2 * 8192 + 2 * 8 * 128 + 128
    bf16 = layer_activation_bytes_per_token(shapes, layout, mamba, "bf16")
    assert bf16 == 2 * (4096 + 4096) + 2 * width + 6 * 8192
    # FP8: the norm output (in_proj's input) and out_proj's input are kept as fp8
    fp8 = layer_activation_bytes_per_token(shapes, layout, mamba, "fp8")
    assert fp8 == bf16 - 4096 - 8192


QWEN3_NEXT = resolve_model("Qwen/Qwen3-Next-80B-A3B-Instruct")
MOE_ACTS = ("mlp_norm_in", "moe_ln_out", "router", "moe_tokens", "moe_fc1_out", "moe_act_out")


def _mixer_only(layer):
    # the layer with its MoE half left out, to check the mixer's tensors alone
    skip = MOE_ACTS + ("shared_fc1_out", "shared_act_out", "shared_in_cast")
    return replace(layer, acts=tuple(a for a in layer.acts if a[0] not in skip))


def test_gdn_layer_activations_by_hand():
    # Qwen3-Next-80B's gated DeltaNet (h 2048; 16 key heads and 32 value heads of 128:
    # qk 2048, v 4096). Megatron-Core gated_delta_net.py copies q, k, v, gate, beta, alpha
    # out of in_proj's output (freed). Kept, 16 bit unless said: the conv input (causal_conv1d
    # saves x) 2·(2·2048 + 4096); l2norm's outputs q, k 2·2·2048; q, k repeated to 32 heads
    # 2·2·4096 and v 2·4096 (fla chunk_gated_delta_rule saves q, k, v, g, beta, A); A
    # 2·64·32; the norm's input, its output and the gate 3·2·4096; per head: softplus in/out
    # and the cumulative decay in fp32, beta 2 B (14·32), l2norm rstd fp32 (2·4·16);
    # out_proj's input 2·4096; the layer norm's input and output 2·2·2048. TP 1:
    shapes = model_shapes(QWEN3_NEXT)
    gdn = _mixer_only(next(k for k in shapes.layers if any(a[0] == "gdn" for a in k.acts)))
    layout = Layout(dp=8, gbs=64)
    core = 2 * 8192 + 4 * 2048 + 4 * 4096 + 2 * 4096 + 128 * 32 + 6 * 4096 + 14 * 32 + 8 * 16
    bf16 = layer_activation_bytes_per_token(shapes, layout, gdn, "bf16")
    assert bf16 == 4 * 2048 + core + 2 * 4096
    # FP8: in_proj's and out_proj's inputs are kept as fp8
    assert layer_activation_bytes_per_token(shapes, layout, gdn, "fp8") == bf16 - 2048 - 4096


def test_gated_attention_layer_activations_by_hand():
    # Qwen3-Next-80B's full attention (h 2048; 16 heads of 256 = 4096 with an output gate as
    # wide; 2 KV heads of 256). linear_qkv's output holds Q and the gate (2·2·4096), K and V
    # (2·2·512); flash attention keeps its output (2·4096) and the gated product
    # out·sigmoid(gate) is a tensor of its own, linear_proj's input (2·4096: Megatron-Core
    # attention.py _apply_output_gate); the layer norm's input and output 2·2·2048. TP 1:
    shapes = model_shapes(QWEN3_NEXT)
    attn = _mixer_only(next(k for k in shapes.layers if any(a[0] == "attn_q" for a in k.acts)))
    layout = Layout(dp=8, gbs=64)
    bf16 = layer_activation_bytes_per_token(shapes, layout, attn, "bf16")
    assert bf16 == 4 * 2048 + 4 * 4096 + 4 * 512 + 2 * 4096 + 2 * 4096
    # FP8: linear_qkv's and linear_proj's inputs are kept as fp8, attention's output at 16 bit
    assert layer_activation_bytes_per_token(shapes, layout, attn, "fp8") == bf16 - 2048 - 4096


def test_moe_layer_activations_by_hand():
    # DeepSeek-V3's MoE half (h 7168; 256 experts, top 8 of width 2048; one shared expert
    # of 2048), 16 bit, TP 1: the norm's input and output 2·2·7168 (the output is the
    # router's saved input: Megatron-Core RouterGatingLinearFunction saves inp as given);
    # fp32 router logits and probabilities 8·256; 8 permuted copies of each token
    # (GroupedLinear fc1's input) 8·2·7168, their fc1 output 8·2·4096 and SwiGLU output
    # 8·2·2048; the shared expert's fc1 output 2·4096 and SwiGLU output 2·2048
    shapes = model_shapes(resolve_model("deepseek-v3"))
    moe = shapes.layers[-1]
    half = replace(moe, acts=tuple(a for a in moe.acts if a[0] in MOE_ACTS or "shared" in a[0]))
    layout = Layout(dp=8, gbs=64)
    bf16 = layer_activation_bytes_per_token(shapes, layout, half, "bf16")
    assert bf16 == 4 * 7168 + 8 * 256 + 16 * 7168 + 16 * 4096 + 16 * 2048 + 2 * 4096 + 2 * 2048
    # FP8: the GEMM inputs (permuted tokens, both SwiGLU outputs) are kept as fp8, and the
    # shared expert's linear_fc1 keeps its own fp8 cast of the norm output (+h), which the
    # router holds at 16 bit
    fp8 = layer_activation_bytes_per_token(shapes, layout, half, "fp8")
    assert fp8 == bf16 - 8 * 7168 - 8 * 2048 - 2048 + 7168


def test_offloaded_modules_drop_their_inputs():
    shapes = model_shapes(resolve_model("qwen3-30b-a3b"))
    layout = Layout(ep=8, dp=8, gbs=64)
    moe = shapes.layers[0]
    sizes = dict((name, size) for name, _, size in moe.acts)
    full = layer_activation_bytes_per_token(shapes, layout, moe)
    fc1 = layer_activation_bytes_per_token(shapes, layout, moe, offload_modules=("expert_fc1",))
    assert full - fc1 == pytest.approx(sizes["moe_tokens"])
    attn = layer_activation_bytes_per_token(
        shapes, layout, moe, offload_modules=("core_attn", "attn_proj")
    )
    assert full - attn == pytest.approx(sizes["attn_q"] + sizes["attn_kv"] + sizes["attn_out"])


def test_muon_keeps_one_fp32_moment_and_dist_muon_shards_it():
    layout = Layout(tp=1, dp=8, gbs=64, use_distributed_optimizer=False)
    adam = state_parts("llama3-8b", layout, 8, Knobs())
    muon = state_parts("llama3-8b", layout, 8, Knobs(optimizer="muon"))
    dist = state_parts("llama3-8b", layout, 8, Knobs(optimizer="dist_muon"))
    # 12 B/param (Adam) → 8 B for linear weights; embeddings and norms keep Adam
    assert 8 / 12 < muon.optimizer / adam.optimizer < 0.75
    assert dist.optimizer == pytest.approx(muon.optimizer / 8)
    assert muon.gradients == adam.gradients


def test_frozen_language_model_keeps_weights_without_grads():
    spec = resolve_model("Qwen/Qwen3-VL-8B-Instruct")
    layout = Layout(tp=2, dp=4, sp=True, gbs=32)
    trained = state_parts(spec, layout, 8, Knobs())
    frozen = state_parts(spec, layout, 8, Knobs(frozen=("language",)))
    vision = spec.extra["vision_encoder"]["params_computed"] / 2  # per TP rank
    assert vision > 1e8
    assert frozen.weights == trained.weights
    assert frozen.gradients == pytest.approx(4.0 * vision)
    assert frozen.optimizer == pytest.approx(12.0 * vision / 4)


def test_uneven_layers_are_sized_with_the_balanced_layout():
    dsv3 = resolve_model("deepseek-v3")
    bare = Layout(tp=2, pp=16, dp=64, ep=64, etp=1, sp=True, gbs=8192)
    assumed = bare.model_copy(update={"pipeline_layout": balanced_layout(61, 16, 1, 1)})
    m = estimate_memory(dsv3, bare, H100, seq_len=4096, world_size=2048)
    same = estimate_memory(dsv3, assumed, H100, seq_len=4096, world_size=2048)
    assert m.per_gpu_gib == same.per_gpu_gib
    assert any("do not split evenly" in note for note in m.assumptions)
    # a split the layout sets itself and Megatron rejects still raises
    with pytest.raises(StageSplitError):
        estimate_memory(
            dsv3, bare.model_copy(update={"first_stage_layers": 2}), H100, seq_len=4096,
            world_size=2048,
        )  # fmt: skip


def test_layernorm_recompute_only_frees_norms_that_are_modules():
    # Transformer Engine fuses a dense layer's norms into the next linear (IdentityOp in the
    # layer, which Megatron's "layernorm" recompute skips); a MoE layer's pre-MLP norm is its
    # own module, whose 16-bit output (the router's input) recompute frees
    def per_token(model, modules):
        shapes = model_shapes(resolve_model(model))
        layout = Layout(ep=8 if shapes.experts else 1, dp=8, gbs=64, recompute="selective",
                        recompute_modules=modules)  # fmt: skip
        return layer_activation_bytes_per_token(shapes, layout, shapes.layers[-1])

    assert per_token("llama3-8b", ["layernorm"]) == per_token("llama3-8b", ["core_attn"])
    h = 2048  # Qwen3-30B-A3B
    assert per_token("qwen3-30b-a3b", ["core_attn"]) - per_token(
        "qwen3-30b-a3b", ["layernorm"]
    ) == pytest.approx(2 * h)
    # "mlp" checkpoints the dense MLP from its input: fused norm output, fc1 and SwiGLU outputs
    h, f = 4096, 14336
    assert per_token("llama3-8b", ["core_attn"]) - per_token("llama3-8b", ["mlp"]) == (
        2 * h + 4 * f + 2 * f
    )


def test_ep_overlap_holds_one_more_interleaved_chunk():
    # get_pp_rank_microbatches: warm-up 2(p-r-1) + (v-1)·p, +1 with the EP all-to-all overlap;
    # rank 0 at p = 4, v = 2: 6 + 4 = 10 warm-up forwards, 11 chunks held at the peak, 12 with
    # the overlap
    shapes = model_shapes(resolve_model("qwen3-30b-a3b"))
    layout = Layout(pp=4, vp=2, ep=8, dp=4, gbs=256)
    stage = layers_per_stage(shapes.num_layers, layout)[0]

    def stored(overlap):
        return stage_activation_bytes(
            shapes, layout, stage, seq_len=4096, microbatches=64, ep_overlap=overlap
        )[0]

    assert stored(True) / stored(False) == pytest.approx(12 / 11)


def test_uneven_layers_count_embedding_and_loss_when_that_divides():
    # Llama 3.1 405B: 126 layers + embedding + loss = 128 slots over PP16 × VP8, as Bridge's
    # 405B recipes set it; the bare layout is sized the same way
    spec = resolve_model("meta-llama/Meta-Llama-3.1-405B")
    bare = Layout(tp=4, pp=16, vp=8, dp=4, sp=True, gbs=1536)
    flagged = bare.model_copy(update={"account_for_embedding": True, "account_for_loss": True})
    gb200 = resolve_gpu("gb200")
    m = estimate_memory(spec, bare, gb200, seq_len=8192, world_size=256)
    assert m.per_gpu_gib == estimate_memory(spec, flagged, gb200, seq_len=8192).per_gpu_gib
    assert any("account_for_embedding_in_pipeline_split" in note for note in m.assumptions)


def test_estimate_sizes_a_layout_whose_layers_do_not_divide():
    from autorecipe import api

    c = api.estimate("deepseek-v3", gpus=2048, gpu_type="h100", tp=2, pp=16, ep=64, gbs=8192)
    assert c.layout.pipeline_layout == balanced_layout(61, 16, 1, 1)
    assert any(f.id == "pipeline_split" and f.severity == "info" for f in c.findings)
    assert c.memory.per_gpu_gib > 0


def test_microbatch_group_sets_the_interleaved_warm_up():
    # warm-up 2(p-r-1) + (v-1)·G: rank 0 at p = 4, v = 2 holds 6 + G + 1 chunks
    shapes = model_shapes(resolve_model("llama3-8b"))
    layout = Layout(pp=4, vp=2, dp=2, gbs=128)
    stage = layers_per_stage(shapes.num_layers, layout)[0]

    def stored(group):
        return stage_activation_bytes(
            shapes, layout, stage, seq_len=4096, microbatches=64, vp_group=group
        )[0]

    assert stored(None) == stored(4)
    assert stored(8) / stored(4) == pytest.approx(15 / 11)


def test_fine_tuning_estimates_say_they_size_full_length_samples():
    spec = resolve_model("llama3-8b")
    layout = Layout(dp=8, gbs=64)
    sft = estimate_memory(spec, layout, H100, seq_len=4096, mode="sft")
    pretrain = estimate_memory(spec, layout, H100, seq_len=4096)
    assert any("padded to its longest sample" in n for n in sft.assumptions)
    assert not any("padded to its longest sample" in n for n in pretrain.assumptions)
