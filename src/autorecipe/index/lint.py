"""Docstring claims about a recipe's layout that its code does not keep.

Recipe docstrings state layouts ("Recommended parallelism: TP=1, PP=1, CP=2",
"8x H100, BF16, CP=2"); when the code sets something else the docstring is stale,
and `autorecipe index lint` lists it for upstream maintainers.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from autorecipe.index.schema import Kind, Recipe, RecipeIndex

_CLAIM_KEYS = {
    "TP": "tensor_model_parallel_size",
    "PP": "pipeline_model_parallel_size",
    "VP": "virtual_pipeline_model_parallel_size",
    "VPP": "virtual_pipeline_model_parallel_size",
    "CP": "context_parallel_size",
    "EP": "expert_model_parallel_size",
    "ETP": "expert_tensor_parallel_size",
    "SP": "sequence_parallel",
    "MBS": "micro_batch_size",
    "GBS": "global_batch_size",
}
_CLAIM = re.compile(
    r"\b(TP|PP|VPP|VP|CP|ETP|EP|SP|MBS|GBS)\s*[=:]\s*(\d+|None|True|False|true|false)\b"
)
_GPUS = re.compile(r"\b(\d+)\s*[x×]\s*(H100|H200|A100|B200|GB200|B300|GB300|R100|VR200)\b", re.I)


def _parse(text: str) -> int | bool | None:
    if text.isdigit():
        return int(text)
    return {"none": None, "true": True, "false": False}[text.lower()]


def _same(claim: int | bool | None, value: object) -> bool:
    if claim is None:
        return value in (None, 1)
    if isinstance(claim, bool) or isinstance(value, bool):
        return bool(claim) == bool(value) if value is not None else claim is False
    if value is None:
        # VP=1 / EP=1 mean "not used", which the code says with None.
        return claim == 1
    return claim == value


def docstring_contradictions(docstring: str, recipe: Recipe) -> list[str]:
    """One sentence per docstring claim that the extracted fields contradict."""
    found: list[str] = []
    seen: set[str] = set()
    for match in _CLAIM.finditer(docstring):
        label, text = match.group(1), match.group(2)
        key = _CLAIM_KEYS[label]
        if label in seen or key not in recipe.fields:
            continue
        seen.add(label)
        claim = _parse(text)
        value = recipe.fields[key]
        if not _same(claim, value):
            where = recipe.provenance.get(key, "")
            found.append(f"docstring says {label}={text}, code sets {key}={value!r} ({where})")
    gpus = _GPUS.search(docstring)
    if gpus and recipe.num_gpus is not None and int(gpus.group(1)) != recipe.num_gpus:
        found.append(f"docstring says {gpus.group(0)}, the recipe name says {recipe.num_gpus} GPUs")
    return found


class LintFinding(BaseModel):
    name: str
    kind: Kind
    location: str
    contradictions: list[str]


class LintReport(BaseModel):
    bridge_version: str
    findings: list[LintFinding] = Field(default_factory=list)


def lint_index(index: RecipeIndex) -> LintReport:
    """Recipes (aliases excluded: they repeat their target) with contradictions."""
    return LintReport(
        bridge_version=index.bridge_version,
        findings=[
            LintFinding(
                name=r.name,
                kind=r.kind,
                location=f"{r.file}:{r.line}",
                contradictions=r.contradictions,
            )
            for r in index.recipes
            if r.contradictions and r.alias_of is None
        ],
    )
