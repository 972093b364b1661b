"""Python's own semantics over the evaluator's abstract values: truth, comparison,
isinstance, the builtins and str/list/dict methods the evaluator may call for real, and
copying. A value that is (or contains) `Unknown` makes the result unknown.
"""

from __future__ import annotations

import ast
import copy
import operator
from dataclasses import dataclass
from typing import Any

from autorecipe.index.values import (
    ClassRef,
    External,
    Func,
    Method,
    ModuleRef,
    Obj,
    Partial,
    Slot,
    Unknown,
    is_unknown,
    to_json,
)


@dataclass(frozen=True)
class Builtin:
    """A Python builtin named in the source (len, isinstance, ValueError, ...)."""

    name: str


BUILTIN_TYPES = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "tuple": tuple,
    "dict": dict,
    "set": set,
}
EXCEPTIONS = {
    "ValueError",
    "TypeError",
    "KeyError",
    "RuntimeError",
    "NotImplementedError",
    "AssertionError",
    "AttributeError",
    "IndexError",
    "Exception",
    "ImportError",
}
BUILTIN_NAMES = set(BUILTIN_TYPES) | EXCEPTIONS | {
    "len", "min", "max", "sum", "abs", "round", "range", "isinstance", "getattr",
    "hasattr", "setattr", "sorted", "enumerate", "zip", "any", "all", "print", "reversed",
    "None", "True", "False", "divmod", "super", "callable", "repr", "type", "iter", "next",
}  # fmt: skip

BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
}
CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
PURE_METHODS = {
    str: {"lower", "upper", "startswith", "endswith", "replace", "split", "strip", "format",
          "join", "removesuffix", "removeprefix", "rstrip", "lstrip", "title", "count", "find"},
    list: {"copy", "index", "count"},
    tuple: {"index", "count"},
    dict: {"get", "copy", "items", "keys", "values"},
    set: {"copy", "union"},
}  # fmt: skip
MUTATING_METHODS = {
    list: {"append", "extend", "insert", "pop", "remove", "clear", "sort"},
    dict: {"update", "pop", "setdefault", "clear"},
    set: {"add", "update", "discard"},
}


def plain(value: Any) -> bool:
    return to_json(value)[0]


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, Slot) and isinstance(b, Slot):
        return same_value(a.value, b.value)
    if a is b:
        return True
    if plain(a) and plain(b):
        return type(a) is type(b) and a == b
    return False


def truth_of(value: Any) -> bool | Unknown:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Obj) and value.opaque:
        return Unknown(f"truth of the run-time result {value.cls}")
    if isinstance(value, (Obj, Func, ClassRef, ModuleRef, External, Partial, Method, Builtin)):
        return True
    try:
        if isinstance(value, (list, tuple, dict, set)) and any(is_unknown(v) for v in value):
            return bool(value)
        return bool(value)
    except Exception:
        return Unknown("truth value cannot be read statically")


def contains_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple, set)):
        for v in value:
            u = contains_unknown(v)
            if u:
                return u
    if isinstance(value, dict):
        for v in list(value.keys()) + list(value.values()):
            u = contains_unknown(v)
            if u:
                return u
    return None


BUILTIN_FUNCS = {
    "len": len, "min": min, "max": max, "sum": sum, "abs": abs, "round": round,
    "range": range, "sorted": sorted, "enumerate": enumerate, "zip": zip, "any": any,
    "all": all, "reversed": reversed, "divmod": divmod, "repr": repr, "iter": iter,
}  # fmt: skip


def compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    for side in (left, right):
        if isinstance(side, Obj) and side.opaque:
            return Unknown(f"comparison with the run-time result {side.cls}")
    if isinstance(op, (ast.Is, ast.IsNot)):
        if is_unknown(left) or is_unknown(right):
            return left if is_unknown(left) else right
        same = (
            left is right
            if (left is None or right is None or isinstance(left, bool))
            else same_value(left, right)
        )
        return same if isinstance(op, ast.Is) else not same
    u = contains_unknown([left, right])
    if u:
        return Unknown(u.reason)
    if isinstance(op, (ast.Eq, ast.NotEq)) and not (plain(left) and plain(right)):
        same = same_value(left, right)
        if not same and (isinstance(left, Obj) or isinstance(right, Obj)):
            same = False
        return same if isinstance(op, ast.Eq) else not same
    try:
        return CMPOPS[type(op)](left, right)
    except Exception:
        return Unknown("comparison of values that cannot be read statically")


def isinstance_of(value: Any, cls: Any) -> Any:
    if isinstance(cls, tuple):
        outcomes = [isinstance_of(value, c) for c in cls]
        if any(o is True for o in outcomes):
            return True
        return next((o for o in outcomes if is_unknown(o)), False)
    if is_unknown(value):
        return value
    if isinstance(cls, Builtin) and cls.name in BUILTIN_TYPES:
        if isinstance(value, Obj):
            return False
        return isinstance(value, BUILTIN_TYPES[cls.name])
    name = (
        cls.node.name
        if isinstance(cls, ClassRef)
        else getattr(cls, "dotted", "").rsplit(".", 1)[-1]
    )
    if isinstance(value, Obj):
        return True if value.cls == name else Unknown(f"whether a {value.cls} is a {name}")
    if plain(value) and not isinstance(value, External):
        return False
    return Unknown(f"isinstance() on a value that cannot be read statically ({name})")


def render(value: Any) -> str:
    if isinstance(value, Unknown):
        return "<run-time value>"
    ok, j = to_json(value)
    return str(j) if ok else f"<{type(value).__name__}>"


def snapshot(container: Any) -> Any:
    return copy.copy(container)


def restore(container: Any, saved: Any) -> None:
    if isinstance(container, dict):
        container.clear()
        container.update(saved)
    elif isinstance(container, list):
        container[:] = list(saved)
    elif isinstance(container, set):
        container.clear()
        container.update(saved)


def copy_value(value: Any, memo: dict | None = None) -> Any:
    """A deep copy of the mutable parts (objects, lists, dicts); the rest is shared."""
    kind = type(value)
    if kind is not Obj and kind is not list and kind is not dict:
        return value
    memo = {} if memo is None else memo
    done = memo.get(id(value))
    if done is not None:
        return done
    if kind is list:
        new_list: list = []
        memo[id(value)] = new_list
        new_list.extend(copy_value(v, memo) for v in value)
        return new_list
    if kind is dict:
        new_dict: dict = {}
        memo[id(value)] = new_dict
        new_dict.update((k, copy_value(v, memo)) for k, v in value.items())
        return new_dict
    new = Obj(
        value.cls,
        {},
        value.missing,
        value.origin,
        value.hf_model_id,
        value.hf_prov,
        value.classref,
        value.opaque,
    )
    memo[id(value)] = new
    attrs = {}
    for key, slot in value.attrs.items():
        inner = slot.value
        if type(inner) is Obj or type(inner) is list or type(inner) is dict:
            attrs[key] = Slot(copy_value(inner, memo), slot.prov, slot.default)
        else:
            attrs[key] = slot  # slots are replaced, never changed in place: share it
    new.attrs = attrs
    return new
