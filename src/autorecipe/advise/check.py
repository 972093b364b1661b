"""The check engine: a recipe plus overrides on an allocation -> findings and changes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from autorecipe.advise.changes import classify_change
from autorecipe.advise.rules import Hit, Rule, all_rules
from autorecipe.advise.rules.context import (
    EDITS_RECIPE_DATASET,
    CheckContext,
    effective_config,
    recipe_config,
    with_preset,
)
from autorecipe.advise.rules.recipe_factors import describe, with_overrides
from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.index.schema import DatasetPreset, Recipe
from autorecipe.result import Change, Finding, RecipeRef

_ORDER = {"error": 0, "warning": 1, "info": 2}


class CheckReport(BaseModel):
    """What `autorecipe check` answers: DESIGN's {"findings", "changes"} plus what was checked."""

    recipe: RecipeRef
    model: str | None = None
    gpu: str
    world_size: int
    mode: str | None = None
    seq_len: int
    # the dataset the data rules read: the --dataset preset, or the recipe's own
    dataset: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class RuleDoc(BaseModel):
    """A rule as `autorecipe rules` shows it."""

    id: str
    title: str
    severity: str
    group: str
    explanation: str


def rule_docs(rule_id: str | None = None) -> list[RuleDoc]:
    """Every rule, or the one named `rule_id` (UserError with the closest ids otherwise)."""
    from autorecipe.advise.answer_findings import ANSWER_FINDINGS, answer_finding
    from autorecipe.errors import UserError, did_you_mean

    rules = all_rules()
    if rule_id is not None:
        key = rule_id.strip().upper()
        if key not in rules:
            answer = answer_finding(rule_id)
            if answer is not None:
                name, (title, severity, text) = answer
                return [
                    RuleDoc(
                        id=name, title=title, severity=severity, group="answer", explanation=text
                    )
                ]
            known = [*rules, *ANSWER_FINDINGS]
            raise UserError(
                f"unknown rule {rule_id!r}.{did_you_mean(rule_id.strip(), known)} "
                "`autorecipe rules` lists them"
            )
        rules = {key: rules[key]}
    return [
        RuleDoc(
            id=r.id, title=r.title, severity=r.severity, group=r.group, explanation=r.explanation
        )
        for r in rules.values()
    ]


def format_value(value: Any) -> str:
    """A value in the Hydra syntax run_recipe.py reads back (null, true, [a,b])."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def format_overrides(overrides: dict[str, Any]) -> str:
    return " ".join(f"{key}={format_value(value)}" for key, value in overrides.items())


def _finding(rule: Rule, hit: Hit, where: Callable[[], dict[str, str]]) -> Finding:
    overrides = hit.fix if isinstance(hit.fix, dict) else None
    message = hit.message
    if hit.recipe_keys:
        message += f" Set by the recipe: {describe(hit.recipe_keys, where())}."
    return Finding(
        id=rule.id,
        severity=hit.severity or rule.severity,
        message=message,
        fix=format_overrides(overrides) if overrides is not None else hit.fix,
        title=rule.title,
        fix_overrides=overrides,
    )


def _factor_below_one(ctx: CheckContext) -> bool:
    """A parallel size, batch size, the GPU count or the sequence length under 1 (AR100)."""
    lo = ctx.layout
    factors = (lo.tp, lo.pp, lo.cp, lo.ep, lo.etp, lo.mbs, lo.gbs, ctx.world_size, ctx.seq_len)
    return min(factors) < 1 or (lo.vp is not None and lo.vp < 1)


def _detect(ctx: CheckContext, rules: dict[str, Rule]) -> list[tuple[Rule, Hit]]:
    """Every hit of every rule on `ctx`, with its rule."""
    if _factor_below_one(ctx):
        # AR100 names the bad factor; the other rules divide by the factors, so they wait
        from autorecipe.advise.rules.layout import LAYOUT_RULES

        layout_ids = {ar for ar, _, _ in LAYOUT_RULES.values()}
        rules = {rid: r for rid, r in rules.items() if rid in layout_ids}
    return [(r, hit) for r in rules.values() for hit in r.detect(ctx)]


def _is_error(rule: Rule, hit: Hit) -> bool:
    return (hit.severity or rule.severity) == "error"


class _FixCheck:
    """Re-checks a finding's override fix before it is offered: the same rules on the
    configuration with the fix applied, once (the re-check's own fixes are not
    re-checked). An error there that the configuration did not already have is new."""

    def __init__(self, ctx: CheckContext, rules: dict[str, Rule], errors: set[str]) -> None:
        self.ctx, self.rules, self.errors = ctx, rules, errors

    def new_errors(self, rule: Rule, fix: dict[str, Any]) -> list[tuple[Rule, Hit]]:
        fixed = replace(with_overrides(self.ctx, fix), as_shipped=False)
        return [
            (r, h)
            for r, h in _detect(fixed, self.rules)
            if _is_error(r, h) and r.id not in self.errors and r.id != rule.id
        ]

    def companion(
        self, fix: dict[str, Any], broken: list[tuple[Rule, Hit]]
    ) -> dict[str, Any] | None:
        """What else must change with `fix`: for each new error, the first of its own
        fixes that leaves `fix` as it is; None when one has none."""
        extra: dict[str, Any] = {}
        for _rule, h in broken:
            options = [o for o in (h.fix, *h.alternatives) if isinstance(o, dict) and o]
            pick = next(
                (o for o in options if not set(o) & set(fix) and not set(o) & set(extra)),
                None,
            )
            if pick is None:
                return None
            extra.update(pick)
        return extra

    def settle(self, rule: Rule, hit: Hit) -> Hit:
        """`hit` with a fix that introduces no new error: its own, the rule's next-best,
        its own plus what the new error needs, or none (the fix text then says why)."""
        fix = hit.fix
        if not isinstance(fix, dict) or not fix:
            return hit
        broken = self.new_errors(rule, fix)
        if not broken:
            return hit
        ids = ", ".join(dict.fromkeys(r.id for r, _ in broken))
        first = broken[0][1].message.rstrip(".")
        said = format_overrides(fix)
        for alt in hit.alternatives:
            if not self.new_errors(rule, alt):
                return replace(
                    hit,
                    fix=alt,
                    alternatives=(),
                    message=f"{hit.message} ({said} is not offered: it would trigger {ids}: "
                    f"{first}.)",
                )
        extra = self.companion(fix, broken)
        if extra and not self.new_errors(rule, {**fix, **extra}):
            return replace(
                hit,
                fix={**fix, **extra},
                alternatives=(),
                message=f"{hit.message} {said} also needs {format_overrides(extra)}, see "
                f"{ids} ({first}).",
            )
        return replace(
            hit,
            fix=f"none as overrides: {said} would trigger {ids} ({first})",
            alternatives=(),
        )


def run_rules(
    ctx: CheckContext,
    rules: dict[str, Rule] | None = None,
    provenance: Callable[[], dict[str, str]] | None = None,
) -> list[Finding]:
    """Every finding of every rule on `ctx`, errors first, then by rule id.

    A fix given as overrides is re-checked before it is offered (_FixCheck).
    `provenance` gives the recipe's {field: file:line}, asked only when a finding names
    a value the recipe set (the lean index carries none; the full one costs a load)."""
    where = functools.lru_cache(maxsize=1)(
        provenance or (lambda: ctx.recipe.provenance if ctx.recipe else {})
    )
    rules = rules or all_rules()
    hits = _detect(ctx, rules)
    fixes = _FixCheck(ctx, rules, {r.id for r, h in hits if _is_error(r, h)})
    found = [_finding(r, fixes.settle(r, hit), where) for r, hit in hits]
    return sorted(found, key=lambda f: (_ORDER[f.severity], f.id))


def classify_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> list[Change]:
    """One Change per override, classed by change control against the recipe's values."""
    gbs = overrides.get("train.global_batch_size", base.get("train.global_batch_size"))
    gbs_fixed = gbs == base.get("train.global_batch_size")
    changes = []
    for key, value in overrides.items():
        cls, reason = classify_change(key, value, old=base.get(key), gbs_fixed=gbs_fixed)
        changes.append(Change(key=key, value=value, change_class=cls, reason=reason))
    return changes


