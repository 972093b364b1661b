"""Shared fixtures: real Megatron-Bridge wheels from PyPI, cached between runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WHEEL_CACHE = Path(
    os.environ.get("AUTORECIPE_WHEEL_CACHE", Path.home() / ".cache" / "autorecipe-tests" / "wheels")
)


def megatron_bridge_wheel(version: str) -> Path:
    """Path to the real megatron-bridge wheel of `version`, downloaded once with pip."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(WHEEL_CACHE.glob(f"megatron_bridge-{version}-*.whl"))
    if found:
        return found[0]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        "3.12",
        "--quiet",
        "-d",
        str(WHEEL_CACHE),
        f"megatron-bridge=={version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(WHEEL_CACHE.glob(f"megatron_bridge-{version}-*.whl"))
    if proc.returncode != 0 or not found:
        pytest.fail(f"could not download megatron-bridge=={version}: {proc.stderr[-2000:]}")
    return found[0]


@pytest.fixture(scope="session")
def wheel_062() -> Path:
    return megatron_bridge_wheel("0.6.2")


@pytest.fixture(scope="session")
def wheel_051() -> Path:
    return megatron_bridge_wheel("0.5.1")


@pytest.fixture(scope="session")
def wheel_031() -> Path:
    return megatron_bridge_wheel("0.3.1")
