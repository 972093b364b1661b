"""Gaps the robustness sweep left: each was accepted silently (exit 0, or a wrong message).

Errors go through the real entry point (`autorecipe.cli:main` in a subprocess): one line on
stderr, exit 2. The check rules (AR312, AR313) are read from api.check on the bundled index,
each with a case that fires and one that stays quiet."""

from __future__ import annotations

import json

import pytest

from autorecipe import api
from cli_entry import one_line_error, run_cli

ESTIMATE = ["estimate", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100"]
PLAN = ["plan", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100"]
LLAMA_LIMIT = "131072"  # Llama 3 8B: its longest shipped recipe (128K)


def _ids(recipe: str, overrides: list[str], **options) -> dict[str, str]:
    report = api.check(recipe, overrides, index="0.6.2", **options)
    return {f.id: f.message for f in report.findings}


# --- 1. mixed_precision / peft names (AR312) -------------------------------------------


@pytest.mark.parametrize(
    ("recipe", "override", "words"),
    [
        (
            "llama3_8b_pretrain_config",
            "mixed_precision=nope",
            ["not a Megatron-Bridge", "bf16_mixed"],
        ),
        # Bridge looks the name up as given (only '-' becomes '_')
        ("llama3_8b_pretrain_config", "mixed_precision=BF16_MIXED", ["not a Megatron-Bridge"]),
        ("llama3_8b_sft_config", "peft=nope", ["not a PEFT scheme", "peft=null"]),
        # an override keeps the string: only recipe functions build LoRA from "lora"
        ("llama3_8b_sft_config", "peft=lora", ["_peft_config recipe", "peft=null"]),
    ],
)
def test_unknown_precision_or_peft_is_an_error(recipe, override, words):
    found = _ids(recipe, [override])
    assert "AR312" in found, found
    for word in words:
        assert word in found["AR312"], (word, found["AR312"])


@pytest.mark.parametrize(
    ("recipe", "override"),
    [
        ("llama3_8b_pretrain_config", "mixed_precision=bf16_with_fp8_current_scaling_mixed"),
        ("llama3_8b_pretrain_config", "mixed_precision=bf16-mixed"),  # registered with hyphens
        ("llama3_8b_pretrain_config", "mixed_precision=null"),
        ("llama3_8b_peft_config", "peft=null"),
    ],
)
def test_known_precision_or_peft_is_quiet(recipe, override):
    assert "AR312" not in _ids(recipe, [override])


def test_check_cli_exits_nonzero_on_unknown_precision():
    proc = run_cli(
        "check", "--recipe", "llama3_8b_pretrain_config", "mixed_precision=nope", "--json"
    )
    assert proc.returncode != 0, proc.stdout[-500:]
    ids = [f["id"] for f in json.loads(proc.stdout)["findings"]]
    assert "AR312" in ids


# --- 2. FP8 on a GPU without FP8 tensor cores (AR313) ----------------------------------


def test_fp8_on_a100_is_an_error():
    found = _ids(
        "llama3_8b_pretrain_config",
        ["mixed_precision=bf16_with_fp8_current_scaling_mixed"],
        gpus=8,
        gpu_type="a100",
    )
    assert "AR313" in found and "Hopper or newer" in found["AR313"], found
    # a shipped FP8 recipe moved to A100 too
    assert "AR313" in _ids("llama3_8b_pretrain_2gpu_h100_fp8cs_config", [], gpu_type="a100")


@pytest.mark.parametrize(
    ("overrides", "gpu_type"),
    [
        ([], "a100"),  # bf16 on A100
        (["mixed_precision=bf16_with_fp8_current_scaling_mixed"], "h100"),
        # an FP8 recipe switched to bf16 on an A100: the override wins over the recipe's name
        (["mixed_precision=bf16_mixed"], "a100"),
    ],
)
def test_fp8_rule_quiet(overrides, gpu_type):
    recipe = (
        "llama3_8b_pretrain_2gpu_h100_fp8cs_config"
        if overrides[-1:] == ["mixed_precision=bf16_mixed"]
        else "llama3_8b_pretrain_config"
    )
    assert "AR313" not in _ids(recipe, overrides, gpus=8, gpu_type=gpu_type)


# --- 3. plan/estimate cap --seq-len as recommend does ----------------------------------


@pytest.mark.parametrize("command", [PLAN, ESTIMATE])
def test_seq_len_over_the_model_limit(command):
    one_line_error(
        run_cli(*command, "--seq-len", "10000000"),
        "--seq-len 10000000 is over what meta-llama/Meta-Llama-3-8B supports",
        LLAMA_LIMIT,
        "use at most that",
    )


def test_seq_len_at_the_limit_is_accepted():
    assert api.estimate("llama3-8b", gpus=8, gpu_type="h100", seq_len=8192, cp=2).layout.cp == 2


def test_recommend_keeps_the_same_wording():
    proc = run_cli(
        "recommend", "--model", "llama3-8b", "--mode", "pretrain", "--gpus", "8",
        "--gpu-type", "h100", "--seq-len", "10000000",
    )  # fmt: skip
    one_line_error(proc, "is over what meta-llama/Meta-Llama-3-8B supports", LLAMA_LIMIT)


# --- 4. plan --recipe of another model -------------------------------------------------


def test_plan_refuses_a_recipe_for_another_model():
    one_line_error(
        run_cli(*PLAN, "--recipe", "qwen3_30b_a3b_pretrain_config"),
        "qwen3_30b_a3b_pretrain_config is a recipe for Qwen/Qwen3-30B-A3B",
        "not meta-llama/Meta-Llama-3-8B",
        "llama3_8b_",
    )


def test_plan_accepts_the_model_own_recipe():
    result = api.plan("llama3-8b", gpus=8, gpu_type="h100", recipe="llama3_8b_pretrain_config")
    assert result.candidates[0].recipe.name == "llama3_8b_pretrain_config"


def test_plan_accepts_a_config_json_of_the_same_architecture(tmp_path):
    from autorecipe.catalog.models import catalog_spec

    spec = catalog_spec("meta-llama/Meta-Llama-3-8B")
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": spec.num_hidden_layers,
        "hidden_size": spec.hidden_size,
        "intermediate_size": spec.intermediate_size,
        "num_attention_heads": spec.num_attention_heads,
        "num_key_value_heads": spec.num_key_value_heads,
        "vocab_size": spec.vocab_size,
        "max_position_embeddings": 8192,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = api.plan(str(path), gpus=8, gpu_type="h100", recipe="llama3_8b_pretrain_config")
    assert result.candidates
    # another architecture's recipe is still refused
    proc = run_cli("plan", "--model", str(path), "--gpus", "8", "--gpu-type", "h100",
                "--recipe", "qwen3_30b_a3b_pretrain_config")  # fmt: skip
    one_line_error(proc, "is a recipe for Qwen/Qwen3-30B-A3B", "a llama model")


# --- 5. ETP/EP on a dense model --------------------------------------------------------


@pytest.mark.parametrize(("flag", "value"), [("-etp", "3"), ("-etp", "2"), ("-ep", "2")])
def test_expert_parallel_on_a_dense_model(flag, value):
    one_line_error(
        run_cli(*ESTIMATE, flag, value), "on a dense model", "has no experts", "Set EP=1 and ETP=1"
    )


def test_etp_at_its_default_on_a_dense_model_is_accepted():
    # ETP = TP is Megatron's own default: nothing to refuse
    assert api.estimate("llama3-8b", gpus=8, gpu_type="h100", tp=2, etp=2).layout.etp == 1


# --- 6. index build --source "" --------------------------------------------------------


@pytest.mark.parametrize("source", ["", "  "])
def test_index_build_empty_source(source):
    line = one_line_error(run_cli("index", "build", "--source", source), "--source is empty")
    assert ". is not" not in line
