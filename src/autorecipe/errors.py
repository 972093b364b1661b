"""Errors that mean "the user asked for something we cannot do" (exit code 2)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class UserError(ValueError):
    """Bad input: the message says what is wrong and what would be right.

    The CLI prints it as one line on stderr and exits 2; the MCP server returns it
    as a tool error. Anything else escaping the engine is a bug.
    """


def closest(name: str, candidates: Iterable[str], n: int = 5, cutoff: float = 0.5) -> list[str]:
    """The candidates that look most like `name` (case-insensitive), best first."""
    pool = {c.lower(): c for c in candidates}
    return [
        pool[m] for m in difflib.get_close_matches(name.lower(), list(pool), n=n, cutoff=cutoff)
    ]


def did_you_mean(name: str, candidates: Iterable[str], n: int = 5) -> str:
    """' Did you mean: a, b?' or '' — for the tail of an error message."""
    hits = closest(name, candidates, n=n)
    return f" Did you mean: {', '.join(hits)}?" if hits else ""


def shown(text: str, limit: int = 80) -> str:
    """`text` for an error message: cut to `limit` characters, since it echoes user input."""
    return text if len(text) <= limit else text[:limit] + "…"


def existing(path: Path, *, file: bool = False, folder: bool = False) -> bool:
    """Whether user input `path` names an existing file (`file`), folder (`folder`) or
    either; a name the OS cannot even look up (too long, a NUL byte) names nothing."""
    try:
        return path.is_file() if file else path.is_dir() if folder else path.exists()
    except (OSError, ValueError):
        return False
