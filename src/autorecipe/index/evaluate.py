"""A small abstract interpreter that runs recipe functions over their AST, never their code.

It follows what a recipe function really does — calls to base recipes and helpers,
module constants, default arguments, constructor keyword arguments, imports across
modules — and computes the final attribute values of the objects it builds. Where a
value depends on run-time state (an argument nobody passes, a condition on a value we
cannot know, a default that lives in Megatron-Core or a Hugging Face config) it yields
`Unknown(reason)` instead of a guess. An `if` on an unknown condition runs both branches
and keeps only what they agree on.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any

from autorecipe.index.devices import Device
from autorecipe.index.hf_facts import catalog_fact
from autorecipe.index.semantics import (
    BINOPS,
    BUILTIN_FUNCS,
    BUILTIN_NAMES,
    BUILTIN_TYPES,
    EXCEPTIONS,
    MUTATING_METHODS,
    PURE_METHODS,
    Builtin,
    compare,
    contains_unknown,
    copy_value,
    isinstance_of,
    plain,
    render,
    restore,
    same_value,
    snapshot,
    truth_of,
)
from autorecipe.index.source import PACKAGE, SourceTree
from autorecipe.index.values import (
    ClassRef,
    ExcValue,
    External,
    Func,
    Method,
    ModuleRef,
    Obj,
    Partial,
    Slot,
    Unknown,
    UnknownMember,
    is_unknown,
)

MAX_DEPTH = 40
MAX_STEPS = 200_000


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Raise(Exception):
    def __init__(self, message: str, where: str):
        self.message = message
        self.where = where


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _OutOfBudget(Exception):
    pass


@dataclass(frozen=True)
class _Lazy:
    """`from module import name`, resolved when first read."""

    module: str
    name: str


@dataclass(eq=False)
class _Thunk:
    """A module-level `NAME = expr`, evaluated when NAME is first read: most constants of
    a module are never needed, and evaluating them would parse what they import."""

    stmt: ast.Assign | ast.AnnAssign
    module: str
    done: bool = False
    value: Any = None


def _lazy_assignment(stmt: ast.stmt) -> list[str]:
    """Target names of a top-level assignment that may be evaluated lazily, else []."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return []
    if not all(isinstance(t, ast.Name) for t in targets):
        return []
    names = [t.id for t in targets]
    # `X = X + 1` needs the earlier X: evaluate it in order.
    if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(stmt.value)):
        return []
    return names


_HF_FACTORIES = {"from_hf_pretrained", "from_pretrained", "from_hf_config"}


class _Frame:
    def __init__(self, module: str, file: str, scopes: list[dict[str, Any]], globals_: dict):
        self.module = module
        self.file = file
        self.scopes = scopes  # innermost first, not including globals
        self.globals = globals_

    @property
    def locals(self) -> dict[str, Any]:
        return self.scopes[0] if self.scopes else self.globals

    def where(self, node: ast.AST) -> str:
        return f"{self.file}:{getattr(node, 'lineno', 0)}"


