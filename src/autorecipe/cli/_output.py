"""Shared output helpers: one JSON document on stdout, rich tables for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel


def emit_json(obj: Any) -> None:
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json", by_alias=True)
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)
