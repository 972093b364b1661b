"""The `autorecipe` command: a thin shell over autorecipe.api.

Each command group lives in its own module with a `register(app)` function; heavy
imports happen inside the command bodies so that `autorecipe --help` stays fast.
"""

from __future__ import annotations

import inspect
import os
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
        "\b\nExample: autorecipe recommend --model Qwen3-30B-A3B --mode sft --gpus 16 --gpu-type h100"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: typer's rich formatter imports rich's markdown,
    # traceback and pretty modules, which tripled the time of `autorecipe --help`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _plain_help(group: typer.Typer) -> None:
    """Ready the commands' docstrings for plain help: mark each "Example:" paragraph to
    be printed as written (rewrapped, an example command line breaks mid-argument, even
    inside a file name, and cannot be copied) and drop rich's markup escapes (\\[)."""
    for info in group.registered_commands:
        doc = info.help if info.help is not None else inspect.getdoc(info.callback)
        if doc:
            info.help = doc.replace("\n\nExample:", "\n\n\b\nExample:").replace("\\[", "[")
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _plain_help(sub.typer_instance)


for _module in (index_cmds, model_cmds, recommend_cmd, plan_cmds, check_cmds, mcp_cmd):
    _module.register(app)
_plain_help(app)


def main() -> None:
    try:
        app()
    except UserError as exc:
        print(f"autorecipe: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        # A bug of ours, not bad input: one line that says so, the traceback on request.
        if os.environ.get("AUTORECIPE_DEBUG"):
            raise
        print(
            f"autorecipe: internal error: {type(exc).__name__}: {exc} — this is a bug in "
            "autorecipe; rerun with AUTORECIPE_DEBUG=1 for the traceback and please report it",
            file=sys.stderr,
        )
        sys.exit(3)
