"""Data pitfalls (AR5xx): packing rules and multimodal recipes fed text-only data."""

from __future__ import annotations

from autorecipe.advise.rules import Hit, rule
from autorecipe.advise.rules.context import EDITS_RECIPE_DATASET, CheckContext

# Dataset keys that only a text dataset has, and keys that carry images.
_TEXT_KEYS = ("dataset.blend", "dataset.dataset_name", "dataset.dataset_root", "dataset.data_path")
_IMAGE_KEYS = (
    "dataset.maker_name",
    "dataset.hf_processor_path",
    "dataset.train_data_path",
    "dataset.path",
    "dataset.image_folder",
)

# Dataset classes only vision-language recipes build (their own dataset, in the index).
_IMAGE_DATASETS = (EDITS_RECIPE_DATASET, "MockVLMSFTDatasetConfig", "EnergonDatasetConfig")


def is_vlm_recipe(ctx: CheckContext) -> bool:
    recipe = ctx.recipe
    if recipe is None:
        return False
    if recipe_dataset_class(ctx) in _IMAGE_DATASETS:
        return True
    text = f"{recipe.name} {recipe.family or ''} {recipe.module}".lower()
    return any(tag in text for tag in ("_vl", "vlm", "_vl_", "llava", "omni"))


@rule(
    "AR501",
    "Vision-language fine-tuning without image data",
    "warning",
    """A VLM recipe fine-tuned on a text-only dataset trains the language model while the
    vision tower and projector see nothing; the seed reports it "runs but produces
    garbage". Low confidence: no public issue shows it, and Bridge's launcher now rejects
    an outright mode/dataset mismatch ("Mode ... is incompatible with dataset ..."). Fired
    when a VLM SFT/PEFT recipe is given a text dataset preset (llm-*) or text-dataset keys
    without any image-dataset key. Use a vlm-* preset (vlm-hf, vlm-energon,
    vlm-preloaded) or mock VLM data. Evidence: seed pitfall table; pitfalls-evidence,
    seed audit.""",
)
def vlm_without_images(ctx: CheckContext) -> list[Hit]:
    if ctx.mode not in ("sft", "peft") or not is_vlm_recipe(ctx):
        return []
    if ctx.preset is not None and ctx.preset.builds:
        text_preset = ctx.preset.builds == "GPTSFTDatasetConfig"
    else:  # a preset the index does not describe: go by its name
        preset = (ctx.dataset or "").lower()
        text_preset = bool(preset) and "vlm" not in preset and "mock" not in preset
    text_keys = [k for k in _TEXT_KEYS if k in ctx.overrides]
    image_keys = [k for k in _IMAGE_KEYS if k in ctx.overrides]
    if image_keys or not (text_preset or text_keys):
        return []
    what = f"dataset preset {ctx.dataset}" if text_preset else ", ".join(text_keys)
    return [
        Hit(
            f"{ctx.recipe.name if ctx.recipe else 'VLM recipe'} ({ctx.mode}) with {what}: no "
            "image data reaches the vision encoder.",
            "use a vlm-* dataset preset (vlm-hf with dataset.maker_name=..., vlm-energon, vlm-preloaded)",
        )
    ]


@rule(
    "AR502",
    "Packed sequences and the micro batch size",
    "error",
    """Offline-packed SFT needs micro_batch_size 1 ("Micro batch size should be 1 when
    training with packed sequence"); raise packed_sequence_size instead, and divide GBS by
    the mean sequences per pack to keep tokens per step. In-batch packing needs MBS > 1
    (or turn it off: dataset.enable_in_batch_packing=false).
    Every Bridge finetune recipe packs by default since MB #2284. Evidence: MB config.py;
    pitfalls-evidence #22.""",
)
def packing_micro_batch(ctx: CheckContext) -> list[Hit]:
    mbs = ctx.layout.mbs
    if ctx.offline_packing and mbs > 1:
        return [
            Hit(
                f"Offline-packed sequences with micro_batch_size={mbs}: Bridge requires 1.",
                {"train.micro_batch_size": 1},
            )
        ]
    if ctx.get("dataset.enable_in_batch_packing") and mbs == 1:
        return [
            Hit(
                "enable_in_batch_packing=True with micro_batch_size=1: Bridge requires MBS > 1.",
                {"train.micro_batch_size": 2},
                alternatives=({"dataset.enable_in_batch_packing": False},),
            )
        ]
    return []


