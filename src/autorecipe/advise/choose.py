"""Which shipped recipe to start from: the seed's decision tree, run over the real index.

Order of preference, most important first:
1. the exact model (same Hugging Face checkpoint, ignoring -Instruct/-Base style suffixes),
   else the closest size of the same architecture;
2. the requested mode (pretrain / sft / peft), library recipes only: benchmark recipes are
   upper-bound throughput configs on mock data, never the production answer;
3. for long context (over 8K), a variant whose sequence length covers the request;
4. the requested precision (BF16 unless asked): another one changes the numerics;
5. a recipe tuned for the user's GPU type, then the generic (H100) one;
6. the recipe whose GPU count is closest to the allocation, preferring one it divides;
7. the plainest variant (shortest name: no _deterministic, _dev, ... suffix).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from autorecipe.catalog import naming
from autorecipe.catalog.spec import ModelSpec
from autorecipe.errors import UserError
from autorecipe.index.schema import Mode, Recipe, RecipeIndex
from autorecipe.precision import canonical_precision

# The seed's threshold: up to 8K the default recipes work; beyond, a long-context variant.
LONG_CONTEXT = 8192

_SIZE = re.compile(r"(?<![a-z])(\d+(?:\.\d+)?)\s*([mbt])(?![a-z])", re.IGNORECASE)
_SCALE = {"m": 1e-3, "b": 1.0, "t": 1e3}

# User precision names (DESIGN.md) -> the names recipe files encode.


def checkpoint_key(hf_id: str | None) -> str | None:
    """A Hugging Face id reduced to its architecture: organisation and release suffixes off.

    >>> checkpoint_key("Qwen/Qwen3-30B-A3B-Instruct-2507")
    'qwen330ba3b'
    """
    if not hf_id:
        return None
    return naming.key(naming.strip_release(hf_id.rsplit("/", 1)[-1]))


def billions(text: str | None) -> float | None:
    """The first parameter count written in `text` ("30B-A3B" -> 30.0, "600M" -> 0.6)."""
    if not text:
        return None
    found = _SIZE.search(text.replace("_", "-"))
    return float(found.group(1)) * _SCALE[found.group(2).lower()] if found else None


def model_billions(spec: ModelSpec) -> float | None:
    """Total parameters as published, else as the checkpoint's name says."""
    return billions(spec.published_total_params) or billions(spec.hf_id)


def recipe_seq_length(recipe: Recipe) -> int | None:
    value = recipe.fields.get("dataset.seq_length", recipe.fields.get("seq_length"))
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Query:
    """What the user asked for; `gpu_type` is the catalog key, lower case (``h100``)."""

    mode: Mode
    gpus: int
    gpu_type: str
    seq_len: int | None = None
    precision: str | None = None


@dataclass
class Choice:
    """The chosen recipe (as the user should name it) and why.

    `entry` is the index entry that matched, whose fields describe the recipe (an alias's
    own entry when the alias matched); `recipe` is the name to launch.
    """

    recipe: Recipe
    entry: Recipe
    exact_model: bool
    reasons: list[str] = field(default_factory=list)
    runner_up: Recipe | None = None
    runner_up_reason: str | None = None
    differences: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)


def _canonical(index: RecipeIndex) -> dict[tuple[str, str], Recipe]:
    """(kind, name) -> the recipe an entry runs; library and benchmark names can collide."""
    by_key = {(r.kind, r.name): r for r in index.recipes}
    return {
        (r.kind, r.name): by_key.get((r.kind, r.alias_of), r) if r.alias_of else r
        for r in index.recipes
    }


def public_name(target: Recipe, index: RecipeIndex) -> Recipe:
    """The name people use for a recipe: its shortest alias when it has one."""
    aliases = [r for r in index.recipes if r.alias_of == target.name and r.kind == target.kind]
    return min(aliases, key=lambda r: (len(r.name), r.name)) if aliases else target


