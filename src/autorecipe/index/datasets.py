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


def _builds(builder: Any) -> str | None:
    while isinstance(builder, Partial):
        builder = builder.func
    if not isinstance(builder, Func) or builder.node.returns is None:
        return None
    return ast.unparse(builder.node.returns)


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
                name=name,
                modes=_builder_modes(b) or _FINETUNE,
                description=_doc(b),
                source=source,
                builds=_builds(b),
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
    """How the release's generic training script is launched and fed a dataset.

    run_recipe.py is not in the wheel; its usage comes from the repository: 0.4-0.5's
    scripts/training/run_recipe.py (imports DATASET_TYPES from dataset_utils; usage
    `uv run torchrun ... run_recipe.py --recipe R --dataset llm-pretrain-mock`), and 0.6's
    documentation (`uv run python -m torch.distributed.run scripts/training/run_recipe.py`,
    docs.nvidia.com/nemo/megatron-bridge skills page). Both copy dataset.seq_length into
    model.seq_length after the command-line overrides.
    """
    if not datasets:
        return {
            "script": None,
            "dataset_flag": None,
            "note": "this release has no dataset presets, and no run_recipe.py usage for it was "
            "found; call the recipe from a training script of your own",
        }
    presets = interp.lookup(DATASET_MODULE, "DATASET_PRESETS") is not None
    pretrain = [d.name for d in datasets if "pretrain" in d.modes]
    mock = [n for n in pretrain if "mock" in n]
    facts: dict[str, Any] = {
        "script": "scripts/training/run_recipe.py",
        "launcher": "python -m torch.distributed.run" if presets else "torchrun",
        "recipe_flag": "--recipe",
        "recipe_namespace": "megatron.bridge.recipes",
        "dataset_flag": "--dataset",
        "pretrain_mock_dataset": mock[0] if mock else None,
        "pretrain_datasets": pretrain,
        "finetune_datasets": [d.name for d in datasets if "sft" in d.modes],
        "seq_length_override": "dataset.seq_length",
        "source": "0.6.x: Megatron-Bridge docs (skills/mlm-bridge-training); 0.4-0.5: "
        "scripts/training/run_recipe.py usage text; dataset names: "
        + (datasets[0].source or DATASET_MODULE),
    }
    finetune_presets = interp.lookup(DATASET_MODULE, "LLM_FINETUNE_PRESETS")
    if isinstance(finetune_presets, dict):
        facts["finetune_presets"] = [n for n in finetune_presets if isinstance(n, str)]
        facts["finetune_preset_override"] = "dataset.dataset_name"
    return facts
