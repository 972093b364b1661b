"""Conflicts between a user's overrides and the factors the recipe sets: the finding names
the recipe's factor with the line that sets it, and the fix is the override that resolves it.

Cases run on the bundled 0.6.2 index (the full one gives the expected file:line); case 9
runs through the installed command in both override spellings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autorecipe import api
from autorecipe.index.load import find_recipe, load_index

EXE = shutil.which("autorecipe") or str(Path(sys.executable).parent / "autorecipe")
L8 = "llama3_8b_pretrain_config"
CASE_9 = ["--recipe", L8, "--gpus", "16", "--gpu-type", "h100"]


def where(recipe: str, field: str) -> str:
    return find_recipe(load_index("0.6.2"), recipe).provenance[field]


def check_json(*args: str) -> tuple[int, dict]:
    env = {"PATH": str(Path(sys.executable).parent), "AUTORECIPE_INDEX": "0.6.2"}
    proc = subprocess.run(
        [EXE, "check", *args, "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("tp16", [["-tp", "16"], ["model.tensor_model_parallel_size=16"]])
def test_case_9_names_the_recipes_cp_and_the_override_that_fixes_it(tp16):
    code, doc = check_json(*CASE_9, *tp16)
    mesh = next(f for f in doc["findings"] if f["id"] == "AR101")
    assert code == 1 and mesh["severity"] == "error"
    assert f"CP=2 ({where(L8, 'context_parallel_size')})" in mesh["message"]
    assert mesh["fix"] == "model.context_parallel_size=1"
    assert mesh["fix_overrides"] == {"model.context_parallel_size": 1}

    code, doc = check_json(*CASE_9, *tp16, mesh["fix"])
    assert code == 0
    assert {f["severity"] for f in doc["findings"]} <= {"warning", "info"}
    kv = next(f for f in doc["findings"] if f["id"] == "AR104")
    assert kv["severity"] == "warning" and "Megatron-Core >= 0.16" in kv["message"]
    nvlink = next(f for f in doc["findings"] if f["id"] == "AR107")
    assert nvlink["severity"] == "warning" and "NVLink" in nvlink["message"]


@pytest.mark.parametrize("tp6", [["-tp", "6"], ["model.tensor_model_parallel_size=6"]])
def test_case_9_tp6_is_an_error_listing_the_valid_tps(tp6):
    code, doc = check_json(*CASE_9, *tp6, "-cp", "1")
    heads = next(f for f in doc["findings"] if f["id"] == "AR103")
    assert code == 1 and heads["severity"] == "error"
    assert "32 attention heads" in heads["message"]
    assert heads["fix"] == "Valid TP values for this model: 1, 2, 4, 8, 16, 32."
    # TP is the user's own value: nothing of the recipe's is blamed for it
    assert "Set by the recipe" not in heads["message"]


# (recipe, overrides, options, rule, the recipe's factor named as "LABEL=value", its field)
CONFLICTS = [
    (L8, ["-tp", "16"], {"gpus": 16}, "AR101", "CP=2", "context_parallel_size"),
    (
        "qwen3_30b_a3b_pretrain_config",
        [],
        {"gpus": 12},
        "AR102",
        "EP=16",
        "expert_model_parallel_size",
    ),
    (L8, ["-sl", "8190"], {}, "AR113", "CP=2", "context_parallel_size"),
    (
        "llama3_70b_pretrain_config",
        ["-pp", "3"],
        {"gpus": 48},
        "AR112",
        "VP=5",
        "virtual_pipeline_model_parallel_size",
    ),
    (L8, ["-tp", "1", "-cp", "1"], {"gpus": 24}, "AR119", "GBS=512", "global_batch_size"),
    ("qwen3_30b_a3b_pretrain_config", ["-ep", "6"], {"gpus": 12}, "AR117", None, None),
]


@pytest.mark.parametrize("case", CONFLICTS, ids=[c[3] for c in CONFLICTS])
def test_the_recipes_factor_is_named_and_its_fix_resolves_the_conflict(case):
    recipe, overrides, options, rule_id, named, field = case
    report = api.check(recipe, overrides, index="0.6.2", **options)
    finding = next(f for f in report.findings if f.id == rule_id)
    assert finding.severity == "error"
    if named:
        assert f"{named} ({where(recipe, field)})" in finding.message
    fix = finding.fix_overrides
    if fix is None:  # the user's own override is the conflict: nothing of the recipe's to change
        assert "Set by the recipe" not in finding.message
        return
    parsed = api.check(recipe, overrides, index="0.6.2", **options)
    before = {f.id for f in parsed.errors}
    fixed = api.check(recipe, overrides + finding.fix.split(), index="0.6.2", **options)
    after = {f.id for f in fixed.errors}
    assert rule_id not in after and after <= before


def test_the_fix_never_changes_what_the_user_set():
    report = api.check(L8, ["-tp", "16"], gpus=16, gpu_type="h100", index="0.6.2")
    for finding in report.errors:
        assert "model.tensor_model_parallel_size" not in (finding.fix_overrides or {})


def test_a_convergence_fix_says_so():
    report = api.check(L8, ["-tp", "1", "-cp", "1"], gpus=24, index="0.6.2")
    gbs = next(f for f in report.findings if f.id == "AR119")
    assert set(gbs.fix_overrides or {}) == {"train.global_batch_size"}
    assert "convergence change" in gbs.message
    # lowering the recipe's CP is execution-only, so that fix says nothing of convergence
    mesh = next(f for f in api.check(L8, ["-tp", "16"], gpus=16, index="0.6.2").errors)
    assert "convergence" not in mesh.message


def test_a_shipped_recipe_on_its_own_allocation_names_nothing():
    report = api.check(L8, [], index="0.6.2")
    assert not [f for f in report.findings if "Set by the recipe" in f.message]
