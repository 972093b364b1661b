"""Telling the model of a recipe whose provider names no checkpoint, from the shape it sets.

The shapes below are the catalog's own facts (each entry cites its config.json), written as
a Megatron provider sets them.
"""

from __future__ import annotations

from autorecipe import api
from autorecipe.catalog.models import catalog_entries
from autorecipe.index.model_identity import infer_hf_model_id

NANO = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"


def _provider_fields(hf_id: str) -> dict:
    e = catalog_entries()[hf_id]
    return {
        "model.num_layers": e["num_hidden_layers"],
        "model.hidden_size": e["hidden_size"],
        "model.num_attention_heads": e["num_attention_heads"],
        "model.num_query_groups": e["num_key_value_heads"],
        "model.hybrid_layer_pattern": e["hybrid_layer_pattern"],
    }


def test_the_tokenizer_names_the_model_when_the_shape_agrees():
    fields = {**_provider_fields(NANO), "tokenizer.tokenizer_model": NANO}
    hf_id, evidence, how = infer_hf_model_id(fields)
    assert (hf_id, evidence) == (NANO, "tokenizer.tokenizer_model")
    assert "tokenizer names it" in how


def test_a_tokenizer_of_another_shape_is_not_taken_for_the_model():
    # pretraining a Nemotron-H 8B shape with the Nano tokenizer: the tokenizer is not the model
    fields = {**_provider_fields("nvidia/Nemotron-H-8B-Base-8K"), "tokenizer.tokenizer_model": NANO}
    found = infer_hf_model_id(fields)
    assert found is None or found[0] == "nvidia/Nemotron-H-8B-Base-8K"


def test_one_changed_width_or_too_few_fields_identify_nothing():
    fields = _provider_fields("nvidia/Nemotron-H-56B-Base-8K")
    assert infer_hf_model_id(fields)[0] == "nvidia/Nemotron-H-56B-Base-8K"
    assert infer_hf_model_id({**fields, "model.hidden_size": 8200}) is None
    two = {k: fields[k] for k in ("model.num_layers", "model.hidden_size")}
    assert infer_hf_model_id(two) is None
    assert infer_hf_model_id({k: v for k, v in fields.items() if k != "model.num_layers"}) is None


def test_a_shared_shape_is_told_apart_only_by_a_name_that_names_one():
    fields = _provider_fields("nvidia/NVIDIA-Nemotron-Nano-12B-v2-Base")
    vl = _provider_fields("nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16")
    assert {k: v for k, v in vl.items() if v is not None} == {
        k: v for k, v in fields.items() if v is not None
    }
    assert infer_hf_model_id(fields, "some_hybrid_pretrain_config") is None
    found = infer_hf_model_id(fields, "nemotron_nano_12b_v2_pretrain_4gpu_h100_bf16_config")
    assert found[0] == "nvidia/NVIDIA-Nemotron-Nano-12B-v2-Base"


def test_nemotron_h_recipes_are_found_for_their_model():
    """Before, no recipe trained Nemotron-H 56B ("No pretrain recipe in this index"), and its
    64-GPU H100 benchmark recipe was never named."""
    answer = api.recommend("nvidia/Nemotron-H-56B-Base-8K", "pretrain", 64, "h100", precision="fp8")
    assert answer.recipe.name.startswith("nemotronh_56b_pretrain")
    assert answer.benchmark is not None
    assert answer.benchmark.recipe.name == "nemotronh_56b_pretrain_64gpu_h100_fp8cs_config"
    nano = api.recommend(NANO, "pretrain", 8, "b200")
    assert nano.benchmark.recipe.name == "nemotron_3_nano_pretrain_8gpu_b200_bf16_config"


def test_a_shape_shared_across_families_is_no_match():
    # Wan 2.1 14B's diffusion transformer (perf_recipes/wan) sets Llama 2 13B's layer count,
    # widths and heads; the recipe's name shares no family word with the checkpoint's.
    wan = {
        "model.num_layers": 40,
        "model.hidden_size": 5120,
        "model.ffn_hidden_size": 13824,
        "model.num_attention_heads": 40,
    }
    assert infer_hf_model_id(wan, "wan_14b_pretrain_32gpu_h100_bf16_config") is None
    found = infer_hf_model_id(wan, "llama2_13b_pretrain_config")
    assert found is not None and found[0] == "meta-llama/Llama-2-13b-hf"
