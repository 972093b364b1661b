"""`autorecipe recommend`: the recipe, dataset, overrides and launch command for a job."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from autorecipe.cli._output import emit_json, rule

if TYPE_CHECKING:
    from autorecipe.advise.recommend import Recommendation

WIDTH = 80


def register(app: typer.Typer) -> None:
    @app.command("recommend")
    def recommend(
        model: str | None = typer.Option(
            None,
            "--model",
            "-m",
            help="Model: a name ('Llama 3 8B'), a Hugging Face id, or a config.json path.",
        ),
        mode: str | None = typer.Option(
            None, "--mode", help="Training goal: pretrain, sft or peft."
        ),
        gpus: str | None = typer.Option(
            None, "--gpus", "-n", metavar="<int>", help="Number of GPUs you have (e.g. 16, or 1k)."
        ),
        gpu_type: str | None = typer.Option(
            None, "--gpu-type", "-g", help="GPU type, e.g. h100, h200, b200, gb200."
        ),
        seq_len: str | None = typer.Option(
            None,
            "--seq-len",
            "-s",
            help="Sequence length in tokens (32768 or 32k); default: the recipe's.",
        ),
        gpus_per_node: str | None = typer.Option(
            None,
            "--gpus-per-node",
            metavar="<int>",
            help="GPUs per node (default 8; 4 on NVL72-class racks).",
        ),
        precision: str | None = typer.Option(
            None,
            "--precision",
            help="Train in this precision: bf16 (default), fp8, mxfp8, nvfp4. A recipe that "
            "trains in it is preferred; else the closest one gets a mixed_precision override.",
        ),
        first_time: bool = typer.Option(
            False,
            "--first-time",
            help="New to Megatron-Bridge: the gentlest start (defaults: Llama 3 8B pretrain, mock data).",
        ),
        index: str | None = typer.Option(
            None,
            "--index",
            help="Megatron-Bridge release (0.6.2, 0.5.1) or index JSON file.",
            envvar="AUTORECIPE_INDEX",
        ),
        slurm: bool = typer.Option(False, "--slurm", help="Also write a complete sbatch script."),
        tokens: str | None = typer.Option(
            None, "--tokens", help="Token budget (1T, 500B, 2.5e12): adds time and GPU-hours."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Pick the best shipped recipe for a model, goal, GPUs and sequence length; resize it;
        print the exact launch command with every override explained.

        Example: autorecipe recommend --model Qwen3-30B-A3B --mode sft --gpus 16 --gpu-type h100
        """
        from autorecipe import api
        from autorecipe.advise.recommend import parse_count

        answer = api.recommend(
            model,
            mode,
            parse_count(gpus, "--gpus") if gpus is not None else None,
            gpu_type,
            seq_len=parse_count(seq_len, "--seq-len", "32768 or 32k")
            if seq_len is not None
            else None,
            gpus_per_node=parse_count(gpus_per_node, "--gpus-per-node")
            if gpus_per_node is not None
            else None,
            precision=precision,
            first_time=first_time,
            index=index,
            slurm=slurm,
            tokens=tokens,
        )
        if json_out:
            emit_json(answer)
        else:
            render(answer)


