"""Parameter counts match every published figure in the catalog, and add up."""

from __future__ import annotations

import re

import pytest

from autorecipe.catalog.models import catalog_entries, catalog_spec
from autorecipe.catalog.params import count_params
from autorecipe.catalog.spec import ModelSpec

CHECKS = {
    k: e["extra"]["published_check"]
    for k, e in catalog_entries().items()
    if "published_check" in e["extra"]
}


def _figure(text: str) -> tuple[float, float]:
    """(value, one unit in its last published digit): "5.1B" -> (5.1e9, 0.1e9)."""
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?([BT]?)", text)
    scale = {"B": 1e9, "T": 1e12, "": 1.0}[m.group(3)]
    decimals = len(m.group(2) or "")
    value = float(f"{m.group(1)}.{m.group(2) or 0}") * scale
    return value, (10.0**-decimals) * scale if m.group(3) else 1.0


def _agrees(count: float, text: str, rounding: str = "nearest") -> bool:
    """Within 1%, or within what the published figure's own precision allows."""
    value, unit = _figure(text)
    if rounding == "down":  # the publisher truncated: value <= true < value + unit
        return value <= count < value + unit or abs(count / value - 1) <= 0.01
    return abs(count - value) <= max(0.01 * value, unit / 2)


def _active(spec: ModelSpec, counts, convention: str) -> int:
    active = counts.active
    if convention in ("no_input_embedding", "no_embeddings") and not spec.tie_word_embeddings:
        active -= counts.active_components["embedding"]
    if convention == "no_embeddings":
        active -= counts.active_components.get("output_layer", 0)
    return active


def test_published_figures_cover_the_architectures():
    assert len(CHECKS) >= 25
    kinds = {catalog_spec(k).architecture_type for k in CHECKS}
    assert {
        "dense",
        "moe",
        "mla_moe",
        "hybrid_mamba",
        "hybrid_mamba_moe",
        "hybrid_linear_moe",
    } <= kinds


@pytest.mark.parametrize("hf_id", sorted(k for k, c in CHECKS.items() if "total" in c))
def test_total_matches_the_published_total(hf_id):
    check = CHECKS[hf_id]
    total = count_params(catalog_spec(hf_id)).total
    if "discrepancy" in check:
        pytest.xfail(check["discrepancy"])
    assert _agrees(total, check["total"]), (
        f"{total / 1e9:.3f}B vs {check['total']} ({check['source']})"
    )


@pytest.mark.parametrize("hf_id", sorted(k for k, c in CHECKS.items() if "active" in c))
def test_active_matches_the_published_active(hf_id):
    check = CHECKS[hf_id]
    spec = catalog_spec(hf_id)
    active = _active(spec, count_params(spec), check["active_counts"])
    rounding = check.get("active_rounding", "nearest")
    assert _agrees(active, check["active"], rounding), f"{active / 1e9:.3f}B vs {check['active']}"


def test_exact_checkpoint_counts():
    # Exact element counts of released checkpoints (shared data verification notes).
    assert count_params(
        catalog_spec("nvidia/NVIDIA-Nemotron-3-Nano-4B-BF16")
    ).total == pytest.approx(3_973_556_832, rel=1e-5)
    assert count_params(catalog_spec("Qwen/Qwen3-Next-80B-A3B-Instruct")).total == 79_674_391_296
    assert (
        count_params(catalog_spec("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")).total
        == 31_577_937_344
    )
    assert count_params(catalog_spec("Qwen/Qwen3.5-35B-A3B")).total == 34_660_610_688


def test_llama3_8b_by_hand():
    # 32 x (attention 4096*(4096 + 2*1024) + 4096*4096, MLP 3*4096*14336, 2 norms)
    # + embedding and untied output 2*128256*4096 + final norm.
    layer = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336 + 2 * 4096
    assert (
        count_params(catalog_spec("meta-llama/Meta-Llama-3-8B")).total
        == 32 * layer + 2 * 128256 * 4096 + 4096
    )


def test_components_add_up_and_dense_models_are_fully_active():
    for hf_id in (
        "meta-llama/Meta-Llama-3-8B",
        "google/gemma-2-9b",
        "deepseek-ai/DeepSeek-V3",
        "nvidia/Nemotron-H-8B-Base-8K",
    ):
        c = count_params(catalog_spec(hf_id))
        assert sum(c.components.values()) == c.total
        assert sum(c.active_components.values()) == c.active
        assert sum(g.params_per_layer * (g.last - g.first + 1) for g in c.layers) == (
            c.total
            - c.components["embedding"]
            - c.components.get("output_layer", 0)
            - catalog_spec(hf_id).hidden_size
        )
    dense = count_params(catalog_spec("meta-llama/Meta-Llama-3-8B"))
    assert dense.active == dense.total


def test_tied_embeddings_have_no_output_layer():
    c = count_params(catalog_spec("google/gemma-2-9b"))
    assert "output_layer" not in c.components and c.components["embedding"] == 256000 * 3584


def test_leading_dense_layers_and_mtp_are_reported():
    c = count_params(catalog_spec("deepseek-ai/DeepSeek-V3"))
    assert [(g.first, g.last, g.kind) for g in c.layers] == [
        (0, 2, "mla+dense"),
        (3, 60, "mla+moe"),
    ]
    # DeepSeek-V3's MTP module is about 14B (README: 671B + 14B = 685B on HF).
    assert 11e9 < c.mtp < 15e9


def test_hybrid_layers_follow_the_pattern():
    c = count_params(catalog_spec("nvidia/Nemotron-H-8B-Base-8K"))
    kinds = [g.kind for g in c.layers]
    assert kinds[:3] == ["mamba", "dense", "mamba"] and "attention" in kinds
    assert c.components["mamba"] > 0 and "routed_experts" not in c.components


def test_unsupported_architecture_counts_are_marked_approximate():
    c = count_params(catalog_spec("deepseek-ai/DeepSeek-V4-Flash"))
    assert any(n.startswith("approximate:") for n in c.notes)


def _leading_figure(text: str) -> float | None:
    m = re.match(r"~?\s*(?:LM decoder\s+)?([\d.]+)\s*([BT])\b", text)
    return float(m.group(1)) * {"B": 1e9, "T": 1e12}[m.group(2)] if m else None


def test_every_size_claim_in_the_shared_data_is_near_our_count():
    # Name-level figures ("8B (model name)") only state a size class: they bound gross
    # errors (a wrong layer count or width), not the 1% that published totals get.
    checked = 0
    for hf_id, entry in catalog_entries().items():
        claim = _leading_figure(entry.get("published_total_params") or "")
        if claim is None or any(
            entry.get(f) is None for f in ("num_hidden_layers", "hidden_size", "vocab_size")
        ):
            continue
        total = count_params(catalog_spec(hf_id)).total
        assert abs(total / claim - 1) < 0.15, (
            f"{hf_id}: {total / 1e9:.2f}B vs {entry['published_total_params']}"
        )
        checked += 1
    assert checked > 60