def _precision_penalty(recipe: Recipe, wanted: str | None) -> int:
    return 0 if recipe_precision(recipe) == (wanted or "bf16") else 1


def recipe_precision(recipe: Recipe) -> str:
    """The modelled precision a recipe trains in (bf16 when it names none)."""
    return canonical_precision(recipe.precision or "bf16")


def _gpu_type_penalty(recipe: Recipe, gpu_type: str) -> int:
    have = (recipe.gpu_type or "").lower()
    if have == gpu_type:
        return 0
    return 1 if have in ("", "h100") else 2


def _gpus_penalty(recipe: Recipe, gpus: int) -> float:
    if not recipe.num_gpus:
        return 1.0
    fits = gpus % recipe.num_gpus == 0
    return abs(math.log2(recipe.num_gpus / gpus)) + (0.0 if fits else 0.5)


def _seq_penalties(recipe: Recipe, seq_len: int | None) -> tuple[int, float]:
    """(coarse, fine): whether the recipe's context class suits the request, then distance."""
    have = recipe_seq_length(recipe)
    if have is None:
        return 1, 0.0
    want = seq_len or LONG_CONTEXT
    fine = abs(math.log2(have / want))
    if want > LONG_CONTEXT:
        return (0 if have >= want else 1), fine
    return (0 if have <= LONG_CONTEXT else 1), fine


def rank_key(recipe: Recipe, query: Query) -> tuple:
    coarse, fine = _seq_penalties(recipe, query.seq_len)
    long_context = (query.seq_len or 0) > LONG_CONTEXT
    return (
        coarse,
        _precision_penalty(recipe, query.precision),
        _gpu_type_penalty(recipe, query.gpu_type),
        fine if long_context else 0.0,
        _gpus_penalty(recipe, query.gpus),
        fine,
        len(recipe.name),
        recipe.name,
    )


def _describe(recipe: Recipe) -> str:
    seq = recipe_seq_length(recipe)
    parts = [
        f"{recipe.num_gpus} GPU{'s' if recipe.num_gpus != 1 else ''}" if recipe.num_gpus else None,
        recipe.gpu_type.upper() if recipe.gpu_type else None,
        recipe.precision.upper() if recipe.precision else None,
        f"seq {seq}" if seq else None,
    ]
    return ", ".join(p for p in parts if p)


def _why_runner_up(best: Recipe, other: Recipe, query: Query) -> str:
    a, b = rank_key(best, query), rank_key(other, query)
    labels = [
        "its sequence length suits the request less",
        "it uses another precision",
        "it is tuned for another GPU type",
        "its sequence length is further from the request",
        "its GPU count fits the allocation less well",
        "its sequence length is further from the request",
        "it is a more specialised variant",
        "it is a more specialised variant",
    ]
    reason = next((label for x, y, label in zip(a, b, labels, strict=True) if x != y), labels[-1])
    return f"{other.name} ({_describe(other)}): {reason}"


