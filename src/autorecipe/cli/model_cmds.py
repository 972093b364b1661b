"""`autorecipe model NAME|HF_ID|PATH` and `autorecipe gpus [NAME]`."""

from __future__ import annotations

import typer

from autorecipe.cli._output import console, emit_json


def register(app: typer.Typer) -> None:
    @app.command("model")
    def model(
        name: str = typer.Argument(
            ...,
            help="Hugging Face id, a name as you would type it ('Llama 3 8B', 'qwen3 30b a3b'), "
            "or a config.json path (file or checkpoint directory).",
        ),
        seq_len: int | None = typer.Option(
            None,
            "--seq-len",
            help="Sequence length for FLOPs/token (default: what its pretrain recipes use, else 4096).",
        ),
        index: str | None = typer.Option(
            None,
            "--index",
            help="Recipe index: 0.6.2, 0.5.1 or an index JSON file.",
            envvar="AUTORECIPE_INDEX",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """A model's shape, parameter counts (total, active, per layer), training FLOPs per
        token as Megatron-Bridge counts them, and the recipes that exist for it.

        Example: autorecipe model "qwen3 30b a3b"   |   autorecipe model ./ckpt/config.json --json
        """
        from autorecipe import api

        info = api.model_info(name, seq_len=seq_len, index=index)
        if json_out:
            emit_json(info)
            return
        _print_model(info)

    @app.command("gpus")
    def gpus(
        name: str | None = typer.Argument(
            None,
            help="Show one type: h100, dgx-h100, gb200, a100-40gb… or custom:mem=96,bf16=700,domain=8 "
            "(keys: mem, bf16 required; fp8, fp4, domain, nvlink, net, hbm, exp, usable, name), "
            "or a JSON file with those keys.",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """The GPU catalog: memory (usable = capacity - 2 GiB for driver and CUDA context),
        dense peak TFLOP/s by precision, HBM and NVLink bandwidth, NVLink domain, network.

        Example: autorecipe gpus   |   autorecipe gpus gb200 --json
        """
        from autorecipe import api

        rows = [api.gpu_info(name)] if name is not None else api.list_gpus()
        if json_out:
            emit_json({"gpus": [g.model_dump(mode="json") for g in rows]})
            return
        _print_gpus(rows)


def _billions(n: float) -> str:
    return f"{n / 1e9:,.2f}B"


def _print_model(info) -> None:
    from rich.table import Table

    con = console()
    s, p, f = info.spec, info.params, info.flops
    con.print(f"[bold]{s.hf_id or s.source}[/]  ({s.model_type or '?'}, {s.architecture_type})")
    shape = (
        f"{s.num_hidden_layers} layers, hidden {s.hidden_size}, {s.num_attention_heads} heads / "
        f"{s.num_key_value_heads} KV heads x {s.head_dim}, vocab {s.vocab_size:,}"
        f"{', tied embeddings' if s.tie_word_embeddings else ''}"
    )
    con.print(shape)
    if s.is_moe:
        con.print(
            f"MoE: {s.num_experts} experts, top-{s.num_experts_per_tok}, expert FFN {s.moe_intermediate_size}"
            f", shared {s.shared_expert_intermediate_size or 0}, first {s.first_k_dense_replace or 0} layers dense"
        )
    con.print(f"Parameters: total {_billions(p.total)}, active {_billions(p.active)} per token")
    table = Table("layers", "kind", "params/layer", "active/layer")
    for g in p.layers:
        span = str(g.first) if g.first == g.last else f"{g.first}-{g.last}"
        table.add_row(span, g.kind, f"{g.params_per_layer:,}", f"{g.active_per_layer:,}")
    con.print(table)
    con.print("By component: " + ", ".join(f"{k} {_billions(v)}" for k, v in p.components.items()))
    if p.mtp:
        con.print(f"MTP block: {_billions(p.mtp)} (not in total)")
    con.print(
        f"Training FLOPs/token at seq {f.seq_len:,} ({f.seq_len_from}): {f.training_per_token:.4g}"
        f" (forward {f.forward_per_token:.4g})"
    )
    con.print(f"Source: {s.source}{'  [unverified]' if s.unverified else ''}")
    for note in info.notes + p.notes:
        con.print(f"note: {note}")
    con.print(f"Library recipes in Megatron-Bridge {info.bridge_version}:")
    for name in info.library_recipes or ["none"]:
        con.print(f"  {name}", soft_wrap=True)
    if info.benchmark_recipes:
        where = " or ".join(
            f"`autorecipe list --kind benchmark --family {family}`"
            for family in info.recipe_families
        )
        con.print(
            f"Benchmark recipes (upper-bound throughput on mock data): "
            f"{len(info.benchmark_recipes)}; see {where}"
        )


def _print_gpus(rows) -> None:
    from rich.table import Table

    # A borderless table with short headers fits 80 columns without truncating the GPU
    # type, the one column people copy into --gpu-type.
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("type", no_wrap=True)
    for header in ("GiB", "use", "bf16", "fp8", "fp4", "HBM", "NVL", "dom", "net", "exp"):
        table.add_column(header, justify="right", no_wrap=True)
    for g in rows:
        peak = g.peak_tflops

        def fmt(x):
            return "-" if x is None else f"{x:g}"

        table.add_row(
            g.key,
            fmt(g.memory_gib),
            fmt(g.usable_memory_gib),
            fmt(peak.get("bf16")),
            fmt(peak.get("fp8")),
            fmt(peak.get("fp4")),
            fmt(g.hbm_bandwidth_tb_s),
            fmt(g.nvlink_gb_s_per_gpu_bidirectional),
            str(g.nvlink_domain_size),
            fmt(g.internode_network_per_gpu_gbps),
            fmt(g.bf16_flops_per_exp),
        )
    con = console()
    con.print(table)
    con.print(
        "GiB: capacity; use: usable GiB (capacity - 2 GiB for driver and CUDA context); "
        "bf16/fp8/fp4: dense TFLOP/s per GPU; HBM: TB/s; NVL: NVLink GB/s per GPU "
        "(both directions); dom: NVLink domain size; net: inter-node Gb/s per GPU; "
        "exp: bf16 tensor-core FLOPs per softmax exponential (what attention's softmax costs)."
    )
