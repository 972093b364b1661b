"""Every recipe of the bundled 0.6.2 index at its own layout, GPU count and GPU.

A shipped recipe the model says OOMs means the model or the recipe is wrong. Where model
state alone (weights, grads, optimizer: plain arithmetic on parameter counts) exceeds the
GPU, the recipe's named GPU count cannot run it; the rest are listed in
benchmarks/RESULTS.md with the reason.
"""

from __future__ import annotations

from collections import Counter

import pytest

from autorecipe.index.load import find_recipe, load_index
from autorecipe.layout.from_recipe import evaluate_recipe, recipe_layout


@pytest.fixture(scope="module")
def fits():
    index = load_index("0.6.2")
    return {r.name: (r, evaluate_recipe(r)) for r in index.recipes if not r.alias_of}


def test_every_recipe_is_evaluated(fits):
    statuses = Counter(f.status for _, f in fits.values())
    assert set(statuses) <= {"fits", "oom", "invalid", "unknown"}
    assert statuses["fits"] > 500


@pytest.mark.parametrize(
    "name",
    [
        "qwen3_30b_a3b_sft_config",  # acceptance case 1
        "qwen3_235b_a22b_peft_config",  # case 2
        "llama3_8b_128k_pretrain_config",  # case 3
        "deepseek_v3_pretrain_config",
        "qwen3_235b_a22b_pretrain_config",
        "llama3_70b_pretrain_64gpu_h100_bf16_config",
        "qwen3_30b_a3b_pretrain_config",
    ],
)
def test_headline_recipes_fit(name):
    recipe = find_recipe(load_index("0.6.2"), name)
    fit = evaluate_recipe(recipe)
    assert fit.status == "fits", fit.detail


def test_most_recipes_fit(fits):
    by_kind: dict[str, Counter] = {"library": Counter(), "benchmark": Counter()}
    for recipe, fit in fits.values():
        if fit.status in ("fits", "oom"):
            by_kind[recipe.kind][fit.status] += 1
    for kind, floor in (("library", 0.70), ("benchmark", 0.95)):
        c = by_kind[kind]
        assert c["fits"] / (c["fits"] + c["oom"]) >= floor, (kind, c)


def test_named_gpu_count_too_small_for_model_state(fits):
    # llama3_8b_pretrain_config (the "first time" recipe) is the 2-GPU TP1 CP2 layout: 8.0B
    # parameters × (2 + 4 + 12/2) B = 90 GiB of model state before any activation
    recipe, fit = fits["llama3_8b_pretrain_2gpu_h100_bf16_config"]
    b = fit.memory.breakdown
    assert fit.status == "oom"
    assert b.weights + b.gradients + b.optimizer > fit.memory.capacity_gib
    layout = recipe_layout(recipe).layout
    assert (layout.tp, layout.cp, layout.dp) == (1, 2, 1)
    # the 72B VLM LoRA recipe named "1gpu" holds 134 GiB of frozen bf16 weights on one GPU
    _, vl72 = fits["qwen25_vl_72b_peft_1gpu_h100_bf16_config"]
    assert vl72.memory.breakdown.weights > vl72.memory.capacity_gib
