"""Schema of a recipe index (the JSON bundled per Megatron-Bridge release).

`fields` keys are Megatron's own attribute names (tensor_model_parallel_size, seq_length,
global_batch_size, ...), flattened from the ConfigContainer sections: the attribute name
alone where it is unambiguous, as DESIGN.md's contract says.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1

Kind = Literal["library", "benchmark"]
Mode = Literal["pretrain", "sft", "peft"]


class Recipe(BaseModel):
    name: str
    kind: Kind
    alias_of: str | None = None
    module: str
    file: str
    line: int
    family: str | None = None
    model_size: str | None = None
    mode: Mode | None = None
    hf_model_id: str | None = None
    num_gpus: int | None = None
    gpu_type: str | None = None
    precision: str | None = None
    peft_scheme: str | None = None
    docstring: str | None = None
    raises: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, str] = Field(default_factory=dict)
    unknown: dict[str, str] = Field(default_factory=dict)
    contradictions: list[str] = Field(default_factory=list)
    # Added by the scanner: where an alias's target function is defined, and remarks
    # such as an alias whose name names another GPU type than the code it runs.
    defined_at: str | None = None
    notes: list[str] = Field(default_factory=list)


class DatasetPreset(BaseModel):
    name: str
    modes: list[Mode]
    description: str | None = None
    source: str | None = None
    # The dataset config class the preset builds (0.6.x): a VLM preset builds
    # DirectHFSFTDatasetConfig and needs a recipe whose `dataset` field is that class.
    builds: str | None = None


class RecipeIndex(BaseModel):
    schema_version: int = SCHEMA_VERSION
    bridge_version: str
    recipes: list[Recipe]
    datasets: list[DatasetPreset] = Field(default_factory=list)
    entry_point: dict[str, Any] = Field(default_factory=dict)
    skipped_files: dict[str, str] = Field(default_factory=dict)


LAYOUT_KEYS = {
    "tp": "tensor_model_parallel_size",
    "pp": "pipeline_model_parallel_size",
    "vp": "virtual_pipeline_model_parallel_size",
    "cp": "context_parallel_size",
    "ep": "expert_model_parallel_size",
    "etp": "expert_tensor_parallel_size",
    "sp": "sequence_parallel",
    "mbs": "micro_batch_size",
    "gbs": "global_batch_size",
    "seq_length": "seq_length",
}


class RecipeSummary(BaseModel):
    """One row of `autorecipe list`: identity, what the name says, and the layout."""

    name: str
    kind: Kind
    alias_of: str | None = None
    family: str | None = None
    model_size: str | None = None
    mode: Mode | None = None
    hf_model_id: str | None = None
    num_gpus: int | None = None
    gpu_type: str | None = None
    precision: str | None = None
    peft_scheme: str | None = None
    raises: str | None = None
    layout: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, recipe: Recipe) -> RecipeSummary:
        layout = {k: recipe.fields[f] for k, f in LAYOUT_KEYS.items() if f in recipe.fields}
        return cls(**recipe.model_dump(include=set(cls.model_fields) - {"layout"}), layout=layout)


class RecipeListing(BaseModel):
    bridge_version: str
    count: int
    recipes: list[RecipeSummary]


class RecipeDetail(BaseModel):
    """`autorecipe show`: the recipe, and which other kind also uses its name."""

    bridge_version: str
    recipe: Recipe
    also_as: list[Kind] = Field(default_factory=list)
