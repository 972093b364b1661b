"""What changed between two releases' indexes, for a user upgrading Megatron-Bridge."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from autorecipe.index.schema import RecipeIndex


class RecipeChange(BaseModel):
    name: str
    kind: str
    fields: dict[str, tuple[Any, Any]] = Field(default_factory=dict)  # key -> (old, new)


class IndexDiff(BaseModel):
    old_version: str
    new_version: str
    added: list[str] = Field(default_factory=list)  # "kind:name"
    removed: list[str] = Field(default_factory=list)
    changed: list[RecipeChange] = Field(default_factory=list)
    datasets_added: list[str] = Field(default_factory=list)
    datasets_removed: list[str] = Field(default_factory=list)


_ABSENT = "<not set>"


def diff_indexes(old: RecipeIndex, new: RecipeIndex) -> IndexDiff:
    """Recipes added and removed (identity: kind + name), and fields whose value changed
    for a recipe present in both (a field set in one release only counts as changed)."""
    before = {(r.kind, r.name): r for r in old.recipes}
    after = {(r.kind, r.name): r for r in new.recipes}
    report = IndexDiff(old_version=old.bridge_version, new_version=new.bridge_version)
    report.added = [f"{k}:{n}" for k, n in sorted(after.keys() - before.keys())]
    report.removed = [f"{k}:{n}" for k, n in sorted(before.keys() - after.keys())]
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        changes = {}
        for field in sorted(set(a.fields) | set(b.fields)):
            va, vb = a.fields.get(field, _ABSENT), b.fields.get(field, _ABSENT)
            if va != vb:
                changes[field] = (va, vb)
        for attr in (
            "alias_of",
            "mode",
            "num_gpus",
            "gpu_type",
            "precision",
            "hf_model_id",
            "raises",
        ):
            va, vb = getattr(a, attr), getattr(b, attr)
            if va != vb:
                changes[attr] = (va, vb)
        if changes:
            report.changed.append(RecipeChange(name=key[1], kind=key[0], fields=changes))
    old_ds, new_ds = {d.name for d in old.datasets}, {d.name for d in new.datasets}
    report.datasets_added = sorted(new_ds - old_ds)
    report.datasets_removed = sorted(old_ds - new_ds)
    return report
