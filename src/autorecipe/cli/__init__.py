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


def _click_error(exc: BaseException, name: str) -> bool:
    """`exc` is click's exception class `name` (by name: typer >= 0.20 carries its own copy
    of click, older typer uses click itself)."""
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def _usage_error(exc: Exception) -> int:
    """A click usage error (bad integer, unknown option, missing option) as one line,
    like every other input error, with where to read the options."""
    if _click_error(exc, "NoArgsIsHelpError"):
        exc.show()  # type: ignore[attr-defined]  # bare `autorecipe`, `autorecipe index`: help
        return int(exc.exit_code)  # type: ignore[attr-defined]
    message = " ".join(exc.format_message().split()).rstrip(".")  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    where = f"; see `{ctx.command_path} -h`" if ctx is not None else ""
    print(f"autorecipe: error: {message}{where}", file=sys.stderr)
    return int(exc.exit_code)  # type: ignore[attr-defined]


def main() -> None:
    try:
        # not standalone: usage errors come back here rather than as click's four-line
        # "Usage: ... Try ... Error: ..." block; Exit(n) comes back as the return value
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as exc:
        print(f"autorecipe: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _click_error(exc, "ClickException"):
            sys.exit(_usage_error(exc))
        if _click_error(exc, "Abort"):
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        # A bug of ours, not bad input: one line that says so, the traceback on request.
        if os.environ.get("AUTORECIPE_DEBUG"):
            raise
        print(
            f"autorecipe: internal error: {type(exc).__name__}: {exc} — this is a bug in "
            "autorecipe; rerun with AUTORECIPE_DEBUG=1 for the traceback and please report it",
            file=sys.stderr,
        )
        sys.exit(3)
