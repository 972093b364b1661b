"""Acceptance cases 1-7 and 10-12 (shared/reference/acceptance-cases.md), end to end:
the installed `autorecipe` command in a subprocess, against the bundled 0.6.2 index."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RULES = (
    "TP divides num_key_value_heads",
    "TP within the NVLink domain",
    "SP when TP > 1",
    "CP for long context, with cp_comm_type",
    "DP is implicit",
    "dense and expert meshes each divide the world size",
    "reduce micro_batch_size first on OOM",
)
CLASSES = {"convergence", "execution", "benchmark-only"}


def autorecipe() -> str:
    return shutil.which("autorecipe") or str(Path(sys.executable).with_name("autorecipe"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "COLUMNS": "80", "HOME": str(Path.home())}
    return subprocess.run(
        [autorecipe(), "recommend", *args], capture_output=True, text=True, env=env, timeout=120
    )


def answer(*args: str) -> dict[str, Any]:
    proc = run(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def human(*args: str) -> str:
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def meshes_valid(lo: dict[str, Any], gpus: int, experts: int | None = None) -> None:
    assert lo["tp"] * lo["pp"] * lo["cp"] * lo["dp"] == gpus
    assert gpus % (lo["etp"] * lo["ep"] * lo["pp"]) == 0
    assert lo["sp"] == (lo["tp"] > 1)
    if experts:
        assert experts % lo["ep"] == 0
    assert lo["gbs"] % (lo["mbs"] * lo["dp"]) == 0


def sections(text: str) -> dict[str, list[str]]:
    """The human answer's sections by title (a title line ends in a rule of ─)."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.rstrip().endswith("──"):
            current = out.setdefault(line.rstrip(" ─"), [])
        else:
            current.append(line)
    return out


def readable_at_80(text: str, command: str) -> None:
    """Bullets wrap under their text; the command's lines come through whole."""
    parts = sections(text)
    for title in ("Why", "Overrides", "Rules that apply", "Pitfalls"):
        for line in parts[title]:
            assert line.startswith(("• ", "  ")) or not parts[title][0].startswith("• "), line
    assert "\n".join(command.splitlines()) in "\n".join(parts["Command"])
    long = [line for line in text.splitlines() if len(line) > 80]
    # only a single token too long to break may pass 80 columns
    assert all(len(line.split()) == 1 for line in long), long


def common_to_cases_1_to_4(args: tuple[str, ...], data: dict[str, Any]) -> None:
    assert "scripts/training/run_recipe.py" in data["command"]
    assert data["recipe"]["kind"] == "library"
    assert all(any(rule in r["rule"] for r in data["rules"]) for rule in RULES)
    for change in data["changes"]:
        assert change["class"] in CLASSES and change["reason"]
    text = human(*args)
    flat = " ".join(text.split())
    assert "benchmark recipes are upper-bound throughput configs on mock data" in flat
    for title in ("Recipe", "Why", "Command", "Overrides", "Rules that apply", "Pitfalls"):
        assert title in text
    assert max(len(line) for line in text.splitlines()) <= 80
    readable_at_80(text, data["command"])


def test_case_1_qwen3_30b_a3b_sft_on_16_h100() -> None:
    args = ("--model", "Qwen3 30B-A3B", "--mode", "sft", "--gpus", "16", "--gpu-type", "h100")
    data = answer(*args)
    assert data["recipe"]["name"] == "qwen3_30b_a3b_sft_config"
    assert data["recipe"]["alias_of"] == "qwen3_30b_a3b_sft_16gpu_h100_bf16_config"
    assert data["dataset"] in ("tulu3", "squad")
    cmd = data["command"]
    # two nodes: the shared environment is synced once, then run without syncing
    assert "uv run --no-sync python -m torch.distributed.run --nproc_per_node=8" in cmd
    assert "# Once, on the shared checkout: uv sync" in cmd
    assert "--nnodes=2" in cmd and "--node_rank=" in cmd
    assert f"--recipe qwen3_30b_a3b_sft_config \\\n    --dataset {data['dataset']}" in cmd
    meshes_valid(data["layout"], 16, experts=128)
    common_to_cases_1_to_4(args, data)


