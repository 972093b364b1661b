"""What a recipe's name says: mode, model size, GPU count, GPU type, precision.

Benchmark names encode them (`qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config`); library
names since 0.6 do too (`llama3_8b_pretrain_2gpu_h100_bf16_config`), older ones only the
mode (`llama3_8b_pretrain_config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GPU_TYPES = ("h100", "h200", "a100", "b200", "gb200", "b300", "gb300", "r100", "vr200", "l40s")
# Name token -> DESIGN.md precision name.
PRECISION_TOKENS = {
    "bf16": "bf16",
    "fp8cs": "fp8",
    "fp8": "fp8",
    "fp8mx": "mxfp8",
    "fp8sc": "fp8-blockwise",  # FP8 sub-channel (blockwise) scaling
    "mxfp8": "mxfp8",
    "nvfp4": "nvfp4",
    "fp16": "fp16",
}
# Mixed-precision preset (or factory function) name -> DESIGN.md precision name.
_PRESET_PRECISION = (
    ("nvfp4", "nvfp4"),
    ("mxfp8", "mxfp8"),
    ("fp8_current_scaling", "fp8"),
    ("fp8_delayed_scaling", "fp8-delayed"),
    ("fp8_subchannel_scaling", "fp8-blockwise"),
    ("fp16", "fp16"),
    ("bf16", "bf16"),
)
_MODES = {"pretrain": "pretrain", "sft": "sft", "peft": "peft", "finetune": None, "lora": "peft"}
_SIZE = re.compile(r"^\d+(p\d+)?[mbt]$|^e\d+$")
_ACTIVE = re.compile(r"^a\d+(p\d+)?b$")
_GPUS = re.compile(r"^(\d+)gpus?$")


@dataclass(frozen=True)
class NameFacts:
    mode: str | None
    finetune: bool  # "finetune" names: sft or peft depending on the arguments
    model_size: str | None
    num_gpus: int | None
    gpu_type: str | None
    precision: str | None


def parse_name(name: str) -> NameFacts:
    tokens = name.removesuffix("_config").replace("_config_", "_").split("_")
    mode = None
    finetune = False
    size = None
    gpus = None
    gpu = None
    precision = None
    for i, tok in enumerate(tokens):
        if tok in _MODES and mode is None and not finetune:
            mode = _MODES[tok]
            finetune = tok == "finetune"
        elif _GPUS.match(tok) and gpus is None:
            gpus = int(_GPUS.match(tok).group(1))
        elif tok in GPU_TYPES and gpu is None:
            gpu = tok
        elif tok in PRECISION_TOKENS and precision is None and i > 0:
            precision = PRECISION_TOKENS[tok]
        elif _SIZE.match(tok) and size is None and i > 0:
            size = tok
            if i + 1 < len(tokens) and _ACTIVE.match(tokens[i + 1]):
                size = f"{tok}_{tokens[i + 1]}"
    return NameFacts(mode, finetune, size, gpus, gpu, precision)


def precision_of_preset(preset: str | None) -> str | None:
    """'bf16_with_fp8_current_scaling_mixed' -> 'fp8'; None when it names none we know."""
    if not preset:
        return None
    key = preset.replace("-", "_")
    for token, precision in _PRESET_PRECISION:
        if token in key:
            return precision
    return None
