"""The models the build script adds to the shared table (Llama 2 13B/70B, Nemotron-4 340B):
their bundled dims, their parameter counts against the published figures, and the CLI on
the layouts of their published training-throughput rows."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autorecipe.catalog.layers import is_gated
from autorecipe.catalog.models import catalog_entries, catalog_spec, resolve_model
from autorecipe.catalog.params import count_params

LLAMA2_13B = "meta-llama/Llama-2-13b-hf"
LLAMA2_70B = "meta-llama/Llama-2-70b-hf"
NEMOTRON4_340B = "nvidia/Nemotron-4-340B-Base"

# (layers, hidden, ffn, heads, kv heads, head_dim, vocab, positions) from the sources the
# build script cites: HF config.json copies for Llama 2, NVIDIA's provider for Nemotron-4.
DIMS = {
    LLAMA2_13B: (40, 5120, 13824, 40, 40, 128, 32000, 4096),
    LLAMA2_70B: (80, 8192, 28672, 64, 8, 128, 32000, 4096),
    NEMOTRON4_340B: (96, 18432, 73728, 96, 8, 192, 256000, 4096),
}
FIELDS = (
    "num_hidden_layers hidden_size intermediate_size num_attention_heads num_key_value_heads "
    "head_dim vocab_size max_position_embeddings"
).split()


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = "from autorecipe.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


@pytest.mark.parametrize("hf_id", sorted(DIMS))
def test_bundled_dims(hf_id):
    entry = catalog_entries()[hf_id]
    assert tuple(entry[f] for f in FIELDS) == DIMS[hf_id]
    assert entry["tie_word_embeddings"] is False
    assert entry["architecture_type"] == "dense" and entry["supported"]
    assert entry["num_experts"] is None and entry["kv_lora_rank"] is None
    assert entry["source"] and entry["other_sources"] and entry["verification"]


def test_llama2_is_a_llama_swiglu_rmsnorm_model():
    for hf_id in (LLAMA2_13B, LLAMA2_70B):
        spec = catalog_spec(hf_id)
        assert (spec.model_type, spec.family, spec.activation, spec.norm) == (
            "llama",
            "llama",
            "swiglu",
            "RMSNorm",
        )
        assert is_gated(spec)
        assert not spec.unverified


def test_nemotron4_is_squared_relu_not_gated_with_layernorm():
    spec = catalog_spec(NEMOTRON4_340B)
    assert (spec.model_type, spec.family, spec.activation, spec.norm) == (
        "nemotron",
        "nemotron-4",
        "squared_relu",
        "LayerNorm",
    )
    assert not is_gated(spec)
    # Two MLP projections (up, down) per layer, not three.
    counts = count_params(spec)
    assert counts.components["mlp"] == 96 * 2 * 18432 * 73728
    # vocab_size comes from no NVIDIA config we read: the entry says so.
    assert spec.unverified


def test_llama2_13b_total_matches_the_model_card():
    total = count_params(catalog_spec(LLAMA2_13B)).total
    assert total == pytest.approx(13.0e9, abs=0.05e9)  # card: 13B
    assert total == 13_015_864_320


def test_llama2_70b_total_is_the_70b_size_class():
    # Meta's "70B" names the size class; the config dims count 68.98B (GQA shrinks K/V).
    total = count_params(catalog_spec(LLAMA2_70B)).total
    assert total == 68_976_648_192
    assert total == pytest.approx(70e9, rel=0.016)
    check = catalog_entries()[LLAMA2_70B]["extra"]["published_check"]
    assert check["total"] == "70B" and "68.98B" in check["discrepancy"]


def test_nemotron4_340b_matches_the_report_split():
    # Tech report: 9.4 billion embedding and 331.6 billion non-embedding parameters.
    counts = count_params(catalog_spec(NEMOTRON4_340B))
    embeddings = counts.components["embedding"] + counts.components["output_layer"]
    assert round(embeddings / 1e9, 1) == 9.4
    assert round((counts.total - embeddings) / 1e9, 1) == 331.6
    assert counts.total == pytest.approx(341.0e9, abs=0.05e9)


@pytest.mark.parametrize(
    "name, hf_id",
    [
        ("llama2-13b", LLAMA2_13B),
        ("Llama 2 13B", LLAMA2_13B),
        ("llama2_13b", LLAMA2_13B),
        ("meta-llama/Llama-2-13b", LLAMA2_13B),
        ("llama2-70b", LLAMA2_70B),
        ("Llama 2 70B", LLAMA2_70B),
        ("meta-llama/Llama-2-70b", LLAMA2_70B),
        ("nemotron-4-340b", NEMOTRON4_340B),
        ("Nemotron-4 340B", NEMOTRON4_340B),
        ("nemotron4_340b", NEMOTRON4_340B),
    ],
)
def test_names_resolve(name, hf_id):
    assert resolve_model(name).hf_id == hf_id


def test_model_command_reports_the_counts():
    proc = _cli("model", "nemotron-4-340b", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["spec"]["hf_id"] == NEMOTRON4_340B
    assert doc["params"]["total"] == pytest.approx(341.0e9, abs=0.05e9)


@pytest.mark.parametrize(
    "model, gpus, tp, pp, vp",
    [(LLAMA2_70B, "64", "4", "4", "20"), (NEMOTRON4_340B, "128", "8", "8", "12")],
)
def test_estimate_runs_on_the_published_layouts(model, gpus, tp, pp, vp):
    # The layouts of the NeMo 24.07 pretraining rows in tests/data/perf-calibration.csv.
    proc = _cli(
        "estimate", "-m", model, "-n", gpus, "-g", "h100", "-tp", tp, "-pp", pp, "-vp", vp,
        "--precision", "fp8", "-s", "4096", "--json",
    )  # fmt: skip
    # 0: fits; 1: a finding (e.g. does not fit); 2/3 would be a refusal or a bug.
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["layout"]["tp"] == int(tp) and doc["layout"]["pp"] == int(pp)
    assert doc["layout"]["vp"] == int(vp)
    assert doc["throughput"]["tokens_per_sec_per_gpu"] > 0