def test_case_2_qwen3_235b_a22b_peft_on_16_gpus_fits_80gb() -> None:
    args = (
        "--model",
        "Qwen/Qwen3-235B-A22B",
        "--mode",
        "peft",
        "--gpus",
        "16",
        "--gpu-type",
        "h100",
    )
    data = answer(*args)
    assert data["recipe"]["name"] == "qwen3_235b_a22b_peft_config"
    assert data["dataset"] not in ("mock",) and data["nodes"] == 2
    assert "--nnodes=2" in data["command"]
    assert data["memory"]["fits"] and data["memory"]["per_gpu_gib"] <= 80
    meshes_valid(data["layout"], 16, experts=128)
    common_to_cases_1_to_4(args, data)


def test_case_3_llama3_8b_pretrain_128k_on_fewer_gpus_than_the_recipe() -> None:
    args = (
        "--model",
        "llama3-8b",
        "--mode",
        "pretrain",
        "--gpus",
        "16",
        "--gpu-type",
        "h100",
        "--seq-len",
        "128k",
    )
    data = answer(*args)
    assert data["recipe"]["name"] == "llama3_8b_128k_pretrain_config"
    assert data["dataset"] == "mock"
    assert (
        data["recipe_gpus"] == 64
    )  # the recipe's source: llama3_8b_pretrain_64gpu_h100_bf16_128k_config
    assert data["recipe_layout"]["cp"] > 1
    if data["layout"] is None:
        assert data["findings"][0]["id"] == "no-valid-layout"
    else:
        assert data["layout"]["cp"] > 1 and not data["layout_kept"]
        meshes_valid(data["layout"], 16)
    assert "tuned for 64 GPUs" in human(*args)
    common_to_cases_1_to_4(args, data)


def test_case_4_first_time() -> None:
    args = ("--first-time",)
    data = answer(*args)
    assert data["recipe"]["name"] == "llama3_8b_pretrain_config"
    assert data["dataset"] == "mock"
    assert "--dataset mock" in data["command"]
    common_to_cases_1_to_4(args, data)


def test_case_5_llama3_8b_pretrain_on_one_node_grows_dp_not_gbs() -> None:
    data = answer(
        "--model", "Llama 3 8B", "--mode", "pretrain", "--gpus", "8", "--gpu-type", "h100"
    )
    assert data["recipe"]["name"] == "llama3_8b_pretrain_config"
    before, after = data["recipe_layout"], data["layout"]
    assert after["dp"] > before["dp"] and after["gbs"] == before["gbs"]
    assert (after["tp"], after["pp"], after["cp"]) == (before["tp"], before["pp"], before["cp"])
    assert "train.global_batch_size" not in data["overrides"]
    assert data["layout_kept"]


def test_case_6_qwen3_30b_a3b_sft_on_4_gpus() -> None:
    data = answer("--model", "Qwen3-30B-A3B", "--mode", "sft", "--gpus", "4", "--gpu-type", "h100")
    assert data["recipe"]["name"].startswith("qwen3_30b_a3b_sft")
    lo = data["layout"]
    assert 4 % lo["ep"] == 0
    meshes_valid(lo, 4, experts=128)
    memory = data["memory"]
    assert memory["capacity_gib"] <= 80
    if not memory["fits"]:
        fix = next(f for f in data["findings"] if f["id"] == "memory")["fix"]
        assert "recipe is tuned for 8 GPUs" in fix and "--mode peft" in fix
        assert f"planner finds a layout that fits is {data['fits_from_gpus']}" in fix


def test_case_7_llama3_8b_at_32k_on_8_gpus() -> None:
    data = answer(
        "--model",
        "Llama 3 8B",
        "--mode",
        "pretrain",
        "--gpus",
        "8",
        "--gpu-type",
        "h100",
        "--seq-len",
        "32768",
    )
    assert data["overrides"]["dataset.seq_length"] == 32768
    assert "model.seq_length" not in data["overrides"]
    assert "dataset.seq_length=32768" in data["command"]
    lo = data["layout"]
    assert lo["cp"] in (2, 4, 8) and lo["cp_comm_type"]
    meshes_valid(lo, 8)
    change = next(c for c in data["changes"] if c["key"] == "dataset.seq_length")
    assert change["class"] == "convergence"


