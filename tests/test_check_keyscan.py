"""The bundled override-key schema is what keyscan reads from the real 0.6.2 wheels."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest

from autorecipe.advise.keyscan import scan
from conftest import WHEEL_CACHE

CORE = "0.19.2"  # the megatron-core released with megatron-bridge 0.6.2 (same day, 2026-09-18)


@pytest.fixture(scope="module")
def core_wheel():
    found = sorted(WHEEL_CACHE.glob(f"megatron_core-{CORE}-*.whl"))
    if not found:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--python-version", "3.12", "--platform", "manylinux_2_28_x86_64", "--quiet",
            "-d", str(WHEEL_CACHE), f"megatron-core=={CORE}",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(WHEEL_CACHE.glob(f"megatron_core-{CORE}-*.whl"))
        if proc.returncode or not found:
            pytest.fail(f"could not download megatron-core=={CORE}: {proc.stderr[-2000:]}")
    return found[0]


@pytest.fixture(scope="module")
def scanned(wheel_062, core_wheel):
    return json.loads(json.dumps(scan(wheel_062, core_wheel), sort_keys=True))


@pytest.mark.wheel
def test_bundled_schema_is_regenerated_exactly(scanned):
    bundled = json.loads(
        resources.files("autorecipe.advise").joinpath("data/config-keys.json").read_text()
    )
    assert scanned["sections"] == bundled["sections"]


@pytest.mark.wheel
def test_schema_has_the_keys_and_types_megatron_declares(scanned):
    sections = scanned["sections"]
    model = sections["model"]
    assert model["tensor_model_parallel_size"] == {"types": ["int"], "nullable": False}
    assert model["virtual_pipeline_model_parallel_size"]["nullable"] is True
    assert set(model["cuda_graph_impl"]["choices"]) >= {
        "none",
        "local",
        "transformer_engine",
        "full_iteration",
    }
    assert sections["rng"]["te_rng_tracker"]["types"] == ["bool"]
    assert sections["rerun_state_machine"]["check_for_nan_in_loss"]["types"] == ["bool"]
    assert "global_batch_size" in sections["train"] and "seq_length" in sections["dataset"]
