"""The answer objects of recommend / plan / estimate / check (DESIGN.md's JSON contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from autorecipe.layout.schema import Layout

Severity = Literal["error", "warning", "info"]
ChangeClass = Literal["convergence", "execution", "benchmark-only"]


class Finding(BaseModel):
    id: str
    severity: Severity
    message: str
    fix: str | None = None
    title: str | None = None
    # the fix as overrides ({KEY: VALUE}) when it is one; `fix` is then its KEY=VALUE text
    fix_overrides: dict[str, Any] | None = None


class Change(BaseModel):
    key: str
    value: Any
    # `class` is a Python keyword; serialised as "class"
    change_class: ChangeClass = Field(alias="class", serialization_alias="class")
    reason: str | None = None

    model_config = {"populate_by_name": True}


class MemoryBreakdown(BaseModel):
    weights: float
    gradients: float
    optimizer: float
    activations: float
    other: float


class Memory(BaseModel):
    per_gpu_gib: float
    capacity_gib: float
    fits: bool
    breakdown: MemoryBreakdown
    assumptions: list[str] = Field(default_factory=list)


class Throughput(BaseModel):
    step_time_s: float
    tokens_per_sec_per_gpu: float
    model_tflops_per_gpu: float
    mfu: float
    breakdown: dict[str, float] = Field(default_factory=dict)
    training_time_s: float | None = None
    gpu_hours: float | None = None
    # What the estimate had to assume because a fact was missing (e.g. a GPU's HBM bandwidth).
    assumptions: list[str] = Field(default_factory=list)


class RecipeRef(BaseModel):
    name: str
    kind: str
    alias_of: str | None = None


class Candidate(BaseModel):
    """One answer: a recipe (if any) resized to an allocation, with its estimates."""

    recipe: RecipeRef | None = None
    dataset: str | None = None
    command: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    layout: Layout | None = None
    memory: Memory | None = None
    throughput: Throughput | None = None
    findings: list[Finding] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
