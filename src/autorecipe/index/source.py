"""Read a Megatron-Bridge source tree (checkout, wheel or installed package) as plain text.

Nothing here imports or executes the code it reads: files are read as text, and modules
are parsed with `ast` only when the scanner first needs them.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autorecipe.errors import UserError, existing, shown

PACKAGE = "megatron.bridge"
_PKG_PATH = "megatron/bridge/"


@dataclass
class SourceTree:
    """The `megatron/bridge/**.py` files of one release, keyed by module name."""

    origin: str
    files: dict[str, str]  # module name -> relative file path ("megatron/bridge/x.py")
    texts: Mapping[str, str]  # relative file path -> source text
    version: str
    _trees: dict[str, ast.Module | None] = field(default_factory=dict)
    syntax_errors: dict[str, str] = field(default_factory=dict)

    def has_module(self, module: str) -> bool:
        return module in self.files

    def parse(self, module: str) -> ast.Module | None:
        """The module's AST, or None when it is not in the tree or does not parse."""
        if module in self._trees:
            return self._trees[module]
        path = self.files.get(module)
        tree = None
        if path is not None:
            try:
                tree = ast.parse(self.texts[path], filename=path)
            except SyntaxError as exc:
                self.syntax_errors[path] = f"syntax error at line {exc.lineno}: {exc.msg}"
        self._trees[module] = tree
        return tree

    def is_package(self, module: str) -> bool:
        return self.files.get(module, "").endswith("__init__.py")

    def submodules(self, prefix: str) -> list[str]:
        """Module names under `prefix` (itself included), sorted."""
        return sorted(m for m in self.files if m == prefix or m.startswith(prefix + "."))


def _module_name(rel: str) -> str:
    mod = rel[: -len(".py")].replace("/", ".")
    return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod


class _WheelTexts(Mapping[str, str]):
    """The `.py` files of a wheel, each inflated when first read: the scanner reads
    fewer than half of them, and inflating all took half the time to read a wheel."""

    def __init__(self, path: Path):
        self._path = path
        self._zip = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        self._names = [
            n for n in self._zip.namelist() if n.startswith(_PKG_PATH) and n.endswith(".py")
        ]
        self._known = frozenset(self._names)
        self._texts: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        text = self._texts.get(name)
        if text is None:
            if name not in self._known:
                raise KeyError(name)
            try:
                data = self._zip.read(name)
            except (zipfile.BadZipFile, zlib.error) as exc:
                raise UserError(
                    f"{self._path} is not a readable wheel ({name}: {exc}); give a "
                    "megatron_bridge-*.whl file, a Megatron-Bridge checkout, or 'installed'."
                ) from None
            text = self._texts[name] = data.decode("utf-8", errors="replace")
        return text

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def version(self) -> str | None:
        """The version in the wheel's dist-info folder name."""
        for n in self._zip.namelist():
            m = re.match(r"megatron_bridge-([^/]+)\.dist-info/METADATA$", n)
            if m:
                return m.group(1)
        return None


def _from_texts(origin: str, texts: Mapping[str, str], version: str | None) -> SourceTree:
    if f"{_PKG_PATH}__init__.py" not in texts or not any(
        p.startswith(f"{_PKG_PATH}recipes/") for p in texts
    ):
        raise UserError(
            f"{origin} is not a Megatron-Bridge source: no megatron/bridge/recipes package in it; "
            "give a Megatron-Bridge checkout, a megatron_bridge-*.whl file, or 'installed'."
        )
    files = {_module_name(p): p for p in texts}
    return SourceTree(origin, files, texts, version or _version_from_package_info(texts))


def _version_from_package_info(texts: Mapping[str, str]) -> str:
    text = texts.get(f"{_PKG_PATH}package_info.py", "")
    parts = {}
    for name in ("MAJOR", "MINOR", "PATCH", "PRE_RELEASE"):
        m = re.search(rf"^{name}\s*=\s*['\"]?([\w.]*)['\"]?", text, re.M)
        parts[name] = m.group(1) if m else ""
    if not parts["MAJOR"]:
        return "unknown"
    return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}{parts['PRE_RELEASE']}"


def _read_wheel(path: Path) -> SourceTree:
    try:
        texts = _WheelTexts(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(
            f"{path} is not a readable wheel ({exc}); give a megatron_bridge-*.whl file, "
            "a Megatron-Bridge checkout, or 'installed'."
        ) from None
    return _from_texts(str(path), texts, texts.version())


def _read_dir(root: Path) -> SourceTree:
    """Accept the repo root, its src/, a folder holding megatron/bridge, or megatron/bridge."""
    candidates = [root / "src", root, root.parent.parent if root.name == "bridge" else root]
    for base in candidates:
        if (base / "megatron" / "bridge" / "__init__.py").is_file():
            pkg = base / "megatron" / "bridge"
            texts = {
                p.relative_to(base).as_posix(): p.read_text(encoding="utf-8", errors="replace")
                for p in sorted(pkg.rglob("*.py"))
            }
            return _from_texts(str(root), texts, None)
    raise UserError(
        f"{root} is not a Megatron-Bridge source: no megatron/bridge package found in it or in "
        "its src/; give a Megatron-Bridge checkout, a megatron_bridge-*.whl file, or 'installed'."
    )


def _installed_root() -> Path:
    # Walk sys.path by hand: importing megatron.bridge would execute it.
    for entry in sys.path:
        base = Path(entry or ".")
        if (base / "megatron" / "bridge" / "__init__.py").is_file():
            return base
    raise UserError(
        "no installed megatron.bridge package was found on sys.path; install megatron-bridge "
        "or give --source a checkout or a wheel file."
    )


def read_source(source: str | Path) -> SourceTree:
    """Read a release from a checkout folder, a .whl file, or the word 'installed'."""
    if str(source) == "installed":
        return _read_dir(_installed_root())
    if isinstance(source, str) and not source.strip():
        # Path("") is ".": the error would name the current folder, not the empty argument
        raise UserError(
            "--source is empty; give a Megatron-Bridge checkout, a megatron_bridge-*.whl "
            "file, or 'installed'."
        )
    path = Path(source)
    if existing(path, folder=True):
        return _read_dir(path)
    if existing(path, file=True):
        return _read_wheel(path)
    raise UserError(
        f"{shown(str(source))} does not exist; give a Megatron-Bridge checkout, a "
        "megatron_bridge-*.whl file, or 'installed'."
    )