class Interpreter:
    """Evaluates functions of one `SourceTree`; module namespaces are cached across calls."""

    def __init__(self, tree: SourceTree):
        self.tree = tree
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._loading: set[str] = set()
        self._journals: list[dict[int, tuple[Any, Any]]] = []
        self._depth = 0
        self._steps = 0
        # Results of argument-free calls (base recipes, _pretrain_common(), bf16_mixed()):
        # a recipe function's result depends only on its arguments, so from its second
        # call on, each caller gets a copy of one pristine result instead of a rerun.
        self._results: dict[tuple[int, Device | None], Any] = {}
        # The GPU the recipe being run is named for: what torch.cuda reports at run time.
        self._device: Device | None = None
        self._class_cache: dict[int, tuple[dict[str, Any], str | None]] = {}
        self._sources: dict[int, str] = {}

    def source(self, node: ast.AST) -> str:
        """`ast.unparse(node)`, once per node: the same conditions and annotations are
        quoted again each time a base recipe or helper runs. (Keyed by id: the trees
        live as long as the interpreter.)"""
        text = self._sources.get(id(node))
        if text is None:
            text = self._sources[id(node)] = ast.unparse(node)
        return text

    # --- files and modules -------------------------------------------------------------

    def rel_file(self, module: str) -> str:
        path = self.tree.files.get(module, module.replace(".", "/") + ".py")
        return path[len("megatron/bridge/") :] if path.startswith("megatron/bridge/") else path

    def namespace(self, module: str) -> dict[str, Any]:
        """The module's globals after running its top level (imports, defs, constants)."""
        if module in self._namespaces:
            return self._namespaces[module]
        ns: dict[str, Any] = {"__name__": module}
        self._namespaces[module] = ns
        tree = self.tree.parse(module)
        if tree is None:
            return ns
        self._loading.add(module)
        frame = _Frame(module, self.rel_file(module), [], ns)
        saved = (self._depth, self._steps)
        self._steps = 0
        try:
            for stmt in tree.body:
                lazy = _lazy_assignment(stmt)
                if lazy:
                    thunk = _Thunk(stmt, module)
                    ns.update(dict.fromkeys(lazy, thunk))
                    continue
                try:
                    self._exec(stmt, frame)
                except (_Raise, _Return, _Break, _Continue, _OutOfBudget, RecursionError):
                    continue
        finally:
            self._loading.discard(module)
            self._depth, self._steps = saved
        return ns

    def _absolute(self, module: str, level: int, name: str | None) -> str:
        if level == 0:
            return name or ""
        parts = module.split(".")
        base = parts if self.tree.is_package(module) else parts[:-1]
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join(base + ([name] if name else []))

    def _in_tree(self, dotted: str) -> bool:
        return dotted == PACKAGE or dotted.startswith(PACKAGE + ".")

    def module_attr(self, module: str, name: str) -> Any:
        sub = f"{module}.{name}"
        if not self._in_tree(module):
            return ModuleRef(sub) if self._in_tree(sub) else External(sub)
        if self.tree.has_module(module):
            ns = self.namespace(module)
            if name in ns:
                return self._resolve(ns, name)
        if self.tree.has_module(sub) or any(m.startswith(sub + ".") for m in self.tree.files):
            return ModuleRef(sub)
        return Unknown(f"{sub} is not defined in the scanned source")

    def _resolve(self, ns: dict[str, Any], name: str) -> Any:
        value = ns[name]
        if isinstance(value, _Lazy):
            if value.module in self._loading and value.name not in self._namespaces.get(
                value.module, {}
            ):
                return Unknown(f"circular import of {value.module}.{value.name}")
            value = self.module_attr(value.module, value.name)
            ns[name] = value
        elif isinstance(value, _Thunk):
            value = self._force(value)
            ns[name] = value
        return value

    def _force(self, thunk: _Thunk) -> Any:
        if not thunk.done:
            thunk.done = True
            thunk.value = Unknown("defined in terms of itself")
            frame = _Frame(
                thunk.module, self.rel_file(thunk.module), [], self.namespace(thunk.module)
            )
            saved = (self._depth, self._steps)
            self._steps = 0
            try:
                thunk.value = self._eval(thunk.stmt.value, frame)
            except (_Raise, _Return, _Break, _Continue, _OutOfBudget, RecursionError):
                thunk.value = Unknown(f"{frame.where(thunk.stmt)} cannot be evaluated statically")
            finally:
                self._depth, self._steps = saved
        return thunk.value

    def exported_names(self, module: str) -> list[str]:
        ns = self.namespace(module)
        names = self._resolve(ns, "__all__") if "__all__" in ns else None
        if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
            return list(names)
        return [n for n in ns if not n.startswith("_")]

    def lookup(self, module: str, name: str) -> Any:
        ns = self.namespace(module)
        return self._resolve(ns, name) if name in ns else None

    # --- calling ---------------------------------------------------------------------

    def run(self, func: Func, device: Device | None = None) -> Any:
        """Call `func` with no arguments, on `device` when the recipe names its GPU; returns
        its value, or raises `RecipeRaised`."""
        self._steps = 0
        self._depth = 0
        self._device = device
        try:
            return self.call(func, [], {})
        except _Raise as exc:
            raise RecipeRaised(exc.message, exc.where) from None
        except (_OutOfBudget, RecursionError):
            return Unknown("the recipe is too complex to follow statically")

    def call(self, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if isinstance(fn, Partial):
            return self.call(fn.func, fn.args + args, {**fn.kwargs, **kwargs})
        if isinstance(fn, Func):
            return self._call_func(fn, args, kwargs)
        if isinstance(fn, ClassRef):
            return self.construct(fn, args, kwargs)
        if isinstance(fn, Method):
            return self._call_method(fn.obj, fn.name, args, kwargs)
        if isinstance(fn, Builtin):
            return self._call_builtin(fn.name, args, kwargs)
        if isinstance(fn, External):
            return self._call_external(fn, args, kwargs)
        if isinstance(fn, UnknownMember):
            return self._call_method(fn.obj, fn.name, args, kwargs)
        if isinstance(fn, Unknown):
            return Unknown(f"calls a value that is unknown ({fn.reason})")
        return Unknown("calls something that cannot be followed statically")

    def _call_func(self, fn: Func, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if self._depth >= MAX_DEPTH:
            raise _OutOfBudget()
        cacheable = not args and not kwargs and fn.closure is None and fn.bound_self is None
        if not cacheable:
            return self._run_func(fn, args, kwargs)
        key = (id(fn.node), self._device)
        cached = self._results.get(key, _MISSING)
        if isinstance(cached, _Raise):
            raise _Raise(cached.message, cached.where)
        if cached is _FIRST_CALL_DONE:
            # Called a second time: from now on, keep a pristine copy to hand out.
            # (Most functions run once; copying every first result would cost more.)
            try:
                result = self._run_func(fn, args, kwargs)
            except _Raise as exc:
                self._results[key] = _Raise(exc.message, exc.where)
                raise
            self._results[key] = copy_value(result)
            return result
        if cached is not _MISSING:
            return copy_value(cached)
        try:
            result = self._run_func(fn, args, kwargs)
        except _Raise as exc:
            # A fresh one: the raised one carries a traceback whose frames would stay
            # alive (in a reference cycle) as long as the cache does.
            self._results[key] = _Raise(exc.message, exc.where)
            raise
        self._results[key] = _FIRST_CALL_DONE
        return result

    def _run_func(self, fn: Func, args: list[Any], kwargs: dict[str, Any]) -> Any:
        globals_ = self.namespace(fn.module)
        frame = _Frame(fn.module, self.rel_file(fn.module), [{}] + (fn.closure or []), globals_)
        if fn.bound_self is not None:
            args = [fn.bound_self] + list(args)
        self._bind(fn, frame, list(args), dict(kwargs))
        self._depth += 1
        try:
            if isinstance(fn.node, ast.Lambda):
                return self._eval(fn.node.body, frame)
            self._exec_block(fn.node.body, frame, tail=())
            return None
        except _Return as ret:
            # The factory that built an object (e.g. "bf16_with_fp8_current_scaling_mixed")
            # is the last public one to return it; private helpers and generic getters
            # (_perf_precision, get_mixed_precision_config) keep the name they got.
            if isinstance(ret.value, Obj) and not fn.name.startswith(("_", "get_")):
                ret.value.origin = fn.name
            return ret.value
        finally:
            self._depth -= 1

    def _bind(self, fn: Func, frame: _Frame, args: list[Any], kwargs: dict[str, Any]) -> None:
        spec = fn.node.args
        params = list(spec.posonlyargs) + list(spec.args)
        defaults = [None] * (len(params) - len(spec.defaults)) + list(spec.defaults)
        local = frame.locals
        def_frame = _Frame(fn.module, frame.file, fn.closure or [], frame.globals)
        for i, (param, default) in enumerate(zip(params, defaults, strict=False)):
            if i < len(args):
                local[param.arg] = args[i]
            elif param.arg in kwargs:
                local[param.arg] = kwargs.pop(param.arg)
            elif default is not None:
                local[param.arg] = self._eval(default, def_frame)
            else:
                local[param.arg] = Unknown(
                    f"argument '{param.arg}' of {fn.name}() has no default; its value is the caller's"
                )
        if spec.vararg:
            local[spec.vararg.arg] = tuple(args[len(params) :])
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=False):
            if param.arg in kwargs:
                local[param.arg] = kwargs.pop(param.arg)
            elif default is not None:
                local[param.arg] = self._eval(default, def_frame)
            else:
                local[param.arg] = Unknown(
                    f"argument '{param.arg}' of {fn.name}() has no default; its value is the caller's"
                )
        if spec.kwarg:
            local[spec.kwarg.arg] = kwargs

    def construct(self, cls: ClassRef, args: list[Any], kwargs: dict[str, Any]) -> Obj:
        """An instance; declared defaults are filled in when first read (`default_slot`),
        so copying an object costs only what the code set on it."""
        fields, missing = self._class_fields(cls)
        obj = Obj(cls=cls.node.name, missing=missing, classref=cls)
        names = list(fields)
        for i, value in enumerate(args):
            if i < len(names):
                obj.attrs[names[i]] = Slot(value, self._call_site)
        for key, value in kwargs.items():
            obj.attrs[key] = Slot(value, self._kw_sites.get(key, self._call_site))
        return obj

    def default_slot(self, obj: Obj, name: str) -> Slot | None:
        """The class default of `obj.name`, now stored on obj; None when it declares none."""
        if obj.classref is None:
            return None
        declared = self._class_fields(obj.classref)[0].get(name)
        if declared is None:
            return None
        value = declared.value
        value = self.construct(value, [], {}) if isinstance(value, ClassRef) else copy_value(value)
        slot = Slot(value, declared.prov, True)
        obj.attrs[name] = slot
        return slot

    def _class_fields(self, cls: ClassRef) -> tuple[dict[str, Slot], str | None]:
        """Declared defaults of a package class (bases first) and why others are unknown."""
        key = id(cls.node)
        if key not in self._class_cache:
            self._class_cache[key] = self._read_class_fields(cls)
        return self._class_cache[key]

    def _read_class_fields(self, cls: ClassRef) -> tuple[dict[str, Slot], str | None]:
        frame = _Frame(cls.module, self.rel_file(cls.module), [], self.namespace(cls.module))
        fields: dict[str, Slot] = {}
        missing = None
        for base in cls.node.bases:
            ref = self._eval(base.value if isinstance(base, ast.Subscript) else base, frame)
            if isinstance(ref, ClassRef) and ref.node is not cls.node:
                base_fields, base_missing = self._class_fields(ref)
                fields.update(base_fields)
                missing = missing or base_missing
            elif isinstance(ref, External) and ref.dotted.split(".")[-1] not in {"ABC", "Generic"}:
                missing = f"default from {ref.dotted} (outside Megatron-Bridge; depends on the installed version)"
            elif isinstance(ref, Unknown):
                missing = (
                    f"default from a base class of {cls.node.name} that cannot be read statically"
                )
        for stmt in cls.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                where = frame.where(stmt)
                if stmt.value is None:
                    reason = Unknown(f"{cls.node.name}.{stmt.target.id} has no default")
                    fields.setdefault(stmt.target.id, Slot(reason, where, True))
                    continue
                fields[stmt.target.id] = Slot(self._field_default(stmt.value, frame), where, True)
        return fields, missing

    def _field_default(self, node: ast.expr, frame: _Frame) -> Any:
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "field"
        ):
            for kw in node.keywords:
                if kw.arg == "default":
                    return self._eval(kw.value, frame)
                if kw.arg == "default_factory":
                    factory = self._eval(kw.value, frame)
                    if isinstance(factory, Builtin) and factory.name in BUILTIN_TYPES:
                        return BUILTIN_TYPES[factory.name]()
                    if isinstance(factory, ClassRef):
                        return factory
                    if isinstance(factory, Func):
                        return self.call(factory, [], {})
                    return Unknown("default built at run time by a factory")
            return Unknown("no default")
        return self._eval(node, frame)

    def _call_external(self, fn: External, args: list[Any], kwargs: dict[str, Any]) -> Any:
        name = fn.dotted
        last = name.rsplit(".", 1)[-1]
        if name == "typing.cast" and len(args) == 2:
            return args[1]
        if last in _HF_FACTORIES:
            return self._hf_handle(last, args)
        if name in ("copy.deepcopy", "copy.copy") and args:
            return copy_value(args[0])
        if name.startswith("torch.cuda.") and self._device is not None:
            answer = self._device_answer(last)
            if answer is not _MISSING:
                return answer
        if name == "functools.partial" and args:
            return Partial(args[0], list(args[1:]), dict(kwargs))
        if name == "dataclasses.replace" and args and isinstance(args[0], Obj):
            new = copy_value(args[0])
            for key, value in kwargs.items():
                new.attrs[key] = Slot(value, self._kw_sites.get(key, self._call_site))
            return new
        if last[:1].isupper() and not last.isupper():
            obj = Obj(
                cls=last,
                missing=f"default from {name} (outside Megatron-Bridge; depends on the installed version)",
            )
            for key, value in kwargs.items():
                obj.attrs[key] = Slot(value, self._kw_sites.get(key, self._call_site))
            return obj
        return Unknown(f"result of {name}() (outside Megatron-Bridge, computed at run time)")

    def _device_answer(self, query: str) -> Any:
        """What torch.cuda.<query>() returns on the recipe's GPU (_MISSING: not modelled)."""
        device = self._device
        assert device is not None
        if query == "is_available":
            return True
        if query == "get_device_capability":
            return (device.major, device.minor)
        if query == "get_device_name":
            return device.name
        if query == "get_device_properties":
            site = self._call_site
            props = Obj(cls="torch.cuda.DeviceProperties")
            for attr in ("major", "minor", "name"):
                props.attrs[attr] = Slot(getattr(device, attr), site)
            return props
        return _MISSING

    def _call_method(self, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if isinstance(obj, ClassRef) and name in _HF_FACTORIES:
            return self._hf_handle(obj.node.name, args)
        if isinstance(obj, Obj) and obj.hf_model_id is not None and obj.missing is None:
            reason = f"default from the Hugging Face config of {obj.hf_model_id} (not in the recipe source)"
            return Obj(cls=f"{obj.cls}.{name}()", hf_model_id=obj.hf_model_id,
                       hf_prov=obj.hf_prov, missing=reason)  # fmt: skip
        if isinstance(obj, Obj):
            # A method we cannot read (its class lives outside the package, or builds
            # from a Hugging Face config): its result is an object we can only annotate.
            return Obj(
                cls=f"{obj.cls}.{name}()",
                missing=f"set at run time by {obj.cls}.{name}()"
                + (
                    f" from the Hugging Face config of {obj.hf_model_id}" if obj.hf_model_id else ""
                ),
                hf_model_id=obj.hf_model_id,
                hf_prov=obj.hf_prov,
                opaque=True,
            )
        for typ, methods in PURE_METHODS.items():
            if isinstance(obj, typ) and name in methods:
                u = contains_unknown([obj, *args, *kwargs.values()])
                if u:
                    return Unknown(u.reason)
                try:
                    return getattr(obj, name)(*args, **kwargs)
                except Exception as exc:
                    return Unknown(f"{type(obj).__name__}.{name}() fails statically: {exc}")
        for typ, methods in MUTATING_METHODS.items():
            if isinstance(obj, typ) and name in methods:
                self._touch(obj)
                try:
                    return getattr(obj, name)(*args, **kwargs)
                except Exception as exc:
                    return Unknown(f"{type(obj).__name__}.{name}() fails statically: {exc}")
        return Unknown(f"result of .{name}() cannot be read statically")

    def _hf_handle(self, cls: str, args: list[Any]) -> Obj:
        """A handle on a Hugging Face model; its methods build model providers."""
        arg = args[0] if args else None
        if isinstance(arg, Method):
            arg = arg.obj
        hf_id = arg if isinstance(arg, str) else getattr(arg, "hf_model_id", None)
        return Obj(cls=cls, hf_model_id=hf_id or "", hf_prov=self._call_site)

    def _call_builtin(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name in EXCEPTIONS:
            message = args[0] if args else ""
            return ExcValue(name, message if isinstance(message, str) else render(message))
        if name == "print":
            return None
        if name in ("getattr", "hasattr"):
            return self._getattr_builtin(name, args)
        if (
            name == "setattr"
            and len(args) == 3
            and isinstance(args[0], Obj)
            and isinstance(args[1], str)
        ):
            self._set_attr(args[0], args[1], args[2], self._call_site)
            return None
        if name == "isinstance" and len(args) == 2:
            return isinstance_of(args[0], args[1])
        if name == "super":
            return Unknown("super() is not followed")
        u = contains_unknown(list(args) + list(kwargs.values()))
        if u:
            return Unknown(u.reason)
        if any(not plain(a) and not isinstance(a, (list, tuple, dict)) for a in args):
            if name == "len" and args and isinstance(args[0], (list, tuple, dict, str)):
                return len(args[0])
            if name == "callable":
                return isinstance(args[0], (Func, ClassRef, Partial, External, Builtin))
            return Unknown(f"{name}() of a value that cannot be read statically")
        fn = BUILTIN_TYPES.get(name) or BUILTIN_FUNCS.get(name)
        if fn is None:
            return Unknown(f"{name}() is not followed")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            return Unknown(f"{name}() fails statically: {exc}")
        if name in ("enumerate", "zip", "reversed", "iter"):
            return list(result)
        return result

    def _getattr_builtin(self, name: str, args: list[Any]) -> Any:
        if len(args) < 2 or not isinstance(args[1], str):
            return Unknown(f"{name}() with a name that is not a constant")
        target, attr = args[0], args[1]
        if isinstance(target, Obj):
            slot = target.attrs.get(attr) or self.default_slot(target, attr)
            if slot is not None:
                return True if name == "hasattr" else slot.value
            fact = _catalog_fact(target, attr)
            if fact is not None:
                return True if name == "hasattr" else fact
            if target.missing and name == "hasattr":
                owner = (
                    "the installed Megatron-Core (the model provider's TransformerConfig)"
                    if target.hf_model_id is not None
                    else f"code outside the recipe ({target.missing})"
                )
                return Unknown(f"whether {target.cls} has '{attr}' depends on {owner}")
            if target.missing:
                return Unknown(f"{target.cls}.{attr}: {target.missing}")
            if name == "hasattr":
                return False
            return args[2] if len(args) > 2 else Unknown(f"{target.cls} has no attribute {attr}")
        if isinstance(target, Unknown):
            return target
        value = self._get_attr(target, attr)
        if name == "hasattr":
            return Unknown("hasattr() on this value") if is_unknown(value) else True
        if is_unknown(value) and len(args) > 2:
            return args[2]
        return value

    # --- journaled writes (so an unknown `if` can run both branches) -------------------

    def _touch(self, container: Any) -> None:
        if self._journals and id(container) not in self._journals[-1]:
            self._journals[-1][id(container)] = (container, copy.copy(container))

    def _set_attr(self, obj: Obj, name: str, value: Any, where: str) -> None:
        self._touch(obj.attrs)
        obj.attrs.pop(name, None)  # re-assignment moves the attribute to its new position
        obj.attrs[name] = Slot(value, where)

    def _get_attr(self, value: Any, name: str) -> Any:
        if isinstance(value, Obj):
            slot = value.attrs.get(name) or self.default_slot(value, name)
            if slot is not None:
                return slot.value
            if name == "__class__":
                return External(value.cls)
            if value.hf_model_id is not None and value.missing is None:
                return Method(value, name)
            method = self._class_method(value.classref, name) if value.classref else None
            if method is not None:
                return Func(method[0], method[1], bound_self=value)
            fact = _catalog_fact(value, name)
            if fact is not None:
                return fact
            if value.missing:
                return UnknownMember(f"{value.cls}.{name}: {value.missing}", value, name)
            return Unknown(f"{value.cls} has no attribute '{name}' set")
        if isinstance(value, ModuleRef):
            return self.module_attr(value.module, name)
        if isinstance(value, External):
            return External(f"{value.dotted}.{name}")
        if isinstance(value, Func):
            if name == "__name__":
                return value.name
            return Unknown(f"attribute {name} of function {value.name}")
        if isinstance(value, ClassRef):
            for stmt in value.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                    return Method(value, name)
                if isinstance(stmt, ast.Assign) and any(
                    getattr(t, "id", None) == name for t in stmt.targets
                ):
                    return self._eval(
                        stmt.value, _Frame(value.module, "", [], self.namespace(value.module))
                    )
            if name == "__name__":
                return value.node.name
            return Method(value, name)
        if isinstance(value, Unknown):
            return value
        if (
            isinstance(value, Method)
            and isinstance(value.obj, Obj)
            and value.obj.hf_model_id is not None
        ):
            return Method(value.obj, name)
        if isinstance(value, (str, list, dict, tuple, set)) or plain(value):
            return Method(value, name)
        return Unknown(f"attribute {name} cannot be read statically")

    def _class_method(
        self, cls: ClassRef, name: str, seen: int = 0
    ) -> tuple[str, ast.FunctionDef] | None:
        """(module, def) of method `name` of a package class or its package bases."""
        for stmt in cls.node.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                decorators = {self.source(d) for d in stmt.decorator_list}
                if decorators & {"property", "staticmethod", "classmethod"}:
                    return None
                return cls.module, stmt
        if seen > 8:
            return None
        frame = _Frame(cls.module, "", [], self.namespace(cls.module))
        for base in cls.node.bases:
            ref = self._eval(base.value if isinstance(base, ast.Subscript) else base, frame)
            if isinstance(ref, ClassRef) and ref.node is not cls.node:
                found = self._class_method(ref, name, seen + 1)
                if found:
                    return found
        return None

    def _fork(
        self,
        test: ast.expr,
        cond: Unknown,
        frame: _Frame,
        branches: list[list[ast.stmt]],
        ends_function: bool = False,
    ) -> None:
        """Run each branch from the same state, then keep what all branches agree on.

        With `ends_function` each branch runs to the end of the function, so one that falls
        off the end returns None."""
        before_locals = dict(frame.locals)
        results = []
        for body in branches:
            self._journals.append({})
            outcome: Any = None
            try:
                self._exec_block(body, frame, () if ends_function else None)
            except (_Return, _Raise, _Break, _Continue) as signal:
                # Kept without its traceback: a stored exception whose traceback holds
                # this frame is a reference cycle that pins every value it saw.
                outcome = signal.with_traceback(None)
            journal = self._journals.pop()
            after = {
                key: (container, snapshot(container)) for key, (container, _) in journal.items()
            }
            results.append((outcome, after, dict(frame.locals)))
            for container, saved in journal.values():
                restore(container, saved)
            frame.locals.clear()
            frame.locals.update(before_locals)
        live = [r for r in results if not isinstance(r[0], _Raise)]
        if not live:
            raise results[0][0]
        cause = cond.reason if cond.reason.startswith("set in") else f"because {cond.reason}"
        reason = Unknown(
            f"depends on a run-time condition ({self.source(test)[:80]}) at {frame.where(test)}"
            f", {cause[:240]}"
        )
        self._merge(live, frame, reason, before_locals)
        outcomes = [r[0] for r in live]
        if any(isinstance(o, _Return) for o in outcomes):
            fell_off = None if ends_function else reason
            values = [o.value if isinstance(o, _Return) else fell_off for o in outcomes]
            raise _Return(values[0] if all(same_value(values[0], v) for v in values) else reason)
        if len(live) == 1 and live[0][0] is not None:
            raise live[0][0]

    def _merge(self, live: list, frame: _Frame, reason: Unknown, before_locals: dict) -> None:
        containers: dict[int, Any] = {}
        for _, after, _ in live:
            for key, (container, _) in after.items():
                containers[key] = container
        for key, container in containers.items():
            states = [
                after[key][1] if key in after else snapshot(container) for _, after, _ in live
            ]
            self._touch(container)
            if isinstance(container, dict):
                merged: dict = {}
                for name in dict.fromkeys(k for s in states for k in s):
                    vals = [s.get(name, _MISSING) for s in states]
                    if all(same_value(vals[0], v) for v in vals):
                        merged[name] = vals[0]
                    else:
                        sample = next(v for v in vals if v is not _MISSING)
                        merged[name] = (
                            Slot(reason, sample.prov) if isinstance(sample, Slot) else reason
                        )
                container.clear()
                container.update({k: v for k, v in merged.items() if v is not _MISSING})
            elif isinstance(container, (list, set)):
                if all(same_value(list(states[0]), list(s)) for s in states):
                    restore(container, states[0])
                else:
                    restore(container, type(container)([reason]))
        for name in dict.fromkeys(k for _, _, loc in live for k in loc):
            vals = [loc.get(name, before_locals.get(name, _MISSING)) for _, _, loc in live]
            if all(same_value(vals[0], v) for v in vals):
                if vals[0] is not _MISSING:
                    frame.locals[name] = vals[0]
            else:
                frame.locals[name] = reason

    # --- statements --------------------------------------------------------------------

    def _exec_block(
        self, body: list[ast.stmt], frame: _Frame, tail: tuple[ast.stmt, ...] | None = None
    ) -> bool:
        """Run `body`. `tail` is what follows it up to the end of the function, when only
        `if` blocks lie between (None inside loops, `try` and `with`): an `if` on an unknown
        condition with a `return` in a branch then runs each branch on to the end of the
        function. Otherwise the branch that falls through would be cut short where the other
        returns, and an early-return guard would hide everything after it. True when the
        rest of the function has run that way."""
        for i, stmt in enumerate(body):
            if tail is None or not isinstance(stmt, ast.If) or not _returns(stmt):
                self._exec(stmt, frame)
                continue
            self._count_step()
            rest = (*body[i + 1 :], *tail)
            cond = truth_of(self._eval(stmt.test, frame))
            if isinstance(cond, Unknown):
                branches = [[*stmt.body, *rest], [*stmt.orelse, *rest]]
                self._fork(stmt.test, cond, frame, branches, ends_function=True)
                return True
            if self._exec_block(stmt.body if cond else stmt.orelse, frame, rest):
                return True
        return False

    def _count_step(self) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise _OutOfBudget()

    def _exec(self, stmt: ast.stmt, frame: _Frame) -> None:
        self._count_step()
        method = _STMT_HANDLERS.get(type(stmt))
        if method is not None:
            method(self, stmt, frame)

    def _s_Expr(self, stmt: ast.Expr, frame: _Frame) -> None:
        self._eval(stmt.value, frame)

    def _s_Assign(self, stmt: ast.Assign, frame: _Frame) -> None:
        value = self._eval(stmt.value, frame)
        for target in stmt.targets:
            self._assign(target, value, frame, frame.where(stmt))

    def _s_AnnAssign(self, stmt: ast.AnnAssign, frame: _Frame) -> None:
        if stmt.value is not None:
            self._assign(stmt.target, self._eval(stmt.value, frame), frame, frame.where(stmt))

    def _s_AugAssign(self, stmt: ast.AugAssign, frame: _Frame) -> None:
        load = copy.copy(stmt.target)
        load.ctx = ast.Load()
        value = self._binop(stmt.op, self._eval(load, frame), self._eval(stmt.value, frame))
        self._assign(stmt.target, value, frame, frame.where(stmt))

    def _assign(self, target: ast.expr, value: Any, frame: _Frame, where: str) -> None:
        if isinstance(target, ast.Name):
            frame.locals[target.id] = value
        elif isinstance(target, ast.Attribute):
            base = self._eval(target.value, frame)
            if isinstance(base, Obj):
                self._set_attr(base, target.attr, value, where)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(value) if isinstance(value, (list, tuple)) else None
            if items is not None and len(items) != len(target.elts):
                items = None
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    self._assign(elt.value, Unknown("starred unpacking"), frame, where)
                    continue
                item = (
                    items[i]
                    if items is not None
                    else Unknown(
                        value.reason
                        if is_unknown(value)
                        else "unpacks a value that cannot be read statically"
                    )
                )
                self._assign(elt, item, frame, where)
        elif isinstance(target, ast.Subscript):
            base = self._eval(target.value, frame)
            key = self._eval(target.slice, frame)
            if isinstance(base, (dict, list)) and not is_unknown(key):
                self._touch(base)
                try:
                    base[key] = value
                except Exception:
                    pass

    def _s_If(self, stmt: ast.If, frame: _Frame) -> None:
        cond = truth_of(self._eval(stmt.test, frame))
        if isinstance(cond, Unknown):
            self._fork(stmt.test, cond, frame, [stmt.body, stmt.orelse])
        else:
            self._exec_block(stmt.body if cond else stmt.orelse, frame)

    def _s_For(self, stmt: ast.For, frame: _Frame) -> None:
        items = self._eval(stmt.iter, frame)
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, (list, tuple, str, set, range)):
            reason = Unknown(f"set in a loop over run-time values at {frame.where(stmt)}")
            self._fork(stmt.iter, reason, frame, [[], stmt.body])
            return
        for item in items:
            self._assign(stmt.target, item, frame, frame.where(stmt))
            try:
                self._exec_block(stmt.body, frame)
            except _Break:
                return
            except _Continue:
                continue
        self._exec_block(stmt.orelse, frame)

    def _s_While(self, stmt: ast.While, frame: _Frame) -> None:
        reason = Unknown(f"set in a while loop at {frame.where(stmt)}")
        self._fork(stmt.test, reason, frame, [[], stmt.body])

    def _s_Return(self, stmt: ast.Return, frame: _Frame) -> None:
        raise _Return(self._eval(stmt.value, frame) if stmt.value is not None else None)

    def _s_Raise(self, stmt: ast.Raise, frame: _Frame) -> None:
        exc = self._eval(stmt.exc, frame) if stmt.exc is not None else None
        if isinstance(exc, ExcValue):
            message = f"{exc.cls}: {exc.message}"
        else:
            message = ast.unparse(stmt.exc) if stmt.exc is not None else "re-raise"
        raise _Raise(message, frame.where(stmt))

    def _s_Assert(self, stmt: ast.Assert, frame: _Frame) -> None:
        cond = truth_of(self._eval(stmt.test, frame))
        if cond is False:
            msg = self._eval(stmt.msg, frame) if stmt.msg is not None else ast.unparse(stmt.test)
            raise _Raise(
                f"AssertionError: {msg if isinstance(msg, str) else render(msg)}",
                frame.where(stmt),
            )

    def _s_Try(self, stmt: ast.Try, frame: _Frame) -> None:
        guarded = self._guarded_import(stmt, frame)
        if guarded is not None:
            # `try: from megatron.core... import X / except ImportError: X = None`: which
            # branch runs depends on the installed package, so keep what both agree on.
            reason = Unknown(f"whether the installed {guarded} provides it")
            imports = next(s for s in stmt.body if isinstance(s, (ast.Import, ast.ImportFrom)))
            self._fork(imports, reason, frame, [stmt.body + stmt.orelse, stmt.handlers[0].body])
            self._exec_block(stmt.finalbody, frame)
            return
        try:
            self._exec_block(stmt.body, frame)
        except _Raise:
            if not stmt.handlers:
                raise
            self._exec_block(stmt.handlers[0].body, frame)
        else:
            self._exec_block(stmt.orelse, frame)
        finally:
            self._exec_block(stmt.finalbody, frame)

    def _guarded_import(self, stmt: ast.Try, frame: _Frame) -> str | None:
        """The outside package a try/except-ImportError imports from, else None."""
        caught = {self.source(h.type) if h.type is not None else "" for h in stmt.handlers}
        if not caught & {"ImportError", "ModuleNotFoundError", "Exception", ""}:
            return None
        for node in stmt.body:
            if isinstance(node, ast.ImportFrom):
                module = self._absolute(frame.module, node.level, node.module)
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if not self._in_tree(module):
                return module
        return None

    def _s_With(self, stmt: ast.With, frame: _Frame) -> None:
        self._exec_block(stmt.body, frame)

    def _s_Break(self, stmt: ast.Break, frame: _Frame) -> None:
        raise _Break()

    def _s_Continue(self, stmt: ast.Continue, frame: _Frame) -> None:
        raise _Continue()

    def _s_FunctionDef(self, stmt: ast.FunctionDef, frame: _Frame) -> None:
        fn: Any = Func(frame.module, stmt, closure=list(frame.scopes) or None)
        for deco in reversed(stmt.decorator_list):
            wrapper = self._eval(deco, frame)
            if isinstance(wrapper, Func):
                wrapped = self.call(wrapper, [fn], {})
                fn = wrapped if isinstance(wrapped, (Func, Partial)) else fn
        frame.locals[stmt.name] = fn

    _s_AsyncFunctionDef = _s_FunctionDef

    def _s_ClassDef(self, stmt: ast.ClassDef, frame: _Frame) -> None:
        frame.locals[stmt.name] = ClassRef(frame.module, stmt)

    def _s_Import(self, stmt: ast.Import, frame: _Frame) -> None:
        for alias in stmt.names:
            if alias.asname:
                frame.locals[alias.asname] = self._module_ref(alias.name)
            else:
                top = alias.name.split(".")[0]
                frame.locals[top] = self._module_ref(top)

    def _module_ref(self, dotted: str) -> Any:
        if self._in_tree(dotted) or dotted == "megatron":
            return ModuleRef(dotted)
        return External(dotted)

    def _s_ImportFrom(self, stmt: ast.ImportFrom, frame: _Frame) -> None:
        module = self._absolute(frame.module, stmt.level, stmt.module)
        for alias in stmt.names:
            if alias.name == "*":
                if self.tree.has_module(module):
                    src = self.namespace(module)
                    for name in self.exported_names(module):
                        if name in src:
                            frame.locals[name] = src[name]
                continue
            frame.locals[alias.asname or alias.name] = (
                _Lazy(module, alias.name)
                if self._in_tree(module)
                else External(f"{module}.{alias.name}")
            )

    # --- expressions -------------------------------------------------------------------

    _call_site = ""
    _kw_sites: dict[str, str] = {}  # noqa: RUF012 (replaced per call, never mutated)

    def _eval(self, node: ast.expr, frame: _Frame) -> Any:
        method = _EXPR_HANDLERS.get(type(node))
        if method is None:
            return Unknown(f"expression {type(node).__name__} is not followed")
        return method(self, node, frame)

    def _e_Constant(self, node: ast.Constant, frame: _Frame) -> Any:
        return node.value

    def _e_Name(self, node: ast.Name, frame: _Frame) -> Any:
        for scope in frame.scopes:
            if node.id in scope:
                return self._resolve(scope, node.id)
        if node.id in frame.globals:
            return self._resolve(frame.globals, node.id)
        if node.id in BUILTIN_NAMES:
            return Builtin(node.id)
        return Unknown(f"name '{node.id}' is not defined in {frame.file}")

    def _e_Attribute(self, node: ast.Attribute, frame: _Frame) -> Any:
        return self._get_attr(self._eval(node.value, frame), node.attr)

    def _e_Call(self, node: ast.Call, frame: _Frame) -> Any:
        fn = self._eval(node.func, frame)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self._eval(arg.value, frame)
                args.extend(value if isinstance(value, (list, tuple)) else [Unknown("*args")])
            else:
                args.append(self._eval(arg, frame))
        kwargs: dict[str, Any] = {}
        sites: dict[str, str] = {}
        for kw in node.keywords:
            value = self._eval(kw.value, frame)
            if kw.arg is None:
                if isinstance(value, dict):
                    kwargs.update({str(k): v for k, v in value.items()})
                continue
            kwargs[kw.arg] = value
            sites[kw.arg] = frame.where(kw.value)
        saved = (self._call_site, self._kw_sites)
        self._call_site, self._kw_sites = frame.where(node), sites
        try:
            return self.call(fn, args, kwargs)
        finally:
            self._call_site, self._kw_sites = saved

    def _e_BinOp(self, node: ast.BinOp, frame: _Frame) -> Any:
        return self._binop(node.op, self._eval(node.left, frame), self._eval(node.right, frame))

    def _binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        for side in (left, right):
            if is_unknown(side):
                return side
        fn = BINOPS.get(type(op))
        if fn is None or not (plain(left) or isinstance(left, (list, tuple, dict))):
            return Unknown("arithmetic on values that cannot be read statically")
        try:
            return fn(left, right)
        except Exception as exc:
            return Unknown(f"arithmetic fails statically: {exc}")

    def _e_UnaryOp(self, node: ast.UnaryOp, frame: _Frame) -> Any:
        value = self._eval(node.operand, frame)
        if isinstance(node.op, ast.Not):
            truth = truth_of(value)
            return truth if is_unknown(truth) else not truth
        if is_unknown(value) or not isinstance(value, (int, float)):
            return value if is_unknown(value) else Unknown("unary operator on a non-number")
        return (
            -value
            if isinstance(node.op, ast.USub)
            else (+value if isinstance(node.op, ast.UAdd) else ~value)
        )

    def _e_BoolOp(self, node: ast.BoolOp, frame: _Frame) -> Any:
        is_and = isinstance(node.op, ast.And)
        pending: Unknown | None = None
        value: Any = None
        for operand in node.values:
            value = self._eval(operand, frame)
            truth = truth_of(value)
            if is_unknown(truth):
                pending = pending or truth
                continue
            if truth is not is_and:
                return value if pending is None else pending
        return pending if pending is not None else value

    def _e_Compare(self, node: ast.Compare, frame: _Frame) -> Any:
        left = self._eval(node.left, frame)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=False):
            right = self._eval(right_node, frame)
            outcome = compare(op, left, right)
            if is_unknown(outcome):
                result = outcome
            elif outcome is False:
                return False
            left = right
        return result

    def _e_IfExp(self, node: ast.IfExp, frame: _Frame) -> Any:
        cond = truth_of(self._eval(node.test, frame))
        if is_unknown(cond):
            a, b = self._eval(node.body, frame), self._eval(node.orelse, frame)
            return (
                a
                if same_value(a, b)
                else Unknown(f"depends on a run-time condition ({self.source(node.test)[:80]})")
            )
        return self._eval(node.body if cond else node.orelse, frame)

    def _e_JoinedStr(self, node: ast.JoinedStr, frame: _Frame) -> Any:
        parts = []
        for value in node.values:
            v = self._eval(value, frame)
            if is_unknown(v):
                return v
            parts.append(v)
        return "".join(parts)

    def _e_FormattedValue(self, node: ast.FormattedValue, frame: _Frame) -> Any:
        value = self._eval(node.value, frame)
        if is_unknown(value):
            return value
        if not plain(value):
            return render(value)
        spec = self._eval(node.format_spec, frame) if node.format_spec is not None else ""
        try:
            value = repr(value) if node.conversion == ord("r") else value
            return format(value, spec) if isinstance(spec, str) else str(value)
        except Exception:
            return str(value)

    def _e_List(self, node: ast.List, frame: _Frame) -> Any:
        return self._elements(node.elts, frame)

    def _e_Tuple(self, node: ast.Tuple, frame: _Frame) -> Any:
        return tuple(self._elements(node.elts, frame))

    def _e_Set(self, node: ast.Set, frame: _Frame) -> Any:
        items = self._elements(node.elts, frame)
        try:
            return set(items)
        except TypeError:
            return Unknown("set of values that cannot be read statically")

    def _elements(self, elts: list[ast.expr], frame: _Frame) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                value = self._eval(elt.value, frame)
                out.extend(
                    value if isinstance(value, (list, tuple)) else [Unknown("starred element")]
                )
            else:
                out.append(self._eval(elt, frame))
        return out

    def _e_Dict(self, node: ast.Dict, frame: _Frame) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=False):
            v = self._eval(value, frame)
            if key is None:
                if isinstance(v, dict):
                    out.update(v)
                continue
            k = self._eval(key, frame)
            try:
                out[k] = v
            except TypeError:
                return Unknown("dict key cannot be read statically")
        return out

    def _e_Subscript(self, node: ast.Subscript, frame: _Frame) -> Any:
        base = self._eval(node.value, frame)
        key = self._eval(node.slice, frame)
        for value in (base, key):
            if is_unknown(value):
                return value
        if isinstance(base, (dict, list, tuple, str)):
            try:
                return base[key]
            except Exception:
                return Unknown(f"index {key!r} not found statically")
        return Unknown("subscript of a value that cannot be read statically")

    def _e_Slice(self, node: ast.Slice, frame: _Frame) -> Any:
        parts = [
            self._eval(p, frame) if p is not None else None
            for p in (node.lower, node.upper, node.step)
        ]
        return Unknown("slice bound") if any(is_unknown(p) for p in parts) else slice(*parts)

    def _e_Lambda(self, node: ast.Lambda, frame: _Frame) -> Any:
        return Func(frame.module, node, closure=list(frame.scopes) or None)

    def _comprehension(self, node: Any, frame: _Frame, build) -> Any:
        scope: dict[str, Any] = {}
        inner = _Frame(frame.module, frame.file, [scope] + frame.scopes, frame.globals)
        results: list[Any] = []
        failed = self._generate(node.generators, inner, build, results)
        return failed if failed else results

    def _generate(
        self, gens: list[ast.comprehension], inner: _Frame, build, results: list[Any]
    ) -> Unknown | None:
        """Run the comprehension's generators in order, appending `build(inner)` per item.
        (A method, not a recursive closure: that closure would be a reference cycle.)"""
        if not gens:
            results.append(build(inner))
            return None
        gen = gens[0]
        items = self._eval(gen.iter, inner)
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, (list, tuple, set, str, range)):
            return Unknown("comprehension over values that cannot be read statically")
        for item in items:
            self._assign(gen.target, item, inner, inner.file)
            ok = True
            for cond in gen.ifs:
                truth = truth_of(self._eval(cond, inner))
                if is_unknown(truth):
                    return truth
                ok = ok and truth
            if ok:
                failed = self._generate(gens[1:], inner, build, results)
                if failed:
                    return failed
        return None

    def _e_ListComp(self, node: ast.ListComp, frame: _Frame) -> Any:
        return self._comprehension(node, frame, lambda f: self._eval(node.elt, f))

    _e_GeneratorExp = _e_ListComp

    def _e_SetComp(self, node: ast.SetComp, frame: _Frame) -> Any:
        items = self._comprehension(node, frame, lambda f: self._eval(node.elt, f))
        if is_unknown(items):
            return items
        try:
            return set(items)
        except TypeError:
            return Unknown("set of values that cannot be read statically")

    def _e_DictComp(self, node: ast.DictComp, frame: _Frame) -> Any:
        pairs = self._comprehension(
            node, frame, lambda f: (self._eval(node.key, f), self._eval(node.value, f))
        )
        if is_unknown(pairs):
            return pairs
        try:
            return dict(pairs)
        except TypeError:
            return Unknown("dict of values that cannot be read statically")

    def _e_NamedExpr(self, node: ast.NamedExpr, frame: _Frame) -> Any:
        value = self._eval(node.value, frame)
        frame.locals[node.target.id] = value
        return value


