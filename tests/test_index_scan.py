"""The scanner against the real Megatron-Bridge wheels from PyPI.

Expectations below were read by hand from the wheels' source (file:line in comments);
they check the index built from the wheel in this test run, not the bundled file.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from autorecipe.index.load import bundled_path, find_recipe
from autorecipe.index.scan import build_index

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def idx062(wheel_062):
    return build_index(wheel_062)


@pytest.fixture(scope="module")
def idx051(wheel_051):
    return build_index(wheel_051)


@pytest.fixture(scope="module")
def idx031(wheel_031):
    return build_index(wheel_031)


def _bundled(version: str) -> dict:
    return json.loads(bundled_path(version).read_text())


@pytest.mark.parametrize("version", ["0.6.2", "0.5.1"])
def test_rebuilding_from_the_wheel_gives_the_bundled_index(version, idx062, idx051):
    built = {"0.6.2": idx062, "0.5.1": idx051}[version].model_dump(mode="json")
    bundled = _bundled(version)
    differ = [
        a["name"] for a, b in zip(built["recipes"], bundled["recipes"], strict=False) if a != b
    ]
    assert not differ, f"{len(differ)} recipes differ, e.g. {differ[:3]}"
    assert built == bundled


# --- coverage, counted independently (regexes over the source text, no ast) ----------

_RECIPE_NAME = r"[a-z][a-z0-9_]*_config[a-z0-9_]*"
_NOT_RECIPES = re.compile(r"^(default_|build_dataset_config$)")


def _exported_by_regex(wheel: Path, package: str) -> set[str]:
    """Names a release exports from `package`: module-level defs and `X = Y` aliases,
    names listed in `__all__`, and names imported in package `__init__.py` files."""
    names: set[str] = set()
    with zipfile.ZipFile(wheel) as zf:
        for path in zf.namelist():
            if not path.startswith(f"megatron/bridge/{package}/") or "/utils/" in path:
                continue
            if not path.endswith(".py"):
                continue
            text = zf.read(path).decode()
            names |= set(re.findall(rf"^def ({_RECIPE_NAME})\(", text, re.M))
            names |= set(re.findall(rf"^({_RECIPE_NAME}) = [a-z]\w*$", text, re.M))
            for block in re.findall(r"^__all__\s*=\s*\[(.*?)\]", text, re.M | re.S):
                names |= set(re.findall(rf"[\"']({_RECIPE_NAME})[\"']", block))
            if path.endswith("__init__.py"):
                for block in re.findall(r"^from \S+ import \(?(.*?)\)?$(?<!\()", text, re.M | re.S):
                    names |= set(re.findall(rf"(?:\bas |^|[\s,(])({_RECIPE_NAME})\b(?! as)", block))
    return {n for n in names if not _NOT_RECIPES.match(n)}


def test_every_exported_name_of_062_is_indexed(wheel_062, idx062):
    library = _exported_by_regex(wheel_062, "recipes")
    benchmark = _exported_by_regex(wheel_062, "perf_recipes")
    assert len(library) + len(benchmark) == 1014  # the count issue 2 states
    assert {r.name for r in idx062.recipes if r.kind == "library"} >= library
    assert {r.name for r in idx062.recipes if r.kind == "benchmark"} == benchmark


def test_every_exported_name_of_031_is_indexed(wheel_031, idx031):
    library = _exported_by_regex(wheel_031, "recipes")
    assert len(library) == 161  # the count issue 2 states
    assert {r.name for r in idx031.recipes} == library
    assert not idx031.skipped_files


def test_every_exported_name_of_051_is_indexed(wheel_051, idx051):
    library = _exported_by_regex(wheel_051, "recipes")
    names = {r.name for r in idx051.recipes}
    assert names >= library
    # The rest come from `from megatron.bridge.diffusion.recipes.* import *` in recipes/__init__.py.
    assert all(n.startswith(("flux_", "wan_")) for n in names - library)


# --- hand-checked expectations --------------------------------------------------------

# (version, kind or None, recipe, field, expected value)
EXPECTED = [
    # recipes/llama/llama3.py:22 aliases recipes/llama/h100/llama3.py:235, which sets
    # TP=1 CP=2 (lines 252, 257) — the seed table's TP=2 is wrong.
    ("0.6.2", None, "llama3_8b_pretrain_config", "tensor_model_parallel_size", 1),
    ("0.6.2", None, "llama3_8b_pretrain_config", "context_parallel_size", 2),
    ("0.6.2", None, "llama3_8b_pretrain_config", "global_batch_size", 512),
    ("0.6.2", None, "llama3_8b_pretrain_config", "dataset.seq_length", 8192),
    # _pretrain_common sets "optim_grads_params"; the recipe overrides it (h100/llama3.py:130).
    (
        "0.6.2",
        None,
        "llama32_1b_pretrain_1gpu_h100_bf16_config",
        "data_parallel_sharding_strategy",
        "no_shard",
    ),
    # Module constant SEQUENCE_LENGTH_16K = 16384 (h100/llama3.py:33, used at 344).
    ("0.6.2", None, "llama3_8b_16k_pretrain_config", "seq_length", 16384),
    ("0.6.2", None, "llama3_8b_16k_pretrain_config", "sequence_parallel", True),
    # Long context: SEQUENCE_LENGTH_128K with CP=8 (h100/llama3.py:505-514).
    ("0.6.2", None, "llama3_8b_128k_pretrain_config", "seq_length", 131072),
    ("0.6.2", None, "llama3_8b_128k_pretrain_config", "context_parallel_size", 8),
    # PEFT: default_peft_config("lora"), then dim=8 under an isinstance(str) branch (2369-2371).
    ("0.6.2", None, "llama3_8b_peft_config", "peft", "LoRA"),
    ("0.6.2", None, "llama3_8b_peft_config", "peft.dim", 8),
    ("0.6.2", None, "llama3_8b_peft_config", "peft.alpha", 16),
    # MoE: qwen/h100/qwen3_moe.py:173, 177, 205-206.
    (
        "0.6.2",
        None,
        "qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config",
        "expert_model_parallel_size",
        16,
    ),
    ("0.6.2", None, "qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config", "global_batch_size", 1024),
    (
        "0.6.2",
        None,
        "qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config",
        "moe_token_dispatcher_type",
        "flex",
    ),
    (
        "0.6.2",
        None,
        "qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config",
        "moe_flex_dispatcher_backend",
        "hybridep",
    ),
    # Same name, both kinds: library PP=16 (deepseek/h100/deepseek_v3.py:112),
    # benchmark PP=8 VP=4 GBS=16384 (perf_recipes/deepseek/h100/deepseek_v3.py:34-39).
    (
        "0.6.2",
        "library",
        "deepseek_v3_pretrain_1024gpu_h100_bf16_config",
        "pipeline_model_parallel_size",
        16,
    ),
    (
        "0.6.2",
        "benchmark",
        "deepseek_v3_pretrain_1024gpu_h100_bf16_config",
        "pipeline_model_parallel_size",
        8,
    ),
    (
        "0.6.2",
        "benchmark",
        "deepseek_v3_pretrain_1024gpu_h100_bf16_config",
        "virtual_pipeline_model_parallel_size",
        4,
    ),
    (
        "0.6.2",
        "benchmark",
        "deepseek_v3_pretrain_1024gpu_h100_bf16_config",
        "global_batch_size",
        16384,
    ),
    # Benchmark recipe calling a library alias and overriding it (perf llama/h100/llama3.py:33-52).
    ("0.6.2", "benchmark", "llama3_8b_pretrain_8gpu_h100_bf16_config", "global_batch_size", 128),
    (
        "0.6.2",
        "benchmark",
        "llama3_8b_pretrain_8gpu_h100_bf16_config",
        "comm_overlap.tp_comm_overlap",
        False,
    ),
    # _llama_benchmark_common (perf llama/common.py:55).
    (
        "0.6.2",
        "benchmark",
        "llama3_8b_pretrain_8gpu_h100_bf16_config",
        "moe_token_dispatcher_type",
        "alltoall",
    ),
    # The library recipe sets cuda_graph_scope="full"; _benchmark_common replaces it with []
    # because cuda_graph_impl == "none" (perf_recipes/_common.py:81-82).
    ("0.6.2", "benchmark", "llama3_8b_pretrain_8gpu_h100_bf16_config", "cuda_graph_scope", []),
    ("0.6.2", "benchmark", "llama3_8b_pretrain_8gpu_h100_bf16_config", "train_iters", 50),
    # String-branching helper: _perf_precision("fp8_cs") -> first_last_layers_bf16 = False.
    (
        "0.6.2",
        "benchmark",
        "llama3_8b_pretrain_8gpu_h100_fp8cs_config",
        "mixed_precision",
        "bf16_with_fp8_current_scaling_mixed",
    ),
    (
        "0.6.2",
        "benchmark",
        "llama3_8b_pretrain_8gpu_h100_fp8cs_config",
        "mixed_precision.first_last_layers_bf16",
        False,
    ),
    # b300 405B uses FSDP (perf llama/b300/llama31.py:41-53); its docstring claims PP=8.
    (
        "0.6.2",
        "benchmark",
        "llama31_405b_pretrain_128gpu_b300_bf16_config",
        "pipeline_model_parallel_size",
        1,
    ),
    (
        "0.6.2",
        "benchmark",
        "llama31_405b_pretrain_128gpu_b300_bf16_config",
        "use_megatron_fsdp",
        True,
    ),
    # VLM benchmark with uneven first/last stages (perf qwen_vl/b200/qwen3_vl.py:45-50).
    (
        "0.6.2",
        "benchmark",
        "qwen3_vl_235b_a22b_pretrain_64gpu_b200_bf16_config",
        "num_layers_in_first_pipeline_stage",
        10,
    ),
    (
        "0.6.2",
        "benchmark",
        "qwen3_vl_235b_a22b_pretrain_64gpu_b200_bf16_config",
        "num_layers_in_last_pipeline_stage",
        12,
    ),
    (
        "0.6.2",
        "benchmark",
        "qwen3_vl_235b_a22b_pretrain_64gpu_b200_bf16_config",
        "expert_model_parallel_size",
        8,
    ),
    # 128K packed SFT benchmark (perf glm_moe_dsa/h100/glm5.py:42-56).
    ("0.6.2", "benchmark", "glm51_sft_416gpu_h100_bf16_config", "pipeline_model_parallel_size", 13),
    ("0.6.2", "benchmark", "glm51_sft_416gpu_h100_bf16_config", "context_parallel_size", 32),
    ("0.6.2", "benchmark", "glm51_sft_416gpu_h100_bf16_config", "global_batch_size", 520),
    # Diffusion: the model comes from FluxBridge().provider_bridge(...) in another package,
    # then TP=2 is set on it (recipes/flux/h100/flux.py:56-57).
    ("0.6.2", None, "flux_12b_pretrain_config", "tensor_model_parallel_size", 2),
    ("0.6.2", None, "flux_12b_pretrain_config", "global_batch_size", 16),
    # The model is replaced after the base recipe set fields on it; CP/seq are set after
    # the replacement (recipes/qwen/h100/qwen3.py:740-751).
    ("0.6.2", None, "qwen3_600m_sft_8gpu_h100_bf16_yarn_128k_config", "context_parallel_size", 8),
    ("0.6.2", None, "qwen3_600m_sft_8gpu_h100_bf16_yarn_128k_config", "seq_length", 131072),
    # Custom MixedPrecisionConfig instead of a preset (deepseek/h100/deepseek_v3.py:191).
    ("0.6.2", None, "deepseek_v3_pretrain_config", "mixed_precision.bf16", True),
    ("0.6.2", None, "deepseek_v3_pretrain_config", "expert_model_parallel_size", 64),
    # Same name, two meanings: `nemotron_3_super_pretrain_config` in perf nemotronh/common.py:24
    # aliases the 16-GPU library recipe (seq 8192, nemotron_3_super.py:56), while
    # perf nemotronh/h100/nemotronh.py:27 imports the library's own function, which builds
    # the 64-GPU one (seq 4096, EP 32, recipes/nemotronh/h100/nemotron_3_super.py:182-186).
    ("0.6.2", "benchmark", "nemotron_3_super_pretrain_64gpu_b200_bf16_config", "seq_length", 8192),
    ("0.6.2", "benchmark", "nemotron_3_super_pretrain_64gpu_h100_bf16_config", "seq_length", 4096),
    (
        "0.6.2",
        "benchmark",
        "nemotron_3_super_pretrain_64gpu_h100_bf16_config",
        "expert_model_parallel_size",
        32,
    ),
    # 0.5.1: recipes/llama/llama3.py:226 and the PEFT branch at 2239-2242.
    ("0.5.1", None, "llama3_8b_pretrain_config", "context_parallel_size", 2),
    ("0.5.1", None, "llama3_8b_peft_config", "peft.dim", 8),
    ("0.5.1", None, "llama3_8b_peft_config", "global_batch_size", 8),
    # 0.3.1: recipes/llama/llama3.py:242-252.
    ("0.3.1", None, "llama3_8b_pretrain_config", "tensor_model_parallel_size", 1),
    ("0.3.1", None, "llama3_8b_pretrain_config", "context_parallel_size", 2),
]


# An early-return guard on a run-time condition must not hide what follows it, and a recipe
# named for a GPU answers torch.cuda's questions as that GPU would.
# recipes/deepseek/h100/deepseek_v3.py:144-145 set alltoall/hybridep and :217 the shared-expert
# overlap; :241 calls apply_flex_dispatcher_backend, which returns early for a model without
# experts (training/flex_dispatcher_backend.py:44, the catalog gives DeepSeek-V3 256) and on a
# GPU HybridEP supports (:71, compute capability 8-10) sets flex and turns the overlap off
# (:97-99).
EXPECTED += [
    ("0.6.2", "benchmark", "deepseek_v3_pretrain_1024gpu_h100_fp8cs_config",
     "moe_token_dispatcher_type", "flex"),
    ("0.6.2", "benchmark", "deepseek_v3_pretrain_1024gpu_h100_fp8cs_config",
     "moe_shared_expert_overlap", False),
    ("0.6.2", "benchmark", "deepseek_v3_pretrain_256gpu_gb200_fp8mx_partial_cg_dev_config",
     "moe_shared_expert_overlap", False),
    # perf_recipes/qwen/h100/qwen3_moe.py:192-193 put the all-to-all dispatcher back after
    # the base recipe's apply_flex_dispatcher_backend
    ("0.6.2", "benchmark", "qwen3_235b_a22b_pretrain_256gpu_h100_fp8cs_config",
     "moe_token_dispatcher_type", "alltoall"),
    # models/deepseek/deepseek_v4_bridge.py:105-111: compute capability >= 10
    ("0.6.2", None, "deepseek_v4_flash_pretrain_32gpu_h100_bf16_config", "model.use_fused_mhc",
     False),
    ("0.6.2", None, "deepseek_v4_flash_pretrain_64gpu_gb200_bf16_config", "model.use_fused_mhc",
     True),
]  # fmt: skip


@pytest.mark.parametrize(("version", "kind", "name", "key", "expected"), EXPECTED)
def test_hand_checked_field(version, kind, name, key, expected, idx062, idx051, idx031):
    index = {"0.6.2": idx062, "0.5.1": idx051, "0.3.1": idx031}[version]
    recipe = find_recipe(index, name, kind)
    assert recipe.fields.get(key, "<absent>") == expected, recipe.unknown.get(key)
    assert re.match(r"^[\w/]+\.py:\d+$", recipe.provenance[key])


def test_legacy_alias_points_at_its_target(idx062):
    recipe = find_recipe(idx062, "llama3_8b_pretrain_config")
    assert recipe.alias_of == "llama3_8b_pretrain_2gpu_h100_bf16_config"
    assert recipe.file == "recipes/llama/llama3.py"
    assert (recipe.num_gpus, recipe.gpu_type, recipe.precision) == (2, "h100", "bf16")
    assert recipe.hf_model_id == "meta-llama/Meta-Llama-3-8B"


def test_assignment_alias_whose_name_says_another_gpu(idx062):
    # perf_recipes/llama/b200/llama31.py: ..._b200_bf16_config = ..._gb200_bf16_config
    recipe = find_recipe(idx062, "llama31_405b_pretrain_256gpu_b200_bf16_config", "benchmark")
    assert recipe.alias_of == "llama31_405b_pretrain_256gpu_gb200_bf16_config"
    assert recipe.gpu_type == "b200"
    assert any("gb200" in note for note in recipe.notes)
    # Four levels: b200 alias -> gb200 benchmark -> library alias -> h100 library recipe.
    assert recipe.provenance["use_distributed_optimizer"].startswith(
        "recipes/llama/h100/llama3.py:"
    )
    assert recipe.provenance["train_iters"].startswith("perf_recipes/_common.py:")


def test_replaced_model_forgets_fields_set_on_the_old_one(idx062):
    recipe = find_recipe(idx062, "qwen3_600m_sft_8gpu_h100_bf16_yarn_128k_config")
    assert "tensor_model_parallel_size" not in recipe.fields
    assert "Hugging Face config of Qwen/Qwen3-0.6B" in recipe.unknown["tensor_model_parallel_size"]


def test_condition_on_an_unknown_default_is_unknown(idx051):
    # `if cfg.model.context_parallel_size > 1:` right after the HF provider is created.
    recipe = find_recipe(idx051, "llama3_8b_peft_config")
    assert "run-time condition" in recipe.unknown["dataset.packed_sequence_specs.pad_seq_to_mult"]


def test_argument_without_default_is_unknown(idx051):
    recipe = find_recipe(idx051, "llama3_8b_low_precision_pretrain_config")
    assert "mixed_precision" not in recipe.fields
    assert "mixed_precision_recipe" in recipe.unknown["mixed_precision"]


def test_recipe_that_always_raises(idx062):
    recipe = find_recipe(idx062, "qwen3_next_80b_a3b_peft_config")
    assert recipe.raises.startswith("NotImplementedError: PEFT is not currently supported")
    assert not recipe.fields


def test_name_and_code_disagree_on_precision(idx062):
    # recipes/nemotronh/h100/nemotronh.py:412 sets an FP8 preset in a "_bf16_" recipe.
    recipe = find_recipe(idx062, "nemotronh_47b_pretrain_8gpu_h100_bf16_config")
    assert recipe.precision == "fp8"
    assert any("name says bf16" in c for c in recipe.contradictions)


def test_docstring_contradiction_is_recorded(idx062):
    recipe = find_recipe(idx062, "llama31_405b_pretrain_128gpu_b300_bf16_config", "benchmark")
    assert any("PP=8" in c for c in recipe.contradictions)


def test_dataset_presets_and_modes(idx062, idx051, idx031):
    presets = {d.name: d.modes for d in idx062.datasets}
    assert presets["mock"] == ["pretrain"] and presets["squad"] == ["sft", "peft"]
    assert idx062.entry_point["pretrain_mock_dataset"] == "mock"
    # VLM presets build DirectHFSFTDatasetConfig (recipes/utils/dataset_utils.py:454), the
    # dataset class VLM recipes use; text SFT recipes use GPTSFTDatasetConfig.
    builds = {d.name: d.builds for d in idx062.datasets}
    assert (
        builds["cord-v2"]
        == "DirectHFSFTDatasetConfig"
        == find_recipe(idx062, "qwen3_vl_8b_sft_config").fields["dataset"]
    )
    assert (
        builds["squad"]
        == "GPTSFTDatasetConfig"
        == find_recipe(idx062, "llama3_8b_sft_config").fields["dataset"]
    )
    assert idx062.entry_point["launcher"] == "python -m torch.distributed.run"
    assert idx051.entry_point["launcher"] == "torchrun"
    old = {d.name: d.modes for d in idx051.datasets}
    assert old["llm-pretrain-mock"] == ["pretrain"] and old["llm-finetune"] == ["sft", "peft"]
    assert idx031.datasets == [] and idx031.entry_point["dataset_flag"] is None


def _broken_tree(wheel: Path, tmp_path: Path, broken: str) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path, [n for n in zf.namelist() if n.startswith("megatron/bridge/")])
    target = tmp_path / "megatron" / "bridge" / broken
    target.write_text(target.read_text() + "\ndef broken(:\n")
    return tmp_path


def test_file_with_syntax_error_is_reported_and_skipped(wheel_062, tmp_path, idx062):
    root = _broken_tree(wheel_062, tmp_path, "recipes/gemma/h100/gemma2.py")
    index = build_index(root)
    assert list(index.skipped_files) == ["megatron/bridge/recipes/gemma/h100/gemma2.py"]
    assert "syntax error" in index.skipped_files["megatron/bridge/recipes/gemma/h100/gemma2.py"]
    names = {r.name for r in index.recipes}
    assert "gemma2_9b_pretrain_8gpu_h100_bf16_config" not in names
    assert "llama3_8b_pretrain_config" in names
    assert len(index.recipes) < len(idx062.recipes)


def test_every_value_has_a_source_line(idx062, idx051):
    for index in (idx062, idx051):
        for recipe in index.recipes:
            for key in recipe.fields:
                assert re.match(r"^[\w/]+\.py:\d+$", recipe.provenance.get(key, "")), (
                    recipe.name,
                    key,
                )
            assert not set(recipe.fields) & set(recipe.unknown), recipe.name


def test_megatron_core_values(idx062):
    # recipes/deepseek/h100/deepseek_v4.py:40 builds the quantization recipe with a
    # Megatron-Core factory: unknown, and the reason names it.
    recipe = find_recipe(idx062, "deepseek_v4_flash_pretrain_32gpu_h100_fp8mx_config")
    assert "megatron.core.quantization" in recipe.unknown["model.quant_recipe"]
    # An enum member is known by its name (recipes/gemma3_vl/h100/gemma3_vl.py:73).
    gemma = find_recipe(idx062, "gemma3_vl_4b_sft_config")
    assert gemma.fields["attention_backend"] == "megatron.core.transformer.enums.AttnBackend.auto"
    # utils/cuda_graph.py:20-23 imports CudaGraphModule under try/except ImportError and
    # picks cuda_graph_modules or cuda_graph_scope by what the installed Megatron-Core has.
    lightning = find_recipe(idx062, "nemotron_3_5_lightning_pretrain_8k_config")
    assert "installed megatron.core" in lightning.unknown["cuda_graph_scope"]
    # vanilla GPT leaves TP to Megatron-Core's TransformerConfig default.
    vanilla = find_recipe(idx062, "vanilla_gpt_pretrain_1gpu_h100_bf16_config")
    assert "megatron.core" in vanilla.unknown["tensor_model_parallel_size"]


def test_gpu_question_on_a_gpu_without_published_facts_stays_unknown(idx062):
    # Rubin's compute capability is not published: whether HybridEP applies is not known
    recipe = find_recipe(idx062, "deepseek_v3_pretrain_256gpu_vr200_bf16_config", "benchmark")
    assert "moe_token_dispatcher_type" not in recipe.fields
    assert "torch.cuda.is_available()" in recipe.unknown["moe_token_dispatcher_type"]


# Nemotron-H recipes build HybridModelProvider with the shape spelled out and no checkpoint id
# (recipes/nemotronh/h100/nemotronh.py:463-480 for 56B, which sets no tokenizer either;
# recipes/nemotronh/h100/nemotron_3_nano.py:78-90 plus its tokenizer id). The model is told
# by that shape against the catalog, on the evidence's own line.
@pytest.mark.parametrize(
    ("name", "hf_id", "evidence"),
    [
        ("nemotronh_56b_pretrain_64gpu_h100_fp8cs_config", "nvidia/Nemotron-H-56B-Base-8K",
         "the only catalog model"),
        ("nemotron_3_nano_pretrain_8gpu_b200_bf16_config",
         "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "the tokenizer names it"),
    ],
)  # fmt: skip
def test_a_provider_without_a_checkpoint_id_is_identified_by_its_shape(
    name, hf_id, evidence, idx062
):
    recipe = find_recipe(idx062, name, "benchmark")
    assert recipe.hf_model_id == hf_id
    assert re.match(r"^[\w/]+\.py:\d+$", recipe.provenance["hf_model_id"])
    assert any(evidence in note and "hybrid_layer_pattern" in note for note in recipe.notes)


def test_a_checkpoint_id_the_recipe_sets_wins_over_the_config_it_built_from(idx062):
    # recipes/nemotronh/h100/nemotron_3_nano.py: Lightning's SFT recipe builds Nano's provider
    # with AutoBridge (:45), then sets cfg.model.hf_model_id to Lightning's id (:419)
    recipe = find_recipe(idx062, "nemotron_3_5_lightning_sft_config")
    assert recipe.hf_model_id == "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16"
    assert recipe.provenance["hf_model_id"] == "recipes/nemotronh/h100/nemotron_3_nano.py:419"


def test_a_shape_two_checkpoints_share_is_told_by_the_recipes_name(idx062):
    # Nemotron-Nano-12B-v2's language model and its VL checkpoint have one shape; the
    # recipe is named for the language model
    recipe = find_recipe(idx062, "nemotron_nano_12b_v2_pretrain_config")
    assert recipe.hf_model_id == "nvidia/NVIDIA-Nemotron-Nano-12B-v2-Base"
    assert any("the recipe's name names" in note for note in recipe.notes)


def test_a_shape_no_catalog_model_has_stays_unidentified(idx062):
    # WanModelProvider (a video model the catalog lacks) and GPT-3 175B's GPTModelProvider
    for name in ("wan_14b_pretrain_32gpu_h100_bf16_config", "gpt3_175b_pretrain_config"):
        matches = [r for r in idx062.recipes if r.name == name]
        assert matches and all(r.hf_model_id is None for r in matches), name
