"""`autorecipe model` and `autorecipe gpus`: JSON contract, exit codes, recipes per model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autorecipe import api
from autorecipe.catalog.models import resolve_model
from autorecipe.errors import UserError
from autorecipe.index.load import load_index

CONFIGS = Path(__file__).parent / "data" / "hf_configs"


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = "from autorecipe.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_model_json_contract():
    proc = _cli("model", "qwen3 30b a3b", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["spec"]["hf_id"] == "Qwen/Qwen3-30B-A3B" and doc["spec"]["num_experts"] == 128
    assert doc["params"]["total"] > doc["params"]["active"] > 0
    assert doc["params"]["layers"][0]["kind"] == "attention+moe"
    assert "qwen3_30b_a3b_pretrain_config" in doc["recipes"]
    assert doc["flops"]["training_per_token"] == pytest.approx(
        3 * doc["flops"]["forward_per_token"]
    )


def test_model_from_config_path_and_people_output():
    proc = _cli("model", str(CONFIGS / "nemotron-h-8b.json"))
    assert proc.returncode == 0, proc.stderr
    assert "mamba" in proc.stdout and "Training FLOPs/token" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("model", "llama-9-13b"), "unknown model 'llama-9-13b'"),
        (("model", "llama3-8b", "--seq-len", "0"), "--seq-len must be a positive"),
        (("gpus", "tpu-v5"), "unknown GPU type"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    proc = _cli(*args)
    assert proc.returncode == 2
    assert (
        message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    )


def test_bad_config_json_exits_2(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    proc = _cli("model", str(path))
    assert proc.returncode == 2 and "not JSON" in proc.stderr


def test_gpus_json_lists_the_catalog_and_resolves_one():
    doc = json.loads(_cli("gpus", "--json").stdout)
    assert {g["key"] for g in doc["gpus"]} >= {"H100-SXM", "GB200-NVL72", "A100-40GB"}
    one = json.loads(_cli("gpus", "custom:mem=96,bf16=700", "--json").stdout)
    assert one["gpus"][0]["usable_memory_gib"] == 94


def test_seq_len_comes_from_the_pretrain_recipe_unless_given():
    info = api.model_info("meta-llama/Meta-Llama-3-8B")
    assert info.flops.seq_len == 8192 and info.flops.seq_len_from.startswith("llama3_8b_pretrain")
    assert (
        api.model_info("meta-llama/Meta-Llama-3-8B", seq_len=4096).flops.seq_len_from == "argument"
    )


def test_every_hf_id_of_the_bundled_index_resolves():
    ids = sorted({r.hf_model_id for r in load_index("0.6.2").recipes if r.hf_model_id})
    assert len(ids) > 80
    incomplete = []
    for hf_id in ids:
        try:
            assert resolve_model(hf_id).hf_id == hf_id
        except UserError as exc:  # known to the catalog, but its dims have no source yet
            assert "does not know its" in str(exc), hf_id
            incomplete.append(hf_id)
    assert incomplete == ["LGAI-EXAONE/EXAONE-4.5-33B", "LGAI-EXAONE/K-EXAONE-236B-A23B"]
    for hf_id in set(ids) - set(incomplete):
        assert api.model_info(hf_id).recipes, hf_id


def test_model_info_separates_library_and_benchmark_recipes() -> None:
    from autorecipe import api

    info = api.model_info("Qwen3-30B-A3B")
    assert "qwen3_30b_a3b_sft_config" in info.library_recipes
    assert "qwen3_30b_a3b_pretrain_16gpu_h100_fp8cs_config" in info.benchmark_recipes
    assert set(info.library_recipes) | set(info.benchmark_recipes) == set(info.recipes)
    assert info.recipe_families == ["qwen"]
