"""Training precisions by the names people and Megatron-Bridge use for them.

Four are modelled: bf16, fp8 (per-tensor current or delayed scaling, or 128x128 blockwise:
all at the FP8 tensor-core peak), mxfp8 (Blackwell block scaling) and nvfp4. Recipe names
and the published performance tables spell them fp8cs, fp8sc, fp8mx, FP8-CS, MXFP8, NVFP4...;
all of those are accepted, in any case, with or without separators.
"""

from __future__ import annotations

import re

from autorecipe.errors import UserError

# canonical name -> spellings after lower-casing and dropping "-", "_", " " and "."
SPELLINGS: dict[str, set[str]] = {
    "bf16": {"bf16", "bfloat16"},
    "fp8": {
        "fp8",
        "fp8cs",
        "fp8sc",
        "fp8ds",
        "fp8currentscaling",
        "fp8delayedscaling",
        "fp8delayed",
        "fp8blockwise",
        "fp8subchannel",
        "fp8tensorwise",
    },  # fmt: skip
    "mxfp8": {"mxfp8", "fp8mx"},
    "nvfp4": {"nvfp4", "fp4"},
}
PRECISIONS = tuple(SPELLINGS)
# The Megatron-Bridge mixed_precision preset that trains in each precision (bf16 compute and
# master weights around the low-precision GEMMs; training/mixed_precision.py in 0.6.2).
PRESETS = {
    "bf16": "bf16_mixed",
    "fp8": "bf16_with_fp8_current_scaling_mixed",
    "mxfp8": "bf16_with_mxfp8_mixed",
    "nvfp4": "bf16_with_nvfp4_mixed",
}


def canonical_precision(text: str) -> str:
    """The modelled precision `text` names.

    >>> canonical_precision("FP8-CS"), canonical_precision("fp8mx"), canonical_precision("BF16")
    ('fp8', 'mxfp8', 'bf16')
    """
    key = re.sub(r"[-_ .]", "", str(text).lower())
    for name, spelled in SPELLINGS.items():
        if key in spelled:
            return name
    raise UserError(
        f"--precision {text!r} is not one of: {', '.join(PRECISIONS)} (also accepted as "
        "Megatron-Bridge spells them: fp8cs, fp8sc, fp8mx, FP8-CS, MXFP8, NVFP4)."
    )
