"""What `autorecipe model` says about one model: spec, counts, FLOPs, recipes that exist."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from autorecipe.catalog.flops import forward_flops_per_token, training_flops_per_token
from autorecipe.catalog.models import resolve_model
from autorecipe.catalog.params import ParamCounts, count_params
from autorecipe.catalog.spec import ModelSpec

DEFAULT_SEQ_LEN = 4096


class Flops(BaseModel):
    seq_len: int
    seq_len_from: str  # where seq_len came from: "argument", a recipe name, or "default"
    training_per_token: float
    forward_per_token: float
    mtp_num_layers: int


class ModelInfo(BaseModel):
    spec: ModelSpec
    params: ParamCounts
    flops: Flops
    recipes: list[str]
    library_recipes: list[str] = Field(default_factory=list)
    benchmark_recipes: list[str] = Field(default_factory=list)
    recipe_families: list[str] = Field(default_factory=list)
    bridge_version: str | None = None
    notes: list[str] = Field(default_factory=list)


def model_info(
    name_or_path: str, seq_len: int | None = None, index: str | None = None
) -> ModelInfo:
    """Spec, parameter counts, FLOPs per token and the bundled recipes for one model.

    `seq_len` defaults to the sequence length most of the model's library pretrain
    recipes use, else 4096.
    """
    from autorecipe.errors import UserError
    from autorecipe.index.load import load_index

    if seq_len is not None and seq_len <= 0:
        raise UserError(f"--seq-len must be a positive number of tokens, not {seq_len}")
    spec = resolve_model(name_or_path)
    idx = load_index(index, provenance=False)
    ids = {spec.hf_id, *spec.aliases} - {None}
    mine = [r for r in idx.recipes if r.hf_model_id in ids]
    source = "argument"
    if seq_len is None:
        source, seq_len = "default", DEFAULT_SEQ_LEN
        pretrain = sorted(
            (r.fields["seq_length"], r.name)
            for r in mine
            if r.kind == "library"
            and r.mode == "pretrain"
            and isinstance(r.fields.get("seq_length"), int)
        )
        if pretrain:
            # The length most of its pretrain recipes use (long-context variants are the exception).
            counts = Counter(length for length, _ in pretrain)
            seq_len = max(counts, key=lambda length: (counts[length], -length))
            source = min(
                (n for length, n in pretrain if length == seq_len), key=lambda n: (len(n), n)
            )
    mtp = spec.mtp_num_layers or 0
    notes = []
    if not spec.supported:
        notes.append(f"{spec.unsupported_reason}; counts and FLOPs cover the parts we model")
    if spec.unverified:
        notes.append(
            "unverified: no primary source (HF config.json or the model owner) was read for these dims"
        )
    return ModelInfo(
        spec=spec,
        params=count_params(spec),
        flops=Flops(
            seq_len=seq_len,
            seq_len_from=source,
            training_per_token=training_flops_per_token(spec, seq_len),
            forward_per_token=forward_flops_per_token(spec, seq_len),
            mtp_num_layers=mtp,
        ),
        recipes=sorted({r.name for r in mine}),
        library_recipes=sorted({r.name for r in mine if r.kind == "library"}),
        benchmark_recipes=sorted({r.name for r in mine if r.kind == "benchmark"}),
        recipe_families=sorted({r.family for r in mine if r.family}),
        bridge_version=idx.bridge_version,
        notes=notes,
    )
