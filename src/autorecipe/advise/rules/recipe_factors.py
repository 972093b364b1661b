"""When a mesh or divisibility rule breaks, which of its factors the recipe set, and the
override that resolves the conflict.

A user who writes ``-tp 16`` on a recipe that sets CP=2 needs to hear that CP=2 is the
recipe's (and where it sets it) and that ``model.context_parallel_size=1`` fixes it; a
bare "TP×PP×CP must divide the GPUs" leaves them hunting. The search keeps every value
the user gave and changes only what the recipe set: fewest keys, execution-only changes
before convergence ones (GBS, sequence length), values closest to the recipe's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from autorecipe.advise.rules.context import CheckContext, effective_config

TP = "model.tensor_model_parallel_size"
PP = "model.pipeline_model_parallel_size"
CP = "model.context_parallel_size"
VP = "model.virtual_pipeline_model_parallel_size"
EP = "model.expert_model_parallel_size"
ETP = "model.expert_tensor_parallel_size"
SP = "model.sequence_parallel"
MBS = "train.micro_batch_size"
GBS = "train.global_batch_size"
SEQ = "dataset.seq_length"

LABELS = {
    TP: "TP",
    PP: "PP",
    CP: "CP",
    VP: "VP",
    EP: "EP",
    ETP: "ETP",
    SP: "sequence_parallel",
    MBS: "MBS",
    GBS: "GBS",
    SEQ: "seq_length",
}

# Changing these changes what is trained (change control): tried only when nothing else fixes it.
CONVERGENCE = (GBS, SEQ)

# The factors each layout rule reads, by layout rule id.
RULE_FACTORS: dict[str, tuple[str, ...]] = {
    "dense_mesh": (TP, PP, CP),
    "expert_mesh": (EP, ETP, PP),
    "tp_divides_heads": (TP,),
    "tp_vs_query_groups": (TP,),
    "tp_divides_widths": (TP, ETP),
    "vocab_divisible_by_tp": (TP,),
    "sp_with_tp": (SP,),
    "vp_requires_pp": (VP,),
    "layers_split_over_pipeline": (VP, PP),
    "interleaved_microbatches": (VP, MBS, GBS),
    "seq_divisible_by_cp": (CP, SEQ),
    "seq_divisible_for_sp": (CP, TP, SEQ),
    "experts_divisible_by_ep": (EP,),
    "gbs_divisible": (MBS, GBS),
}

_NEUTRAL: dict[str, Any] = {SP: True}


def _active(key: str, value: Any) -> bool:
    """Whether the recipe's value takes part in a conflict (a size of 1 never does)."""
    if key in (GBS, SEQ):
        return isinstance(value, int)
    if key == SP:
        return value is False
    return isinstance(value, int) and not isinstance(value, bool) and value > 1


def recipe_set(ctx: CheckContext, layout_rule: str) -> dict[str, Any]:
    """The rule's factors that the recipe set (and the user left), with their values."""
    return {
        key: ctx.base[key]
        for key in RULE_FACTORS.get(layout_rule, ())
        if key in ctx.base and not ctx.overridden(key) and _active(key, ctx.base[key])
    }


def _candidates(ctx: CheckContext, key: str, value: Any) -> list[Any]:
    """Values to try for `key`, closest to the recipe's first."""
    if key in _NEUTRAL:
        return [_NEUTRAL[key]]
    if key == GBS:
        unit = ctx.layout.mbs * ctx.layout.dp
        below = value - value % unit
        return [v for v in (below, below + unit) if v > 0]
    if key == SEQ:
        return []  # a different sequence length is a different run: never proposed
    if key == VP:  # no interleaving is VP unset, not VP=1
        return [*range(value - 1, 1, -1), None]
    return list(range(value - 1, 0, -1))


def with_overrides(ctx: CheckContext, extra: dict[str, Any]) -> CheckContext:
    """`ctx` as if the user had also passed `extra`."""
    overrides = {**ctx.overrides, **extra}
    return replace(ctx, config=effective_config(ctx.base, overrides), overrides=overrides)


def resolving_override(
    ctx: CheckContext, keys: dict[str, Any], resolved: Callable[[CheckContext], bool]
) -> dict[str, Any] | None:
    """The smallest override of the recipe's `keys` after which `resolved` holds."""
    execution = [k for k in keys if k not in CONVERGENCE]
    for pool in (execution, list(keys)):
        for size in range(1, len(pool) + 1):
            for chosen in itertools.combinations(pool, size):
                values = [_candidates(ctx, k, keys[k]) for k in chosen]
                for combo in itertools.product(*values):
                    extra = dict(zip(chosen, combo, strict=True))
                    if resolved(with_overrides(ctx, extra)):
                        return extra
    return None


def describe(keys: dict[str, Any], where: dict[str, str]) -> str:
    """ "CP=2 (recipes/llama/h100/llama3.py:257)" for each recipe-set factor."""
    from autorecipe.advise.check import format_value
    from autorecipe.index.fields import field_key

    parts = []
    for key, value in keys.items():
        place = where.get(field_key(key))
        parts.append(
            f"{LABELS.get(key, key)}={format_value(value)}" + (f" ({place})" if place else "")
        )
    return ", ".join(parts)
