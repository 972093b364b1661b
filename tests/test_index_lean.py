"""The lean bundled indexes (no provenance) that list, check and recommend load."""

from __future__ import annotations

import shutil

import pytest

from autorecipe.index.bundle import lean_text, write_bundle
from autorecipe.index.load import bundled_path, bundled_versions, lean_path, load_index


@pytest.mark.parametrize("version", ["0.6.2", "0.5.1"])
def test_each_lean_file_is_its_bundled_index_without_provenance(version):
    full = bundled_path(version)
    assert lean_path(full).read_text() == lean_text(full.read_text())
    whole, lean = load_index(version), load_index(version, provenance=False)
    assert whole is not lean
    assert all(not r.provenance for r in lean.recipes)
    assert sum(len(r.provenance) for r in whole.recipes) > 10 * len(whole.recipes)
    strip = {"recipes": {"__all__": {"provenance"}}}
    assert lean.model_dump(exclude=strip) == whole.model_dump(exclude=strip)


def test_lean_files_are_not_versions():
    assert bundled_versions() == ["0.5.1", "0.6.2"]


def test_an_index_file_is_read_whole_even_without_provenance(tmp_path):
    copy = tmp_path / "mb.json"
    shutil.copy(bundled_path("0.5.1"), copy)
    shutil.copy(lean_path(bundled_path("0.5.1")), lean_path(copy))  # not a bundled one
    recipe = load_index(str(copy), provenance=False).recipes[0]
    assert recipe.provenance and recipe.provenance == load_index("0.5.1").recipes[0].provenance


@pytest.mark.wheel
def test_write_bundle_rebuilds_both_bundled_files(wheel_051, tmp_path):
    full, lean = write_bundle(wheel_051, tmp_path)
    assert full.read_bytes() == bundled_path("0.5.1").read_bytes()
    assert lean.read_bytes() == lean_path(bundled_path("0.5.1")).read_bytes()
