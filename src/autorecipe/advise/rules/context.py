"""What a rule sees: the recipe's config with the overrides applied, the model, the GPUs.

The config is flat, keyed by the override path (``model.tensor_model_parallel_size``,
``dataset.seq_length``), so a rule reads the same names a user writes. Values the
recipe does not set are Megatron's defaults (looked up in DEFAULTS) or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.index.fields import field_key, override_path
from autorecipe.index.names import precision_of_preset
from autorecipe.index.schema import DatasetPreset, Recipe
from autorecipe.layout.from_recipe import pipeline_layout_text
from autorecipe.layout.schema import Layout

# Megatron-Core / Megatron-Bridge 0.6.2 dataclass defaults for the keys rules read.
DEFAULTS: dict[str, Any] = {
    "model.tensor_model_parallel_size": 1,
    "model.pipeline_model_parallel_size": 1,
    "model.virtual_pipeline_model_parallel_size": None,
    "model.context_parallel_size": 1,
    "model.expert_model_parallel_size": 1,
    "model.expert_tensor_parallel_size": None,
    "model.sequence_parallel": False,
    "model.recompute_granularity": None,
    "model.cuda_graph_impl": "none",
    "model.use_te_rng_tracker": False,
    "rng.te_rng_tracker": False,
    "train.micro_batch_size": 1,
    "ddp.use_distributed_optimizer": False,
    "ddp.use_megatron_fsdp": False,
}

# Bridge >= 0.6 resolves an unset ETP to 1 when EP > 1 (MB 6f2f546e, #4579).
BRIDGE_ETP_DEFAULT = 1

# model_type -> Bridge provider whose finalize forces sequence_parallel on when TP > 1
_FORCES_SP = {"qwen3_vl_moe"}  # Qwen3VLMoEModelProvider, models/qwen_vl/qwen3_vl_provider.py


def recipe_config(recipe: Recipe | None) -> dict[str, Any]:
    """The recipe's extracted fields keyed by override path."""
    if recipe is None:
        return {}
    return {override_path(key): value for key, value in recipe.fields.items()}


# A preset that builds this class edits the recipe's own dataset (dataclasses.replace of
# it, new source and seq_length); every other preset builds a fresh config in its place
# (megatron/bridge/recipes/utils/dataset_utils.py, 0.6.x DATASET_PRESETS).
EDITS_RECIPE_DATASET = "DirectHFSFTDatasetConfig"


def with_preset(base: dict[str, Any], preset: DatasetPreset) -> dict[str, Any]:
    """The recipe's config once run_recipe.py's ``--dataset`` preset has replaced its dataset.

    The preset is built before the overrides, from the recipe's model.seq_length; a fresh
    one has none of the recipe's dataset settings (no offline packing: the 0.6.x text
    presets all build with enable_offline_packing=False)."""
    seq = base.get("model.seq_length", base.get("dataset.seq_length"))
    if preset.builds == EDITS_RECIPE_DATASET and base.get("dataset") == EDITS_RECIPE_DATASET:
        config = dict(base)
    else:
        config = {k: v for k, v in base.items() if k != "dataset" and not k.startswith("dataset.")}
        config["dataset"] = preset.builds
    if seq is not None:
        config["dataset.seq_length"] = seq
    return config


