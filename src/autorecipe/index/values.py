"""The abstract values the recipe evaluator computes with.

Plain Python values (int, str, list, dict, ...) stand for themselves. The classes below
stand for what static reading can only describe: an object with attributes, a function
or class of the scanned package, a name from outside it, and a value it cannot know.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unknown:
    """A value that depends on run-time state; `reason` says on what."""

    reason: str


@dataclass(frozen=True, eq=False)
class UnknownMember(Unknown):
    """`obj.name` where obj does not say: unknown as a value, a method call if called."""

    obj: Any = None
    name: str = ""


@dataclass(frozen=True)
class External:
    """A name from outside the scanned package (torch.float32, megatron.core.X, os.getcwd)."""

    dotted: str


@dataclass(slots=True)
class Slot:
    value: Any
    prov: str  # "file:line" of the assignment that gave the value
    default: bool = False  # a class's declared default, not something the recipe code set


@dataclass(eq=False)
class Obj:
    """An object built by a constructor call; attributes in assignment order.

    `missing` is why an attribute nobody set is unknown (its default lives in code we
    do not read, e.g. Megatron-Core or a Hugging Face provider); None means an unset
    attribute simply does not exist (AttributeError at run time).
    """

    cls: str
    attrs: dict[str, Slot] = field(default_factory=dict)
    missing: str | None = None
    origin: str | None = None  # the factory function that built it, e.g. "bf16_mixed"
    hf_model_id: str | None = None
    hf_prov: str | None = None
    classref: Any = None  # the package ClassRef it was built from, for method calls
    # What a method we cannot read returned: attributes set on it are tracked, but what
    # it is (None? a number? true?) is not known.
    opaque: bool = False


@dataclass(frozen=True)
class ModuleRef:
    module: str


@dataclass(eq=False)
class Func:
    """A function defined in the scanned package, with the scope it closes over."""

    module: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    closure: dict[str, Any] | None = None
    bound_self: Any = None

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")


@dataclass(eq=False)
class ClassRef:
    """A class defined in the scanned package."""

    module: str
    node: ast.ClassDef


@dataclass(eq=False)
class Partial:
    func: Any
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False)
class Method:
    """`obj.name` looked up for a call."""

    obj: Any
    name: str


@dataclass(frozen=True)
class ExcValue:
    """An exception instance (what `raise` records)."""

    cls: str
    message: str


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def to_json(value: Any) -> tuple[bool, Any]:
    """(True, JSON value) for a plain value, (False, None) for anything else."""
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, float):
        return (value == value and value not in (float("inf"), float("-inf"))), value
    if isinstance(value, External):
        return True, value.dotted
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            ok, j = to_json(v)
            if not ok:
                return False, None
            out.append(j)
        return True, out
    if isinstance(value, dict):
        outd = {}
        for k, v in value.items():
            ok, j = to_json(v)
            if not ok or not isinstance(k, (str, int)):
                return False, None
            outd[str(k)] = j
        return True, outd
    return False, None
