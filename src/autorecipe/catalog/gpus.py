"""GPU types: the bundled catalog (data/gpus.json), common spellings, and user-described GPUs.

Usable memory is the marketed capacity less what the driver and CUDA context keep
(`usable_memory_reserve_gib` in data/gpus.json, 2 GiB: 80 GiB H100 -> 78 GiB usable,
141 GiB H200 -> 139 GiB, as observed on real machines); allocator fragmentation and
NCCL buffers are the memory model's business, not this one's.

A GPU the catalog lacks is described inline, ``custom:mem=96,bf16=700,domain=8``, or in a
JSON file holding the same keys (``{"mem": 96, "bf16": 700}``). Keys: mem (GiB, required),
bf16 (dense TFLOP/s, required), fp8, fp4, domain (NVLink domain size, default 8),
nvlink (GB/s per GPU, bidirectional), net (inter-node Gb/s per GPU), hbm (TB/s),
exp (bf16 FLOPs per softmax exponential: 256 Hopper, 512 Blackwell), usable (GiB; default
mem - 2), name.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from autorecipe.catalog.spec import GPUSpec
from autorecipe.errors import UserError, existing, shown

# Spellings people use -> catalog key. Everything is compared after _norm().
_SPELLINGS = {
    "a100": "A100-80GB",
    "a10080": "A100-80GB",
    "a10080gb": "A100-80GB",
    "a100sxm": "A100-80GB",
    "a100sxm480gb": "A100-80GB",
    "a10040": "A100-40GB",
    "a10040gb": "A100-40GB",
    "a100sxm440gb": "A100-40GB",
    "dgxa100": "A100-80GB",
    "h100": "H100-SXM",
    "h100sxm": "H100-SXM",
    "h100sxm5": "H100-SXM",
    "h10080gb": "H100-SXM",
    "dgxh100": "H100-SXM",
    "hgxh100": "H100-SXM",
    "h200": "H200",
    "h200sxm": "H200",
    "dgxh200": "H200",
    "hgxh200": "H200",
    "b200": "B200",
    "dgxb200": "B200",
    "hgxb200": "B200",
    "b300": "B300",
    "dgxb300": "B300",
    "hgxb300": "B300",
    "blackwellultra": "B300",
    "gb200": "GB200-NVL72",
    "gb200nvl72": "GB200-NVL72",
    "gb200nvl": "GB200-NVL72",
    "gb300": "GB300-NVL72",
    "gb300nvl72": "GB300-NVL72",
    "gb300nvl": "GB300-NVL72",
    "rubin": "Rubin-VR200-NVL72",
    "vr200": "Rubin-VR200-NVL72",
    "vr200nvl72": "Rubin-VR200-NVL72",
}
_CUSTOM_KEYS = {
    "mem", "usable", "bf16", "fp8", "fp4", "domain", "nvlink", "net", "hbm", "exp", "name"
}  # fmt: skip
RESERVE_DOC = "usable memory = capacity - 2 GiB (driver and CUDA context)"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    text = resources.files("autorecipe.catalog").joinpath("data/gpus.json").read_text("utf-8")
    return json.loads(text)


def list_gpus() -> list[GPUSpec]:
    """Every GPU type in the bundled catalog."""
    return [GPUSpec.model_validate(g) for g in _catalog()["gpus"].values()]


def resolve_gpu(name: str) -> GPUSpec:
    """The GPUSpec for a type name as people write it, a `custom:...` spec, or a JSON file.

    Example:
        >>> resolve_gpu("dgx-h100").key
        'H100-SXM'
    """
    text = name.strip()
    if text.lower().startswith("custom:"):
        return custom_gpu(_parse_inline(text[len("custom:") :]), source=text)
    if text.endswith(".json") or existing(Path(text), file=True):
        return custom_gpu(_read_file(Path(text)), source=text)
    gpus = _catalog()["gpus"]
    by_norm = {_norm(k): k for k in gpus}
    key = by_norm.get(_norm(text)) or _SPELLINGS.get(_norm(text))
    if key is None:
        known = ", ".join(gpus)
        raise UserError(
            f"unknown GPU type {shown(name)!r}; known: {known} (also h100, dgx-h100, gb200, "
            "a100-40gb…), "
            "or describe yours as custom:mem=96,bf16=700,domain=8"
        )
    return GPUSpec.model_validate(gpus[key])


def custom_gpu(fields: dict[str, Any], source: str = "user") -> GPUSpec:
    """A GPUSpec from user-given keys (mem, bf16 required; see module docstring)."""
    unknown = set(fields) - _CUSTOM_KEYS
    if unknown:
        raise UserError(
            f"custom GPU: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_CUSTOM_KEYS))}"
        )
    # the values first: `mem=abc` is a bad mem, not a missing bf16
    num = {k: _number(k, v) for k, v in fields.items() if k != "name"}
    for required in ("mem", "bf16"):
        if required not in fields:
            raise UserError(
                f"custom GPU: {required}= is required, e.g. custom:mem=96,bf16=700,domain=8"
            )
    mem = num["mem"]
    if "domain" in num and not num["domain"].is_integer():
        raise UserError(
            f"custom GPU: domain is a GPU count, a whole number like 8 or 72, found {fields['domain']!r}"
        )
    reserve = _catalog()["usable_memory_reserve_gib"]
    if num.get("usable", mem - reserve) > mem or ("usable" not in num and mem <= reserve):
        raise UserError(
            f"custom GPU: usable memory must be positive and at most mem={mem:g} GiB "
            f"(default: mem - {reserve:g} GiB for driver and CUDA context); give mem in GiB, "
            "e.g. mem=96, or usable= at most mem"
        )
    return GPUSpec(
        key="custom",
        name=str(fields.get("name") or f"custom GPU ({mem:g} GiB, {num['bf16']:g} TFLOP/s bf16)"),
        memory_gib=mem,
        usable_memory_gib=num.get("usable", mem - _catalog()["usable_memory_reserve_gib"]),
        hbm_bandwidth_tb_s=num.get("hbm"),
        peak_tflops={"bf16": num["bf16"], "fp8": num.get("fp8"), "fp4": num.get("fp4")},
        nvlink_domain_size=int(num.get("domain", 8)),
        nvlink_gb_s_per_gpu_bidirectional=num.get("nvlink"),
        internode_network_per_gpu_gbps=num.get("net"),
        bf16_flops_per_exp=num.get("exp"),
        sources=[f"described by the user: {source}"],
    )


def _parse_inline(body: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        k, sep, v = part.partition("=")
        if not sep or not v.strip():
            raise UserError(
                f"custom GPU: {part!r} is not KEY=VALUE; e.g. custom:mem=96,bf16=700,domain=8"
            )
        key = k.strip().lower()
        if key in out:
            raise UserError(
                f"custom GPU: {key}= is given twice ({out[key]} and {v.strip()}); give it once"
            )
        out[key] = v.strip()
    return out


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f'{path}: no such file; describe a GPU as JSON like {{"mem": 96, "bf16": 700}}'
        ) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise UserError(
            f'{path}: a GPU description is one JSON object like {{"mem": 96, "bf16": 700}}'
        )
    return data


def _number(key: str, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        out = float(value)
    except (TypeError, ValueError):
        raise UserError(f"custom GPU: {key} must be a number, found {value!r}") from None
    if not math.isfinite(out):
        raise UserError(f"custom GPU: {key} must be a finite number, found {value!r}")
    if out <= 0:
        raise UserError(f"custom GPU: {key} must be positive, found {value!r}")
    return out
