"""GPU types by common spelling, the bundled facts, and user-described GPUs."""

from __future__ import annotations

import json

import pytest

from autorecipe.catalog.gpus import custom_gpu, list_gpus, resolve_gpu
from autorecipe.errors import UserError


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("h100", "H100-SXM"),
        ("H100-SXM", "H100-SXM"),
        ("dgx-h100", "H100-SXM"),
        ("h200", "H200"),
        ("b200", "B200"),
        ("b300", "B300"),
        ("gb200", "GB200-NVL72"),
        ("GB200-NVL72", "GB200-NVL72"),
        ("gb300", "GB300-NVL72"),
        ("a100", "A100-80GB"),
        ("a100-40gb", "A100-40GB"),
        ("A100 80GB", "A100-80GB"),
    ],
)
def test_common_spellings(name, key):
    assert resolve_gpu(name).key == key


def test_required_gpu_types_have_their_facts():
    gpus = {g.key: g for g in list_gpus()}
    for key in (
        "A100-40GB",
        "A100-80GB",
        "H100-SXM",
        "H200",
        "B200",
        "B300",
        "GB200-NVL72",
        "GB300-NVL72",
    ):
        g = gpus[key]
        assert (
            g.peak_tflops["bf16"] and g.hbm_bandwidth_tb_s and g.nvlink_gb_s_per_gpu_bidirectional
        )
        assert g.internode_network_per_gpu_gbps and g.sources
        assert 0 < g.usable_memory_gib < g.memory_gib
    assert gpus["GB200-NVL72"].nvlink_domain_size == 72 and gpus["H100-SXM"].nvlink_domain_size == 8
    assert gpus["A100-80GB"].peak_tflops["fp8"] is None  # Ampere has no FP8 tensor cores
    assert gpus["B200"].peak_tflops["fp4"] and gpus["H100-SXM"].peak_tflops["fp4"] is None


def test_usable_memory_matches_the_observed_machines():
    # gpus.json records ~78 GiB usable on the H100s and ~139 GiB on the H200s.
    assert resolve_gpu("h100").usable_memory_gib == 78
    assert resolve_gpu("h200").usable_memory_gib == 139
    assert resolve_gpu("b200").usable_memory_gib == resolve_gpu("b200").memory_gib - 2


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(UserError) as err:
        resolve_gpu("tpu-v5")
    assert "H100-SXM" in str(err.value) and "custom:" in str(err.value)


def test_inline_custom_gpu():
    g = resolve_gpu("custom:mem=96,bf16=700,fp8=1400,domain=4,net=200")
    assert (g.memory_gib, g.usable_memory_gib, g.nvlink_domain_size) == (96, 94, 4)
    assert g.peak_tflops == {"bf16": 700, "fp8": 1400, "fp4": None}
    assert g.internode_network_per_gpu_gbps == 200


def test_custom_gpu_file(tmp_path):
    path = tmp_path / "mi300x.json"
    path.write_text(json.dumps({"name": "AMD MI300X", "mem": 192, "usable": 188, "bf16": 1307}))
    g = resolve_gpu(str(path))
    assert (g.name, g.usable_memory_gib, g.peak_tflops["bf16"]) == ("AMD MI300X", 188, 1307)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("custom:bf16=700", "mem= is required"),
        ("custom:mem=80", "bf16= is required"),
        ("custom:mem=80,bf16=fast", "bf16 must be a number"),
        ("custom:mem=80,bf16=700,colour=green", "unknown key"),
        ("custom:mem=80,bf16", "not KEY=VALUE"),
        ("custom:mem=-1,bf16=700", "must be positive"),
    ],
)
def test_bad_custom_gpu(spec, message):
    with pytest.raises(UserError, match=message):
        resolve_gpu(spec)


def test_bad_custom_file(tmp_path):
    path = tmp_path / "gpu.json"
    path.write_text("{mem: 80")
    with pytest.raises(UserError, match="not JSON"):
        resolve_gpu(str(path))
    with pytest.raises(UserError, match="no such file"):
        resolve_gpu(str(tmp_path / "missing.json"))


def test_custom_gpu_from_fields():
    assert custom_gpu({"mem": 80, "bf16": 989}).key == "custom"
