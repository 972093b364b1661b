"""A precision the GPU's tensor cores cannot run is refused (estimate, plan, recommend) or
flagged (check, AR313) with the real reason and what would work.

FP8 needs compute capability 8.9+ (Ada, Hopper; Transformer Engine's check_fp8_support);
MXFP8 and NVFP4 need Blackwell, 10.0+ (check_mxfp8_support / check_nvfp4_support). Rubin
runs them all but publishes no dense peak yet, so it is refused for that reason instead.
All through the real entry point or api.check on the bundled 0.6.2 index."""

from __future__ import annotations

import json

import pytest

from autorecipe import api
from cli_entry import one_line_error, run_cli

ESTIMATE = ["estimate", "--model", "llama3-8b", "--gpus", "8"]


@pytest.mark.parametrize(
    ("gpu", "precision", "words", "not_words"),
    [
        (
            "h100",
            "nvfp4",
            ["H100-SXM (Hopper) has no NVFP4 tensor cores", "Blackwell (compute capability 10.0)",
             "use fp8 (current scaling) or bf16"],
            ["published"],
        ),
        (
            "h100",
            "mxfp8",
            ["H100-SXM (Hopper) has no MXFP8 tensor cores", "Blackwell", "fp8 (current scaling)"],
            ["published"],
        ),
        ("h200", "fp8mx", ["H200 (Hopper) has no MXFP8 tensor cores"], ["published"]),
        (
            "a100",
            "fp8",
            ["A100-80GB (Ampere) has no FP8 tensor cores", "compute capability 8.9", "use bf16"],
            ["fp8 (current scaling)"],
        ),
        # FP8 is no option on Ampere either, so only bf16 is offered
        ("a100-40gb", "NVFP4", ["A100-40GB (Ampere) has no NVFP4 tensor cores", "use bf16"],
         ["fp8 (current scaling)"]),
        # Rubin runs every format; what it lacks is a published peak
        ("vr200", "nvfp4", ["no published dense fp4 peak"], ["tensor cores"]),
    ],
)  # fmt: skip
def test_estimate_refuses_with_the_reason(gpu, precision, words, not_words):
    line = one_line_error(run_cli(*ESTIMATE, "--gpu-type", gpu, "--precision", precision), *words)
    for word in not_words:
        assert word not in line, line


def test_recommend_refuses_mxfp8_on_h100_instead_of_answering_an_fp8mx_recipe():
    proc = run_cli(
        "recommend", "--model", "meta-llama/Meta-Llama-3-8B", "--mode", "pretrain",
        "--gpus", "8", "--gpu-type", "h100", "--precision", "mxfp8",
    )  # fmt: skip
    one_line_error(proc, "has no MXFP8 tensor cores", "use fp8 (current scaling) or bf16")


def test_plan_refuses_nvfp4_on_h200():
    proc = run_cli("plan", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h200",
                   "--precision", "nvfp4")  # fmt: skip
    one_line_error(proc, "H200 (Hopper) has no NVFP4 tensor cores")


@pytest.mark.parametrize(
    ("gpu", "precision"), [("h100", "fp8"), ("b200", "mxfp8"), ("gb300", "nvfp4")]
)
def test_supported_precisions_still_estimate(gpu, precision):
    proc = run_cli(*ESTIMATE, "--gpu-type", gpu, "--precision", precision, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["throughput"]["tokens_per_sec_per_gpu"] > 0


def test_a_custom_gpu_without_an_architecture_keeps_the_peak_message():
    proc = run_cli(*ESTIMATE, "--gpu-type", "custom:mem=80,bf16=300", "--precision", "fp8")
    one_line_error(proc, "custom has no published dense fp8 peak", "(bf16)")


def _ar313(recipe: str, overrides: list[str], **options) -> dict | None:
    report = api.check(recipe, overrides, index="0.6.2", **options)
    found = [f for f in report.findings if f.id == "AR313"]
    return found[0].model_dump() if found else None


@pytest.mark.parametrize(
    ("recipe", "overrides", "gpu_type", "fix", "words"),
    [
        # shipped recipes, at their own GPU type (upstream defects: see test_check_index)
        ("llama3_8b_pretrain_2gpu_h100_fp8mx_config", [], None,
         "bf16_with_fp8_current_scaling_mixed", ["H100-SXM (Hopper) has no MXFP8 tensor cores"]),
        ("llama3_8b_pretrain_2gpu_h100_nvfp4_config", [], None,
         "bf16_with_fp8_current_scaling_mixed", ["has no NVFP4 tensor cores", "Blackwell"]),
        # an override naming an MXFP8 / NVFP4 preset
        ("llama3_8b_pretrain_config", ["mixed_precision=bf16_with_mxfp8_mixed"], "h200",
         "bf16_with_fp8_current_scaling_mixed", ["H200 (Hopper) has no MXFP8 tensor cores"]),
        ("llama3_8b_pretrain_config", ["mixed_precision=bf16_with_nvfp4_mixed"], "h100",
         "bf16_with_fp8_current_scaling_mixed", ["has no NVFP4 tensor cores"]),
        # on Ampere neither FP8 nor its block-scaled forms: bf16
        ("llama3_8b_pretrain_2gpu_h100_fp8mx_config", [], "a100",
         "bf16_mixed", ["A100-80GB (Ampere) has no MXFP8 tensor cores"]),
        ("llama3_8b_pretrain_2gpu_h100_fp8cs_config", [], "a100",
         "bf16_mixed", ["has no FP8 tensor cores", "Hopper or newer"]),
    ],
)  # fmt: skip
def test_check_flags_a_precision_the_gpu_cannot_run(recipe, overrides, gpu_type, fix, words):
    options = {"gpus": 8} if overrides else {}
    if gpu_type:
        options["gpu_type"] = gpu_type
    hit = _ar313(recipe, overrides, **options)
    assert hit is not None and hit["severity"] == "error"
    assert hit["fix_overrides"] == {"mixed_precision": fix}
    for word in words:
        assert word in hit["message"], hit["message"]


@pytest.mark.parametrize(
    ("recipe", "overrides", "gpu_type"),
    [
        ("llama3_8b_pretrain_2gpu_h100_fp8mx_config", [], "b200"),
        ("llama3_8b_pretrain_2gpu_h100_nvfp4_config", [], "gb200"),
        # the suggested fix is quiet on the same GPU
        ("llama3_8b_pretrain_2gpu_h100_fp8mx_config",
         ["mixed_precision=bf16_with_fp8_current_scaling_mixed"], "h100"),
        ("llama3_8b_pretrain_config", ["mixed_precision=bf16_with_fp8_current_scaling_mixed"],
         "h100"),
        # Rubin runs MXFP8 / NVFP4 (its peaks are unpublished, not its formats)
        ("llama3_8b_pretrain_config", ["mixed_precision=bf16_with_nvfp4_mixed"], "vr200"),
    ],
)  # fmt: skip
def test_check_is_quiet_where_the_gpu_runs_it(recipe, overrides, gpu_type):
    options = {"gpus": 8} if recipe == "llama3_8b_pretrain_config" else {}
    assert _ar313(recipe, overrides, gpu_type=gpu_type, **options) is None
