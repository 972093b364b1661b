"""What `torch.cuda` reports on the GPU a recipe is named for.

A few Bridge helpers decide at run time by asking the GPU: `apply_flex_dispatcher_backend`
keeps DeepEP / HybridEP only on the architectures that support them and falls back to the
all-to-all dispatcher elsewhere. A recipe named for a GPU (`..._16gpu_h100_bf16_config`)
is evaluated as it runs there, so those questions get that GPU's answers; for a recipe
named for no GPU, or a GPU listed here without facts, they stay unknown.

Compute capabilities: https://developer.nvidia.com/cuda-gpus (B300 / GB300: 10.3, sm_103,
as pytorch/FBGEMM#6151 and NVIDIA/torch-harmonics#267 report). Device names are what
`torch.cuda.get_device_name()` returns; Bridge only tests their prefix ("NVIDIA B200",
"NVIDIA B300"), e.g. B300 reports "NVIDIA B300 SXM6 AC" (NVIDIA/cosmos-framework#114).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    major: int
    minor: int
    name: str


# Name token (index.names.GPU_TYPES) -> the device. Rubin (r100, vr200) is left out: its
# compute capability is not published yet.
DEVICES: dict[str, Device] = {
    "a100": Device(8, 0, "NVIDIA A100-SXM4-80GB"),
    "l40s": Device(8, 9, "NVIDIA L40S"),
    "h100": Device(9, 0, "NVIDIA H100 80GB HBM3"),
    "h200": Device(9, 0, "NVIDIA H200"),
    "b200": Device(10, 0, "NVIDIA B200"),
    "gb200": Device(10, 0, "NVIDIA GB200"),
    "b300": Device(10, 3, "NVIDIA B300 SXM6 AC"),
    "gb300": Device(10, 3, "NVIDIA GB300"),
}


def device_for(gpu_type: str | None) -> Device | None:
    return DEVICES.get(gpu_type or "")
