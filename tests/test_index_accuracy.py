"""Accuracy of the index against a second, deliberately simple reading of the source.

For every recipe function of a release, a straight-line reader walks the function's
own top-level statements and keeps `cfg.<section>.<attr> = <literal>` assignments; any
statement that could change cfg behind its back (a call that is given cfg, a compound
statement, replacing a whole section) forgets what it may have changed. What survives to
the `return` is a value the recipe certainly ends with. The index (which follows helpers,
base recipes and branches) must agree on at least 98% of them, and on the layout fields
on all of them.
"""

from __future__ import annotations

import ast
import zipfile

import pytest

from autorecipe.index.fields import field_key
from autorecipe.index.load import load_index
from autorecipe.index.scan import SECTION_KEYS, SECTIONS

pytestmark = pytest.mark.wheel

LAYOUT = {
    "tensor_model_parallel_size",
    "pipeline_model_parallel_size",
    "virtual_pipeline_model_parallel_size",
    "context_parallel_size",
    "expert_model_parallel_size",
    "expert_tensor_parallel_size",
    "sequence_parallel",
    "global_batch_size",
    "micro_batch_size",
    "seq_length",
}


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _certain_values(fn: ast.FunctionDef) -> dict[str, object]:
    """Final `cfg.a.b = literal` values of a straight-line recipe body."""
    known: dict[str, object] = {}
    var = None
    aliases: set[str] = set()  # locals bound to (parts of) cfg: writes through them count
    for stmt in fn.body:
        if isinstance(stmt, ast.Return):
            break
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and isinstance(stmt.value, ast.Call) and var is None:
                var = target.id  # cfg = base_recipe()
                aliases.add(var)
                continue
            path = ast.unparse(target)
            if var and path.startswith(f"{var}.") and not _mentions(stmt.value, aliases):
                key = path[len(var) + 1 :]
                for old in [k for k in known if k == key or k.startswith(key + ".")]:
                    del known[old]
                if key.count(".") == 1:
                    try:
                        known[key] = ast.literal_eval(stmt.value)
                    except ValueError:
                        pass
                continue
            if var and not _mentions(stmt, aliases):
                continue  # a local helper value; cannot touch cfg
            if var and isinstance(target, ast.Name):
                aliases.add(target.id)
        if var is None:
            continue
        # Anything else that mentions cfg may change any of it.
        if _mentions(stmt, aliases):
            known.clear()
    return known


def _functions(wheel) -> dict[str, ast.FunctionDef]:
    found = {}
    with zipfile.ZipFile(wheel) as zf:
        for path in zf.namelist():
            in_recipes = "/recipes/" in path or "/perf_recipes/" in path
            if not in_recipes or "/utils/" in path or not path.endswith(".py"):
                continue
            kind = "benchmark" if "/perf_recipes/" in path else "library"
            for node in ast.parse(zf.read(path)).body:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    found[(kind, node.name)] = node
    return found


@pytest.mark.parametrize("version", ["0.6.2", "0.5.1"])
def test_index_agrees_with_straight_line_reading(version, wheel_062, wheel_051):
    wheel = {"0.6.2": wheel_062, "0.5.1": wheel_051}[version]
    index = {(r.kind, r.name): r for r in load_index(version).recipes if r.alias_of is None}
    checked, wrong, layout_wrong = 0, [], []
    for key, fn in _functions(wheel).items():
        recipe = index.get(key)
        if recipe is None:
            continue
        for path, value in _certain_values(fn).items():
            section = path.split(".")[0]
            if section not in SECTIONS or path not in SECTION_KEYS.get(section, {path}):
                continue  # outside what the index keeps (logging, checkpoint paths)
            name = field_key(path)
            if isinstance(value, tuple):
                value = list(value)
            checked += 1
            if recipe.fields.get(name, "<absent>") != value:
                wrong.append((recipe.name, name, value, recipe.fields.get(name, "<absent>")))
                if name in LAYOUT:
                    layout_wrong.append(wrong[-1])
    assert checked > 3000
    assert not layout_wrong, layout_wrong[:10]
    print(f"{version}: {checked} values checked, {len(wrong)} differ")
    assert len(wrong) / checked <= 0.02, wrong[:20]
