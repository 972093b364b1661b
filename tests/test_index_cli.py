"""`autorecipe list|show|index …` and the index loader, on the bundled indexes.

Commands run as a user runs them (a subprocess of the installed console script), so
exit codes and the one-line error contract are checked for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autorecipe import api
from autorecipe.errors import UserError
from autorecipe.index.load import find_recipe, load_index


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autorecipe", *args], capture_output=True, text=True, env=env
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_list_json_filters_by_every_option():
    proc = run("list", "--family", "llama", "--mode", "pretrain", "--kind", "benchmark",
               "--gpu-type", "h100", "--max-gpus", "64", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["bridge_version"] == "0.6.2"
    assert data["count"] == len(data["recipes"]) > 0
    for row in data["recipes"]:
        assert (row["family"], row["mode"], row["kind"], row["gpu_type"]) == (
            "llama", "pretrain", "benchmark", "h100",
        )  # fmt: skip
        assert row["num_gpus"] <= 64
    names = {row["name"] for row in data["recipes"]}
    assert "llama3_8b_pretrain_8gpu_h100_bf16_config" in names


def test_list_table_fits_80_columns():
    proc = run("list", "--family", "qwen", "--mode", "sft", env={"COLUMNS": "80", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "qwen3_8b_sft" in proc.stdout.replace("\n", "")


def test_show_json_has_provenance_and_disambiguates_kinds():
    proc = run("show", "deepseek_v3_pretrain_1024gpu_h100_bf16_config", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["recipe"]["kind"] == "library" and data["also_as"] == ["benchmark"]
    recipe = data["recipe"]
    assert set(recipe["fields"]) <= set(recipe["provenance"])
    bench = json.loads(run("show", "deepseek_v3_pretrain_1024gpu_h100_bf16_config",
                           "--kind", "benchmark", "--json").stdout)  # fmt: skip
    assert bench["recipe"]["fields"]["pipeline_model_parallel_size"] == 8


def test_show_text_says_the_other_kind_exists():
    proc = run("show", "deepseek_v3_pretrain_1024gpu_h100_bf16_config")
    assert proc.returncode == 0
    assert "benchmark recipe has the same name" in proc.stdout
    assert "recipes/deepseek/h100/deepseek_v3.py:" in proc.stdout


def test_show_unknown_recipe_lists_closest_names():
    proc = run("show", "llama3_8b_pretrain_cfg")
    assert_one_line_error(
        proc, "llama3_8b_pretrain_cfg", "Did you mean", "llama3_8b_pretrain_config"
    )


def test_list_unknown_family_is_one_line():
    assert_one_line_error(run("list", "--family", "lama"), "family", "llama")


def test_index_option_selects_another_release(tmp_path):
    proc = run("show", "llama3_8b_pretrain_config", "--index", "0.5.1", "--json")
    assert json.loads(proc.stdout)["bridge_version"] == "0.5.1"
    assert_one_line_error(run("list", "--index", "9.9.9"), "9.9.9", "0.6.2")
    garbage = tmp_path / "index.json"
    garbage.write_text("{not json")
    assert_one_line_error(run("list", "--index", str(garbage)), "not a recipe index")


def test_environment_variable_selects_the_index():
    import os

    proc = run("list", "--json", env={**os.environ, "AUTORECIPE_INDEX": "0.5.1"})
    assert json.loads(proc.stdout)["bridge_version"] == "0.5.1"


def test_build_rejects_a_path_that_is_not_megatron_bridge(tmp_path):
    (tmp_path / "pkg").mkdir()
    assert_one_line_error(
        run("index", "build", "--source", str(tmp_path)), "not a Megatron-Bridge source"
    )
    assert_one_line_error(
        run("index", "build", "--source", str(tmp_path / "nope")), "does not exist"
    )


def test_build_rejects_corrupt_and_non_wheel_files(tmp_path):
    corrupt = tmp_path / "megatron_bridge-0.6.2-py3-none-any.whl"
    corrupt.write_bytes(b"\x00\x01 not a zip")
    assert_one_line_error(run("index", "build", "--source", str(corrupt)), "not a readable wheel")
    other = tmp_path / "other.whl"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("requests/__init__.py", "")
    assert_one_line_error(
        run("index", "build", "--source", str(other)), "not a Megatron-Bridge source"
    )


@pytest.mark.wheel
def test_build_writes_an_index_the_loader_reads(wheel_031, tmp_path):
    out = tmp_path / "mb-0.3.1.json"
    proc = run("index", "build", "--source", str(wheel_031), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "161 recipes" in proc.stderr
    index = load_index(str(out))
    assert index.bridge_version == "0.3.1"
    assert find_recipe(index, "llama3_8b_pretrain_config").fields["context_parallel_size"] == 2


def test_lint_lists_docstring_contradictions():
    proc = run("index", "lint", "--json")
    assert proc.returncode == 0
    findings = {f["name"]: f for f in json.loads(proc.stdout)["findings"]}
    b300 = findings["llama31_405b_pretrain_128gpu_b300_bf16_config"]
    assert any(
        "PP=8" in c and "pipeline_model_parallel_size=1" in c for c in b300["contradictions"]
    )
    assert all(f["kind"] in ("library", "benchmark") for f in findings.values())


def test_diff_between_releases():
    proc = run("index", "diff", "0.5.1", "0.6.2", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert "library:llama3_8b_pretrain_2gpu_h100_bf16_config" in report["added"]
    assert "library:llama3_8b_pretrain_config" not in report["added"]
    assert "library:llama3_8b_pretrain_config" not in report["removed"]
    changed = {c["name"]: c["fields"] for c in report["changed"]}
    # 0.6.2 turns llama3_8b_pretrain_config into an alias; its layout stays TP=1 CP=2.
    assert changed["llama3_8b_pretrain_config"]["alias_of"] == [
        None,
        "llama3_8b_pretrain_2gpu_h100_bf16_config",
    ]
    assert "context_parallel_size" not in changed["llama3_8b_pretrain_config"]
    assert "mock" in report["datasets_added"] and "llm-pretrain-mock" in report["datasets_removed"]


def test_find_recipe_prefers_library_and_honours_kind():
    index = load_index("0.6.2")
    assert find_recipe(index, "glm52_sft_416gpu_h100_bf16_config").kind == "library"
    assert find_recipe(index, "glm52_sft_416gpu_h100_bf16_config", "benchmark").kind == "benchmark"
    with pytest.raises(UserError, match="no benchmark recipe named 'llama3_8b_pretrain_config'"):
        find_recipe(index, "llama3_8b_pretrain_config", "benchmark")


def test_loaded_index_is_cached_per_process():
    assert load_index("0.6.2") is load_index("0.6.2")
    assert load_index() is load_index(
        str(Path(api.__file__).parent / "index/data/megatron-bridge-0.6.2.json")
    )


@pytest.mark.wheel
def test_build_from_a_checkout_or_the_installed_package(wheel_031, tmp_path):
    import os

    src = tmp_path / "Megatron-Bridge" / "src"
    with zipfile.ZipFile(wheel_031) as zf:
        zf.extractall(src, [n for n in zf.namelist() if n.startswith("megatron/")])
    sources = {
        "repo root": str(src.parent),
        "package folder": str(src / "megatron" / "bridge"),
        "installed": "installed",
    }
    env = {**os.environ, "PYTHONPATH": str(src)}
    for label, source in sources.items():
        out = tmp_path / f"{label}.json"
        proc = run("index", "build", "--source", source, "--out", str(out), env=env)
        assert proc.returncode == 0, (label, proc.stderr)
        index = load_index(str(out))
        assert (index.bridge_version, len(index.recipes)) == ("0.3.1", 161), label


def test_build_installed_without_megatron_bridge_is_one_line():
    import importlib.util

    if importlib.util.find_spec("megatron") is not None:
        pytest.skip("a megatron package is installed here")
    assert_one_line_error(
        run("index", "build", "--source", "installed"), "no installed megatron.bridge"
    )