def choose_recipe(
    index: RecipeIndex,
    spec: ModelSpec,
    query: Query,
    resolve: Callable[[str], ModelSpec | None],
) -> Choice:
    """The best library recipe for `spec` and `query`, with reasons and a runner-up.

    Aliases are ranked on their own extracted facts, like any other entry, and entries
    that name the same function collapse into one answer. `resolve` maps a recipe's
    hf_model_id to its ModelSpec (None when unknown); it is used only when no recipe
    trains this exact checkpoint, to find the closest size.
    """
    canonical_of = _canonical(index)
    pool = [r for r in index.recipes if r.kind == "library" and r.mode == query.mode]
    if not pool:
        raise UserError(f"Megatron-Bridge {index.bridge_version} ships no {query.mode} recipe.")

    key = checkpoint_key(spec.hf_id)
    exact = [r for r in pool if key and checkpoint_key(r.hf_model_id) == key]
    differences: list[str] = []
    if exact:
        candidates = exact
        reasons = [f"{query.mode} recipe for this exact model ({spec.hf_id})"]
    else:
        candidates, reasons, differences = _closest_size(pool, spec, query, resolve)

    ranked = sorted(candidates, key=lambda r: rank_key(r, query))
    best = ranked[0]
    best_target = canonical_of[best.kind, best.name].name
    reasons.append(f"tuned for {_describe(best)}")
    seq = recipe_seq_length(best)
    if query.seq_len and seq and query.seq_len > LONG_CONTEXT:
        reasons.append(
            f"long context: the {seq}-token variant is the closest that covers {query.seq_len}"
            if seq >= query.seq_len
            else f"long context: no variant covers {query.seq_len}; {seq} is the longest"
        )
    others = [r for r in ranked if canonical_of[r.kind, r.name].name != best_target]
    # Variants: as good a match on every fact the query names (_deterministic, _muon, ...).
    same = rank_key(best, query)[:-2]
    variants = [r for r in others if rank_key(r, query)[:-2] == same]
    runner = next((r for r in others if r not in variants), None)

    def named(entry: Recipe) -> Recipe:
        return entry if entry.alias_of else public_name(entry, index)

    return Choice(
        recipe=named(best),
        entry=best,
        exact_model=bool(exact),
        reasons=reasons,
        runner_up=named(runner) if runner else None,
        runner_up_reason=_why_runner_up(best, runner, query) if runner else None,
        differences=differences,
        variants=list(dict.fromkeys(named(r).name for r in variants)),
    )


def _architecture(spec: ModelSpec) -> tuple[str | None, str]:
    return (spec.model_type or spec.family), spec.architecture_type


def _raising_recipe(pool: list[Recipe], spec: ModelSpec) -> Recipe | None:
    """A recipe of the pool named for this model that raises when it is built (Qwen3-Next's
    PEFT recipe raises NotImplementedError): the reason the mode has no recipe for it."""
    key = checkpoint_key(spec.hf_id)
    return next((r for r in pool if r.raises and key and naming.key(r.name).startswith(key)), None)


def _closest_size(
    pool: list[Recipe],
    spec: ModelSpec,
    query: Query,
    resolve: Callable[[str], ModelSpec | None],
) -> tuple[list[Recipe], list[str], list[str]]:
    size = model_billions(spec)
    same: list[tuple[float, Recipe, ModelSpec]] = []
    for recipe in pool:
        other = resolve(recipe.hf_model_id) if recipe.hf_model_id else None
        if other is None or _architecture(other) != _architecture(spec):
            continue
        other_size = model_billions(other)
        gap = abs(math.log(other_size / size)) if size and other_size else math.inf
        same.append((gap, recipe, other))
    name = spec.hf_id or spec.model_type or "this model"
    if not same:
        raised = _raising_recipe(pool, spec)
        why = f"; the release ships {raised.name}, which raises {raised.raises}" if raised else ""
        raise UserError(
            f"No {query.mode} recipe in this index trains {name} or another "
            f"{spec.model_type or spec.family} model of its architecture{why}; "
            "run `autorecipe list` for the recipes there are."
        )
    gap = min(g for g, _, _ in same)
    nearest = [(r, o) for g, r, o in same if g == gap]
    other = nearest[0][1]
    reasons = [
        f"no {query.mode} recipe for {name}; the closest size of the same architecture "
        f"is {other.hf_id}"
    ]
    return [r for r, _ in nearest], reasons, _spec_differences(spec, other)


def _spec_differences(mine: ModelSpec, theirs: ModelSpec) -> list[str]:
    """The shape fields in which the recipe's model differs from the user's."""
    fields = (
        "num_hidden_layers",
        "hidden_size",
        "intermediate_size",
        "num_attention_heads",
        "num_key_value_heads",
        "num_experts",
        "vocab_size",
    )
    return [
        f"{f}: yours {getattr(mine, f)}, recipe's {getattr(theirs, f)}"
        for f in fields
        if getattr(mine, f) != getattr(theirs, f)
    ]
