"""`autorecipe plan` and `autorecipe estimate` through the real command line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

from typer.testing import CliRunner

from autorecipe.cli import app
from cli_entry import one_line_error, run_cli

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_plan_json_candidates_best_first():
    result = run(
        "plan", "--model", "llama3-8b", "--mode", "pretrain", "--gpus", "8",
        "--gpu-type", "h100", "--seq-len", "8192", "--top", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    cands = doc["candidates"]
    assert 1 <= len(cands) <= 4 and doc["fits"] is True
    for c in cands:
        lo = c["layout"]
        assert lo["tp"] * lo["pp"] * lo["cp"] * lo["dp"] == 8
        assert set(c["memory"]["breakdown"]) == {
            "weights", "gradients", "optimizer", "activations", "other"
        }  # fmt: skip
        assert c["memory"]["fits"] is True
    speeds = [c["throughput"]["tokens_per_sec_per_gpu"] for c in cands if c["throughput"]]
    # fastest first, except within the planner's speed tie band (seed preferences decide)
    from autorecipe.layout.search import SPEED_TIE_TOLERANCE

    for faster, slower in itertools.pairwise(speeds):
        assert faster >= slower / (1 + 2 * SPEED_TIE_TOLERANCE), speeds


def test_plan_table_and_nothing_fits_explanation():
    result = run("plan", "--model", "llama3-70b", "--gpus", "12", "--gpu-type", "h100")
    assert result.exit_code == 0, result.output
    assert "Nothing fits" in result.stdout
    assert "GPUs or more" in result.stdout


def test_plan_with_recipe_keeps_its_layout():
    result = run(
        "plan", "--model", "qwen3-30b-a3b", "--mode", "sft", "--gpus", "16", "--gpu-type",
        "h100", "--recipe", "qwen3_30b_a3b_sft_config", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["candidates"][0]
    assert best["recipe"]["name"] == "qwen3_30b_a3b_sft_config"
    assert (best["layout"]["ep"], best["layout"]["gbs"]) == (16, 32)


def test_estimate_json_and_warnings():
    result = run(
        "estimate", "--model", "llama3-8b", "--gpus", "16", "--gpu-type", "h100",
        "-tp", "16", "--seq-len", "8192", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["layout"]["sp"] is True and doc["layout"]["dp"] == 1
    assert {f["id"] for f in doc["findings"]} == {"tp_vs_query_groups", "tp_within_nvlink"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autorecipe", *args], capture_output=True, text=True, timeout=120
    )


def test_invalid_layout_exits_2_with_one_line():
    proc = _cli("estimate", "--model", "llama3-8b", "--gpus", "6", "--gpu-type", "h100", "-tp", "6")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "TP=6" in line and "1, 2, 4, 8, 16, 32" in line


def test_gpu_count_no_layout_can_use_exits_2():
    proc = _cli(
        "plan", "--model", "llama3-8b", "--gpus", "37", "--gpu-type", "h100",
        "--global-batch-size", "512",
    )  # fmt: skip
    assert proc.returncode == 2
    assert "No parallel layout" in proc.stderr and "Traceback" not in proc.stderr


def test_help_has_examples():
    for command in ("plan", "estimate"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Example: autorecipe " + command in result.stdout


def test_plan_resizing_a_recipe_lists_overrides_and_their_class():
    # qwen3_30b_a3b_sft_config is the 16-GPU EP16 recipe; on 8 GPUs EP must shrink
    result = run(
        "plan", "--model", "qwen3-30b-a3b", "--mode", "sft", "--gpus", "8", "--gpu-type",
        "h100", "--recipe", "qwen3_30b_a3b_sft_config", "--top", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["candidates"][0]
    assert best["overrides"]["model.expert_model_parallel_size"] == best["layout"]["ep"] <= 8
    assert "train.global_batch_size" not in best["overrides"]  # the recipe's GBS is kept
    assert {c["class"] for c in best["changes"]} == {"execution"}
    assert {c["key"] for c in best["changes"]} == set(best["overrides"])


def test_recipe_too_big_for_the_allocation_is_resized_and_says_so():
    # llama3_8b_128k_pretrain_config is sized for 64 GPUs (CP 8 at 128K)
    result = run(
        "plan", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100", "--recipe",
        "llama3_8b_128k_pretrain_config", "--top", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["candidates"][0]
    note = best["findings"][0]
    assert note["id"] == "recipe_layout_resized" and "64 GPUs" in note["message"]
    lo = best["layout"]
    assert lo["tp"] * lo["pp"] * lo["cp"] * lo["dp"] == 8 and lo["cp"] > 1
    assert best["memory"]["fits"]


def test_seq_len_reads_as_recommend_reads_it():
    # "8k" and -s, as recommend takes them; a fraction is one line, exit 2
    a = run("plan", "-m", "llama3-8b", "-n", "8", "-g", "h100", "-s", "8k", "--json")
    b = run("plan", "-m", "llama3-8b", "-n", "8", "-g", "h100", "--seq-len", "8192", "--json")
    assert a.exit_code == b.exit_code == 0, a.output
    assert json.loads(a.stdout)["candidates"] == json.loads(b.stdout)["candidates"]
    e = run("estimate", "-m", "llama3-8b", "-n", "8", "-g", "h100", "-s", "8k", "--json")
    assert e.exit_code == 0, e.output
    assert json.loads(e.stdout)["memory"] is not None
    bad = run_cli("estimate", "-m", "llama3-8b", "-n", "8", "-g", "h100", "-s", "3.5k")
    one_line_error(bad, "--seq-len", "32k")
