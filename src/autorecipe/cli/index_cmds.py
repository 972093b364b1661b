"""`autorecipe index build|lint|diff`, `autorecipe list`, `autorecipe show`."""

from __future__ import annotations

import os
import sys

import typer

from autorecipe.cli._output import console, emit_json

INDEX_HELP = "Index: a bundled Megatron-Bridge version (0.6.2, 0.5.1) or an index JSON file."


def _index_opt() -> str | None:
    return typer.Option(None, "--index", help=INDEX_HELP, envvar="AUTORECIPE_INDEX")


def _own_process() -> bool:
    """Whether this command runs as its own process: a test runner that calls it inside
    its own process swaps sys.stdout to capture the output."""
    return sys.stdout is sys.__stdout__


def _exit_without_teardown() -> None:
    """End a successful `index build` process now: its work is written, and tearing down
    the interpreter (every imported module, the index) took ~0.08 s of a ~1 s command."""
    if _own_process():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(
        help="Build, lint and compare recipe indexes.\n\n\b\nExample: autorecipe index build --source installed --out mb.json",
        no_args_is_help=True,
        rich_markup_mode=None,  # plain help, as the main app's (fast)
    )
    app.add_typer(index_app, name="index")

    @index_app.command("build")
    def build(
        source: str = typer.Option(
            ...,
            "--source",
            help="Megatron-Bridge checkout, a megatron_bridge-*.whl, or 'installed'.",
        ),
        out: str | None = typer.Option(
            None, "--out", help="Write the index JSON here (default: stdout)."
        ),
    ) -> None:
        """Extract every recipe of a Megatron-Bridge release, statically (nothing is imported).

        Example: autorecipe index build --source megatron_bridge-0.6.2-py3-none-any.whl --out mb-0.6.2.json
        """
        from autorecipe import api

        # In its own process the command exits right after: nothing needs freeing.
        index = api.build_index(source, exiting=_own_process())
        if out is None:
            typer.echo(api.index_json(index))
            _exit_without_teardown()
            return
        api.write_index(index, out)
        skipped = (
            f", skipped {len(index.skipped_files)} file(s): "
            + "; ".join(f"{p} ({why})" for p, why in index.skipped_files.items())
            if index.skipped_files
            else ""
        )
        typer.echo(
            f"wrote {out}: {len(index.recipes)} recipes of Megatron-Bridge {index.bridge_version}{skipped}",
            err=True,
        )
        _exit_without_teardown()

    @index_app.command("lint")
    def lint(
        index: str | None = _index_opt(),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """List recipes whose docstring or name claims what their code does not set.

        Example: autorecipe index lint --index 0.6.2
        """
        from autorecipe import api

        report = api.lint_index(index)
        if json_out:
            emit_json(report)
            return
        con = console()
        for item in report.findings:
            con.print(f"[bold]{item.kind}:{item.name}[/] ({item.location})")
            for text in item.contradictions:
                con.print(f"  - {text}")
        con.print(
            f"{len(report.findings)} recipe(s) with docstring/code contradictions in Megatron-Bridge {report.bridge_version}"
        )

    @index_app.command("diff")
    def diff(
        old: str = typer.Argument(..., help="Older index: version or JSON file."),
        new: str = typer.Argument(..., help="Newer index: version or JSON file."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """What changed between two releases' recipes: added, removed, changed fields.

        Example: autorecipe index diff 0.5.1 0.6.2
        """
        from autorecipe import api

        report = api.diff_indexes(old, new)
        if json_out:
            emit_json(report)
            return
        con = console()
        con.print(f"Megatron-Bridge {report.old_version} -> {report.new_version}")
        # One name a line: names are long, and people grep and copy them.
        for title, style, names in (
            ("added", "green", report.added),
            ("removed", "red", report.removed),
        ):
            con.print(f"[{style}]{title} ({len(names)}):[/]")
            for name in names:
                con.print(f"  {name}", soft_wrap=True)
        con.print(f"[yellow]changed ({len(report.changed)}):[/]")
        for change in report.changed:
            con.print(f"  [bold]{change.name}[/]")
            for key, (before, after) in change.fields.items():
                con.print(f"    {key}: {before!r} -> {after!r}")

    @app.command("list")
    def list_cmd(
        family: str | None = typer.Option(
            None, "--family", help="Model family folder, e.g. llama, qwen, deepseek."
        ),
        mode: str | None = typer.Option(None, "--mode", help="pretrain, sft or peft."),
        kind: str | None = typer.Option(None, "--kind", help="library or benchmark."),
        gpu_type: str | None = typer.Option(None, "--gpu-type", help="h100, b200, gb200, ..."),
        max_gpus: int | None = typer.Option(
            None, "--max-gpus", help="Only recipes for at most N GPUs."
        ),
        index: str | None = _index_opt(),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """List recipes of the index, with their layout.

        Example: autorecipe list --family qwen --mode sft --max-gpus 16
        """
        from autorecipe import api

        listing = api.list_recipes(family, mode, kind, gpu_type, max_gpus, index)
        if json_out:
            emit_json(listing)
            return
        rows = []
        for row in listing.recipes:
            lay = row.layout
            gpus = str(row.num_gpus or "?") + (f"x{row.gpu_type}" if row.gpu_type else "")
            rows.append(
                [row.name + ("*" if row.alias_of else ""), "bench" if row.kind == "benchmark" else "lib",
                 row.mode or "?", gpus, row.precision or "?",
                 *(_cell(lay.get(k)) for k in ("tp", "pp", "cp", "ep", "gbs", "seq_length"))]
            )  # fmt: skip
        headers = ["recipe", "kind", "mode", "gpus", "prec", "TP", "PP", "CP", "EP", "GBS", "seq"]
        typer.echo(_table(headers, rows, _output_width()))
        typer.echo(f"{listing.count} recipe(s), Megatron-Bridge {listing.bridge_version}.")
        typer.echo("* = alias of another recipe (see `autorecipe show`); - = not set by the recipe")

    @app.command("show")
    def show(
        recipe: str = typer.Argument(..., help="Recipe function name."),
        kind: str | None = typer.Option(
            None, "--kind", help="library or benchmark, when both use the name."
        ),
        index: str | None = _index_opt(),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Every extracted field of a recipe with its source line; unknowns with reasons.

        Example: autorecipe show llama3_8b_pretrain_config
        """
        from autorecipe import api

        detail = api.show_recipe(recipe, kind, index)
        if json_out:
            emit_json(detail)
            return
        _print_detail(detail)


def _table(headers: list[str], rows: list[list[str]], width: int | None) -> str:
    """A plain aligned table (rich's Table needs seconds for a thousand rows; this needs
    milliseconds) whose recipe names are never broken, so that they can be copied.
    When one line per recipe would be wider than `width`, each recipe takes two lines:
    its name, then its columns indented below it."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def columns(cells: list[str]) -> str:
        return " ".join(c.ljust(w) for c, w in zip(cells[1:], widths[1:], strict=True))

    table = [headers, *rows]
    if width is None or sum(w + 1 for w in widths) - 1 <= width:
        return "\n".join(f"{c[0].ljust(widths[0])} {columns(c)}".rstrip() for c in table)
    return "\n".join(line for c in table for line in (c[0], f"  {columns(c)}".rstrip()))


def _output_width() -> int | None:
    """The terminal's width (or $COLUMNS); no limit when the output goes to a file or a
    pipe, where one line per recipe is what grep and friends need."""
    import os
    import shutil
    import sys

    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return None


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _print_detail(detail) -> None:
    r = detail.recipe
    con = console()
    con.soft_wrap = True  # one field per line, however long its provenance
    con.print(f"[bold]{r.name}[/] ({r.kind} recipe, Megatron-Bridge {detail.bridge_version})")
    if detail.also_as:
        con.print(
            f"  note: a {', '.join(detail.also_as)} recipe has the same name; pass --kind to see it"
        )
    if r.alias_of:
        con.print(f"  alias of {r.alias_of} (defined at {r.defined_at})")
    con.print(f"  module {r.module}  ({r.file}:{r.line})")
    for label in (
        "family",
        "model_size",
        "mode",
        "hf_model_id",
        "num_gpus",
        "gpu_type",
        "precision",
        "peft_scheme",
    ):
        value = getattr(r, label)
        if value is not None:
            con.print(f"  {label}: {value}")
    if r.docstring:
        con.print(f"  doc: {r.docstring}")
    if r.raises:
        con.print(f"  [red]always raises:[/] {r.raises}")
    for note in r.notes:
        con.print(f"  note: {note}")
    for text in r.contradictions:
        con.print(f"  [yellow]docstring contradiction:[/] {text}")
    if r.fields:
        con.print("[bold]fields[/]")
        width = max(len(k) for k in r.fields)
        for key, value in r.fields.items():
            con.print(f"  {key:<{width}} = {value!r}  [dim]{r.provenance.get(key, '')}[/]")
    if r.unknown:
        con.print("[bold]unknown[/]")
        for key, reason in r.unknown.items():
            con.print(f"  {key}: {reason}")