def _catalog_fact(obj: Obj, attr: str) -> Any:
    """A provider filled from a Hugging Face config at run time: the catalog's value of
    `attr` for its model, or None."""
    if obj.missing is None or not obj.hf_model_id:
        return None
    return catalog_fact(obj.hf_model_id, attr)


def _returns(stmt: ast.If) -> bool:
    """Whether a `return` sits in the statement's branches (not in a nested def or class);
    kept on the node, which is parsed once per source tree."""
    found = getattr(stmt, "_autorecipe_returns", None)
    if found is None:
        todo: list[ast.AST] = [*stmt.body, *stmt.orelse]
        found = False
        while todo and not found:
            node = todo.pop()
            found = isinstance(node, ast.Return)
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                todo.extend(n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt))
        stmt._autorecipe_returns = found  # type: ignore[attr-defined]
    return found


def _handlers(prefix: str) -> dict[type, Any]:
    """AST node type -> Interpreter method, by the `_s_Name` / `_e_Name` convention."""
    return {
        getattr(ast, name[len(prefix) :]): fn
        for name, fn in vars(Interpreter).items()
        if name.startswith(prefix) and hasattr(ast, name[len(prefix) :])
    }


_STMT_HANDLERS = _handlers("_s_")
_EXPR_HANDLERS = _handlers("_e_")


class RecipeRaised(Exception):
    """The recipe function always raises; `message` is what it raises."""

    def __init__(self, message: str, where: str):
        super().__init__(message)
        self.message = message
        self.where = where


_MISSING = object()
_FIRST_CALL_DONE = object()
