"""`autorecipe check` and `autorecipe rules` end to end, through the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("autorecipe") or str(Path(sys.executable).parent / "autorecipe")

RNG_FIX = "model.use_te_rng_tracker=true rng.te_rng_tracker=true"
GRAPHS = [
    "model.cuda_graph_impl=transformer_engine",
    "model.cuda_graph_scope=[attn,moe_router,moe_preprocess]",
]
QWEN30 = "qwen3_30b_a3b_pretrain_8gpu_h100_bf16_config"  # the 0.6.2 Qwen3-30B-A3B pretrain recipe without graphs


def run(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": str(Path(sys.executable).parent), "AUTORECIPE_INDEX": "0.6.2"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=60)


def check_json(*args: str) -> tuple[int, dict]:
    proc = run("check", *args, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_case_8_cuda_graphs_without_the_rng_tracker():
    _, doc = check_json("--recipe", QWEN30, "--gpus", "8", "--gpu-type", "h100", *GRAPHS)
    rng = [f for f in doc["findings"] if f["id"] == "AR201"]
    assert len(rng) == 1 and rng[0]["fix"] == RNG_FIX
    classes = {c["key"]: c["class"] for c in doc["changes"]}
    assert classes == {"model.cuda_graph_impl": "execution", "model.cuda_graph_scope": "execution"}


def test_case_8_with_the_rng_tracker_has_no_rng_finding():
    _, doc = check_json(
        "--recipe",
        QWEN30,
        "--gpus",
        "8",
        "--gpu-type",
        "h100",
        *GRAPHS,
        *RNG_FIX.replace("true", "True").split(),
    )
    assert "AR201" not in {f["id"] for f in doc["findings"]}


def test_case_8_on_the_recipe_that_already_enables_graphs():
    # qwen3_30b_a3b_pretrain_config (16 H100) ships TE graphs with the tracker on
    _, doc = check_json("--recipe", "qwen3_30b_a3b_pretrain_config", *GRAPHS)
    assert "AR201" not in {f["id"] for f in doc["findings"]}


def test_case_9_tp16_on_llama3_8b_is_warnings_only():
    # the recipe runs CP=2, so TP=16 on 16 GPUs also needs -cp 1
    code, doc = check_json(
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "16",
        "--gpu-type",
        "h100",
        "-tp",
        "16",
        "-cp",
        "1",
    )
    assert code == 0
    assert {f["severity"] for f in doc["findings"]} <= {"warning", "info"}
    ids = {f["id"] for f in doc["findings"]}
    assert {"AR104", "AR107"} <= ids  # KV heads replicated; TP crosses the NVLink domain


def test_case_9_tp6_is_an_error_listing_valid_tps():
    code, doc = check_json(
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "12",
        "--gpu-type",
        "h100",
        "-tp",
        "6",
        "-cp",
        "1",
    )
    assert code == 1
    heads = next(f for f in doc["findings"] if f["id"] == "AR103")
    assert heads["severity"] == "error" and "32 attention heads" in heads["message"]
    assert "1, 2, 4, 8, 16, 32" in heads["fix"]


def test_tp16_with_the_recipes_own_cp_is_an_error():
    code, doc = check_json(
        "--recipe", "llama3_8b_pretrain_config", "--gpus", "16", "--gpu-type", "h100", "-tp", "16"
    )
    assert code == 1 and "AR101" in {f["id"] for f in doc["findings"] if f["severity"] == "error"}


def test_case_13_malformed_override_names_key_and_type():
    proc = run(
        "check", "--recipe", "llama3_8b_pretrain_config", "model.tensor_model_parallel_size=two"
    )
    assert proc.returncode == 2
    assert "model.tensor_model_parallel_size" in proc.stderr and "integer" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--recipe", "llama3_8b_pretrain_config", "model.tensor_model_paralel_size=2"],
            ["model.tensor_model_parallel_size"],
        ),
        (["--recipe", "llama3_8b_pretrian_config"], ["llama3_8b_pretrain_config"]),
        (["--recipe", "llama3_8b_pretrain_config", "--gpu-type", "h900"], ["h900"]),
        (["--recipe", "llama3_8b_pretrain_config", "--format", "xml"], ["text, json or github"]),
    ],
)
def test_bad_input_exits_2_with_one_line(args, words):
    proc = run("check", *args)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_clean_config_exits_0_and_text_output_names_the_recipe():
    proc = run(
        "check",
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "8",
        "--gpu-type",
        "h100",
        "-gb",
        "512",
    )
    assert proc.returncode == 0, proc.stdout
    assert "llama3_8b_pretrain_config" in proc.stdout and "0 errors" in proc.stdout


def test_github_format_annotates_errors():
    proc = run(
        "check",
        "--recipe",
        "llama3_8b_pretrain_config",
        "--gpus",
        "12",
        "--gpu-type",
        "h100",
        "-tp",
        "6",
        "-cp",
        "1",
        "--format",
        "github",
    )
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("::error title=AR103") for line in lines)
    assert all(line.startswith(("::error", "::warning", "::notice")) for line in lines)


def test_change_classes_cover_all_three():
    _, doc = check_json(
        "--recipe",
        "qwen3_30b_a3b_pretrain_config",
        "-ep",
        "8",
        "train.global_batch_size=512",
        "model.moe_router_force_load_balancing=true",
    )
    classes = {c["key"]: c["class"] for c in doc["changes"]}
    assert classes == {
        "model.expert_model_parallel_size": "execution",
        "train.global_batch_size": "convergence",
        "model.moe_router_force_load_balancing": "benchmark-only",
    }
    assert all(c["reason"] for c in doc["changes"])


def test_rules_lists_and_explains():
    listing = run("rules")
    assert listing.returncode == 0 and "AR201" in listing.stdout and "AR601" in listing.stdout
    one = run("rules", "AR201", "--json")
    doc = json.loads(one.stdout)
    assert doc["id"] == "AR201" and "use_te_rng_tracker" in doc["explanation"]
    bad = run("rules", "AR999")
    assert bad.returncode == 2 and "AR" in bad.stderr
