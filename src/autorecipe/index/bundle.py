"""Regenerate the indexes bundled in index/data/ from Megatron-Bridge releases.

For each source it writes `megatron-bridge-X.json` (exactly what `autorecipe index build
--out` writes) and its lean companion `lean-megatron-bridge-X.json`: the same index with
every recipe's provenance left out, which commands that never show provenance load
instead (provenance is 60% of the bytes).

Run: python -m autorecipe.index.bundle megatron_bridge-0.6.2-py3-none-any.whl ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from autorecipe.index.load import DATA_DIR, bundled_path, lean_path
from autorecipe.index.schema import RecipeIndex


def index_text(index: RecipeIndex) -> str:
    """The file text `index build --out` writes (and the bundled file holds)."""
    from autorecipe.api import index_json

    return index_json(index) + "\n"


def lean_text(full_text: str) -> str:
    """The lean companion of a bundled index's text: provenance left out."""
    index = RecipeIndex.model_validate_json(full_text)
    for recipe in index.recipes:
        recipe.provenance = {}
    return index_text(index)


def write_bundle(source: str | Path, data_dir: Path = DATA_DIR) -> list[Path]:
    """Build the index of `source` and write it and its lean companion to `data_dir`."""
    from autorecipe.index.scan import build_index

    text = index_text(build_index(source))
    version = RecipeIndex.model_validate_json(text).bridge_version
    full = data_dir / bundled_path(version).name
    full.write_text(text, encoding="utf-8")
    lean = lean_path(full)
    lean.write_text(lean_text(text), encoding="utf-8")
    return [full, lean]


def main(argv: list[str]) -> None:
    for source in argv:
        for path in write_bundle(source):
            print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
