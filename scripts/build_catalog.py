"""Regenerate src/autorecipe/catalog/data/{models,gpus}.json from shared/data.

Usage: python scripts/build_catalog.py [SHARED_DATA_DIR [OUT_DIR]]

The shared facts are read as they are; the few corrections and the normalised names
below are ours, each with the reason and the source it came from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SHARED = Path(
    sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
)
OUT = (
    Path(sys.argv[2])
    if len(sys.argv) > 2
    else Path(__file__).resolve().parents[1] / "src" / "autorecipe" / "catalog" / "data"
)

SPEC_FIELDS = (
    "num_hidden_layers hidden_size intermediate_size num_attention_heads num_key_value_heads "
    "head_dim vocab_size max_position_embeddings tie_word_embeddings num_experts "
    "num_experts_per_tok moe_intermediate_size n_shared_experts shared_expert_intermediate_size "
    "first_k_dense_replace q_lora_rank kv_lora_rank qk_nope_head_dim qk_rope_head_dim v_head_dim "
    "hybrid_layer_pattern mamba_num_heads mamba_head_dim mamba_state_dim mamba_num_groups "
    "linear_attention"
).split()

# Hugging Face `model_type` per catalog family (as config.json spells it).
MODEL_TYPES = {
    "llama": "llama",
    "qwen2": "qwen2",
    "qwen2.5": "qwen2",
    "qwen3": "qwen3",
    "qwen3-next": "qwen3_next",
    "deepseek-v2": "deepseek_v2",
    "deepseek-v3": "deepseek_v3",
    "kimi-k2 (deepseek-v3 arch)": "kimi_k2",
    "moonlight (deepseek-v3 arch)": "deepseek_v3",
    "glm4.5": "glm4_moe",
    "gpt-oss": "gpt_oss",
    "gemma2": "gemma2",
    "gemma3": "gemma3",
    "gemma4": "gemma4",
    "mistral": "mistral",
    "mixtral": "mixtral",
    "ministral3": "mistral3",
    "nemotron-h": "nemotron_h",
    "nemotron-3": "nemotron_h",
    "nemotron-4": "nemotron",  # HF NemotronForCausalLM; Megatron-Bridge NemotronBridge
    "olmoe": "olmoe",
    "qwen3.5": "qwen3_5",
    "deepseek-v4": "deepseek_v4",
    "glm5": "glm_moe_dsa",
    "glm4.5v": "glm4v_moe",
    "kimi-k2.5 (deepseek-v3 arch LM)": "kimi_k25",
    "minimax-m3": "minimax_m3",
    "step3.5": "step3p5",
    "step3.7": "step3p7",
    "exaone4": "exaone4",
    "exaone4.5": "exaone4_5",
    "k-exaone": "k_exaone",
}
VL_TYPES = {
    "Qwen/Qwen2.5-VL": "qwen2_5_vl",
    "Qwen/Qwen3-VL": "qwen3_vl",
    "Qwen/Qwen3-Omni": "qwen3_omni_moe",
    "Qwen/Qwen2-Audio": "qwen2_audio",
}

# Architectures whose parameter/FLOP structure we do not model (yet): the reason is shown.
UNSUPPORTED = {
    "deepseek-v4": "compressed/sparse attention (CSA/HCA) and mHC are not modelled",
    "glm5": "DSA sparse attention indexer is not modelled (MLA part is)",
    "minimax-m3": "block-sparse lightning-indexer attention is not modelled",
    "step3.5": "head-wise gated sliding-window attention with MTP-3 is not modelled",
    "step3.7": "head-wise gated sliding-window attention with MTP-3 is not modelled",
    "k-exaone": "exact dense/MoE layer layout is not known",
    "gemma4": "per-layer embeddings and KV-shared layers are not modelled",
    "flux (diffusion transformer, not an LLM)": "diffusion transformer (MMDiT), not a decoder LLM",
}

# Published parameter counts we test against, as published (B = 1e9, T = 1e12; the
# precision of the figure is the precision of the claim). scope of `total`: lm =
# decoder + embeddings + untied output layer (no MTP block, no vision encoder).
# `active_counts` says what the publisher's active figure includes: all (every weight a
# token touches, both embeddings), no_input_embedding (the lookup table left out), or
# no_embeddings (neither the input embedding nor the output layer).
PUBLISHED: dict[str, dict] = {
    "meta-llama/Meta-Llama-3.1-8B": {"total": "8.03B", "source": "Llama 3.1 model card table"},
    "meta-llama/Meta-Llama-3.1-70B": {"total": "70.6B", "source": "Llama 3.1 model card table"},
    "meta-llama/Meta-Llama-3.1-405B": {"total": "405B", "source": "Llama 3.1 model card table"},
    "meta-llama/Llama-3.2-1B": {"total": "1.23B", "source": "Llama 3.2 model card"},
    "meta-llama/Llama-3.2-3B": {"total": "3.21B", "source": "Llama 3.2 model card"},
    "Qwen/Qwen2.5-0.5B": {"total": "0.49B", "source": "Qwen2.5-0.5B model card"},
    "Qwen/Qwen2.5-1.5B": {"total": "1.54B", "source": "Qwen2.5-1.5B-Instruct model card"},
    "Qwen/Qwen3-Next-80B-A3B-Instruct": {
        "total": "79674391296",
        "source": "safetensors census 81,324,862,720 less the 1,650,471,424-parameter MTP layer (shared data verification)",
    },
    "deepseek-ai/DeepSeek-V2-Lite": {
        "total": "15.7B",
        "active": "2.4B",
        "active_counts": "no_input_embedding",
        "active_rounding": "down",
        "source": "DeepSeek-V2 README (2.45B written as 2.4B: truncated, not rounded)",
    },
    "deepseek-ai/DeepSeek-V2": {
        "total": "236B",
        "active": "21B",
        "active_counts": "no_input_embedding",
        "source": "DeepSeek-V2 README",
    },
    "deepseek-ai/DeepSeek-V3": {
        "total": "671B",
        "active": "37B",
        "active_counts": "no_input_embedding",
        "source": "DeepSeek-V3 README (main model, MTP excluded)",
    },
    "moonshotai/Kimi-K2-Instruct": {
        "active": "32B",
        "active_counts": "no_input_embedding",
        "source": "Kimi-K2 model card (its total, '1T', is too rounded to test)",
    },
    "moonshotai/Moonlight-16B-A3B": {"total": "16B", "source": "Moonlight tech report"},
    "zai-org/GLM-4.5": {
        "total": "355B",
        "active": "32B",
        "active_counts": "no_embeddings",
        "source": "GLM-4.5 README",
    },
    "zai-org/GLM-4.5-Air": {
        "total": "106B",
        "active": "12B",
        "active_counts": "no_embeddings",
        "source": "GLM-4.5 README",
    },
    "openai/gpt-oss-120b": {
        "total": "117B",
        "active": "5.1B",
        "active_counts": "no_input_embedding",
        "source": "gpt-oss README",
    },
    "openai/gpt-oss-20b": {
        "total": "21B",
        "active": "3.6B",
        "active_counts": "no_input_embedding",
        "source": "gpt-oss README",
    },
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": {
        "total": "31.6B",
        "active": "3.6B",
        "active_counts": "all",
        "source": "Nemotron 3 Nano tech report (3.6B incl. embeddings)",
    },
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16": {
        "total": "120.6B",
        "active": "12.7B",
        "active_counts": "all",
        "source": "Nemotron 3 Super tech report",
    },
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16": {
        "total": "550B",
        "source": "Nemotron 3 Ultra tech report",
    },
    "nvidia/NVIDIA-Nemotron-3-Nano-4B-BF16": {
        "total": "3973556832",
        "source": "MB verification card (exact checkpoint count)",
    },
    "nvidia/Nemotron-3-Nano-Omni-30B-A3B-Reasoning-BF16": {
        "total": "31.6B",
        "source": "same decoder as Nemotron 3 Nano 30B-A3B (tech report 31.6B)",
    },
    "allenai/OLMoE-1B-7B-0924": {
        "total": "6.9B",
        "active": "1.3B",
        "active_counts": "all",
        "source": "OLMoE model card",
    },
    "mistralai/Ministral-3-8B-Instruct-2512": {
        "total": "8.4B",
        "source": "HF model card (language model part)",
        "discrepancy": "dims from the Megatron-Bridge provider (HF config.json not read) give 8.49B, +1.07%",
    },
    "mistralai/Ministral-3-14B-Instruct-2512": {
        "total": "13.5B",
        "source": "HF model card (language model part)",
    },
    "Qwen/Qwen3.5-35B-A3B": {
        "total": "34660610688",
        "source": "safetensors total 35,951,822,704 less vision 446,571,248 and MTP 844,640,768 (shared data verification)",
    },
    "Qwen/Qwen3.5-122B-A10B": {
        "total": "122B",
        "active": "10B",
        "active_counts": "all",
        "source": "HF model card",
    },
    "Qwen/Qwen3.5-397B-A17B": {
        "total": "397B",
        "active": "17B",
        "active_counts": "all",
        "source": "HF model card",
    },
    "LGAI-EXAONE/EXAONE-4.0-1.2B": {"total": "1.28B", "source": "EXAONE 4.0 README"},
    "meta-llama/Llama-2-13b-hf": {"total": "13B", "source": "Llama 2 model card table (Params)"},
    "meta-llama/Llama-2-70b-hf": {
        "total": "70B",
        "source": "Llama 2 model card table (Params)",
        "discrepancy": "'70B' names the size class: the HF config dims count 68.98B, -1.5%",
    },
    "nvidia/Nemotron-4-340B-Base": {
        "total": "341.0B",
        "source": "Nemotron-4 340B tech report: 9.4B embedding + 331.6B non-embedding parameters",
    },
}


def _every(n: int, full_every: int) -> list[str]:
    return [
        "full_attention" if (i + 1) % full_every == 0 else "sliding_attention" for i in range(n)
    ]


# Facts the shared table keeps only in prose (notes), as spec fields: {hf_id or family: fields}.
OVERLAYS: dict[str, dict] = {
    # Gemma 2: alternating local/global, sliding 4096 (shared notes; google-deepmind/gemma configs).
    "gemma2": {"sliding_window": 4096, "layer_pattern_full_every": 2},
    # Gemma 3: 5 local : 1 global, sliding 1024 (512 on 1B) (shared notes).
    "gemma3": {"sliding_window": 1024, "layer_pattern_full_every": 6},
    "google/gemma-3-1b-pt": {"sliding_window": 512, "layer_pattern_full_every": 6},
    # gpt-oss: alternating sliding (128) / full attention (official ModelConfig; MB
    # gpt_oss_bridge sets window_attn_skip_freq=2).
    "gpt-oss": {"sliding_window": 128, "layer_pattern_full_every": 2},
    # Gated attention output (q_proj emits 2*heads*head_dim) and one MTP layer (shared notes).
    "qwen3-next": {"attention_output_gate": True, "mtp_num_layers": 1},
    "qwen3.5": {"attention_output_gate": True, "mtp_num_layers": 1},
    # MTP depth from the shared notes (DeepSeek-V3 README: +14B MTP module; GLM README).
    "deepseek-v3": {"mtp_num_layers": 1},
    "glm4.5": {"mtp_num_layers": 1},
    # LatentMoE widths (shared notes: Megatron-LM arg files / verbatim HF config).
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16": {"moe_latent_size": 1024, "mtp_num_layers": 2},
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16": {"moe_latent_size": 2048, "mtp_num_layers": 2},
    "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16": {"mtp_num_layers": 2},
}

# Corrections to the shared facts: (hf_id, field, value, reason with source).
# Each keeps the entry's `unverified` flag: these are inferences from sibling models.
_NANO30 = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
_OMNI = "nvidia/Nemotron-3-Nano-Omni-30B-A3B-Reasoning-BF16"
CORRECTIONS: list[tuple[str, str, object, str]] = [
    (
        "stepfun-ai/Step-3.7-Flash",
        "tie_word_embeddings",
        False,
        "text backbone byte-identical to Step-3.5-Flash (MB examples/models/stepfun/step37/README.md), "
        "whose untied count matches its checkpoint (shared data)",
    ),
    (
        "Qwen/Qwen2.5-VL-32B-Instruct",
        "tie_word_embeddings",
        False,
        "LM dims equal Qwen2.5-32B (shared data), which is untied, as are Qwen2.5-VL-7B/72B",
    ),
    (
        "Qwen/Qwen2.5-VL-72B-Instruct",
        "vocab_size",
        152064,
        "the HF config value of every >=7B Qwen2.5(-VL) model (shared data notes); 151646 is the tokenizer size",
    ),
    (
        "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16",
        "vocab_size",
        131072,
        "LM equals NVIDIA-Nemotron-Nano-12B-v2 (shared data notes, MB nemotron_vl_provider)",
    ),
    (
        "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16",
        "tie_word_embeddings",
        False,
        "LM equals NVIDIA-Nemotron-Nano-12B-v2, untied (shared data)",
    ),
    # max_position_embeddings the shared table leaves null, from the vendor's own model card
    # (its context length, K = 1024 tokens); without it the limit fell back to the longest
    # shipped recipe, which is no limit of the model.
    (
        "moonshotai/Kimi-K2-Instruct",
        "max_position_embeddings",
        131072,
        "vendor model card: github.com/MoonshotAI/Kimi-K2@11062d119a82873f7f786cd2733c57d42ee65b79"
        ":README.md (Model Summary: Context Length 128K = 131072 tokens)",
    ),
    (
        "stepfun-ai/Step-3.5-Flash",
        "max_position_embeddings",
        262144,
        "vendor model card: github.com/stepfun-ai/Step-3.5-Flash@fabede3d3c40a5c567c86f206557e44dd652ae28"
        ":README.md (256K context window = 262144 tokens)",
    ),
    (
        "mistralai/Ministral-3-14B-Instruct-2512",
        "max_position_embeddings",
        262144,
        "vendor model card: huggingface.co/mistralai/Ministral-3-14B-Instruct-2512 README.md "
        "(Key Features: 'Large Context Window: Supports a 256k context window' = 262144 tokens; "
        "read in a verbatim mirror of the card)",
    ),
    (
        "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16",
        "max_position_embeddings",
        131072,
        "vendor model card: huggingface.co/nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16 README.md "
        "(Input, Other Properties Related to Input: 'Input + Output Token: 128K' = 131072 tokens; "
        "read in a verbatim mirror of the card); equals the seq_length 131072 of NVIDIA's "
        "Megatron-Bridge NemotronVLModelProvider",
    ),
    (
        "LGAI-EXAONE/EXAONE-4.5-33B",
        "max_position_embeddings",
        262144,
        "vendor README: github.com/LG-AI-EXAONE/EXAONE-4.5@0b54191e546e74895c1525ac7a4afdf978c537b4"
        ":README.md (Quickstart: 'serve the EXAONE 4.5 model with 256K context length'; "
        "vLLM example --max-model-len 262144)",
    ),
    (
        "zai-org/GLM-4.5V",
        "max_position_embeddings",
        65536,
        "the checkpoint's config.json as transformers 5.7.0 loads it (text_config."
        "max_position_embeddings 65536), in a public model-inspector dump of the GLM-4.5V "
        "weights (46 safetensors files, 107.7B parameters; code-index id 62538297598); "
        "llama.cpp PR 16600 and vLLM's recipe say 64K too. The shared table's "
        "context_length_published '131,072 (MB docs)' looks like GLM-4.5-Air's",
    ),
    (
        "stepfun-ai/Step-3.7-Flash",
        "max_position_embeddings",
        262144,
        "vendor model card: github.com/stepfun-ai/Step-3.7-Flash@4e02920dff340936a74032554f162c8c8386c7b0"
        ":README.md (1. Introduction: 'Step 3.7 Flash supports a 256k context window' = 262144 tokens)",
    ),
    (
        "google/gemma-4-E4B-it",
        "max_position_embeddings",
        131072,
        "vendor docs: ai.google.dev/gemma/docs/core, Gemma 4 capabilities, the same sentence as the "
        "huggingface.co/google/gemma-4-E4B-it card ('The small models feature a 128K context window, "
        "while the medium models support 256K'; small = E2B/E4B) = 131072 tokens",
    ),
    (
        "google/gemma-4-26B-A4B-it",
        "max_position_embeddings",
        262144,
        "vendor docs: ai.google.dev/gemma/docs/core, Gemma 4 capabilities, the same sentence as the "
        "huggingface.co/google/gemma-4-26B-A4B-it card ('The small models feature a 128K context "
        "window, while the medium models support 256K'; medium = 26B A4B and 31B) = 262144 tokens",
    ),
    (
        "google/gemma-4-E4B-it",
        "tie_word_embeddings",
        True,
        "every Gemma generation ties embeddings",
    ),
    (
        "google/gemma-4-26B-A4B-it",
        "tie_word_embeddings",
        True,
        "every Gemma generation ties embeddings",
    ),
]
# Models the shared table does not hold, in its entry shape, each value with where it was
# read. Added for the published training-throughput rows of tests/data/perf-calibration.csv
# (LLAMA2-13B/70B, Nemotron-4 340B), which were skipped while the models were unknown.
# An id the shared table gains later is taken from there instead (build_models).
_DENSE_NULLS = {
    f: None
    for f in SPEC_FIELDS
    if f
    not in (
        "num_hidden_layers hidden_size intermediate_size num_attention_heads num_key_value_heads "
        "head_dim vocab_size max_position_embeddings tie_word_embeddings"
    ).split()
}
_MLC = (
    "github.com/mlc-ai/mlc-llm@01ced331a9e155c5ba4e7625b027a51bee611450:python/mlc_llm/model/"
    "model_preset.py (verbatim HF config.json copies, the July-2023 configs: "
    "max_position_embeddings 2048, transformers 4.31.0.dev0)"
)
_LLAMA2_CARD = (
    "github.com/meta-llama/llama@0e3444bca7a3e02f25f2c9f9e778866fecdae567:MODEL_CARD.md "
    "(Llama 2 family table: Params 7B/13B/70B, Context Length 4k, GQA only on 70B)"
)
_KQI = (
    "github.com/Girafboy/pytorchKQI (code-index id 7768956847): verbatim copies of the current "
    "meta-llama/Llama-2-{7,13,70}b-hf config.json (_name_or_path set, transformers 4.32.0.dev0, "
    "max_position_embeddings 4096)"
)
_MB_LLAMA2 = (
    "github.com/NVIDIA-NeMo/Megatron-Bridge:src/megatron/bridge/models/llama/llama_provider.py "
    "(Llama2ModelProvider13B/70B; code-index id 20945838792)"
)
# What the two Llama 2 checkpoints share, from the same sources
_LLAMA2 = {
    "family": "llama",
    "architecture_type": "dense",
    "head_dim": 128,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    **_DENSE_NULLS,
    "activation": "swiglu",
    "norm": "RMSNorm",
    "active_params_published": None,
    "other_sources": [_KQI, _LLAMA2_CARD, _MB_LLAMA2],
    "unverified": False,
    "verification": (
        "verbatim HF config copies (mlc, pytorchKQI) agree on every dim; Megatron-Bridge agrees; "
        "max_position_embeddings 4096 from the current config copy and Meta's card (4k)"
    ),
}
ADDED_MODELS: dict[str, dict] = {
    "meta-llama/Llama-2-13b-hf": {
        **_LLAMA2,
        "num_hidden_layers": 40,
        "hidden_size": 5120,
        "intermediate_size": 13824,
        "num_attention_heads": 40,
        "num_key_value_heads": 40,
        "total_params_published": "13B",
        "source": f"{_MLC} [llama2_13b, _name_or_path meta-llama/Llama-2-13b-hf]",
        "notes": (
            "hidden_act silu (SwiGLU), rms_norm_eps 1e-05, no biases. head_dim = hidden_size / "
            "num_attention_heads (config has no head_dim). The July-2023 config said "
            "max_position_embeddings 2048; the current one and the card say 4096."
        ),
        "aliases": ["meta-llama/Llama-2-13b"],
    },
    "meta-llama/Llama-2-70b-hf": {
        **_LLAMA2,
        "num_hidden_layers": 80,
        "hidden_size": 8192,
        "intermediate_size": 28672,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "total_params_published": "70B",
        "source": f"{_MLC} [llama2_70b]",
        "notes": (
            "hidden_act silu (SwiGLU), GQA with 8 KV heads, rms_norm_eps 1e-05, no biases. "
            "head_dim = hidden_size / num_attention_heads. These dims count 68.98B parameters: "
            "Meta's '70B' is the size class, 1.5% above the count."
        ),
        "aliases": ["meta-llama/Llama-2-70b"],
    },
    "nvidia/Nemotron-4-340B-Base": {
        "family": "nemotron-4",
        "architecture_type": "dense",
        "num_hidden_layers": 96,
        "hidden_size": 18432,
        "intermediate_size": 73728,
        "num_attention_heads": 96,
        "num_key_value_heads": 8,
        "head_dim": 192,
        "vocab_size": 256000,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        **_DENSE_NULLS,
        "activation": "squared_relu (not gated)",
        "norm": "LayerNorm",
        "total_params_published": "341.0B",
        "active_params_published": None,
        "source": (
            "github.com/NVIDIA-NeMo/Megatron-Bridge@04f7cfe860926bfae7d0551da0d99f1cd6c6e322:src/"
            "megatron/bridge/models/nemotron/nemotron_provider.py (Nemotron4ModelProvider340B: "
            "num_layers 96, hidden_size 18432, ffn_hidden_size 73728, num_attention_heads 96, "
            "num_query_groups 8, kv_channels None = 18432/96, seq_length 4096; NemotronModelProvider: "
            "LayerNorm (zero-centred gamma), squared_relu, untied embeddings, add_bias_linear False)"
        ),
        "other_sources": [
            "github.com/NVIDIA-NeMo/Megatron-Bridge@ac242e9649cfe87043712d8fb77d72f11cafcbcf:src/"
            "megatron/bridge/models/nemotron/nemotron_bridge.py (HF model_type 'nemotron', "
            "NemotronForCausalLM; LayerNorm weight and bias per norm)",
            "huggingface.co/nvidia/Nemotron-4-340B-Base README.md (340 billion parameters, "
            "context length 4,096 tokens, GQA, RoPE) and tokenizer file *_nemotron_2_256k.model",
            "Nemotron-4 340B Technical Report, arXiv 2406.11704, sec. 2 (squared ReLU, no bias, "
            "untied embeddings, GQA; 9.4 billion embedding + 331.6 billion non-embedding "
            "parameters), read in a verbatim quote (code-index id 59713629031), not the PDF",
            "huggingface.co/mgoin/Nemotron-4-340B-Base-hf@6c78d6f7e50e0a654eddba595b45d7fbacc84452:"
            "config.json (a community HF conversion: vocab_size 256000, head_dim 192, "
            "hidden_act relu2, max_position_embeddings 4096, tie_word_embeddings false)",
        ],
        "unverified": True,
        "verification": (
            "dims from NVIDIA's own Megatron-Bridge provider; vocab_size 256000 only from a "
            "community HF conversion, the tokenizer's name (256k) and the report's 9.4B embedding "
            "parameters (2 x 256000 x 18432 = 9.44B): NVIDIA's config (model_config.yaml) and the "
            "report's table were not read"
        ),
        "notes": (
            "Nemotron-4: squared-ReLU MLP (two projections, not gated), LayerNorm1p with bias, "
            "partial RoPE (50%), no linear biases."
        ),
        "aliases": [],
    },
}

# The Omni LM is the Nano-30B-A3B decoder (NVIDIA-NeMo/Nemotron omni3 architecture.md:
# same 30B-A3B hybrid; attention at the same layer indices; MB card total consistent).
_OMNI_FROM_NANO = (
    "hidden_size num_attention_heads num_key_value_heads head_dim vocab_size tie_word_embeddings "
    "num_experts num_experts_per_tok moe_intermediate_size n_shared_experts "
    "shared_expert_intermediate_size hybrid_layer_pattern mamba_num_heads mamba_head_dim "
    "mamba_state_dim mamba_num_groups num_hidden_layers activation norm max_position_embeddings"
).split()


def normalise_arch(raw: str, entry: dict) -> str:
    text = raw.lower()
    moe = bool(entry.get("num_experts"))
    if entry.get("hybrid_layer_pattern") or "mamba" in text:
        return "hybrid_mamba_moe" if moe else "hybrid_mamba"
    if entry.get("linear_attention"):
        return "hybrid_linear_moe" if moe else "hybrid_linear"
    if entry.get("kv_lora_rank"):
        return "mla_moe" if moe else "mla"
    return "moe" if moe else "dense"


def model_type(hf_id: str, family: str, entry: dict) -> str | None:
    for prefix, mtype in VL_TYPES.items():
        if hf_id.startswith(prefix):
            return mtype + (
                "_moe" if entry.get("num_experts") and not mtype.endswith("_moe") else ""
            )
    mtype = MODEL_TYPES.get(family)
    if mtype in ("qwen3", "qwen3_5") and entry.get("num_experts"):
        return mtype + "_moe"
    return mtype


def aliases(entry: dict) -> list[str]:
    out = []
    for text in entry.get("aliases") or []:
        first = text.split(" ")[0]
        if re.fullmatch(r"[\w.-]+/[\w.-]+", first):
            out.append(first)
    return out


def build_models() -> dict:
    src = json.loads((SHARED / "model-architectures.json").read_text())
    models = {}
    nano = src["models"][_NANO30]
    fixes_all = list(CORRECTIONS) + [
        (
            _OMNI,
            f,
            nano[f],
            f"Omni LM = {_NANO30} decoder (NVIDIA-NeMo/Nemotron omni3 architecture.md)",
        )
        for f in _OMNI_FROM_NANO
        if src["models"][_OMNI].get(f) is None
    ]
    added = [(k, v) for k, v in ADDED_MODELS.items() if k not in src["models"]]
    for hf_id, e in [*src["models"].items(), *added]:
        e = dict(e)
        for cid, field, value, _why in fixes_all:
            if cid == hf_id:
                e[field] = value
        family = e.get("family")
        if e.get("head_dim") is None and e.get("kv_lora_rank"):
            # MLA: the query/key head width Megatron uses (nope + rope); v_head_dim is separate.
            e["head_dim"] = (e.get("qk_nope_head_dim") or 0) + (e.get("qk_rope_head_dim") or 0)
        if e.get("num_experts") and not e.get("first_k_dense_replace"):
            pattern = e.get("hybrid_layer_pattern") or ""
            if "-" not in pattern and family != "gemma4":
                e["intermediate_size"] = None  # every layer is MoE: the dense width is unused
            if not pattern:
                e["first_k_dense_replace"] = 0
        overlay = {**OVERLAYS.get(family, {}), **OVERLAYS.get(hf_id, {})}
        full_every = overlay.pop("layer_pattern_full_every", None)
        if full_every and e.get("num_hidden_layers"):
            overlay["layer_types"] = _every(e["num_hidden_layers"], full_every)
        extra = {}
        for key in (
            "vision_encoder",
            "audio_encoder",
            "diffusion_transformer",
            "dense_layer_pattern",
            "context_length_published",
        ):
            if e.get(key):
                extra[key] = e[key]
        out = {
            "hf_id": hf_id,
            "model_type": model_type(hf_id, family, e),
            "family": family,
            "architecture_type": normalise_arch(e.get("architecture_type") or "", e),
            "activation": _activation(e.get("activation")),
            "norm": (e.get("norm") or "RMSNorm").split(" ")[0],
            **{f: e.get(f) for f in SPEC_FIELDS},
            **overlay,
            "source": e.get("source"),
            "other_sources": e.get("other_sources") or [],
            "unverified": bool(e.get("unverified")),
            "verification": e.get("verification"),
            "notes": " ".join(x for x in (e.get("architecture_type"), e.get("notes")) if x),
            "aliases": aliases(e),
            "published_total_params": e.get("total_params_published"),
            "published_active_params": e.get("active_params_published"),
            "supported": family not in UNSUPPORTED,
            "unsupported_reason": (
                f"not supported yet: {model_type(hf_id, family, e) or family} ({UNSUPPORTED[family]})"
                if family in UNSUPPORTED
                else None
            ),
            "extra": extra,
        }
        extra["in_megatron_bridge_0_6_2_recipes"] = bool(e.get("in_megatron_bridge_0_6_2_recipes"))
        if hf_id in PUBLISHED:
            extra["published_check"] = PUBLISHED[hf_id]
        fixes = [
            {"field": f, "value": v, "reason": why}
            for cid, f, v, why in CORRECTIONS
            if cid == hf_id
        ]
        if fixes:
            extra["corrections"] = fixes
        models[hf_id] = out
    return {
        "schema_version": 1,
        "generated_from": "shared/data/model-architectures.json by scripts/build_catalog.py",
        "models": models,
    }


def _activation(raw: str | None) -> str:
    text = (raw or "swiglu").lower()
    for name in ("squared_relu", "geglu", "swiglu", "gelu", "relu"):
        if name in text:
            return name
    return text.split(" ")[0]


# Memory the driver and CUDA context keep from every GPU: 80 GiB H100 -> ~78 GiB and
# 141 GiB H200 -> ~139 GiB usable, as measured on the H100/H200 machines of gpus.json.
RESERVE_GIB = 2.0


# Dense bf16 tensor-core FLOPs per softmax exponential (MUFU.EX2), per clock per SM: the
# exponential unit does 16 per clock per SM on Ampere, Hopper and Blackwell (CUDA C++
# Programming Guide, arithmetic instruction throughput) while the tensor cores do 2,048 /
# 4,096 / 8,192 bf16 FLOPs (A100: 312 TFLOP/s over 108 SMs at 1.41 GHz; H100: 989 over 132
# at 1.83 GHz; B200: 2,250 over 148; FlashAttention-4, Zadouri et al. 2026, "asymmetric
# hardware scaling"); Blackwell Ultra doubles the exponential rate ("Making Softmax More
# Efficient with NVIDIA Blackwell Ultra", NVIDIA technical blog).
BF16_FLOPS_PER_EXP = {"Ampere": 128, "Hopper": 256, "Blackwell": 512, "Blackwell Ultra": 256}


def build_gpus() -> dict:
    src = json.loads((SHARED / "gpus.json").read_text())
    gpus = {}
    for key, g in src["gpus"].items():
        usable = g.get("usable_gib_observed") or round(g["memory_gib"] - RESERVE_GIB, 1)
        gpus[key] = {
            "key": key,
            "name": g["name"],
            "arch": g.get("arch"),
            "memory_gib": g["memory_gib"],
            "usable_memory_gib": usable,
            "hbm_bandwidth_tb_s": g.get("hbm_bandwidth_tb_s"),
            "peak_tflops": {p: g.get(f"{p}_dense_tflops") for p in ("bf16", "fp8", "fp4")},
            "nvlink_domain_size": g.get("nvlink_domain_size") or 8,
            "nvlink_gb_s_per_gpu_bidirectional": g.get("nvlink_gb_s_per_gpu_bidirectional"),
            "internode_network_per_gpu_gbps": g.get("internode_network_per_gpu_gbps"),
            "bf16_flops_per_exp": BF16_FLOPS_PER_EXP.get(g.get("arch") or ""),
            "sources": g.get("sources") or [],
            "preliminary": bool(g.get("preliminary")),
            "notes": g.get("notes"),
        }
    return {
        "schema_version": 1,
        "generated_from": "shared/data/gpus.json by scripts/build_catalog.py",
        "usable_memory_reserve_gib": RESERVE_GIB,
        "gpus": gpus,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in (("models.json", build_models()), ("gpus.json", build_gpus())):
        (OUT / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
