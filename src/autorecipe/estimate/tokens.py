"""Token budgets as people write them: 1T, 500B, 2.5e12, 300M."""

from __future__ import annotations

import re

from autorecipe.errors import UserError

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMBGTP]?)\s*$", re.IGNORECASE)


def parse_tokens(text: str) -> float:
    """Number of tokens in `text` (suffixes K, M, B/G, T, P are powers of 1000).

    Example:
        >>> parse_tokens("1T"), parse_tokens("2.5B"), parse_tokens("3e11")
        (1000000000000.0, 2500000000.0, 300000000000.0)
    """
    match = _PATTERN.match(text)
    if not match or float(match.group(1)) <= 0:
        raise UserError(
            f"cannot read token count {text!r}; write a positive number like 1T, 500B or 2.5e12"
        )
    return float(match.group(1)) * _SUFFIX[match.group(2).upper()]


def duration_text(seconds: float) -> str:
    """A training time in the unit people plan in: minutes, hours or days.

    Example:
        >>> duration_text(90), duration_text(7200), duration_text(3 * 86400)
        ('1.5 min', '2.0 h', '3.0 days')
    """
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
