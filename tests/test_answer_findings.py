"""Every finding id an answer can carry is explained by `autorecipe rules ID`."""

from __future__ import annotations

import re
from pathlib import Path

from autorecipe import api
from autorecipe.advise.answer_findings import ANSWER_FINDINGS
from cli_entry import run_cli

SRC = Path(__file__).resolve().parent.parent / "src" / "autorecipe"


def test_every_descriptive_finding_id_in_the_product_is_documented():
    emitted = {
        m
        for path in SRC.rglob("*.py")
        for m in re.findall(r'\bid="([a-z][a-z_-]+)"', path.read_text(encoding="utf-8"))
    }
    assert emitted and emitted <= set(ANSWER_FINDINGS), emitted - set(ANSWER_FINDINGS)


def test_rules_explains_an_answer_finding_whatever_its_separator():
    (doc,) = api.list_rules("oversized_allocation")
    assert doc.id == "oversized-allocation" and doc.group == "answer"
    proc = run_cli("rules", "does-not-fit")
    assert proc.returncode == 0 and "does not fit" in proc.stdout
