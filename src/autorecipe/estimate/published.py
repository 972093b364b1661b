"""Published runs (perf-calibration rows) paired with the benchmark recipe that produced them.

The published tables give the layout (TP, PP, CP, VP, EP, MBS, GBS, FSDP) but not the
settings that decide memory beyond it: recompute, activation offloading, gradient and
optimizer dtypes, fp8 parameters, the cross-entropy kernel, the pipeline split. Those come
from the benchmark recipe for the same model, task, GPU type, GPU count and precision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from autorecipe.estimate.calibration import CalibrationRow
from autorecipe.estimate.memory import DEFAULT_KNOBS, Knobs, estimate_memory
from autorecipe.layout.schema import Layout
from autorecipe.result import Memory

# calibration model_key → the benchmark recipes' name prefix
RECIPE_PREFIX = {
    "llama3_8b": "llama3_8b",
    "llama3_70b": "llama3_70b",
    "llama3.1_405b": "llama31_405b",
    "deepseekv3": "deepseek_v3",
    "kimi_k2": "kimi_k2",
    "qwen3_30b_a3b": "qwen3_30b_a3b",
    "qwen3_235b_a22b": "qwen3_235b_a22b",
    "gpt_oss_120b": "gpt_oss_120b",
    "nemotron_3_nano": "nemotron_3_nano",
}
# the row's precision → recipe name tokens (FP8 rows: current scaling, else blockwise)
PRECISION_TOKENS = {
    "bf16": ("bf16",),
    "fp8": ("fp8cs", "fp8sc"),
    "mxfp8": ("fp8mx",),
    "nvfp4": ("nvfp4",),
}


@dataclass(frozen=True)
class PublishedFit:
    """A published run at its layout with its recipe's memory settings (None: no recipe)."""

    row: CalibrationRow
    recipe: Any | None  # the benchmark recipe named for the run
    same_layout: bool  # that recipe sets the published layout (it produced this run)
    layout: Layout
    memory: Memory


def sets_layout(row: Layout, recipe: Layout) -> bool:
    """The recipe sets the layout the table published (a blank VP in the table matches any)."""
    keys = ("tp", "pp", "cp", "ep", "mbs", "use_megatron_fsdp")
    return all(getattr(row, k) == getattr(recipe, k) for k in keys) and (
        row.vp is None or row.vp == recipe.vp
    )


def named_recipe(row: CalibrationRow, index: Any) -> Any | None:
    """The benchmark recipe named for the row's model, task, GPU count, GPU and precision.

    Example:
        >>> named_recipe(row, load_index("0.6.2")).name
        'llama3_8b_pretrain_8gpu_h100_fp8cs_config'
    """
    # a model the table names beyond RECIPE_PREFIX: recipes are named after the same key
    prefix = RECIPE_PREFIX.get(row.model_key, row.model_key)
    by_name = {r.name: r for r in index.recipes if r.kind == "benchmark"}
    for token in PRECISION_TOKENS.get(row.precision, ()):
        name = f"{prefix}_{row.mode}_{row.world_size}gpu_{row.gpu_type}_{token}_config"
        if name in by_name:
            return by_name[name]
    return None


def producing_recipe(row: CalibrationRow, index: Any) -> Any | None:
    """The named recipe when it sets the row's published layout; None when no shipped recipe
    does (the table comes from an older release whose recipe has since changed).

    Example:
        >>> producing_recipe(row, load_index("0.6.2")).name
        'llama3_8b_pretrain_8gpu_b200_fp8cs_config'
    """
    from autorecipe.layout.from_recipe import recipe_layout

    recipe = named_recipe(row, index)
    if recipe is not None and sets_layout(row.layout, recipe_layout(recipe).layout):
        return recipe
    return None


def row_setup(row: CalibrationRow, recipe: Any | None) -> tuple[Layout, Knobs]:
    """The row's published layout with the recipe's recompute, offloading, knobs and, where
    its pipeline is the row's, its stage split (else Megatron's balanced split is assumed).
    """
    from autorecipe.layout.from_recipe import recipe_layout

    if recipe is None:
        return row.layout, DEFAULT_KNOBS
    own = recipe_layout(recipe)
    lay = own.layout
    update: dict[str, Any] = {
        "recompute": lay.recompute,
        "recompute_method": lay.recompute_method,
        "recompute_num_layers": lay.recompute_num_layers,
        "recompute_modules": lay.recompute_modules,
        "use_distributed_optimizer": lay.use_distributed_optimizer,
    }
    if row.layout.ep > 1:
        update["etp"] = lay.etp
    if lay.pp == row.layout.pp and row.layout.vp in (None, lay.vp):
        # a blank VP in the table is the recipe's VP; its stage split applies as set
        update.update(
            vp=lay.vp,
            pipeline_layout=lay.pipeline_layout,
            first_stage_layers=lay.first_stage_layers,
            last_stage_layers=lay.last_stage_layers,
            account_for_embedding=lay.account_for_embedding,
            account_for_loss=lay.account_for_loss,
        )
    return row.layout.model_copy(update=update), own.knobs


def published_fit(row: CalibrationRow, index: Any) -> PublishedFit:
    """Memory of a published run, with its named recipe's settings where one exists.

    Example:
        >>> rows, _ = load_rows("tests/data/perf-calibration.csv")
        >>> published_fit(rows[0], load_index("0.6.2")).memory.fits
        True
    """
    from autorecipe.layout.from_recipe import recipe_layout

    recipe = named_recipe(row, index)
    same = recipe is not None and sets_layout(row.layout, recipe_layout(recipe).layout)
    layout, knobs = row_setup(row, recipe)
    memory = estimate_memory(
        row.spec, layout, row.gpu, seq_len=row.seq_len, mode=row.mode, precision=row.precision,
        world_size=row.world_size, knobs=knobs,
    )  # fmt: skip
    return PublishedFit(row, recipe, same, layout, memory)


def with_recipe_settings(rows: list[CalibrationRow], index: Any) -> list[CalibrationRow]:
    """The rows with settings the tables leave out, from the shipped benchmark recipe named
    for the run: its overlaps and dtypes (`Knobs`) and, where that recipe has the row's
    PP, a blank VP (the 26.02 tables leave it out).

    Example:
        >>> rows = with_recipe_settings(load_rows(csv)[0], load_index("0.6.2"))
    """
    from autorecipe.layout.from_recipe import recipe_layout

    out = []
    for row in rows:
        recipe = named_recipe(row, index)
        if recipe is None:
            out.append(row)
            continue
        own = recipe_layout(recipe)
        layout = row.layout
        if layout.vp is None and layout.pp > 1 and own.layout.pp == layout.pp:
            # as row_setup does for memory: a blank VP is the named recipe's at the same PP
            layout = layout.model_copy(update={"vp": own.layout.vp})
        out.append(replace(row, layout=layout, knobs=own.knobs))
    return out


def calibration_rows(path: Any) -> tuple[list[CalibrationRow], list[tuple[int, str]]]:
    """What the throughput model is calibrated and ranked on: the usable rows of the CSV at
    `path` (with the reasons for the others), with the settings of the bundled 0.6.2 index's
    recipe named for each run (`with_recipe_settings`)."""
    from autorecipe.api import load_index
    from autorecipe.estimate.calibration import load_rows

    rows, skipped = load_rows(path)
    return with_recipe_settings(rows, load_index("0.6.2")), skipped
