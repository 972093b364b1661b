"""Hugging Face config.json -> ModelSpec, reading each architecture's real field names.

Architectures differ in how they spell the same fact: the number of routed experts is
`num_local_experts` (Mixtral, gpt-oss), `n_routed_experts` (DeepSeek, GLM-4.5, Nemotron-H)
or `num_experts` (Qwen-MoE, OLMoE); VLMs nest the language model under `text_config`
(or `llm_config`, or `thinker_config.text_config`). This module maps them all onto the
spec's normalised names and says which architectures it cannot model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autorecipe.catalog.spec import ModelSpec
from autorecipe.errors import UserError

# model_type -> architecture we model. Anything else gets supported=False with a reason.
SUPPORTED_TYPES = {
    "llama",
    "mistral",
    "ministral",
    "ministral3",
    "mistral3",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3_text",
    "mixtral",
    "qwen2_moe",
    "qwen3_moe",
    "olmoe",
    "gpt_oss",
    "glm4_moe",
    "deepseek_v2",
    "deepseek_v3",
    "kimi_k2",
    "nemotron",
    "nemotron_h",
    "qwen3_next",
    "qwen3_5",
    "qwen3_5_moe",
    "qwen3_5_text",
    "qwen3_5_moe_text",
    "qwen2_5_vl",
    "qwen2_5_vl_text",
    "qwen3_vl",
    "qwen3_vl_moe",
    "qwen3_vl_text",
    "qwen3_vl_moe_text",
    "qwen2_audio",
    "qwen3_omni_moe",
    "exaone4",
    "glm4v_moe",
    "kimi_k25",
}
# Where a multimodal config keeps its language model.
_NESTED = (
    ("thinker_config", "text_config"),
    ("text_config",),
    ("llm_config",),
    ("language_config",),
)
_REQUIRED = ("num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size")
# HF tie_word_embeddings default when the file omits it (PretrainedConfig says True;
# most decoder configs override it to False).
_TIED_BY_DEFAULT = {"gemma", "gemma2", "gemma3", "gemma3_text"}
# Values transformers fills in when a config.json omits them (released Gemma 3 configs
# leave these out of text_config): Gemma3TextConfig defaults.
_TEXT_DEFAULTS = {
    "gemma3_text": {
        "vocab_size": 262208,
        "max_position_embeddings": 131072,
        "hidden_activation": "gelu_pytorch_tanh",
        "sliding_window_pattern": 6,
    },
}
# Gated attention output (q_proj also emits the gate); newer configs say attn_output_gate.
_GATED_ATTENTION_TYPES = {
    "qwen3_next",
    "qwen3_5",
    "qwen3_5_moe",
    "qwen3_5_text",
    "qwen3_5_moe_text",
}
_MAMBA_SYMBOLS = {"mamba": "M", "attention": "*", "mlp": "-", "moe": "E"}


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed config.json at `path` (a file, or a directory holding config.json)."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
        if not p.is_file():
            raise UserError(
                f"{path}: no config.json in this directory; pass the directory of a Hugging Face checkpoint or its config.json file"
            )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: cannot read it ({exc}); pass a Hugging Face config.json") from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{p}: not JSON ({exc.msg} at line {exc.lineno}); pass a Hugging Face config.json"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: a config.json holds one JSON object, found {type(data).__name__}")
    return data


def spec_from_config(
    cfg: dict[str, Any], source: str = "config.json", hf_id: str | None = None
) -> ModelSpec:
    """The ModelSpec of a Hugging Face config dict (top level or nested language model).

    Example:
        >>> spec_from_config({"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096,
        ...     "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
        ...     "vocab_size": 128256}).head_dim
        128
    """
    outer_type = cfg.get("model_type")
    text = _language_model(cfg)
    mtype = text.get("model_type") or outer_type
    text = {**_TEXT_DEFAULTS.get(str(mtype), {}), **text}
    get = _Getter(text, source)
    for name in _REQUIRED:
        get.int(name, required=True)

    heads = _in_range(source, "num_attention_heads", get.int("num_attention_heads", required=True))
    hidden = _in_range(source, "hidden_size", get.int("hidden_size", required=True))
    layers = _in_range(
        source, "num_hidden_layers", get.int("num_hidden_layers", required=True), _MAX_LAYERS
    )
    kv_lora = get.int("kv_lora_rank")
    qk_nope, qk_rope = get.int("qk_nope_head_dim"), get.int("qk_rope_head_dim")
    if kv_lora is not None and qk_nope is not None:
        head_dim = qk_nope + (qk_rope or 0)
    else:
        head_dim = get.int("head_dim") or hidden // heads

    experts = get.int("num_local_experts", "n_routed_experts", "num_experts")
    if experts is not None and experts <= 1:
        experts = None
    inter = get.int("intermediate_size", "ffn_hidden_size")
    moe_inter = get.int("moe_intermediate_size")
    first_dense = get.int("first_k_dense_replace")
    if experts and moe_inter is None:
        # Mixtral, OLMoE, gpt-oss: intermediate_size is the expert width, every layer MoE.
        moe_inter, inter = inter, None
    if experts and first_dense is None:
        first_dense = _leading_dense(text)
    shared_inter = get.int("shared_expert_intermediate_size", "moe_shared_expert_intermediate_size")
    n_shared = get.int("n_shared_experts", "num_shared_experts")
    if shared_inter is None and n_shared and moe_inter:
        shared_inter = n_shared * moe_inter
    elif shared_inter and not n_shared:
        n_shared = 1

    pattern = _hybrid_pattern(text)
    if experts and not first_dense and (pattern is None or "-" not in pattern):
        inter = None  # every layer is MoE: the config's dense width is unused
    layer_types = text.get("layer_types") if isinstance(text.get("layer_types"), list) else None
    linear = _linear_attention(text, layers)
    sliding = get.int("sliding_window")
    if layer_types is None and sliding:
        layer_types = _sliding_layout(mtype, text, layers)
    if linear is not None or not (layer_types and "sliding_attention" in layer_types):
        layer_types = None  # linear-attention layouts live in `linear`; all-full needs no list

    mtype_str = str(mtype) if mtype else None
    supported = mtype_str in SUPPORTED_TYPES or (outer_type in SUPPORTED_TYPES)
    tie = text.get("tie_word_embeddings", cfg.get("tie_word_embeddings"))
    if tie is None:
        tie = (mtype_str or "") in _TIED_BY_DEFAULT
    spec = ModelSpec(
        hf_id=hf_id or cfg.get("_name_or_path") or None,
        model_type=str(outer_type or mtype) if (outer_type or mtype) else None,
        architecture_type=_arch(experts, kv_lora, pattern, linear),
        num_hidden_layers=layers,
        hidden_size=hidden,
        intermediate_size=inter,
        num_attention_heads=heads,
        num_key_value_heads=_kv_heads(get, heads),
        head_dim=head_dim,
        vocab_size=get.int("vocab_size", required=True),
        max_position_embeddings=get.int("max_position_embeddings"),
        tie_word_embeddings=bool(tie),
        activation=_activation(text, mtype_str),
        # transformers' Nemotron uses LayerNorm (with a bias, "layernorm1p"); the rest RMSNorm
        norm="LayerNorm" if mtype_str == "nemotron" else "RMSNorm",
        num_experts=experts,
        num_experts_per_tok=get.int("num_experts_per_tok", "moe_topk", "experts_per_token")
        if experts
        else None,
        moe_intermediate_size=moe_inter if experts else None,
        n_shared_experts=n_shared if experts else None,
        shared_expert_intermediate_size=shared_inter if experts else None,
        first_k_dense_replace=first_dense,
        q_lora_rank=get.int("q_lora_rank"),
        kv_lora_rank=kv_lora,
        qk_nope_head_dim=qk_nope if kv_lora else None,
        qk_rope_head_dim=qk_rope if kv_lora else None,
        v_head_dim=get.int("v_head_dim") if kv_lora else None,
        hybrid_layer_pattern=pattern,
        mamba_num_heads=get.int("mamba_num_heads") if pattern else None,
        mamba_head_dim=get.int("mamba_head_dim") if pattern else None,
        mamba_state_dim=get.int("ssm_state_size", "mamba_state_dim") if pattern else None,
        mamba_num_groups=get.int("n_groups", "mamba_n_groups") if pattern else None,
        linear_attention=linear,
        sliding_window=sliding if layer_types else None,
        layer_types=layer_types,
        attention_output_gate=bool(
            text.get("attn_output_gate", mtype_str in _GATED_ATTENTION_TYPES)
        ),
        moe_latent_size=get.int("moe_latent_size"),
        mtp_num_layers=get.int("num_nextn_predict_layers", "mtp_num_hidden_layers"),
        source=source,
        supported=supported,
        unsupported_reason=None
        if supported
        else f"not supported yet: {mtype_str or 'no model_type'}",
    )
    _check_shape(spec, source)
    return spec


# Far beyond any released model, small enough that counts and estimates stay exact.
_MAX_DIM = 1 << 22
_MAX_LAYERS = 10_000


def _in_range(source: str, name: str, value: Any, most: int = _MAX_DIM) -> int:
    if not 1 <= value <= most:
        raise UserError(f"{source}: {name} must be between 1 and {most:,}, found {value:,}")
    return value


def _check_shape(spec: ModelSpec, source: str) -> None:
    """UserError for a config no model has: a zero or absurd size, or heads that do not
    group (each KV head serves a whole number of query heads)."""
    sizes = {
        "num_hidden_layers": (spec.num_hidden_layers, _MAX_LAYERS),
        "hidden_size": (spec.hidden_size, _MAX_DIM),
        "num_attention_heads": (spec.num_attention_heads, _MAX_DIM),
        "num_key_value_heads": (spec.num_key_value_heads, _MAX_DIM),
        "head_dim": (spec.head_dim, _MAX_DIM),
        "vocab_size": (spec.vocab_size, 1 << 24),
    }
    for name, (value, most) in sizes.items():
        _in_range(source, name, value, most)
    heads, groups = spec.num_attention_heads, spec.num_key_value_heads
    if heads % groups:
        raise UserError(
            f"{source}: num_attention_heads {heads} is not a multiple of num_key_value_heads "
            f"{groups}; grouped-query attention gives each KV head the same number of query heads"
        )
    k, experts = spec.num_experts_per_tok, spec.num_experts
    if experts and k is not None and not 1 <= k <= experts:
        raise UserError(
            f"{source}: num_experts_per_tok must be between 1 and num_experts ({experts}), "
            f"found {k}"
        )


def _kv_heads(get: _Getter, heads: int) -> int:
    """num_key_value_heads, the attention heads when the config has none (plain MHA); a 0
    is kept, for the shape check to refuse."""
    kv = get.int("num_key_value_heads", "num_query_groups")
    return heads if kv is None else kv


def _language_model(cfg: dict[str, Any]) -> dict[str, Any]:
    for path in _NESTED:
        node: Any = cfg
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and "hidden_size" in node:
            return node
    return cfg


class _Getter:
    """Typed reads from one config dict; a wrong type or a missing required field names the field."""

    def __init__(self, cfg: dict[str, Any], source: str) -> None:
        self.cfg, self.source = cfg, source

    def int(self, *names: str, required: bool = False) -> int | None:
        for name in names:
            if name in self.cfg and self.cfg[name] is not None:
                value = self.cfg[name]
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or int(value) != value
                ):
                    raise UserError(
                        f"{self.source}: field {name!r} must be an integer, found {value!r}"
                    )
                return int(value)
        if required:
            hint = closest_key(names[0], self.cfg)
            raise UserError(
                f"{self.source}: missing required field {names[0]!r}{hint}; a Hugging Face config.json of a decoder model has it"
            )
        return None


def closest_key(name: str, cfg: dict[str, Any]) -> str:
    from autorecipe.errors import closest

    hits = closest(name, cfg.keys(), n=1, cutoff=0.75)
    return f" (found {hits[0]!r}: misspelled?)" if hits else ""


def _leading_dense(cfg: dict[str, Any]) -> int | None:
    """Qwen-MoE style: decoder_sparse_step / mlp_only_layers -> number of leading dense layers."""
    only = cfg.get("mlp_only_layers") or []
    step = cfg.get("decoder_sparse_step", 1) or 1
    if step != 1 or (only and sorted(only) != list(range(len(only)))):
        raise UserError(
            "mlp_only_layers / decoder_sparse_step that are not a leading block of dense layers are not supported yet"
        )
    return len(only) if only else 0


def _hybrid_pattern(cfg: dict[str, Any]) -> str | None:
    pattern = cfg.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:
        return pattern
    blocks = cfg.get("layers_block_type")
    if isinstance(blocks, list) and blocks:
        try:
            return "".join(_MAMBA_SYMBOLS[b] for b in blocks)
        except KeyError as exc:
            raise UserError(
                f"layers_block_type has an unknown layer kind {exc.args[0]!r}; known: {', '.join(_MAMBA_SYMBOLS)}"
            ) from None
    return None


def _linear_attention(cfg: dict[str, Any], layers: int) -> dict[str, Any] | None:
    """Qwen3-Next / Qwen3.5 gated-DeltaNet layout from layer_types or full_attention_interval."""
    types = cfg.get("layer_types")
    interval = cfg.get("full_attention_interval")
    if not (isinstance(types, list) and "linear_attention" in types) and not interval:
        return None
    if not isinstance(types, list) or "linear_attention" not in types:
        types = [
            "full_attention" if (i + 1) % interval == 0 else "linear_attention"
            for i in range(layers)
        ]
    out = {
        k: cfg[k]
        for k in (
            "linear_conv_kernel_dim",
            "linear_key_head_dim",
            "linear_value_head_dim",
            "linear_num_key_heads",
            "linear_num_value_heads",
            "partial_rotary_factor",
        )
        if k in cfg
    }
    out["full_attention_interval"] = interval
    out["layer_types"] = types
    return out


def _sliding_layout(mtype: str | None, cfg: dict[str, Any], layers: int) -> list[str] | None:
    """Per-layer sliding/full attention where the config gives only a window and a period."""
    if mtype in ("gemma2", "gpt_oss"):
        period = 2
    elif mtype in ("gemma3", "gemma3_text"):
        period = cfg.get("sliding_window_pattern") or 6
    else:
        return None
    return [
        "full_attention" if (i + 1) % period == 0 else "sliding_attention" for i in range(layers)
    ]


def _arch(
    experts: int | None, kv_lora: int | None, pattern: str | None, linear: dict | None
) -> str:
    moe = "_moe" if experts else ""
    if pattern:
        return f"hybrid_mamba{moe}"
    if linear:
        return f"hybrid_linear{moe}"
    if kv_lora:
        return f"mla{moe}"
    return "moe" if experts else "dense"


def _activation(cfg: dict[str, Any], mtype: str | None) -> str:
    act = str(
        cfg.get("mlp_hidden_act") or cfg.get("hidden_act") or cfg.get("hidden_activation") or "silu"
    )
    if act in ("relu2", "squared_relu"):
        return "squared_relu"
    if act.startswith("gelu"):
        return "geglu"
    return "swiglu"
