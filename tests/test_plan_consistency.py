"""`plan` and `estimate` agree: a plan row re-estimates to the same memory; --recipe plans
for the recipe's own mode; the sequence limit says which bound it is; a plan that spreads a
small global batch over too many GPUs says so."""

from __future__ import annotations

import pytest

from autorecipe import api
from autorecipe.errors import UserError
from cli_entry import one_line_error, run_cli

QWEN = dict(gpus=8, gpu_type="h100", mode="peft")


def test_a_selective_plan_row_names_its_modules_and_re_estimates_to_the_same_memory():
    rows = api.plan("Qwen/Qwen2.5-32B", **QWEN, top=40).candidates
    sel = next(c for c in rows if c.layout.recompute == "selective")
    lo = sel.layout
    assert lo.recompute_modules  # e.g. layernorm, mlp: not Megatron's default core_attn
    assert sel.overrides["model.recompute_modules"] == lo.recompute_modules
    assert sel.overrides["model.recompute_granularity"] == "selective"
    again = api.estimate(
        "Qwen/Qwen2.5-32B", **QWEN, tp=lo.tp, pp=lo.pp, vp=lo.vp, mbs=lo.mbs, gbs=lo.gbs,
        recompute_modules=",".join(lo.recompute_modules),
    )  # fmt: skip
    assert again.layout.recompute == "selective"
    assert again.memory.per_gpu_gib == pytest.approx(sel.memory.per_gpu_gib, abs=0.05)
    # plain selective is Megatron's default (core_attn), which keeps far more here
    default = api.estimate(
        "Qwen/Qwen2.5-32B", **QWEN, tp=lo.tp, pp=lo.pp, vp=lo.vp, mbs=lo.mbs, gbs=lo.gbs,
        recompute="selective",
    )  # fmt: skip
    assert default.layout.recompute_modules is None
    assert default.memory.per_gpu_gib > sel.memory.per_gpu_gib + 10


def test_cli_shows_modules_in_plan_and_estimate_and_refuses_unknown_ones():
    proc = run_cli("plan", "-m", "Qwen/Qwen2.5-32B", "--gpus", "8", "--gpu-type", "h100",
                   "--mode", "peft", "--top", "40")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "selective(layernorm,mlp)" in proc.stdout
    assert "…" not in proc.stdout  # no column truncated to fit 80 columns
    est = run_cli(
        "estimate", "-m", "Qwen/Qwen2.5-32B", "--gpus", "8", "--gpu-type", "h100", "--mode",
        "peft", "-pp", "2", "-vp", "4", "-mb", "2", "-gb", "128",
        "--recompute-modules", "layernorm,mlp",
    )  # fmt: skip
    assert est.returncode == 0, est.stderr
    assert "recompute=selective(layernorm,mlp)" in est.stdout and "— fits" in est.stdout
    base = ("estimate", "-m", "llama3-8b", "--gpus", "8", "--gpu-type", "h100")
    one_line_error(run_cli(*base, "--recompute-modules", "mlp,attn"), "attn", "layernorm")
    one_line_error(
        run_cli(*base, "--recompute", "full", "--recompute-modules", "mlp"), "needs --recompute"
    )


def test_recipe_mode_is_adopted_without_mode_and_a_different_mode_is_refused():
    result = api.plan("llama3-8b", gpus=8, gpu_type="h100", recipe="llama3_8b_peft_config")
    assert result.mode == "peft"
    best = result.candidates[0]
    assert best.findings[0].id == "recipe_mode" and "peft" in best.findings[0].message
    # PEFT memory: frozen base weights, no full optimizer state
    full = api.plan("llama3-8b", gpus=8, gpu_type="h100", mode="pretrain", global_batch_size=8)
    assert best.memory.per_gpu_gib < full.candidates[0].memory.per_gpu_gib
    proc = run_cli("plan", "-m", "llama3-8b", "--gpus", "8", "--gpu-type", "h100",
                   "--recipe", "llama3_8b_peft_config")  # fmt: skip
    assert proc.returncode == 0 and " · peft · " in proc.stdout and "recipe_mode" in proc.stdout
    proc = run_cli("plan", "-m", "llama3-8b", "--gpus", "8", "--gpu-type", "h100",
                   "--recipe", "llama3_8b_peft_config", "--mode", "pretrain")  # fmt: skip
    one_line_error(proc, "--mode pretrain", "llama3_8b_peft_config", "peft recipe")


def test_sequence_limit_says_which_bound_it_is():
    # Llama 3 8B: 8192 positions, but a shipped recipe trains 131072 tokens
    with pytest.raises(UserError) as err:
        api.plan("llama3-8b", gpus=8, gpu_type="h100", seq_len=10_000_000)
    text = str(err.value)
    assert "131072 tokens, the larger of its max_position_embeddings and its longest " in text
    assert "here its longest shipped recipe (131072; max_position_embeddings is 8192)" in text
    # Qwen2.5-32B: its max_position_embeddings is the limit
    with pytest.raises(UserError) as err:
        api.estimate("Qwen/Qwen2.5-32B", gpus=8, gpu_type="h100", seq_len=10_000_000)
    assert "here its max_position_embeddings (" in str(err.value)


def test_a_small_global_batch_on_many_gpus_is_flagged_with_numbers():
    result = api.plan(
        "moonshotai/Kimi-K2.5", mode="sft", gpus=1024, gpu_type="h100", seq_len=2048, top=3
    )
    best = result.candidates[0]
    found = [f for f in best.findings if f.id == "oversized-allocation"]
    assert len(found) == 1 and found[0].severity == "warning"
    message, fix = found[0].message, found[0].fix
    assert "256 tokens per step" in message and f"MFU {best.throughput.mfu:.1%}" in message
    assert "GBS 1024" in message and "train.global_batch_size to 1024" in fix
    assert "convergence change" in fix
    # enough work per GPU (or a healthy MFU): no such finding
    healthy = api.plan("llama3-8b", gpus=8, gpu_type="h100", top=1).candidates[0]
    assert all(f.id != "oversized-allocation" for f in healthy.findings)
    fed = api.plan(
        "moonshotai/Kimi-K2.5", mode="sft", gpus=1024, gpu_type="h100", seq_len=2048,
        global_batch_size=1024, top=1,
    ).candidates[0]  # fmt: skip
    assert all(f.id != "oversized-allocation" for f in fed.findings)