def _gpu_key(name: str) -> str | None:
    from autorecipe.catalog.gpus import resolve_gpu
    from autorecipe.errors import UserError

    try:
        return resolve_gpu(name).key
    except UserError:
        return None


def _dataset_said(ctx: CheckContext) -> str:
    """Which dataset the data rules read, in words."""
    packing = "offline packing" if ctx.offline_packing else "no offline packing"
    cls = ctx.get("dataset") or "dataset class unknown"
    if ctx.preset is not None:
        how = "edits the recipe's" if ctx.preset.builds == EDITS_RECIPE_DATASET else "replaces it"
        return f"--dataset {ctx.preset.name} ({cls}, {packing}; {how})"
    if ctx.dataset:
        return f"--dataset {ctx.dataset} (not in the index: the recipe's own {cls} assumed)"
    return f"the recipe's own ({cls}, {packing}); pass --dataset NAME for the launch preset"


def check_recipe(
    recipe: Recipe,
    overrides: dict[str, Any],
    *,
    world_size: int,
    gpu: GPUSpec,
    spec: ModelSpec | None,
    dataset: str | DatasetPreset | None = None,
    provenance: Callable[[], dict[str, str]] | None = None,
) -> CheckReport:
    """Lint `recipe` with parsed `overrides` on `world_size` GPUs of type `gpu`.

    `dataset` is the run_recipe.py --dataset preset: given with its index facts, it
    replaces the recipe's dataset as the launcher does; as a bare name, only rules that
    read the name see it. `provenance` returns the recipe's {field: file:line} when
    `recipe` came without it."""
    preset = dataset if isinstance(dataset, DatasetPreset) else None
    base = recipe_config(recipe)
    if preset is not None:
        base = with_preset(base, preset)
    own_gpu = recipe.gpu_type is not None and _gpu_key(recipe.gpu_type) == gpu.key
    ctx = CheckContext(
        as_shipped=not overrides and world_size == recipe.num_gpus and own_gpu,
        config=effective_config(base, overrides),
        gpu=gpu,
        world_size=world_size,
        mode=recipe.mode or "pretrain",
        spec=spec,
        recipe=recipe,
        base=base,
        overrides=overrides,
        dataset=preset.name if preset else dataset,  # type: ignore[arg-type]
        preset=preset,
    )
    return CheckReport(
        recipe=RecipeRef(name=recipe.name, kind=recipe.kind, alias_of=recipe.alias_of),
        model=spec.hf_id if spec else recipe.hf_model_id,
        gpu=gpu.key,
        world_size=world_size,
        mode=recipe.mode,
        seq_len=ctx.seq_len,
        dataset=_dataset_said(ctx),
        findings=run_rules(ctx, provenance=provenance),
        changes=classify_overrides(base, overrides),
    )
