"""`autorecipe plan` (every valid layout, best first) and `autorecipe estimate` (one layout)."""

from __future__ import annotations

import typer

from autorecipe.cli._output import console, emit_json

MODEL = typer.Option(
    ..., "--model", "-m", help="Catalog name, Hugging Face id or config.json path."
)
GPUS = typer.Option(..., "--gpus", "-n", help="Total number of GPUs.")
GPU_TYPE = typer.Option(..., "--gpu-type", "-g", help="GPU type, e.g. h100, h200, b200, gb200.")
PRECISION = typer.Option("bf16", "--precision", help="bf16, fp8, mxfp8 or nvfp4.")
JSON = typer.Option(False, "--json", help="Print one JSON document.")
TOKENS = typer.Option(
    None, "--tokens", help="Token budget (1T, 500B, 2.5e12): adds time to train and GPU-hours."
)


def _layout_text(lo) -> str:
    parts = [f"TP{lo.tp}", f"PP{lo.pp}"]
    if lo.vp:
        parts.append(f"VP{lo.vp}")
    if lo.cp > 1:
        parts.append(f"CP{lo.cp}")
    parts.append(f"DP{lo.dp}")
    if lo.ep > 1 or lo.etp > 1:
        parts += [f"EP{lo.ep}", f"ETP{lo.etp}"]
    return "·".join(parts) + ("+SP" if lo.sp else "") + ("+FSDP" if lo.use_megatron_fsdp else "")


def _budget(tput) -> list[str]:
    from autorecipe.estimate.tokens import duration_text

    if tput is None or tput.training_time_s is None:
        return ["—", "—"]
    return [duration_text(tput.training_time_s), f"{tput.gpu_hours:,.0f}"]


def _recompute_text(lo) -> str:
    """full(N layers), selective(its modules; Megatron's default core_attn when unset), none."""
    if lo.recompute == "full":
        return f"full({lo.recompute_num_layers})"
    if lo.recompute == "selective":
        return f"selective({','.join(lo.recompute_modules or ['core_attn'])})"
    return lo.recompute


def _row(c, tokens: bool) -> list[str]:
    lo, mem, tput = c.layout, c.memory, c.throughput
    recompute = _recompute_text(lo)
    return [
        _layout_text(lo),
        str(lo.mbs),
        str(lo.gbs),
        recompute,
        f"{mem.per_gpu_gib:.1f}" if mem else "?",
        "yes" if mem and mem.fits else "NO",
        f"{tput.tokens_per_sec_per_gpu:,.0f}" if tput else "—",
        f"{tput.mfu:.0%}" if tput else "—",
        *(_budget(tput) if tokens else []),
    ]


