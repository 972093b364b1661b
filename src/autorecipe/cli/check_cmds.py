"""`autorecipe check` (lint a recipe plus overrides) and `autorecipe rules [ID]`."""

from __future__ import annotations

import sys

import typer

from autorecipe.cli._output import console, emit_json

_MARK = {
    "error": "[red]error[/red]",
    "warning": "[yellow]warning[/yellow]",
    "info": "[cyan]info[/cyan]",
}
_GITHUB = {"error": "error", "warning": "warning", "info": "notice"}


def _github_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _print_text(report) -> None:
    from autorecipe.advise.check import format_value

    out = console()
    out.print(
        f"[bold]{report.recipe.name}[/bold] on {report.world_size} × {report.gpu}"
        f" ({report.mode or 'mode ?'}, seq {report.seq_len}, model {report.model or '?'})"
    )
    if report.dataset:
        out.print(f"data: {report.dataset}", markup=False, soft_wrap=True)
    if not report.findings:
        out.print("no findings")
    for f in report.findings:
        out.print(f"{_MARK[f.severity]} {f.id} {f.title or ''}", markup=True)
        # soft wrap: a fix is copied onto a command line, so never break it
        out.print(f"    {f.message}", markup=False, soft_wrap=True)
        if f.fix:
            out.print(f"    fix: {f.fix}", markup=False, soft_wrap=True)
    if report.changes:
        out.print("[bold]changes[/bold]")
        for c in report.changes:
            out.print(
                f"    {c.key}={format_value(c.value)}  {c.change_class}: {c.reason}",
                markup=False,
                soft_wrap=True,
            )
    counts = {s: sum(f.severity == s for f in report.findings) for s in _MARK}
    out.print(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")


def _print_github(report) -> None:
    for f in report.findings:
        fix = f" Fix: {f.fix}" if f.fix else ""
        title = f"{f.id} {f.title or ''}".strip()
        print(
            f"::{_GITHUB[f.severity]} title={_github_escape(title)}::{_github_escape(f.message + fix)}"
        )


def register(app: typer.Typer) -> None:
    @app.command(
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def check(
        overrides: list[str] | None = typer.Argument(
            None,
            metavar="[KEY=VALUE|-tp N|-pp N|-cp N|-vp N|-ep N|-etp N|-gb N|-mb N|-sl N]...",
            help="run_recipe.py overrides: Hydra KEY=VALUE items and launcher flags.",
        ),
        recipe: str = typer.Option(
            ..., "--recipe", help="Recipe function name, e.g. llama3_8b_pretrain_config."
        ),
        gpus: int | None = typer.Option(
            None, "--gpus", help="Total GPUs (default: the recipe's own)."
        ),
        gpu_type: str | None = typer.Option(
            None, "--gpu-type", help="GPU type, e.g. h100, b200, gb200 (default: the recipe's own)."
        ),
        model: str | None = typer.Option(
            None,
            "--model",
            help="Model facts: catalog name or config.json (default: the recipe's model).",
        ),
        dataset: str | None = typer.Option(
            None,
            "--dataset",
            help="The run_recipe.py --dataset preset you will launch with (it replaces the "
            "recipe's dataset; default: the recipe's own).",
        ),
        kind: str | None = typer.Option(
            None, "--kind", help="library or benchmark, when both have the name."
        ),
        index: str | None = typer.Option(
            None, "--index", help="Index: bundled version or JSON file.", envvar="AUTORECIPE_INDEX"
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
        fmt: str = typer.Option("text", "--format", help="text, json or github (CI annotations)."),
    ) -> None:
        """Lint a recipe plus overrides for pitfalls that crash or slow a run; class every change.

        Exit code 0: no errors; 1: errors found; 2: bad input.

        Example: autorecipe check --recipe llama3_8b_pretrain_config --gpus 16 --gpu-type h100 -tp 16 -cp 1

        Example: autorecipe check --recipe qwen3_30b_a3b_pretrain_8gpu_h100_bf16_config
        model.cuda_graph_impl=transformer_engine 'model.cuda_graph_scope=\\[attn,moe_router,moe_preprocess]'
        """
        from autorecipe import api
        from autorecipe.errors import UserError

        if fmt not in ("text", "json", "github"):
            raise UserError(f"--format {fmt}: expected text, json or github")
        report = api.check(
            recipe,
            list(overrides or []),
            gpus=gpus,
            gpu_type=gpu_type,
            model=model,
            dataset=dataset,
            kind=kind,
            index=index,
        )
        if as_json or fmt == "json":
            emit_json(report)
        elif fmt == "github":
            _print_github(report)
        else:
            _print_text(report)
        sys.exit(1 if report.errors else 0)

    @app.command()
    def rules(
        rule_id: str | None = typer.Argument(None, metavar="[ID]", help="A rule id, e.g. AR201."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """List the pitfall rules of `check`, or explain one with its evidence.

        Example: autorecipe rules AR201
        """
        from autorecipe import api

        found = api.list_rules(rule_id)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in found] if rule_id is None else found[0])
            return
        out = console()
        if rule_id is None:
            for r in found:
                out.print(f"{r.id}  {r.severity:<7}  {r.title}", markup=False, soft_wrap=True)
            return
        r = found[0]
        out.print(f"[bold]{r.id}[/bold] {r.title} ({r.severity}, group {r.group})")
        out.print(r.explanation, markup=False)
