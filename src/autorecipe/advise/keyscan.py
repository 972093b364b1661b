"""Static scan of the ConfigContainer's override keys and their types (build time only).

What a run_recipe.py override may name is the ConfigContainer tree of the Megatron-Bridge
release: its sections (``model``, ``train``, ``dataset`` …) and the dataclass attributes
of each section's classes, including those inherited from Megatron-Core and
megatron.training (shipped in the megatron-core wheel, not in Bridge's). We read both
wheels' sources with ``ast`` — nothing is imported — and write the bundled
``advise/data/config-keys.json`` that overrides.py validates against.

Regenerate (the megatron-core wheel is the one released with the Bridge wheel):

    pip download --no-deps --only-binary=:all: --python-version 3.12 \\
        megatron-bridge==0.6.2 megatron-core==0.19.2 -d /tmp/w
    python -m autorecipe.advise.keyscan /tmp/w/megatron_bridge-0.6.2-*.whl \\
        /tmp/w/megatron_core-0.19.2-*.whl src/autorecipe/advise/data/config-keys.json
"""

from __future__ import annotations

import ast
import json
import sys
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
_LISTS = {"list", "List", "tuple", "Tuple", "Sequence", "set", "Set"}
_DICTS = {"dict", "Dict", "Mapping"}

# Sections whose declared class is an abstract base: every concrete class under these
# package prefixes can stand there, so their attributes are all valid keys.
_FAMILIES = {
    "model": ("megatron/bridge/models/", ("Provider", "Config")),
    "dataset": ("megatron/bridge/data/", ("Config",)),
    "peft": ("megatron/bridge/peft/", ("",)),
}


class _Class:
    def __init__(self, node: ast.ClassDef, path: str) -> None:
        self.path = path
        self.bases = [_last_name(b) for b in node.bases]
        self.fields: dict[str, ast.expr] = {
            st.target.id: st.annotation
            for st in node.body
            if isinstance(st, ast.AnnAssign)
            and isinstance(st.target, ast.Name)
            and not st.target.id.startswith("_")
            and "ClassVar" not in ast.unparse(st.annotation)
        }


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _read_classes(wheels: list[Path]) -> dict[str, list[_Class]]:
    classes: dict[str, list[_Class]] = defaultdict(list)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if not (name.startswith("megatron/") and name.endswith(".py")):
                    continue
                try:
                    with warnings.catch_warnings():
                        # their sources' odd string escapes are not our concern
                        warnings.simplefilter("ignore")
                        tree = ast.parse(zf.read(name))
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.ClassDef):
                        classes[node.name].append(_Class(node, name))
    return classes


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_members(node.left) + _union_members(node.right)
    if isinstance(node, ast.Subscript) and _last_name(node.value) in ("Union", "Optional"):
        inner = node.slice
        members = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        out = [m for member in members for m in _union_members(member)]
        return out + ([ast.Constant(None)] if _last_name(node.value) == "Optional" else [])
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:  # a string annotation ("Foo | None")
            return _union_members(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return [node]
    return [node]


def _type_spec(annotation: ast.expr) -> dict[str, Any]:
    """{"types": [...], "nullable": bool, "choices": [...]?} from an annotation."""
    types: set[str] = set()
    nullable = False
    choices: list[Any] = []
    for member in _union_members(annotation):
        if isinstance(member, ast.Constant) and member.value is None:
            nullable = True
            continue
        name = _last_name(member)
        if name == "None":
            nullable = True
        elif name in _SCALARS:
            types.add(_SCALARS[name])
        elif name in _LISTS:
            types.add("list")
        elif name in _DICTS:
            types.add("dict")
        elif name == "Literal" and isinstance(member, ast.Subscript):
            elts = member.slice.elts if isinstance(member.slice, ast.Tuple) else [member.slice]
            values = [e.value for e in elts if isinstance(e, ast.Constant)]
            nullable |= None in values
            values = [v for v in values if v is not None]
            choices.extend(values)
            types.update(type(v).__name__ for v in values)
        else:
            types.add("any")
    spec: dict[str, Any] = {"types": sorted(types) or ["any"], "nullable": nullable}
    if choices and types <= {"str", "int", "bool"}:
        spec["choices"] = choices
    return spec


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One spec accepting what either accepts (subclasses re-declare with other types)."""
    merged: dict[str, Any] = {
        "types": sorted(set(a["types"]) | set(b["types"])),
        "nullable": a["nullable"] or b["nullable"],
    }
    if "choices" in a and "choices" in b:
        merged["choices"] = list(dict.fromkeys(a["choices"] + b["choices"]))
    return merged


def _attributes(classes: dict[str, list[_Class]], roots: list[str]) -> dict[str, dict[str, Any]]:
    """Type specs of the attributes of the named classes and all their bases."""
    out: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for cls in classes.get(name, []):
            for attr, ann in cls.fields.items():
                spec = _type_spec(ann)
                out[attr] = _merge(out[attr], spec) if attr in out else spec
            todo.extend(cls.bases)
    return out


def scan(bridge_wheel: Path, core_wheel: Path) -> dict[str, Any]:
    """The override-key schema of one Bridge release: {section: {attr: type spec}}."""
    classes = _read_classes([bridge_wheel, core_wheel])
    container = next(c for c in classes["ConfigContainer"] if c.path.startswith("megatron/bridge"))
    sections: dict[str, dict[str, Any]] = {}
    for section, annotation in container.fields.items():
        roots = [_last_name(m) for m in _union_members(annotation)]
        if section in _FAMILIES:
            prefix, suffixes = _FAMILIES[section]
            roots += sorted(
                name
                for name, defs in classes.items()
                if any(d.path.startswith(prefix) for d in defs) and name.endswith(suffixes)
            )
        attrs = _attributes(classes, [r for r in roots if r])
        whole = _type_spec(annotation)
        # a section that may also be set whole (mixed_precision="bf16_mixed", peft=null)
        if not attrs or set(whole["types"]) - {"any"} or whole["nullable"]:
            attrs[""] = whole
        sections[section] = dict(sorted(attrs.items()))
    return {
        "_meta": {
            "generated_by": "autorecipe.advise.keyscan",
            "bridge_wheel": bridge_wheel.name,
            "core_wheel": core_wheel.name,
            "note": "ConfigContainer sections -> dataclass attributes (own and inherited) with "
            "coarse types, read with ast; a section mapped to {'': spec} is a plain value.",
        },
        "sections": sections,
    }


def main(argv: list[str]) -> None:
    bridge, core, out = (Path(a) for a in argv)
    Path(out).write_text(json.dumps(scan(bridge, core), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
