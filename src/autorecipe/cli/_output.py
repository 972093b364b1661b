"""Shared output helpers: one JSON document on stdout, rich tables for people."""

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
