"""The rule registry of `autorecipe check`.

A rule has a stable id (AR###), a title, a default severity, a longer explanation with
its evidence, and a detector: a function of a CheckContext returning Hits. Severity
means: error — Megatron-Core/Bridge rejects it or it crashes; warning — it will OOM,
run slow, or silently do something else; info — worth knowing, no action needed.

Rule groups, one module each: layout (Megatron-Core's config-time validations, wrapped
from autorecipe.layout.rules), cuda_graphs, parallel (pipeline, FSDP, long context,
launcher behaviour), moe, data (packing, VLM data), memory (predicted OOM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autorecipe.advise.rules.context import CheckContext
from autorecipe.result import Severity


@dataclass(frozen=True)
class Hit:
    """One finding of a rule: the actual values, and the overrides (or words) that fix it."""

    message: str
    fix: dict[str, Any] | str | None = None
    severity: Severity | None = None  # the rule's own severity when None
    # factors of the conflict that the recipe set, {override path: value}; the report
    # names them with the recipe line that sets each
    recipe_keys: dict[str, Any] | None = None
    # the rule's next-best fixes, best first: offered when `fix` would introduce a new
    # error (the check engine re-checks every override fix before offering it)
    alternatives: tuple[dict[str, Any], ...] = ()


Detector = Callable[[CheckContext], "list[Hit]"]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    explanation: str
    detect: Detector
    group: str = ""


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, title: str, severity: Severity, explanation: str
) -> Callable[[Detector], Detector]:
    """Register a detector under `rule_id`."""

    def register(fn: Detector) -> Detector:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        group = fn.__module__.rsplit(".", 1)[-1]
        RULES[rule_id] = Rule(rule_id, title, severity, " ".join(explanation.split()), fn, group)
        return fn

    return register


def all_rules() -> dict[str, Rule]:
    """Every registered rule, by id (importing the rule modules registers them)."""
    from autorecipe.advise.rules import (  # noqa: F401
        cuda_graphs,
        data,
        layout,
        memory,
        moe,
        parallel,
    )

    return dict(sorted(RULES.items()))
