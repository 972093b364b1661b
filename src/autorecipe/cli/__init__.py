"""The `autorecipe` command: a thin shell over autorecipe.api.

Each command group lives in its own module with a `register(app)` function; heavy
imports happen inside the command bodies so that `autorecipe --help` stays fast.
"""

from __future__ import annotations

import sys

import typer

from autorecipe.cli import (
    check_cmds,
    index_cmds,
    mcp_cmd,
    model_cmds,
    plan_cmds,
    recommend_cmd,
)
from autorecipe.errors import UserError

app = typer.Typer(
    name="autorecipe",
    help=(
        "Pick the right Megatron-Bridge recipe for your model, goal and GPUs; resize its "
        "parallel layout by Megatron-Core's rules; estimate memory and speed; lint pitfalls; "
        "print the exact launch command.\n\n"
        "Example: autorecipe recommend --model Qwen3-30B-A3B --mode sft --gpus 16 --gpu-type h100"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for _module in (index_cmds, model_cmds, recommend_cmd, plan_cmds, check_cmds, mcp_cmd):
    _module.register(app)


def main() -> None:
    try:
        app()
    except UserError as exc:
        print(f"autorecipe: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
