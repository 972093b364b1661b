"""Which catalog model a recipe builds when its provider names no Hugging Face checkpoint.

Most recipes build their model with `AutoBridge.from_hf_pretrained(id)`, so the id is in the
source. Some spell the architecture out instead (Nemotron-H's `HybridModelProvider` with its
layer count, widths and hybrid pattern; the performance recipes reuse those helpers): without
an id, `recommend` cannot find them for the model they train. The shape the provider sets is
in the source, though, and the catalog holds each model's shape from its config.json, so the
model is identified by comparing the two:

- the recipe's tokenizer (`tokenizer.tokenizer_model`) names a catalog model whose shape
  agrees with every shape field the provider sets; or
- exactly one catalog model has that shape and shares a family word with the recipe's
  name, or exactly one of those that do is named by the recipe's own name (a language model and its vision-language sibling share a shape:
  `nemotron_nano_12b_v2_pretrain_config` is Nemotron-Nano-12B-v2, not its VL checkpoint).

Identified only when the provider sets at least `MIN_SHARED` of the compared fields (layer
count and hidden size among them), so a provider that sets one width is never matched.
"""

from __future__ import annotations

import re
from typing import Any

# Megatron provider field -> catalog (config.json) field
SHAPE_FIELDS = {
    "model.num_layers": "num_hidden_layers",
    "model.hidden_size": "hidden_size",
    "model.ffn_hidden_size": "intermediate_size",
    "model.num_attention_heads": "num_attention_heads",
    "model.num_query_groups": "num_key_value_heads",
    "model.num_moe_experts": "num_experts",
    "model.moe_router_topk": "num_experts_per_tok",
    "model.moe_ffn_hidden_size": "moe_intermediate_size",
    "model.hybrid_layer_pattern": "hybrid_layer_pattern",
}
REQUIRED = ("model.num_layers", "model.hidden_size")
MIN_SHARED = 4
# Words of a checkpoint's name that say which release or dtype it is, not which model
RELEASE_WORDS = {"base", "instruct", "it", "bf16", "fp8", "hf", "chat"}


def _agrees(fields: dict[str, Any], entry: dict[str, Any]) -> bool:
    shared = 0
    for field, fact in SHAPE_FIELDS.items():
        ours, theirs = fields.get(field), entry.get(fact)
        if ours is None or theirs is None:
            if field in REQUIRED:
                return False
            continue
        if ours != theirs:
            return False
        shared += 1
    return shared >= MIN_SHARED


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def _named_by(recipe_name: str, hf_id: str) -> bool:
    """Every word of the checkpoint's name, its organisation and release words aside, is in
    the recipe's name ("NVIDIA-Nemotron-Nano-12B-v2-Base": nemotron, nano, 12b, v2)."""
    org, _, name = hf_id.rpartition("/")
    return _words(name) - RELEASE_WORDS - _words(org) <= _words(recipe_name)


def _same_family(recipe_name: str, hf_id: str) -> bool:
    """The recipe's name shares a family word with the checkpoint's ("nemotronh" and
    "Nemotron-H", "gemma3" and "gemma-3"), so a shape shared across families is no match:
    Wan 2.1 14B's diffusion transformer has Llama 2 13B's layers, widths and heads. A caller
    without a recipe name is not checked."""
    if not recipe_name:
        return True
    name = hf_id.rpartition("/")[2]
    theirs = {
        w
        for w in _words(name) - RELEASE_WORDS
        if len(w) >= 3 and not re.fullmatch(r"[av]?[0-9.]+[bmk]?", w)
    }
    ours = {w for w in _words(recipe_name) if len(w) >= 3}
    return any(o.startswith(t) or t.startswith(o) for t in theirs for o in ours)


def infer_hf_model_id(fields: dict[str, Any], recipe_name: str = "") -> tuple[str, str, str] | None:
    """(Hugging Face id, the field it rests on, how it was identified) for a recipe whose
    provider names no checkpoint, or None when its shape does not single out one catalog
    model."""
    if not all(isinstance(fields.get(f), int) for f in REQUIRED):
        return None
    from autorecipe.catalog.models import catalog_entries

    entries = catalog_entries()
    shape = ", ".join(f.split(".", 1)[1] for f in SHAPE_FIELDS if fields.get(f) is not None)
    tokenizer = fields.get("tokenizer.tokenizer_model")
    if isinstance(tokenizer, str) and tokenizer in entries and _agrees(fields, entries[tokenizer]):
        how = f"the tokenizer names it and the provider's {shape} match its config"
        return tokenizer, "tokenizer.tokenizer_model", f"model {tokenizer}: {how}"
    matches = [hf_id for hf_id, entry in entries.items() if _agrees(fields, entry)]
    if len(matches) == 1 and _same_family(recipe_name, matches[0]):
        how = f"the only catalog model with the provider's {shape}"
        return matches[0], "model.num_layers", f"model {matches[0]}: {how}"
    named = [hf_id for hf_id in matches if _named_by(recipe_name, hf_id)]
    if len(named) == 1:
        how = f"of the catalog models with the provider's {shape}, the one the recipe's name names"
        return named[0], "model.num_layers", f"model {named[0]}: {how}"
    return None
