"""Dataset presets a release's run_recipe.py accepts, and how to launch it.

Read from the release's own `recipes/utils/dataset_utils.py`: 0.6.x has a
`DATASET_PRESETS` table (name -> builder; the builder's return type says whether it
feeds pretraining or finetuning); 0.4.x-0.5.x have `DATASET_TYPES` plus
`infer_mode_from_dataset()`, which the interpreter runs for each name. Releases with
neither (0.3.x) record no presets: their run script took no --dataset flag we can read.
"""

from __future__ import annotations

import ast
from typing import Any

from autorecipe.index.evaluate import Interpreter
from autorecipe.index.schema import DatasetPreset
from autorecipe.index.values import Func, Partial

DATASET_MODULE = "megatron.bridge.recipes.utils.dataset_utils"
_FINETUNE = ["sft", "peft"]


def _line_of(interp: Interpreter, name: str) -> str:
    tree = interp.tree.parse(DATASET_MODULE)
    for stmt in tree.body if tree else []:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        if any(getattr(t, "id", None) == name for t in targets):
            return f"{interp.rel_file(DATASET_MODULE)}:{stmt.lineno}"
    return interp.rel_file(DATASET_MODULE)


def _builder_modes(builder: Any) -> list[str] | None:
    while isinstance(builder, Partial):
        builder = builder.func
    if not isinstance(builder, Func) or builder.node.returns is None:
        return None
    returns = ast.unparse(builder.node.returns)
    pretrain = (
        any(t in returns for t in ("MockGPTDatasetConfig", "GPTDatasetConfig"))
        and "SFT" not in returns
    )
    return ["pretrain"] if pretrain else list(_FINETUNE)


def _doc(builder: Any) -> str | None:
    while isinstance(builder, Partial):
        builder = builder.func
    doc = ast.get_docstring(builder.node) if isinstance(builder, Func) else None
    return doc.strip().splitlines()[0] if doc else None


def dataset_presets(interp: Interpreter) -> list[DatasetPreset]:
    if not interp.tree.has_module(DATASET_MODULE):
        return []
    presets = interp.lookup(DATASET_MODULE, "DATASET_PRESETS")
    if isinstance(presets, dict):
        source = _line_of(interp, "DATASET_PRESETS")
        return [
            DatasetPreset(
                name=name, modes=_builder_modes(b) or _FINETUNE, description=_doc(b), source=source
            )
            for name, b in presets.items()
            if isinstance(name, str)
        ]
    types = interp.lookup(DATASET_MODULE, "DATASET_TYPES")
    infer = interp.lookup(DATASET_MODULE, "infer_mode_from_dataset")
    if not isinstance(types, list):
        return []
    source = _line_of(interp, "DATASET_TYPES")
    out = []
    for name in types:
        mode = interp.call(infer, [name], {}) if isinstance(infer, Func) else None
        modes = ["pretrain"] if mode == "pretrain" else list(_FINETUNE)
        out.append(
            DatasetPreset(
                name=name, modes=modes, source=f"{source} (mode: infer_mode_from_dataset)"
            )
        )
    return out


def entry_point(interp: Interpreter, datasets: list[DatasetPreset]) -> dict[str, Any]:
    """How the release's generic training script is launched and fed a dataset."""
    facts: dict[str, Any] = {
        "script": "scripts/training/run_recipe.py",
        "launcher": "torchrun",
        "recipe_flag": "--recipe",
        "recipe_namespace": "megatron.bridge.recipes",
        "source": "run_recipe.py usage text in the Megatron-Bridge repository; not shipped in the wheel",
    }
    if not datasets:
        facts["dataset_flag"] = None
        facts["note"] = (
            "this release has no dataset presets; the recipe's own dataset config is used"
        )
        return facts
    facts["dataset_flag"] = "--dataset"
    pretrain = [d.name for d in datasets if "pretrain" in d.modes]
    mock = [n for n in pretrain if "mock" in n]
    facts["pretrain_mock_dataset"] = mock[0] if mock else None
    facts["pretrain_datasets"] = pretrain
    facts["finetune_datasets"] = [d.name for d in datasets if "sft" in d.modes]
    # run_recipe.py copies dataset.seq_length into model.seq_length after overrides.
    facts["seq_length_override"] = "dataset.seq_length"
    presets = interp.lookup(DATASET_MODULE, "LLM_FINETUNE_PRESETS")
    if isinstance(presets, dict):
        facts["finetune_presets"] = [n for n in presets if isinstance(n, str)]
        facts["finetune_preset_override"] = "dataset.dataset_name"
    return facts
