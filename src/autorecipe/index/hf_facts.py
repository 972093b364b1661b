"""Values a model provider takes from a Hugging Face config that the model catalog holds.

`AutoBridge.from_hf_pretrained(id).to_megatron_provider()` fills the provider from the
model's config.json at run time, so the scanner cannot read those values in the recipe
source. Where a recipe's helper branches on one (`apply_flex_dispatcher_backend` returns
early for a model without experts), the catalog's sourced fact settles it. Only facts a
catalog entry states are used: a missing one stays unknown.
"""

from __future__ import annotations

from typing import Any

# Megatron provider attribute -> catalog (config.json) field
PROVIDER_FIELDS = {"num_moe_experts": "num_experts"}


def catalog_fact(hf_model_id: str, attr: str) -> Any | None:
    """The catalog's value of provider attribute `attr` for the model, or None if unknown."""
    field = PROVIDER_FIELDS.get(attr)
    if field is None:
        return None
    from autorecipe.catalog.models import catalog_entries

    return (catalog_entries().get(hf_model_id) or {}).get(field)