def bullet(text: str, width: int = WIDTH) -> list[str]:
    """A bullet wrapped to `width`, continuation lines indented under its text.

    Words are never split, so a long KEY=VALUE stays whole (and copyable) on its line.
    """
    import textwrap

    return textwrap.wrap(
        text,
        width=width,
        initial_indent="• ",
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def render(answer: Recommendation) -> None:
    """Short sections for people: Recipe, Why, Command, Overrides, Rules that apply, Pitfalls
    (and Tuning when there is an optional speed-up).

    Plain text under a rule line rather than boxes, so that the command copies cleanly;
    prose is wrapped here (bullets indent under their text), commands never are.
    """
    import shutil

    from autorecipe.launch import format_value, override_args

    width = min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH)

    def section(title: str, lines: list[str], *, bullets: bool = True) -> None:
        print(rule(title, width))
        for line in lines:
            for out in bullet(line, width) if bullets else [line]:
                print(out)

    recipe, lo, mem, thr = answer.recipe, answer.layout, answer.memory, answer.throughput
    head = (
        [f"{recipe.name}  ({recipe.kind}, Megatron-Bridge {answer.bridge_version})"]
        if recipe
        else []
    )
    if recipe and recipe.alias_of:
        head.append(f"alias of {recipe.alias_of}")
    head.append(f"dataset preset: {answer.dataset}")
    tuned = (
        f"tuned for {answer.recipe_gpus} GPU{'s' if answer.recipe_gpus != 1 else ''}"
        if answer.recipe_gpus
        else "the recipe names no GPU count"
    )
    head.append(f"{tuned}; you have {answer.gpus} × {answer.gpu_type}")
    if answer.node_note:
        head.append(answer.node_note)
    if lo:
        head.append(
            f"layout: TP {lo.tp} PP {lo.pp}{f' VP {lo.vp}' if lo.vp else ''} CP {lo.cp} "
            f"EP {lo.ep} ETP {lo.etp} DP {lo.dp} SP {'on' if lo.sp else 'off'} "
            f"MBS {lo.mbs} GBS {lo.gbs}"
        )
    if mem:
        verdict = "fits" if mem.fits else "does NOT fit"
        head.append(
            f"memory: {mem.per_gpu_gib:.1f} of {mem.capacity_gib:.0f} GiB per GPU, {verdict}"
        )
    if thr:
        head.append(
            f"speed (estimate): {thr.tokens_per_sec_per_gpu:,.0f} tokens/s/GPU, MFU {thr.mfu:.0%}"
        )
        # what the speed estimate had to assume (an uncalibrated GPU, EP across domains)
        head += [f"speed caveat: {note}" for note in thr.assumptions]
    if thr and thr.training_time_s is not None:
        from autorecipe.estimate.tokens import duration_text

        head.append(
            f"time to train (estimate): {duration_text(thr.training_time_s)}, "
            f"{thr.gpu_hours:,.0f} GPU-hours"
        )
    print(rule("Recipe", width))
    for line in head:
        for out in textwrap_plain(line, width):
            print(out)

    why = list(answer.reasons)
    why += [f"differs from your model: {d}" for d in answer.differences]
    if answer.dataset_reason:
        why.append(f"dataset {answer.dataset}: {answer.dataset_reason}")
    if answer.dataset_alternatives:
        why.append(f"other presets: {', '.join(answer.dataset_alternatives)}")
    if answer.runner_up:
        why.append(f"runner-up: {answer.runner_up.why}")
    if answer.benchmark:
        why.append(f"benchmark recipe: {answer.benchmark.recipe.name} ({answer.benchmark.why})")
    why.append(f"note: {answer.benchmark_note}")
    section("Why", why)

    section("Command", (answer.command or "").splitlines(), bullets=False)
    if answer.benchmark and answer.benchmark.command:
        section(
            "Benchmark command (upper bound, mock data)",
            answer.benchmark.command.splitlines(),
            bullets=False,
        )

    overrides = [
        f"{c.key}={format_value(c.value)} [{c.change_class}]: {c.reason or ''}"
        for c in answer.changes
    ]
    if overrides:
        section("Overrides", overrides)
    else:
        section(
            "Overrides",
            ["none: the recipe runs as shipped; torchrun sets the GPU count"],
            bullets=False,
        )
    for tune in answer.tuning:
        section(
            f"Tuning (optional, execution-only): {tune.name}",
            [tune.reason, "add to the command:"],
        )
        for arg in override_args(tune.overrides):
            print(f"    {arg}")
    rules = [f"{r.rule}: {r.status}" for r in answer.rules]
    section("Rules that apply", rules or ["no valid layout: see Pitfalls"])
    pitfalls = [
        f"[{f.severity}] {f.message}" + (f" Fix: {f.fix}" if f.fix else "") for f in answer.findings
    ]
    section("Pitfalls", pitfalls or ["none found"])
    if answer.slurm_script:
        section("sbatch script", answer.slurm_script.splitlines(), bullets=False)


def textwrap_plain(text: str, width: int = WIDTH) -> list[str]:
    """A plain line wrapped to `width`, continuation lines indented two columns."""
    import textwrap

    return textwrap.wrap(
        text, width=width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    )
