"""`--tokens`: time to train and GPU-hours through estimate, plan and recommend; missing facts said."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from autorecipe import api
from autorecipe.catalog.gpus import custom_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.cli import app
from autorecipe.errors import UserError
from autorecipe.estimate.throughput import estimate_throughput
from autorecipe.estimate.tokens import duration_text
from autorecipe.layout.schema import Layout

runner = CliRunner()
LLAMA = ["--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100", "--seq-len", "8192"]


def _budget_matches(throughput: dict, tokens: float, gpus: int) -> None:
    seconds = tokens / (throughput["tokens_per_sec_per_gpu"] * gpus)
    assert throughput["training_time_s"] == pytest.approx(seconds)
    assert throughput["gpu_hours"] == pytest.approx(seconds * gpus / 3600)


def test_estimate_json_has_training_time_and_gpu_hours():
    result = runner.invoke(app, ["estimate", *LLAMA, "-tp", "2", "--tokens", "1T", "--json"])
    assert result.exit_code == 0, result.output
    _budget_matches(json.loads(result.output)["throughput"], 1e12, 8)


def test_estimate_without_tokens_has_no_budget():
    result = runner.invoke(app, ["estimate", *LLAMA, "-tp", "2", "--json"])
    throughput = json.loads(result.output)["throughput"]
    assert throughput["training_time_s"] is None and throughput["gpu_hours"] is None


def test_plan_json_gives_every_ranked_layout_a_budget():
    result = runner.invoke(app, ["plan", *LLAMA, "--top", "4", "--tokens", "500B", "--json"])
    assert result.exit_code == 0, result.output
    candidates = json.loads(result.output)["candidates"]
    assert len(candidates) == 4
    for c in candidates:
        _budget_matches(c["throughput"], 5e11, 8)
    hours = [c["throughput"]["gpu_hours"] for c in candidates if c["memory"]["fits"]]
    # ranked fastest first (fewest GPU-hours), except that layouts within the planner's speed
    # tie band are ordered by the seed's preferences instead
    from autorecipe.layout.search import SPEED_TIE_TOLERANCE

    for faster, slower in itertools.pairwise(hours):
        assert faster <= slower * (1 + 2 * SPEED_TIE_TOLERANCE), hours


def test_human_output_says_the_time_to_train():
    estimate = runner.invoke(app, ["estimate", *LLAMA, "-tp", "2", "--tokens", "1T"])
    assert "time to train on 1T tokens:" in estimate.output
    assert "GPU-hours" in estimate.output
    plan = runner.invoke(app, ["plan", *LLAMA, "--top", "2", "--tokens", "1T"])
    assert "time for 1T" in plan.output


def test_recommend_reports_the_budget():
    answer = api.recommend("llama3-8b", "pretrain", 8, "h100", tokens="2T")
    assert answer.throughput is not None
    _budget_matches(answer.throughput.model_dump(), 2e12, 8)
    text = runner.invoke(
        app,
        ["recommend", "--model", "llama3-8b", "--mode", "pretrain", "--gpus", "8"]
        + ["--gpu-type", "h100", "--tokens", "2T"],
    )
    assert text.exit_code == 0, text.output
    assert "time to train (estimate):" in text.output


def test_api_takes_a_count_or_text():
    by_text = api.estimate("llama3-8b", gpus=8, gpu_type="h100", tp=2, tokens="1.5T")
    by_count = api.estimate("llama3-8b", gpus=8, gpu_type="h100", tp=2, tokens=1.5e12)
    assert by_text.throughput.gpu_hours == pytest.approx(by_count.throughput.gpu_hours)


@pytest.mark.parametrize("command", ["estimate", "plan"])
def test_bad_token_budget_is_one_line_exit_2(command):
    done = subprocess.run(
        [sys.executable, "-m", "autorecipe", command, *LLAMA, "--tokens", "1X"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "1T, 500B or 2.5e12" in done.stderr


@pytest.mark.parametrize("bad", ["1X", "-5B", "lots", "0"])
def test_bad_token_budget_is_a_user_error(bad):
    with pytest.raises(UserError, match="1T, 500B or 2.5e12"):
        api.estimate("llama3-8b", gpus=8, gpu_type="h100", tokens=bad)


def test_bad_token_budget_in_api_is_a_user_error():
    with pytest.raises(UserError, match="500B"):
        api.recommend("llama3-8b", "pretrain", 8, "h100", tokens="a lot")


def test_duration_text_units():
    assert duration_text(30 * 60) == "30.0 min"
    assert duration_text(5 * 3600) == "5.0 h"
    assert duration_text(10 * 86400) == "10.0 days"


def test_gpu_without_hbm_bandwidth_says_what_it_assumed():
    spec = resolve_model("meta-llama/Meta-Llama-3-8B")
    layout = Layout(tp=1, dp=8, mbs=1, gbs=128)
    kw = dict(seq_len=4096, world_size=8)
    bare = custom_gpu({"mem": "96", "bf16": "700", "nvlink": "900"})
    with_hbm = custom_gpu({"mem": "96", "bf16": "700", "nvlink": "900", "hbm": "4", "exp": "256"})
    assumed = estimate_throughput(spec, layout, bare, **kw)
    told = estimate_throughput(spec, layout, with_hbm, **kw)
    assert any("no published HBM bandwidth" in a for a in assumed.assumptions)
    assert not any("HBM" in a for a in told.assumptions)
    # the faster HBM it was told about makes element-wise and optimizer work faster
    assert told.step_time_s < assumed.step_time_s