def effective_config(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` applied as the launcher applies them.

    After the Hydra overrides, run_recipe.py copies ``dataset.seq_length`` back into
    ``model.seq_length`` (pitfalls-evidence #38), so the dataset's value wins.
    """
    # an override replaces the whole node it names (Hydra: `dataset.offline_packing_specs=null`)
    config = {
        key: value
        for key, value in base.items()
        if not any(key.startswith(f"{name}.") for name in overrides)
    }
    config.update(overrides)
    if config.get("dataset.seq_length") is not None:
        config["model.seq_length"] = config["dataset.seq_length"]
    return config


def _indexed(key: str) -> bool:
    """Whether the recipe index records `key` when a recipe sets it, so that its absence
    means Megatron's default (index/scan.py decides; imported here only when asked)."""
    from autorecipe.index.scan import SECTION_KEYS, SECTIONS

    section = key.partition(".")[0]
    return section in SECTIONS and (section not in SECTION_KEYS or key in SECTION_KEYS[section])


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True)
class CheckContext:
    """One configuration to lint."""

    config: dict[str, Any]
    gpu: GPUSpec
    world_size: int
    mode: str = "pretrain"
    spec: ModelSpec | None = None
    recipe: Recipe | None = None
    base: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str | None = None  # the --dataset preset's name
    # that preset's facts from the index (None: not given, or a name the index lacks);
    # `base` already has it applied
    preset: DatasetPreset | None = None
    # the recipe exactly as shipped, on its own GPU count and type: its layout was tuned
    # and run there, so model-based performance warnings about it are only info
    as_shipped: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        """The effective value of an override path (recipe, then overrides, then defaults)."""
        if key in self.config and self.config[key] is not None:
            return self.config[key]
        if key in self.config:
            return None
        return DEFAULTS.get(key, default)

    def overridden(self, key: str) -> bool:
        return key in self.overrides

    def unknown(self, key: str) -> str | None:
        """Why the recipe's value of `key` is not known statically (None when it is):
        the index marked it unresolved, or does not record that key at all."""
        if key in self.overrides or self.recipe is None or self.fresh_dataset(key):
            return None
        reason = self.recipe.unknown.get(field_key(key))
        if reason:
            return reason
        if key not in self.base and not _indexed(key):
            return f"the recipe index does not record {key}"
        return None

    def fresh_dataset(self, key: str) -> bool:
        """Whether `key` belongs to a dataset the preset built afresh (so it is known)."""
        return (
            key.startswith("dataset")
            and self.preset is not None
            and self.base.get("dataset") == self.preset.builds != EDITS_RECIPE_DATASET
        )

    @property
    def seq_len(self) -> int:
        return _int(self.get("dataset.seq_length"), _int(self.get("model.seq_length"), 4096))

    @property
    def is_moe(self) -> bool:
        if self.spec is not None:
            return self.spec.is_moe
        return bool(self.get("model.num_moe_experts"))

    @property
    def precision(self) -> str:
        """bf16 | fp8 | mxfp8 | nvfp4, from the recipe's precision and the fp8/fp4 keys."""
        recipe = self.get("model.fp8_recipe") or self.get("mixed_precision.fp8_recipe") or ""
        if self.get("model.fp4") or self.get("mixed_precision.fp4"):
            return "nvfp4"
        if self.get("model.fp8") or self.get("mixed_precision.fp8"):
            return "mxfp8" if recipe == "mxfp8" else "fp8"
        preset = self.get("mixed_precision")
        if self.overridden("mixed_precision") and isinstance(preset, str):
            # `mixed_precision=<preset>` replaces the recipe's whole precision config
            named = precision_of_preset(preset) or ""
        else:
            named = (self.recipe.precision if self.recipe else None) or ""
        for key in ("nvfp4", "mxfp8", "fp8"):
            if key in named.lower():
                return key
        return "bf16"

    def bridge_forces_sp(self, tp: int) -> bool:
        """Bridge 0.6.2's Qwen3VLMoEModelProvider.finalize (run by ConfigContainer.validate)
        turns sequence_parallel on whenever TP > 1, whatever the recipe or override says;
        the dense Qwen3-VL and Qwen3.5-VL providers do not."""
        return tp > 1 and self.spec is not None and self.spec.model_type in _FORCES_SP

    @property
    def layout(self) -> Layout:
        tp = _int(self.get("model.tensor_model_parallel_size"), 1)
        pp = _int(self.get("model.pipeline_model_parallel_size"), 1)
        cp = _int(self.get("model.context_parallel_size"), 1)
        ep = _int(self.get("model.expert_model_parallel_size"), 1)
        etp = self.get("model.expert_tensor_parallel_size")
        vp = self.get("model.virtual_pipeline_model_parallel_size")
        mbs = _int(self.get("train.micro_batch_size"), 1)
        dp = max(self.world_size // max(tp * pp * cp, 1), 1)
        recompute = self.get("model.recompute_granularity")
        modules = self.get("model.recompute_modules")
        return Layout(
            tp=tp,
            pp=pp,
            vp=vp if isinstance(vp, int) and not isinstance(vp, bool) else None,
            cp=cp,
            ep=ep,
            etp=_int(etp, BRIDGE_ETP_DEFAULT if ep > 1 else tp) if self.is_moe else 1,
            dp=dp,
            sp=bool(self.get("model.sequence_parallel")) or self.bridge_forces_sp(tp),
            mbs=mbs,
            gbs=_int(self.get("train.global_batch_size"), mbs * dp),
            cp_comm_type=_cp_comm_type(self.get("model.cp_comm_type")),
            recompute=recompute if recompute in ("selective", "full") else "none",
            recompute_method=self.get("model.recompute_method"),
            recompute_num_layers=_int(self.get("model.recompute_num_layers"), 0) or None,
            # Bridge syncs the DDP and optimizer flags: either one on turns both on
            use_distributed_optimizer=bool(
                self.get("ddp.use_distributed_optimizer")
                or self.get("optimizer.use_distributed_optimizer")
            ),
            use_megatron_fsdp=bool(self.get("ddp.use_megatron_fsdp")),
            recompute_modules=modules
            if recompute == "selective" and isinstance(modules, list)
            else None,
            account_for_embedding=bool(self.get("model.account_for_embedding_in_pipeline_split")),
            account_for_loss=bool(self.get("model.account_for_loss_in_pipeline_split")),
            pipeline_layout=pipeline_layout_text(self.get("model.pipeline_model_parallel_layout")),
            first_stage_layers=_int(self.get("model.num_layers_in_first_pipeline_stage"), 0)
            or None,
            last_stage_layers=_int(self.get("model.num_layers_in_last_pipeline_stage"), 0) or None,
        )

    # --- CUDA graphs --------------------------------------------------------------------

    @property
    def cuda_graph_impl(self) -> str:
        impl = self.get("model.cuda_graph_impl")
        return impl if isinstance(impl, str) else "none"

    @property
    def cuda_graph_modules(self) -> list[str]:
        """Per-layer graph scopes, old (`cuda_graph_scope`) and new (`cuda_graph_modules`) API."""
        names: list[str] = []
        for key in ("model.cuda_graph_modules", "model.cuda_graph_scope"):
            value = self.get(key)
            if isinstance(value, str):
                value = [v for v in value.split(",") if v and v != "full"]
            for item in value or []:
                names.append(str(item).rsplit(".", 1)[-1])
        return [
            n
            for n in dict.fromkeys(names)
            if n not in ("full_iteration", "full_iteration_inference")
        ]

    @property
    def full_iteration_graph(self) -> bool:
        if self.cuda_graph_impl == "full_iteration":
            return True
        scopes = [
            str(v)
            for k in ("model.cuda_graph_modules", "model.cuda_graph_scope")
            for v in _as_list(self.get(k))
        ]
        return self.cuda_graph_impl == "local" and any(s.endswith("full_iteration") for s in scopes)

    @property
    def offline_packing(self) -> bool:
        size = self.get("dataset.offline_packing_specs.packed_sequence_size")
        return bool(self.get("dataset.enable_offline_packing")) or (
            isinstance(size, int) and size > 0
        )


def _cp_comm_type(value: Any) -> str | None:
    """One CP transport name as the layout rules spell it. Megatron-Core compares
    `allgather` and `all_gather` alike (replace("_", "")); a per-layer list counts when
    uniform."""
    if isinstance(value, list):
        value = value[0] if len(set(map(str, value))) == 1 else None
    if not isinstance(value, str):
        return None
    return "all_gather" if value.replace("_", "").lower() == "allgather" else value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split(",")
    return list(value) if isinstance(value, (list, tuple)) else [value]
