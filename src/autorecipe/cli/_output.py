"""Shared output helpers: one JSON document on stdout; rules, text and rich tables for people."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(obj: Any) -> None:
    # Duck-typed rather than isinstance(BaseModel): importing pydantic here would make
    # every command (and `--help`) pay for it before it is needed.
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json", by_alias=True)
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def rule(title: str, width: int = 80) -> str:
    """A section heading as a line: `Title ─────…` (bold on a terminal).

    Plain text rather than rich: the recommend answer is printed on every run and rich's
    import alone is a tenth of the 300 ms budget.
    """
    line = f"{title} " + "─" * max(width - len(title) - 1, 3)
    if sys.stdout.isatty():
        return f"\033[1m{title}\033[0m " + line[len(title) + 1 :]
    return line
