"""The findings `recommend`, `plan` and `estimate` add to an answer, beside `check`'s AR rules.

They describe the answer rather than a configuration pitfall, so they carry descriptive ids;
`autorecipe rules ID` explains them like the AR rules.
"""

from __future__ import annotations

# id -> (title, severity, explanation)
ANSWER_FINDINGS: dict[str, tuple[str, str, str]] = {
    "other-model": (
        "No recipe builds the model asked for",
        "error (SFT/PEFT) or warning",
        "Megatron-Bridge ships no recipe of this mode for the model, so recommend starts from "
        "the closest size of the same architecture. Its command builds that recipe's own "
        "model: a checkpoint of the model asked for will not load into it. Memory and speed "
        "are the asked model's. Write a recipe whose model is "
        "AutoBridge.from_hf_pretrained(<your id>), keeping its other settings.",
    ),
    "oversized-allocation": (
        "More GPUs than the global batch can use",
        "warning",
        "The global batch feeds fewer GPUs than given at the recipe's (or the best layout's) "
        "model parallelism; the rest only split each sequence or layer further, at a poor "
        "share of their speed. Run on fewer GPUs, or raise train.global_batch_size (a "
        "convergence change: a new experiment).",
    ),
    "memory": (
        "No layout fits the allocation",
        "error",
        "recommend's planner found no layout of these GPUs under the usable memory; the "
        "leanest is shown, with the smallest GPU count that fits when one was found.",
    ),
    "memory-estimate-above-recipe": (
        "Shipped layout trusted over the memory estimate",
        "info",
        "The estimate is over the usable memory, but the recipe runs this very layout, "
        "model and precision as shipped, with no more sharding, on a GPU with no more "
        "memory: the recipe is trusted. Never when the model state alone (weights, "
        "gradients and optimizer state: exact bytes per parameter) exceeds the GPU.",
    ),
    "no-valid-layout": (
        "No layout keeps the recipe's global batch",
        "error",
        "Every layout of this GPU count either breaks a Megatron-Core check or needs another "
        "global batch size; the first problem of the recipe's own layout follows.",
    ),
    "no-pretrained-checkpoint": (
        "Fine-tuning would start from random weights",
        "warning",
        "The SFT/PEFT recipe sets no checkpoint.pretrained_checkpoint and builds its model "
        "with load_weights=False; the command passes $PRETRAINED_CHECKPOINT for it.",
    ),
    "unknown-field": (
        "A recipe field the scanner could not read",
        "info",
        "The value depends on run time (a Hugging Face config, the installed Megatron-Core); "
        "the reason says which. `autorecipe show RECIPE` lists every such field.",
    ),
    "does_not_fit": (
        "This layout does not fit",
        "error",
        "estimate's memory model puts the most loaded GPU over its usable memory.",
    ),
    "nothing_fits": (
        "No valid layout fits",
        "error",
        "plan found no valid layout under the usable memory, even with full recompute; the "
        "advice says what would fit (more GPUs, PEFT, a shorter sequence).",
    ),
    "pipeline_split": (
        "Layers do not divide over the pipeline",
        "info",
        "The decoder layers do not split evenly over PP×VP; the estimate uses the split "
        "Megatron-Core would need (embedding and loss counted as layers, or a layout string), "
        "which the recipe must then set.",
    ),
    "recipe_layout_resized": (
        "The recipe's own layout does not run here",
        "info",
        "plan --recipe: the recipe's own factors break a check or do not fit on these GPUs; "
        "the layouts shown resize it, keeping as many of its factors as they can.",
    ),
    "recipe_mode": (
        "Planned for the recipe's mode",
        "info",
        "plan --recipe without --mode plans for the recipe's own mode.",
    ),
    "seq_len_unchecked": (
        "Sequence length the catalog cannot check",
        "warning",
        "The catalog does not know the model's max_position_embeddings, and the request is "
        "longer than its longest shipped recipe: check the model's config.json (and its "
        "rope_scaling) covers it.",
    ),
}


def answer_finding(finding_id: str) -> tuple[str, tuple[str, str, str]] | None:
    """The entry for `finding_id`, '-' and '_' alike, any case."""
    key = finding_id.strip().lower().replace("_", "-")
    for name, entry in ANSWER_FINDINGS.items():
        if name.replace("_", "-") == key:
            return name, entry
    return None
