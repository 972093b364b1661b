"""Precisions as people and Megatron-Bridge spell them, on every command that takes one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from autorecipe.cli import app
from autorecipe.errors import UserError
from autorecipe.precision import canonical_precision
from cli_entry import one_line_error, run_cli

runner = CliRunner()


@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ("bf16", "bf16"), ("BF16", "bf16"), ("bfloat16", "bf16"),
        ("fp8", "fp8"), ("FP8-CS", "fp8"), ("fp8cs", "fp8"), ("fp8_cs", "fp8"),
        ("FP8-blockwise", "fp8"), ("fp8-blockwise", "fp8"), ("fp8sc", "fp8"),
        ("MXFP8", "mxfp8"), ("fp8mx", "mxfp8"), ("NVFP4", "nvfp4"), ("fp4", "nvfp4"),
    ],
)  # fmt: skip
def test_spellings(spelled, canonical):
    assert canonical_precision(spelled) == canonical


@pytest.mark.parametrize("bad", ["int8", "fp16", "", "fp8x"])
def test_unknown_precision_names_the_accepted_ones(bad):
    with pytest.raises(UserError, match="bf16, fp8, mxfp8, nvfp4"):
        canonical_precision(bad)


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_estimate_and_plan_take_the_table_spelling():
    base = ["--model", "llama3-8b", "--gpus", "8", "--gpu-type", "b200"]
    a = _json(["estimate", *base, "--precision", "FP8-CS"])
    b = _json(["estimate", *base, "--precision", "fp8"])
    assert a["throughput"] == b["throughput"]
    mx = _json(["estimate", *base, "--precision", "MXFP8"])
    assert mx["throughput"]["tokens_per_sec_per_gpu"] != b["throughput"]["tokens_per_sec_per_gpu"]
    plan = _json(["plan", *base, "--precision", "fp8cs", "--top", "1"])
    assert plan["candidates"][0]["throughput"]["tokens_per_sec_per_gpu"] > 0
    full = _json(["estimate", *base, "--recompute", "FULL"])
    assert full["layout"]["recompute"] == "full"


def test_recommend_takes_the_recipe_spelling_and_refuses_what_the_gpu_lacks():
    base = ["recommend", "--model", "llama3-8b", "--mode", "pretrain", "--gpus", "8"]
    fp8 = _json([*base, "--gpu-type", "h100", "--precision", "FP8-CS"])
    assert "fp8" in fp8["recipe"]["name"] or "low_precision" in fp8["recipe"]["name"]
    # through the real entry point: a UserError is one line on stderr, exit 2
    proc = run_cli(*base, "--gpu-type", "a100", "--precision", "fp8")
    one_line_error(proc, "A100-80GB (Ampere) has no FP8 tensor cores", "use bf16")
