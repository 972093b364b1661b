"""Load a recipe index (bundled release, version, or JSON file) and find recipes in it."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from autorecipe.errors import UserError, did_you_mean, existing, shown
from autorecipe.index.schema import Kind, Recipe, RecipeIndex

DEFAULT_VERSION = "0.6.2"
ENV_VAR = "AUTORECIPE_INDEX"
DATA_DIR = Path(__file__).parent / "data"
_VERSION = re.compile(r"^\d+\.\d+\.\d+\S*$")


def bundled_versions() -> list[str]:
    """Megatron-Bridge versions whose index ships with autorecipe."""
    return sorted(
        p.stem.removeprefix("megatron-bridge-") for p in DATA_DIR.glob("megatron-bridge-*.json")
    )


def bundled_path(version: str) -> Path:
    return DATA_DIR / f"megatron-bridge-{version}.json"


def lean_path(full: Path) -> Path:
    """The bundled index without provenance that sits beside a bundled index (see
    index/bundle.py): 40% of the bytes, so it loads in half the time."""
    return full.with_name(f"lean-{full.name}")


def _resolve(spec: str | None) -> Path:
    if spec is not None and not spec.strip():
        raise UserError(
            f"empty index name; give a bundled release ({', '.join(bundled_versions())}) or an "
            "index JSON file, or leave it out for the default"
        )
    spec = spec or os.environ.get(ENV_VAR) or DEFAULT_VERSION
    if _VERSION.match(spec) and not existing(Path(spec), file=True):
        path = bundled_path(spec)
        if not path.is_file():
            raise UserError(
                f"no bundled index for Megatron-Bridge {spec}; bundled: "
                f"{', '.join(bundled_versions())}. Build one with "
                "`autorecipe index build --source WHEEL --out FILE` and pass --index FILE."
            )
        return path
    path = Path(spec)
    if not existing(path, file=True):
        raise UserError(
            f"index {shown(spec)!r} is neither a bundled version "
            f"({', '.join(bundled_versions())}) nor an index JSON file."
        )
    return path


@lru_cache(maxsize=8)
def _load_path(path: Path, mtime: float) -> RecipeIndex:
    try:
        # pydantic's own JSON parser: about twice as fast as json.loads + model_validate
        return RecipeIndex.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'top level'}: {e['msg']}"
            for e in exc.errors()[:3]
        )
        more = f" and {exc.error_count() - 3} more" if exc.error_count() > 3 else ""
        raise UserError(
            f"{path} is not a recipe index ({where}{more}); build one with "
            "`autorecipe index build`."
        ) from None
    except UnicodeDecodeError:
        raise UserError(
            f"{path} is not a recipe index (not UTF-8 text); build one with `autorecipe index build`."
        ) from None


def load_index(spec: str | None = None, *, provenance: bool = True) -> RecipeIndex:
    """The recipe index named by `spec`, parsed once per process.

    None means the environment variable AUTORECIPE_INDEX, else the bundled default
    (Megatron-Bridge 0.6.2); a version like "0.5.1" picks a bundled index; anything
    else is a path to an index JSON file. `provenance=False` is for callers that never
    read `Recipe.provenance`: a bundled index then comes without it (every recipe's
    provenance is empty), in half the time; an index file is read whole either way.

    >>> load_index("0.6.2").bridge_version
    '0.6.2'
    >>> load_index("0.6.2", provenance=False).recipes[0].provenance
    {}
    """
    path = _resolve(spec).resolve()
    if not provenance and path.parent == DATA_DIR.resolve() and lean_path(path).is_file():
        path = lean_path(path)
    return _load_path(path, path.stat().st_mtime)


def find_recipe(index: RecipeIndex, name: str, kind: Kind | None = None) -> Recipe:
    """The recipe called `name`; a name both kinds use means the library one unless
    `kind` says "benchmark". Unknown names raise UserError listing the closest ones."""
    if kind is not None and kind not in ("library", "benchmark"):
        raise UserError(f"unknown kind {kind!r}; choose from: library, benchmark.")
    matches = [r for r in index.recipes if r.name == name and (kind is None or r.kind == kind)]
    if matches:
        return next((r for r in matches if r.kind == "library"), matches[0])
    pool = [r.name for r in index.recipes if kind is None or r.kind == kind]
    where = f"{kind} recipe" if kind else "recipe"
    raise UserError(
        f"no {where} named {shown(name)!r} in the Megatron-Bridge {index.bridge_version} index."
        + (did_you_mean(name, pool) or " See `autorecipe list`.")
    )


def other_kinds(index: RecipeIndex, recipe: Recipe) -> list[Kind]:
    """The other kinds that also have a recipe of this name (identity is kind + name)."""
    return [r.kind for r in index.recipes if r.name == recipe.name and r.kind != recipe.kind]
