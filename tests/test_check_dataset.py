"""`check --dataset PRESET`: the data rules read the launch preset, as run_recipe.py builds it.

In 0.6.x a text preset builds a fresh dataset config in place of the recipe's (no offline
packing); a VLM preset edits the recipe's own DirectHFSFTDatasetConfig and keeps its
packing. Real recipes and presets of the bundled 0.6.2 index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from autorecipe import api

EXE = shutil.which("autorecipe") or str(Path(sys.executable).parent / "autorecipe")
L8_SFT = "llama3_8b_sft_config"  # GPTSFTDatasetConfig with offline packing, MBS 1
MINISTRAL = "ministral3_14b_sft_config"  # DirectHFSFTDatasetConfig, in-batch packing, MBS 1


def ids(report) -> set[str]:
    return {f.id for f in report.findings}


def test_without_a_preset_the_recipes_own_dataset_is_read_and_said():
    report = api.check(L8_SFT, ["-mb", "2"], index="0.6.2")
    assert "AR502" in {f.id for f in report.errors}  # offline packing needs MBS 1
    assert report.dataset is not None
    assert "recipe's own" in report.dataset and "GPTSFTDatasetConfig" in report.dataset
    assert "--dataset" in report.dataset


def test_a_text_preset_replaces_the_recipes_packed_dataset():
    report = api.check(L8_SFT, ["-mb", "2"], dataset="squad", index="0.6.2")
    assert "AR502" not in ids(report)
    assert (
        report.dataset == "--dataset squad (GPTSFTDatasetConfig, no offline packing; replaces it)"
    )


def test_dataset_overrides_still_apply_over_the_preset():
    report = api.check(
        L8_SFT,
        ["-mb", "2", "dataset.enable_offline_packing=true"],
        dataset="tulu3",
        index="0.6.2",
    )
    assert "AR502" in ids(report)


def test_a_vlm_preset_keeps_the_recipes_packing():
    kept = api.check(MINISTRAL, [], dataset="cord-v2", index="0.6.2")
    assert "AR502" in ids(kept)  # in-batch packing with MBS 1, the recipe's own
    assert "edits the recipe's" in (kept.dataset or "")
    replaced = api.check(MINISTRAL, [], dataset="squad", index="0.6.2")
    assert "AR502" not in ids(replaced)
    assert "AR501" in ids(replaced)  # and a text preset starves the vision tower


def test_a_preset_for_another_mode_or_dataset_class_is_an_error():
    mode = api.check(L8_SFT, [], dataset="mock", index="0.6.2")
    assert "AR505" in {f.id for f in mode.errors}
    vlm = api.check(L8_SFT, [], dataset="cord-v2", index="0.6.2")
    assert "AR505" in {f.id for f in vlm.errors}
    assert "AR505" not in ids(api.check(MINISTRAL, [], dataset="cord-v2", index="0.6.2"))
    assert "AR505" not in ids(api.check("llama3_8b_pretrain_config", [], dataset="mock"))


def test_an_unknown_preset_is_bad_input_naming_the_closest():
    env = {"PATH": str(Path(sys.executable).parent), "AUTORECIPE_INDEX": "0.6.2"}
    proc = subprocess.run(
        [EXE, "check", "--recipe", L8_SFT, "--dataset", "sqad"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "sqad" in proc.stderr and "squad" in proc.stderr


def test_text_output_says_which_dataset_was_assumed():
    env = {"PATH": str(Path(sys.executable).parent), "AUTORECIPE_INDEX": "0.6.2"}
    proc = subprocess.run(
        [EXE, "check", "--recipe", L8_SFT], capture_output=True, text=True, env=env, timeout=60
    )
    assert "data: the recipe's own (GPTSFTDatasetConfig, offline packing)" in proc.stdout
