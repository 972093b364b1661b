"""Token budgets as people write them: 1T, 500B, 2.5e12, 300M."""

from __future__ import annotations

import re

from autorecipe.errors import UserError

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_NUMBER = r"[+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([KMBGTP]?)\s*$", re.IGNORECASE)
_UNKNOWN_SUFFIX = re.compile(rf"^\s*{_NUMBER}\s*([A-Za-z]+)\s*$")
# Far beyond any training run (the largest use tens of trillions of tokens): a slip of
# the exponent or the suffix, answered with an error rather than a time of 10^20 days.
MAX_TOKENS = 1e16
_EXAMPLES = "write a positive number like 1T, 500B or 2.5e12"


def parse_tokens(text: str) -> float:
    """Number of tokens in `text` (suffixes K, M, B/G, T, P are powers of 1000).

    Example:
        >>> parse_tokens("1T"), parse_tokens("2.5B"), parse_tokens("3e11")
        (1000000000000.0, 2500000000.0, 300000000000.0)
    """
    match = _PATTERN.match(text)
    if not match:
        suffix = _UNKNOWN_SUFFIX.match(text)
        if suffix:
            raise UserError(
                f"token count {text!r}: unknown suffix {suffix.group(1)!r}; use K, M, B, T "
                f"or P (powers of 1000), e.g. 1T, 500B or 2.5e12"
            )
        raise UserError(f"cannot read token count {text!r}; {_EXAMPLES}")
    count = float(match.group(1)) * _SUFFIX[match.group(2).upper()]
    if count < 1:
        why = "not positive" if count <= 0 else "under one token"
        raise UserError(f"token count {text!r} is {why}; {_EXAMPLES}")
    if count > MAX_TOKENS:
        raise UserError(
            f"token count {text!r} is {count:.3g} tokens, beyond any training run (the limit "
            f"here is 1e16 = 10P); {_EXAMPLES}"
        )
    return count


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