@rule(
    "AR503",
    "Fine-tuning with context parallelism: per-token loss",
    "info",
    """With CP > 1, fine-tuning needs calculate_per_token_loss=True and
    ddp.average_in_collective=False: ranks whose tokens are all masked would otherwise
    produce NaN (Bridge's ConfigContainer.validate raises "When finetuning with CP>1,
    calculate_per_token_loss must be True"). run_recipe.py (0.6 line) sets both itself
    (sync_finetuning_cp_invariants), so through the launcher this is info; code that
    builds the ConfigContainer directly must set them. Evidence: MB #374; verl #6609;
    pitfalls-evidence #20.""",
)
def finetune_cp_loss(ctx: CheckContext) -> list[Hit]:
    if ctx.mode not in ("sft", "peft") or ctx.layout.cp <= 1:
        return []
    fix: dict[str, object] = {}
    if not ctx.get("model.calculate_per_token_loss"):
        fix["model.calculate_per_token_loss"] = True
    if ctx.get("ddp.average_in_collective"):
        fix["ddp.average_in_collective"] = False
    if not fix:
        return []
    return [
        Hit(
            f"{ctx.mode} with CP={ctx.layout.cp} and {', '.join(fix)} not as CP needs: "
            "run_recipe.py fixes it; a hand-built ConfigContainer fails validation.",
            fix,
        )
    ]


@rule(
    "AR504",
    "Unpacked fine-tuning data padded to full length by PP/EP",
    "info",
    """Bridge pads every sample to seq_length whenever PP > 1 or EP > 1
    (ConfigContainer.validate sets dataset.pad_to_max_length, since #4315), so unpacked
    SFT data with short samples spends most of each step on padding. Use packed sequences
    (offline packing) with PP or EP, or accept the cost knowingly. Evidence: MB config.py;
    pitfalls-evidence #23.""",
)
def padding_forced(ctx: CheckContext) -> list[Hit]:
    lo = ctx.layout
    if ctx.mode not in ("sft", "peft") or (lo.pp <= 1 and lo.ep <= 1):
        return []
    if (
        ctx.offline_packing
        or ctx.get("dataset.enable_in_batch_packing")
        or ctx.get("dataset.pad_to_max_length")
    ):
        return []
    return [
        Hit(
            f"Unpacked {ctx.mode} data with PP={lo.pp}, EP={lo.ep}: Bridge pads every sample "
            f"to {ctx.seq_len} tokens.",
            "pack the dataset (offline packing, MBS 1), or keep PP = EP = 1",
        )
    ]


@rule(
    "AR505",
    "Dataset preset does not fit the recipe",
    "error",
    """run_recipe.py's --dataset preset replaces the recipe's dataset before the overrides.
    The vision-language presets (local-vlm, cord-v2, medpix, ...) edit the recipe's own
    DirectHFSFTDatasetConfig and raise ValueError "<preset> requires a recipe using
    DirectHFSFTDatasetConfig" on any other recipe (recipes/utils/dataset_utils.py,
    _require_direct_hf_config). A preset is also made for certain modes (the index's
    preset modes): the launcher picks the training loop from the dataset it built
    (dataset_train_mode: pretrain for GPTDatasetConfig, finetune otherwise) and 0.6.x's
    run_recipe.py rejects a preset whose mode is not the recipe's ("Mode ... is
    incompatible with dataset ..."). Pick a preset listed for the recipe's mode.""",
)
def preset_fits_recipe(ctx: CheckContext) -> list[Hit]:
    preset = ctx.preset
    if preset is None or ctx.recipe is None:
        return []
    own = recipe_dataset_class(ctx)
    if preset.builds == EDITS_RECIPE_DATASET and own != EDITS_RECIPE_DATASET:
        return [
            Hit(
                f"--dataset {preset.name} edits a DirectHFSFTDatasetConfig, but "
                f"{ctx.recipe.name} builds {own or 'another dataset class'}: the launcher "
                "raises ValueError.",
                "pick a text preset for this recipe, or a VLM recipe for this preset",
            )
        ]
    if ctx.recipe.mode and preset.modes and ctx.recipe.mode not in preset.modes:
        return [
            Hit(
                f"--dataset {preset.name} is a {'/'.join(preset.modes)} preset; "
                f"{ctx.recipe.name} is a {ctx.recipe.mode} recipe.",
                f"pick a preset made for {ctx.recipe.mode}",
            )
        ]
    return []


def recipe_dataset_class(ctx: CheckContext) -> str | None:
    """The dataset class the recipe itself builds (before any preset)."""
    fields = ctx.recipe.fields if ctx.recipe else {}
    value = fields.get("dataset")
    return value if isinstance(value, str) else None
