"""Build a RecipeIndex from a Megatron-Bridge release, statically.

Every exported recipe name of the library (`recipes/`) and benchmark (`perf_recipes/`)
packages becomes an entry; a name bound to a function of another name is an alias
(`alias_of`). Each distinct recipe function is run once by the abstract interpreter and
its returned ConfigContainer flattened into Megatron attribute names.
"""

from __future__ import annotations

import ast
import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autorecipe.index.datasets import dataset_presets, entry_point
from autorecipe.index.devices import Device, device_for
from autorecipe.index.evaluate import Interpreter, RecipeRaised
from autorecipe.index.fields import PATH_TO_PLAIN, PLAIN_FIELDS
from autorecipe.index.lint import docstring_contradictions
from autorecipe.index.model_identity import infer_hf_model_id
from autorecipe.index.names import parse_name, precision_of_preset
from autorecipe.index.schema import Recipe, RecipeIndex
from autorecipe.index.source import PACKAGE, SourceTree, read_source
from autorecipe.index.values import Func, Obj, Slot, Unknown, to_json

KINDS = {"library": f"{PACKAGE}.recipes", "benchmark": f"{PACKAGE}.perf_recipes"}
# ConfigContainer sections whose values the index keeps (paths, logging and checkpoint
# locations say nothing about layout, memory or speed).
SECTIONS = (
    "model", "train", "ddp", "dataset", "optimizer", "scheduler", "mixed_precision",
    "peft", "comm_overlap", "rng", "tokenizer",
)  # fmt: skip
# Of these sections only the keys below are kept: the rest (decay shapes, seeds) says
# nothing about layout, memory or speed and would only grow the bundled index.
SECTION_KEYS = {
    "scheduler": {"scheduler.lr_warmup_iters", "scheduler.lr_decay_iters"},
    "rng": {"rng.te_rng_tracker"},
    "tokenizer": {"tokenizer.tokenizer_model"},
}
# Keys reported as unknown when the recipe leaves them to a default we cannot read.
CORE_KEYS = tuple(list(PLAIN_FIELDS)[:8]) + (
    "global_batch_size",
    "micro_batch_size",
    "recompute_granularity",
    "use_distributed_optimizer",
)
_CORE_KEY_SET = frozenset(CORE_KEYS)
_SCALARS = (bool, int, str)
_MAX_NESTING = 3


@dataclass
class _Binding:
    kind: str
    name: str
    func: Func
    module: str  # where the exported name is bound
    line: int


def _is_recipe(interp: Interpreter, func: Any, name: str) -> bool:
    if not isinstance(func, Func) or isinstance(func.node, ast.Lambda) or name.startswith("_"):
        return False
    parts = func.module.split(".")
    if "utils" in parts or not ({"recipes", "perf_recipes"} & set(parts)):
        return False
    returns = interp.source(func.node.returns) if func.node.returns is not None else ""
    return "ConfigContainer" in returns or "_config" in name


def _binding_line(tree: SourceTree, module: str, name: str) -> int:
    parsed = tree.parse(module)
    for stmt in parsed.body if parsed else []:
        if isinstance(stmt, ast.ImportFrom) and any(
            (a.asname or a.name) == name for a in stmt.names
        ):
            return stmt.lineno
        if isinstance(stmt, ast.Assign) and any(
            getattr(t, "id", None) == name for t in stmt.targets
        ):
            return stmt.lineno
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt.lineno
    return 0


def _collect(interp: Interpreter, kind: str, prefix: str) -> dict[str, _Binding]:
    """Exported recipe names of one kind; a name bound in several modules takes the
    binding of the shallowest module (the package namespace users import from)."""
    tree = interp.tree
    found: dict[str, _Binding] = {}
    modules = [m for m in tree.submodules(prefix) if ".utils" not in m[len(prefix) :]]
    modules.sort(key=lambda m: (m.count("."), m))
    for module in modules:
        if tree.parse(module) is None:
            continue
        ns = interp.namespace(module)
        names = interp.exported_names(module) if tree.is_package(module) else _defined(tree, module)
        for name in names:
            if name in found or name not in ns:
                continue
            value = interp.lookup(module, name)
            if _is_recipe(interp, value, name):
                found[name] = _Binding(kind, name, value, module, 0)
    deepest_first = sorted(modules, key=lambda m: (tree.is_package(m), -m.count("."), m))
    for binding in found.values():
        binding.module, binding.line = _defining_binding(interp, binding, deepest_first)
    return found


