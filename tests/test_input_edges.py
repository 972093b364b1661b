"""Odd inputs a user can type get one clear line and exit 2, never a crash (exit 3).

Found by an audit of the commands beyond recommend/plan/estimate: a config.json with zero
heads divided by zero, a 99,999,999,999-layer config ran out of memory, a 5,000-character
name was handed to the file system, and empty names were taken as "no name"."""

from __future__ import annotations

import json

import pytest

from cli_entry import one_line_error, run_cli

LLAMA = {
    "model_type": "llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"num_attention_heads": 0}, ["num_attention_heads must be between 1 and"]),
        ({"num_hidden_layers": 99_999_999_999}, ["num_hidden_layers must be between 1 and 10,000"]),
        ({"hidden_size": 1e30}, ["hidden_size must be between 1 and"]),
        ({"num_key_value_heads": 0}, ["num_key_value_heads must be between 1 and"]),
        ({"num_key_value_heads": 7}, ["not a multiple of num_key_value_heads 7"]),
        ({"vocab_size": 0}, ["vocab_size must be between 1 and"]),
        (
            {"num_local_experts": 8, "num_experts_per_tok": 100},
            ["num_experts_per_tok must be between 1 and num_experts (8)"],
        ),
    ],
)
def test_a_config_no_model_has_is_refused_with_the_field(tmp_path, change, words):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA | change))
    one_line_error(run_cli("model", str(config)), str(config), *words)
    one_line_error(run_cli("estimate", "-m", str(config), "-n", "8", "-g", "h100"), *words)


def test_a_plain_llama_config_still_loads(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA))
    assert run_cli("model", str(config), "--json").returncode == 0


@pytest.mark.parametrize("command", [["model"], ["gpus"]])
def test_a_name_too_long_for_the_file_system_is_an_unknown_name(command):
    line = one_line_error(run_cli(*command, "x" * 5000), "unknown")
    assert "x" * 81 not in line and "…" in line  # the input is echoed cut short


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["gpus", ""], ["unknown GPU type ''"]),
        (["index", "diff", "", "0.6.2"], ["empty index name"]),
        (["index", "lint", "--index", ""], ["empty index name"]),
    ],
)
def test_an_empty_name_is_not_taken_as_no_name(args, words):
    one_line_error(run_cli(*args), *words)


def test_an_override_without_its_section_names_the_keys_it_could_be():
    proc = run_cli(
        "check", "--recipe", "qwen3_30b_a3b_pretrain_config", "--gpus", "8", "--gpu-type",
        "h100", "tensor_model_parallel_size=3",
    )  # fmt: skip
    one_line_error(proc, "keys name their section: model.tensor_model_parallel_size")


@pytest.mark.parametrize("command", ["estimate", "plan", "recommend"])
def test_more_gpus_than_any_cluster_is_a_typo(command):
    args = [command, "-m", "llama3-8b", "-g", "h100", "-n", "99999999999999999999"]
    if command != "estimate":
        args += ["--mode", "pretrain"]
    one_line_error(run_cli(*args), "is more than any cluster has")


def test_a_broken_index_names_what_is_wrong(tmp_path):
    broken = tmp_path / "index.json"
    broken.write_text('{"schema_version": 1, "recipes": [{"name": 3}]}')
    one_line_error(
        run_cli("index", "lint", "--index", str(broken)),
        "not a recipe index",
        "bridge_version: Field required",
        "recipes.0.name",
    )


def test_a_release_whose_recipe_names_no_gpu_count_says_so():
    proc = run_cli(
        "recommend", "--model", "Llama 3 8B", "--mode", "sft", "--gpus", "16", "--gpu-type",
        "h100", "--index", "0.5.1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "None GPUs" not in proc.stdout and "the recipe names no GPU count" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--index", "x" * 5000],
        ["show", "x" * 5000],
        ["index", "build", "--source", "x" * 5000, "--out", "unused.json"],
        ["recommend", "-m", "llama3-8b", "--mode", "pretrain", "-n", "8", "-g", "h100",
         "--index", "x" * 5000],
    ],
)  # fmt: skip
def test_a_path_too_long_for_the_file_system_names_nothing(args):
    line = one_line_error(run_cli(*args))
    assert "x" * 81 not in line and "…" in line
