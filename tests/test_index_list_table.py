"""`autorecipe list` as people read it: recipe names whole at any width, one line per
recipe when the output goes to a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args: str, columns: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "autorecipe", *args], capture_output=True, text=True, env=env
    )


def names(*filters: str) -> list[str]:
    listing = json.loads(run("list", *filters, "--json", columns=None).stdout)
    return [r["name"] + ("*" if r["alias_of"] else "") for r in listing["recipes"]]


@pytest.mark.parametrize("columns", ["80", "120"])
def test_names_are_never_broken_and_lines_fit(columns):
    wanted = names("--family", "qwen")
    out = run("list", "--family", "qwen", columns=columns).stdout.splitlines()
    first_words = [line.split(" ")[0] for line in out]
    assert all(name in first_words for name in wanted)
    longest_row = max(len(n) for n in wanted) + len(" lib  sft  4xh100 bf16 4 1 1 - 128 2048")
    if longest_row > int(columns):  # rows that do not fit take two lines: name, columns
        assert out[0] == "recipe" and out[1].split()[:3] == ["kind", "mode", "gpus"]
    assert max(len(line) for line in out) <= int(columns)


def test_a_pipe_gets_one_line_per_recipe():
    wanted = names()
    out = run("list", columns=None).stdout.splitlines()
    rows = out[1:-2]  # header, then two footer lines
    assert [row.split(" ")[0] for row in rows] == wanted
    assert out[0].split() == [
        "recipe",
        "kind",
        "mode",
        "gpus",
        "prec",
        "TP",
        "PP",
        "CP",
        "EP",
        "GBS",
        "seq",
    ]