def _seq_len(text: str | None) -> int | None:
    """--seq-len as recommend reads it: a whole count, "32k" allowed. A plain number goes to
    the API as it is, whose range check says what this command needs (at least 1)."""
    from autorecipe.advise.recommend import parse_count

    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return parse_count(text, "--seq-len", "32768 or 32k")


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        model: str = MODEL,
        mode: str | None = typer.Option(
            None, "--mode", help="pretrain, sft or peft (default: the --recipe's, else pretrain)."
        ),
        gpus: int = GPUS,
        gpu_type: str = GPU_TYPE,
        seq_len: str | None = typer.Option(
            None,
            "--seq-len",
            "-s",
            help="Sequence length in tokens (8192 or 8k; default 4096, or the recipe's).",
        ),
        precision: str = PRECISION,
        global_batch_size: int | None = typer.Option(
            None,
            "--global-batch-size",
            "-gb",
            help="Global batch size (default: the recipe's, else 512 pretrain / 128 finetune rounded to DP).",
        ),
        recipe: str | None = typer.Option(
            None, "--recipe", help="Start from this recipe's layout and GBS."
        ),
        top: int = typer.Option(10, "--top", help="How many layouts to show."),
        explain: bool = typer.Option(
            False, "--explain", help="Also list every refused factor value and why."
        ),
        allow_cross_nvlink_tp: bool = typer.Option(
            False, "--allow-cross-nvlink-tp", help="Allow TP beyond the NVLink domain."
        ),
        tokens: str | None = TOKENS,
        as_json: bool = JSON,
    ) -> None:
        """Every parallel layout Megatron-Core accepts for the allocation, best first, with memory per GPU
        and predicted speed (and, with --tokens, time to train).

        Example: autorecipe plan --model llama3-8b --mode pretrain --gpus 8 --gpu-type h100 --seq-len 8192 --tokens 1T
        """
        from autorecipe import api

        result = api.plan(
            model, gpus=gpus, gpu_type=gpu_type, mode=mode, seq_len=_seq_len(seq_len),
            precision=precision,
            global_batch_size=global_batch_size, recipe=recipe, top=top, explain=explain,
            allow_cross_nvlink_tp=allow_cross_nvlink_tp, tokens=tokens,
        )  # fmt: skip
        if as_json:
            emit_json(
                {
                    "candidates": [c.to_json() for c in result.candidates],
                    "fits": result.fits,
                    "advice": result.advice,
                    "rejected": result.rejected,
                    "mode": result.mode,
                }
            )
            return
        from rich.table import Table

        out = console()
        # Borderless, so the common case (no --tokens) fits 80 columns; with --tokens the
        # table may be wider rather than hide numbers.
        out.width = max(out.width, 104 if tokens else 80)
        capacity = result.candidates[0].memory.capacity_gib
        mode = result.mode
        out.print(f"{model} · {mode} · {gpus} × {gpu_type} ({capacity:g} GiB usable), best first")
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("layout", no_wrap=True)
        columns = ["MBS", "GBS", "recompute", "GiB/GPU", "fits", "tok/s/GPU", "MFU"]
        for col in columns + ([f"time for {tokens}", "GPU-h"] if tokens else []):
            table.add_column(
                col, no_wrap=True, justify="left" if col in ("recompute", "fits") else "right"
            )
        for c in result.candidates:
            table.add_row(*_row(c, bool(tokens)))
        from rich.measure import Measurement

        # never truncate a cell: widen to the table's natural width (long layouts, modules)
        out.width = max(
            out.width, Measurement.get(out, out.options.update_width(400), table).maximum
        )
        out.print(table)
        gbs_seen = sorted({c.layout.gbs for c in result.candidates if c.layout})
        if global_batch_size is None and recipe is None and len(gbs_seen) > 1:
            # A different GBS is a different experiment: say the rows are not like for like.
            out.print(
                f"GBS: no --global-batch-size given, so the {mode} default is rounded up to a "
                f"multiple of MBS×DP per layout ({', '.join(map(str, gbs_seen))}); pass -gb "
                "to compare layouts at one GBS."
            )
        # a speed caveat every row shares (an uncalibrated GPU) is said once, under the table
        shared = [
            set(c.throughput.assumptions) if c.throughput else set() for c in result.candidates
        ]
        for note in sorted(set.intersection(*shared) if shared else set()):
            out.print(f"speed caveat: {note}")
        if not result.fits:
            out.print(f"[bold red]Nothing fits.[/] {result.candidates[0].findings[0].message}")
            for line in result.advice:
                out.print(f"  • {line}")
        seen = set()
        for c in result.candidates[:1]:
            for f in c.findings:
                if f.id not in seen and f.id != "nothing_fits":
                    seen.add(f.id)
                    fix = f" Fix: {f.fix}" if f.fix and f.id == "oversized-allocation" else ""
                    out.print(f"[yellow]{f.severity}[/] {f.id}: {f.message}{fix}")
        if explain:
            out.print("[bold]Refused:[/]")
            for r in result.rejected:
                out.print(f"  {r['factor']}={r['value']}: {r['reason']}")

    @app.command()
    def estimate(
        model: str = MODEL,
        gpus: int = GPUS,
        gpu_type: str = GPU_TYPE,
        mode: str = typer.Option("pretrain", "--mode", help="pretrain, sft or peft."),
        precision: str = PRECISION,
        seq_len: str = typer.Option(
            "4096", "--seq-len", "-s", help="Sequence length in tokens (8192 or 8k)."
        ),
        tp: int = typer.Option(1, "-tp", "--tp", help="Tensor parallel size."),
        pp: int = typer.Option(1, "-pp", "--pp", help="Pipeline parallel size."),
        vp: int | None = typer.Option(
            None, "-vp", "--vp", help="Virtual pipeline stages per PP rank."
        ),
        cp: int = typer.Option(1, "-cp", "--cp", help="Context parallel size."),
        ep: int = typer.Option(1, "-ep", "--ep", help="Expert parallel size."),
        etp: int | None = typer.Option(
            None,
            "-etp",
            "--etp",
            help="Expert tensor parallel size (default: 1 with EP > 1, else TP).",
        ),
        mbs: int = typer.Option(1, "-mb", "--mbs", help="Micro batch size."),
        gbs: int | None = typer.Option(None, "-gb", "--gbs", help="Global batch size."),
        sp: bool | None = typer.Option(
            None, "--sp/--no-sp", help="Sequence parallel (default: on when TP > 1)."
        ),
        recompute: str | None = typer.Option(
            None, "--recompute", help="none, selective or full (default: none)."
        ),
        recompute_modules: str | None = typer.Option(
            None,
            "--recompute-modules",
            help="Selective recompute's modules, e.g. layernorm,mlp (implies selective; "
            "default core_attn, Megatron's).",
        ),
        cp_comm_type: str | None = typer.Option(
            None, "--cp-comm-type", help="p2p (default with CP > 1), a2a, all_gather or a2a+p2p."
        ),
        ep_overlap: bool = typer.Option(
            False,
            "--ep-overlap",
            help="The EP all-to-all overlap is on (comm_overlap.overlap_moe_expert_parallel_comm).",
        ),
        fsdp: bool = typer.Option(False, "--fsdp", help="Megatron-FSDP (optim_grads_params)."),
        allow_cross_nvlink_tp: bool = typer.Option(
            False, "--allow-cross-nvlink-tp", help="Allow TP beyond the NVLink domain."
        ),
        tokens: str | None = TOKENS,
        as_json: bool = JSON,
    ) -> None:
        """Memory per GPU (and speed) of one explicit layout; exit 2 with the broken rules if Megatron-Core would reject it.

        Example: autorecipe estimate --model qwen3-30b-a3b --gpus 8 --gpu-type h100 --mode sft -tp 1 -ep 8 --tokens 500B
        """
        from autorecipe import api

        c = api.estimate(
            model, gpus=gpus, gpu_type=gpu_type, mode=mode, precision=precision,
            seq_len=_seq_len(seq_len),
            tp=tp, pp=pp, vp=vp, cp=cp, ep=ep, etp=etp, mbs=mbs, gbs=gbs, sp=sp,
            recompute=recompute, recompute_modules=recompute_modules, cp_comm_type=cp_comm_type,
            ep_overlap=ep_overlap,
            use_megatron_fsdp=fsdp, allow_cross_nvlink_tp=allow_cross_nvlink_tp, tokens=tokens,
        )  # fmt: skip
        if as_json:
            emit_json(c.to_json())
            return
        out = console()
        mem = c.memory
        out.print(
            f"[bold]{_layout_text(c.layout)}[/] SP={'on' if c.layout.sp else 'off'} MBS={c.layout.mbs} "
            f"GBS={c.layout.gbs} recompute={_recompute_text(c.layout)}"
        )
        b = mem.breakdown
        out.print(
            f"memory per GPU: {mem.per_gpu_gib:.1f} GiB of {mem.capacity_gib:g} usable — "
            f"{'fits' if mem.fits else 'DOES NOT FIT'}\n"
            f"  weights {b.weights:.1f} · gradients {b.gradients:.1f} · optimizer {b.optimizer:.1f} · "
            f"activations {b.activations:.1f} · other {b.other:.1f} GiB"
        )
        if c.throughput:
            t = c.throughput
            out.print(
                f"speed: {t.tokens_per_sec_per_gpu:,.0f} tokens/s/GPU, {t.model_tflops_per_gpu:.0f} "
                f"TFLOP/s/GPU, MFU {t.mfu:.0%}, step {t.step_time_s:.2f} s"
            )
            if t.training_time_s is not None:
                time_text, gpu_hours = _budget(t)
                out.print(f"time to train on {tokens} tokens: {time_text}, {gpu_hours} GPU-hours")
        for f in c.findings:
            out.print(f"[yellow]{f.severity}[/] {f.id}: {f.message} Fix: {f.fix}")
        assumptions = mem.assumptions + (c.throughput.assumptions if c.throughput else [])
        out.print("assumptions: " + "; ".join(assumptions))