def test_case_10_deepseek_v3_pretrain_on_256_h100() -> None:
    data = answer(
        "--model", "DeepSeek-V3", "--mode", "pretrain", "--gpus", "256", "--gpu-type", "h100"
    )
    assert data["recipe"]["name"].startswith("deepseek_v3_pretrain")
    meshes_valid(data["layout"], 256, experts=256)
    assert data["layout"]["pp"] > 1
    assert data["memory"]["per_gpu_gib"] > 0
    assert data["recipe_gpus"] == 256
    # The recipe ships PP without VP. Decided: interleaving is optional, execution-only
    # tuning in its own list (a predicted speed-up to measure), not in the command.
    lo = data["layout"]
    if lo["vp"] is None:
        tune = next(t for t in data["tuning"] if t["layout"]["vp"])
        vp_key = "model.virtual_pipeline_model_parallel_size"
        assert vp_key in tune["overrides"] and vp_key not in data["overrides"]
        assert vp_key not in data["command"]
        assert tune["layout"]["vp"] > 1 and tune["layout"]["pp"] == lo["pp"]
        assert {c["class"] for c in tune["changes"]} == {"execution"}
        assert tune["bubble_after_s"] < tune["bubble_before_s"]
        assert tune["throughput"]["step_time_s"] < tune["step_time_before_s"]
        assert tune["memory"]["fits"]
        stages = tune["layout"]["pipeline_layout"]
        if stages:
            assert stages.count("|") + 1 == lo["pp"] * tune["layout"]["vp"]
        meshes_valid(tune["layout"], 256, experts=256)
        text = human(
            "--model", "DeepSeek-V3", "--mode", "pretrain", "--gpus", "256", "--gpu-type", "h100"
        )
        assert "Tuning (optional" in text and f"VP={tune['layout']['vp']}" in text
        readable_at_80(text, data["command"])
    else:
        assert lo["vp"] > 1


def test_case_11_unknown_model() -> None:
    proc = run("--model", "llama-9-13b", "--mode", "sft", "--gpus", "8", "--gpu-type", "h100")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "llama" in lines[0].lower() and "config.json" in lines[0]


def plan_fits(gpus: int, recipe: str) -> bool:
    """The planner's own verdict (`autorecipe plan --recipe`), asked independently."""
    proc = subprocess.run(
        [autorecipe(), "plan", "--model", "Llama 3 70B", "--mode", "pretrain", "--gpus",
         str(gpus), "--gpu-type", "h100", "--recipe", recipe, "--top", "1", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["fits"]


def test_case_12_llama3_70b_on_12_gpus() -> None:
    args = ("--model", "Llama 3 70B", "--mode", "pretrain", "--gpus", "12", "--gpu-type", "h100")
    data = answer(*args)
    if data["layout"] is None:
        assert data["findings"][0]["id"] == "no-valid-layout"
        return
    lo = data["layout"]
    meshes_valid(lo, 12)
    # 8 + 4 is not one torchrun launch: equal nodes, each holding whole TP groups
    per_node = int(re.search(r"--nproc_per_node=(\d+)", data["command"])[1])
    assert per_node * data["nodes"] == 12 and per_node <= 8 and per_node % lo["tp"] == 0
    assert f"--nnodes={data['nodes']}" in data["command"]
    note = data["node_note"]
    assert "8 + 4" in note and "not a uniform torchrun launch" in note
    assert f"{data['nodes']} nodes × {per_node} GPUs" in note
    text = " ".join(human(*args).split())
    assert "8 + 4" in text
    if not data["memory"]["fits"]:
        smallest = data["fits_from_gpus"]
        memory = next(f for f in data["findings"] if f["id"] == "memory")
        assert memory["severity"] == "error"
        assert "No layout of 12 × H100-SXM fits full-parameter pretraining" in memory["message"]
        assert f"planner finds a layout that fits is {smallest}" in memory["fix"]
        assert "--mode peft" in memory["fix"] and "offload" in memory["fix"]
        recipe = data["recipe"]["name"]
        assert plan_fits(smallest, recipe) and not plan_fits(12, recipe)
        # smallest: no whole-node count in between fits either
        assert not any(plan_fits(n, recipe) for n in range(16, smallest, 8))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--gpus", "0"), "--gpus"),
        (("--gpus", "7.5"), "--gpus"),
        (("--mode", "sftt"), "sft"),
        (("--gpu-type", "h1000"), "GPU type"),
        (("--seq-len", "10000000"), "--seq-len"),
    ],
)
def test_bad_input_one_line_exit_2(args: tuple[str, ...], says: str) -> None:
    base = {"--model": "Llama 3 8B", "--mode": "sft", "--gpus": "8", "--gpu-type": "h100"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    proc = run(*[x for kv in base.items() for x in kv])
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert says in lines[0]


def test_help_shows_an_example() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "Example: autorecipe recommend" in proc.stdout
