"""Real config.json files (written from each model's published config) load into the
same spec as the catalog entry, with each architecture's own field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autorecipe.catalog.flops import training_flops_per_token
from autorecipe.catalog.hf_config import read_config, spec_from_config
from autorecipe.catalog.layers import layer_kinds
from autorecipe.catalog.models import catalog_spec, resolve_model
from autorecipe.catalog.params import count_params
from autorecipe.errors import UserError

CONFIGS = Path(__file__).parent / "data" / "hf_configs"

# config file -> catalog id; one per architecture family and field-naming convention.
FAMILIES = {
    "llama3-8b.json": "meta-llama/Meta-Llama-3-8B",
    "qwen2.5-7b.json": "Qwen/Qwen2.5-7B",
    "qwen3-8b.json": "Qwen/Qwen3-8B",
    "mistral-7b-v0.1.json": "mistralai/Mistral-7B-v0.1",
    "gemma-2-9b.json": "google/gemma-2-9b",
    "gemma-3-27b-it.json": "google/gemma-3-27b-it",
    "mixtral-8x7b.json": "mistralai/Mixtral-8x7B-v0.1",
    "qwen3-30b-a3b.json": "Qwen/Qwen3-30B-A3B",
    "olmoe-1b-7b.json": "allenai/OLMoE-1B-7B-0924",
    "gpt-oss-20b.json": "openai/gpt-oss-20b",
    "glm-4.5-air.json": "zai-org/GLM-4.5-Air",
    "deepseek-v3.json": "deepseek-ai/DeepSeek-V3",
    "deepseek-v2-lite.json": "deepseek-ai/DeepSeek-V2-Lite",
    "kimi-k2-instruct.json": "moonshotai/Kimi-K2-Instruct",
    "nemotron-h-8b.json": "nvidia/Nemotron-H-8B-Base-8K",
    "nemotron-3-nano-30b-a3b.json": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    "qwen3-next-80b-a3b.json": "Qwen/Qwen3-Next-80B-A3B-Instruct",
    "qwen3-vl-30b-a3b.json": "Qwen/Qwen3-VL-30B-A3B-Instruct",
    "qwen3.5-35b-a3b.json": "Qwen/Qwen3.5-35B-A3B",
    "ministral-3-3b.json": "mistralai/Ministral-3-3B-Instruct-2512",
    # transformers' NemotronConfig names (relu2, norm_eps, partial_rotary_factor), with the
    # dims of NVIDIA's Nemotron4ModelProvider340B as the catalog entry cites them
    "nemotron-4-340b.json": "nvidia/Nemotron-4-340B-Base",
}

STRUCTURE = (
    "model_type architecture_type num_hidden_layers hidden_size intermediate_size "
    "num_attention_heads num_key_value_heads head_dim vocab_size tie_word_embeddings activation "
    "num_experts num_experts_per_tok moe_intermediate_size n_shared_experts "
    "shared_expert_intermediate_size first_k_dense_replace q_lora_rank kv_lora_rank "
    "qk_nope_head_dim qk_rope_head_dim v_head_dim hybrid_layer_pattern mamba_num_heads "
    "mamba_head_dim mamba_state_dim mamba_num_groups sliding_window layer_types "
    "attention_output_gate moe_latent_size"
).split()


def _norm(value):
    return value or None  # 0, False and [] mean "none" on both sides


def test_every_family_has_a_config():
    assert sorted(p.name for p in CONFIGS.glob("*.json")) == sorted(FAMILIES)


@pytest.mark.parametrize("filename", sorted(FAMILIES))
def test_config_gives_the_catalog_spec(filename):
    loaded = resolve_model(str(CONFIGS / filename))
    entry = catalog_spec(FAMILIES[filename])
    for field in STRUCTURE:
        assert _norm(getattr(loaded, field)) == _norm(getattr(entry, field)), field
    if entry.max_position_embeddings is not None:
        assert loaded.max_position_embeddings == entry.max_position_embeddings
    if entry.linear_attention:
        for key in (
            "linear_conv_kernel_dim",
            "linear_key_head_dim",
            "linear_value_head_dim",
            "linear_num_key_heads",
            "linear_num_value_heads",
        ):
            assert loaded.linear_attention[key] == entry.linear_attention[key], key
    assert layer_kinds(loaded) == layer_kinds(entry)
    got, want = count_params(loaded), count_params(entry)
    assert (got.total, got.active, got.components, got.layers) == (
        want.total,
        want.active,
        want.components,
        want.layers,
    )
    # Same FLOPs once MTP depth is pinned (some configs do not state it).
    assert training_flops_per_token(loaded, 4096, mtp_num_layers=0) == training_flops_per_token(
        entry, 4096, mtp_num_layers=0
    )
    assert loaded.supported


def test_mtp_depth_read_where_the_config_states_it():
    assert resolve_model(str(CONFIGS / "deepseek-v3.json")).mtp_num_layers == 1
    assert resolve_model(str(CONFIGS / "glm-4.5-air.json")).mtp_num_layers == 1
    assert resolve_model(str(CONFIGS / "qwen3.5-35b-a3b.json")).mtp_num_layers == 1
    assert not resolve_model(str(CONFIGS / "kimi-k2-instruct.json")).mtp_num_layers


def test_directory_holding_config_json(tmp_path):
    (tmp_path / "config.json").write_text((CONFIGS / "mixtral-8x7b.json").read_text())
    assert resolve_model(str(tmp_path)).num_experts == 8


def _write(tmp_path, data) -> str:
    path = tmp_path / "config.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def _llama() -> dict:
    return json.loads((CONFIGS / "llama3-8b.json").read_text())


def test_missing_required_field_is_named(tmp_path):
    cfg = _llama()
    del cfg["hidden_size"]
    with pytest.raises(UserError, match="missing required field 'hidden_size'"):
        resolve_model(_write(tmp_path, cfg))


def test_mistyped_field_name_is_suggested(tmp_path):
    cfg = _llama()
    cfg["num_hiden_layers"] = cfg.pop("num_hidden_layers")
    with pytest.raises(UserError, match="'num_hidden_layers'.*'num_hiden_layers'"):
        resolve_model(_write(tmp_path, cfg))


def test_wrong_type_is_named(tmp_path):
    cfg = _llama()
    cfg["num_attention_heads"] = "32"
    with pytest.raises(UserError, match="'num_attention_heads' must be an integer"):
        resolve_model(_write(tmp_path, cfg))


def test_not_json(tmp_path):
    with pytest.raises(UserError, match="not JSON"):
        resolve_model(_write(tmp_path, "model_type: llama\n"))


def test_directory_without_config(tmp_path):
    with pytest.raises(UserError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_unknown_architecture_says_not_supported_and_still_counts(tmp_path):
    cfg = _llama() | {"model_type": "falcon_h9"}
    spec = resolve_model(_write(tmp_path, cfg))
    assert not spec.supported
    assert spec.unsupported_reason == "not supported yet: falcon_h9"
    assert count_params(spec).notes == ["approximate: not supported yet: falcon_h9"]
    assert (
        count_params(spec).total == count_params(catalog_spec("meta-llama/Meta-Llama-3-8B")).total
    )


def test_layers_block_type_list_becomes_a_pattern(tmp_path):
    cfg = json.loads((CONFIGS / "nemotron-h-8b.json").read_text())
    pattern = cfg.pop("hybrid_override_pattern")
    names = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}
    cfg["layers_block_type"] = [names[c] for c in pattern]
    assert spec_from_config(cfg).hybrid_layer_pattern == pattern


def test_read_config_rejects_a_json_list(tmp_path):
    with pytest.raises(UserError, match="one JSON object"):
        read_config(_write(tmp_path, "[1, 2]"))


def test_a_nemotron_4_config_is_read_as_nemotron_4():
    # a Nemotron-4 config.json (model_type nemotron) was refused as unsupported before
    spec = resolve_model(str(CONFIGS / "nemotron-4-340b.json"))
    assert spec.supported and spec.activation == "squared_relu" and spec.norm == "LayerNorm"
    assert round(count_params(spec).total / 1e9) == 341  # the technical report's 341B