def _defined(tree: SourceTree, module: str) -> list[str]:
    """Names a plain module defines (defs, `X = Y`) or re-exports in `__all__`; not the
    names it merely imports for its own use."""
    names = []
    for stmt in tree.parse(module).body:
        if isinstance(stmt, ast.FunctionDef):
            names.append(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.extend(t.id for t in stmt.targets if isinstance(t, ast.Name))
            if any(getattr(t, "id", None) == "__all__" for t in stmt.targets):
                try:
                    names.extend(n for n in ast.literal_eval(stmt.value) if isinstance(n, str))
                except ValueError:
                    pass
    return names


def _defining_binding(
    interp: Interpreter, b: _Binding, deepest_first: list[str]
) -> tuple[str, int]:
    """Where the name is defined or aliased: the def itself, or the deepest non-package
    module that binds this name to the function (a compatibility module, `X = Y`).
    `deepest_first`: the modules, plain modules before packages, deepest first."""
    if b.func.name == b.name:
        return b.func.module, b.func.node.lineno
    tree = interp.tree
    for module in deepest_first:
        ns = interp.namespace(module)
        if b.name in ns and interp.lookup(module, b.name) is b.func:
            return module, _binding_line(tree, module, b.name)
    return b.module, _binding_line(tree, b.module, b.name)


def _flatten(obj: Obj, prefix: str, out: dict, prov: dict, unknown: dict, depth: int) -> None:
    for attr, slot in obj.attrs.items():
        path = f"{prefix}.{attr}"
        key = PATH_TO_PLAIN.get(path, path)  # field_key(), inlined: the hottest loop
        if slot.default and key not in _CORE_KEY_SET:
            continue
        _record(key, path, slot, out, prov, unknown, depth)


def _record(
    key: str, path: str, slot: Slot, out: dict, prov: dict, unknown: dict, depth: int
) -> None:
    value = slot.value
    if _dropped(key):  # not kept, but what is nested under it may have a plain name
        if isinstance(value, Obj) and depth < _MAX_NESTING:
            _flatten(value, path, out, prov, unknown, depth + 1)
        return
    if value is None or type(value) in _SCALARS:  # most values: no need for to_json
        out[key] = value
        prov[key] = slot.prov
        return
    if isinstance(value, Unknown):
        unknown[key] = f"{value.reason} (assigned at {slot.prov})"
        return
    if isinstance(value, Obj):
        if path in ("peft", "comm_overlap", "dataset") or (
            path == "model" and value.hf_model_id is None
        ):
            out[key] = value.cls  # the class says what it is (LoRA, MambaModelProvider)
            prov[key] = slot.prov
        elif value.origin and path == "mixed_precision":
            out[key] = value.origin
            prov[key] = slot.prov
        if depth < _MAX_NESTING:
            _flatten(value, path, out, prov, unknown, depth + 1)
        return
    ok, data = to_json(value)
    if ok:
        out[key] = data
        prov[key] = slot.prov


def _extract(interp: Interpreter, value: Any) -> tuple[dict, dict, dict, Obj | None]:
    fields: dict[str, Any] = {}
    prov: dict[str, str] = {}
    unknown: dict[str, str] = {}
    if isinstance(value, Unknown):
        unknown["*"] = value.reason
        return fields, prov, unknown, None
    if not isinstance(value, Obj):
        unknown["*"] = "the recipe does not return a config object that can be read statically"
        return fields, prov, unknown, None
    for section in SECTIONS:
        slot = value.attrs.get(section) or interp.default_slot(value, section)
        if slot is not None:
            _record(section, section, slot, fields, prov, unknown, 1)
    model = value.attrs.get("model")
    section_missing = {
        s: value.attrs[s].value.missing
        for s in ("model", "train", "ddp")
        if s in value.attrs and isinstance(value.attrs[s].value, Obj)
    }
    for key in CORE_KEYS:
        section, attr = PLAIN_FIELDS[key].split(".")
        holder = value.attrs.get(section)
        if key not in fields and holder and isinstance(holder.value, Obj):
            slot = holder.value.attrs.get(attr) or interp.default_slot(holder.value, attr)
            if slot is not None:
                _record(key, PLAIN_FIELDS[key], slot, fields, prov, unknown, 2)
        if key not in fields and key not in unknown and section_missing.get(section):
            unknown[key] = f"not set by the recipe: {section_missing[section]}"
    return fields, prov, unknown, model.value if model and isinstance(model.value, Obj) else None


_TRIMMED = tuple(f"{section}." for section in SECTION_KEYS)
_KEPT = frozenset().union(*SECTION_KEYS.values())


def _dropped(key: str) -> bool:
    """A key of a section of which only SECTION_KEYS are kept, and not one of those."""
    return key.startswith(_TRIMMED) and key not in _KEPT


def _hf_model_id(
    model: Obj | None, fields: dict, prov: dict, notes: list[str], name: str
) -> tuple[str | None, str | None]:
    # A checkpoint id the recipe sets on the provider names the model it trains, also when the
    # provider was built from another model's config (Nemotron 3.5 Lightning's SFT recipe
    # builds Nano's provider, then sets Lightning's id)
    for key in ("model.hf_model_id", "model.hf_path", "model.pretrained_model_name_or_path"):
        if isinstance(fields.get(key), str):
            return fields[key], prov.get(key)
    if model is not None and model.hf_model_id:
        return model.hf_model_id, model.hf_prov
    inferred = infer_hf_model_id(fields, name)
    if inferred is None:
        return None, None
    hf_id, evidence, how = inferred
    notes.append(how)
    return hf_id, prov.get(evidence)


def _mode(facts_mode: str | None, finetune: bool, fields: dict, unknown: dict) -> str | None:
    if facts_mode:
        return facts_mode
    if finetune or "peft" in fields or "peft" in unknown:
        peft = fields.get("peft", "absent")
        if "peft" in unknown:
            return None
        return "sft" if peft in (None, "absent") else "peft"
    return None


def _code_precision(fields: dict) -> str | None:
    """The precision the code sets: its mixed-precision preset or the flags it sets."""
    if fields.get("mixed_precision.fp4"):
        return "nvfp4"
    if fields.get("mixed_precision.fp8"):
        recipe = fields.get("mixed_precision.fp8_recipe")
        return {"mxfp8": "mxfp8", "blockwise": "fp8-blockwise", "delayed": "fp8-delayed"}.get(
            recipe, "fp8"
        )
    preset = fields.get("mixed_precision")
    found = precision_of_preset(preset if isinstance(preset, str) else None)
    if found is None and fields.get("mixed_precision.bf16") is True:
        return "bf16"
    return found


def _family(module: str, prefix: str) -> str | None:
    rest = module[len(prefix) + 1 :].split(".")
    return rest[0] if rest and rest[0] else None


@contextmanager
def _no_cyclic_gc():
    """The build allocates millions of long-lived AST and value objects and frees almost
    nothing; the cyclic collector would re-scan them all, over and over, for nothing
    (it took half the build time). Reference counting still frees what is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The parsed sources of `exiting` builds: left for the process's exit, never freed.
_LEFT_FOR_EXIT: list[SourceTree] = []


def build_index(source: str | Path, *, exiting: bool = False) -> RecipeIndex:
    """Index every exported recipe of the release at `source` (checkout, wheel, 'installed').

    `exiting`: the calling process ends right after (`autorecipe index build`). The parsed
    source, about a million AST nodes, is then left for the exit instead of freed here
    (~50 ms), and the cyclic collector stays off, as it would only re-scan all of it.
    """
    if exiting:
        gc.disable()
        tree = read_source(source)
        _LEFT_FOR_EXIT.append(tree)
        return _build(tree)
    with _no_cyclic_gc():
        return _build(read_source(source))


def _build(tree: SourceTree) -> RecipeIndex:
    interp = Interpreter(tree)
    evaluated: dict[tuple[int, Device | None], tuple[Any, str | None]] = {}
    recipes: list[Recipe] = []
    for kind, prefix in KINDS.items():
        if not tree.has_module(prefix):
            continue
        bindings = _collect(interp, kind, prefix)
        for name in sorted(bindings):
            b = bindings[name]
            device = device_for(parse_name(b.name).gpu_type or parse_name(b.func.name).gpu_type)
            key = (id(b.func.node), device)
            if key not in evaluated:
                try:
                    evaluated[key] = (interp.run(b.func, device), None)
                except RecipeRaised as exc:
                    evaluated[key] = (None, f"{exc.message} ({exc.where})")
                except Exception as exc:  # a construct the interpreter mishandles
                    # One recipe the scanner cannot follow must not cost the other thousand;
                    # it is reported as wholly unknown, with the cause.
                    reason = (
                        f"the scanner could not follow this recipe ({type(exc).__name__}: {exc})"
                    )
                    evaluated[key] = (Unknown(reason), None)
            recipes.append(_entry(interp, b, prefix, evaluated[key]))
    datasets = dataset_presets(interp)
    return RecipeIndex(
        bridge_version=tree.version,
        recipes=recipes,
        datasets=datasets,
        entry_point=entry_point(interp, datasets),
        skipped_files=dict(sorted(tree.syntax_errors.items())),
    )


def _entry(interp: Interpreter, b: _Binding, prefix: str, result: tuple) -> Recipe:
    value, raises = result
    fields, prov, unknown, model = ({}, {}, {}, None) if raises else _extract(interp, value)
    facts = parse_name(b.name)
    target_facts = facts if b.func.name == b.name else parse_name(b.func.name)
    notes: list[str] = []
    hf_id, hf_prov = _hf_model_id(model, fields, prov, notes, b.func.name)
    if hf_id and hf_prov:
        prov["hf_model_id"] = hf_prov
    is_alias = b.func.name != b.name
    docstring = ast.get_docstring(b.func.node)
    recipe = Recipe(
        name=b.name,
        kind=b.kind,
        alias_of=b.func.name if is_alias else None,
        module=b.module,
        file=interp.rel_file(b.module),
        line=b.line,
        family=_family(b.func.module, prefix) or _family(b.module, prefix),
        model_size=facts.model_size or target_facts.model_size,
        mode=_mode(facts.mode or target_facts.mode, facts.finetune, fields, unknown),
        hf_model_id=hf_id,
        num_gpus=facts.num_gpus or target_facts.num_gpus,
        gpu_type=facts.gpu_type or target_facts.gpu_type,
        precision=_code_precision(fields) or facts.precision or target_facts.precision,
        peft_scheme=_peft_scheme(fields),
        docstring=docstring.strip().splitlines()[0] if docstring else None,
        raises=raises,
        fields=fields,
        provenance=prov,
        unknown=unknown,
        notes=notes,
    )
    if is_alias:
        recipe.defined_at = f"{interp.rel_file(b.func.module)}:{b.func.node.lineno}"
        if facts.gpu_type and target_facts.gpu_type and facts.gpu_type != target_facts.gpu_type:
            recipe.notes.append(
                f"name says {facts.gpu_type} but it is {b.func.name}, tuned for {target_facts.gpu_type}"
            )
    recipe.contradictions = docstring_contradictions(docstring or "", recipe)
    named = facts.precision or target_facts.precision
    if named and recipe.precision and named != recipe.precision:
        where = prov.get("mixed_precision", "")
        recipe.contradictions.append(
            f"name says {named}, code sets mixed_precision={fields.get('mixed_precision')!r} "
            f"({recipe.precision}) ({where})"
        )
    return recipe


def _peft_scheme(fields: dict) -> str | None:
    """The scheme name run_recipe.py takes ("lora", "dora") for the PEFT class the recipe
    builds; `fields["peft"]` keeps the exact class (e.g. VLMLoRA)."""
    peft = fields.get("peft")
    if not isinstance(peft, str):
        return None
    name = peft.lower()
    return next((scheme for scheme in ("dora", "lora") if scheme in name), name)
