"""recommend: the recipe, dataset preset, overrides and launch command for a user's job.

Pipeline: resolve the model and GPU → choose the recipe from the index (advise.choose) →
adapt its layout to the allocation and sequence length (advise.adapt) → write the
overrides, each with its change class (advise.changes) → pick the dataset preset
(advise.datasets) → write the command as the release's launcher expects (launch).
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

from pydantic import BaseModel, Field

from autorecipe.advise.adapt import (
    Adapted,
    Target,
    adapt_layout,
    recipe_layout,
    recipe_pins,
    smallest_fitting_world,
)
from autorecipe.advise.check import check_recipe
from autorecipe.advise.choose import (
    Choice,
    Query,
    checkpoint_key,
    choose_recipe,
    recipe_precision,
    recipe_seq_length,
)
from autorecipe.advise.datasets import choose_dataset
from autorecipe.advise.moves import Move, classed, layout_moves, setting_moves
from autorecipe.advise.tuning import Tuning, all_to_all_cp, data_parallel_overlap, interleave
from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import catalog_entries, catalog_spec, resolve_model
from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError, did_you_mean
from autorecipe.estimate.throughput import estimate_throughput, peak_flops
from autorecipe.index.load import load_index
from autorecipe.index.schema import Mode, Recipe, RecipeIndex
from autorecipe.launch import (
    PRETRAINED_KEY,
    PRETRAINED_VAR,
    SEQ_LENGTH_KEY,
    benchmark_command,
    launcher_for,
    node_note,
    node_shape,
    pretrained_checkpoint_how,
    slurm_script,
    torchrun_command,
)
from autorecipe.layout.from_recipe import recipe_knobs
from autorecipe.layout.plan import check_seq_limit, max_seq_len
from autorecipe.layout.schema import Layout
from autorecipe.layout.search import check_gpu_count
from autorecipe.precision import PRESETS, canonical_precision
from autorecipe.result import Candidate, Change, Finding, Memory, RecipeRef, Throughput

MODES: tuple[str, ...] = get_args(Mode)
BENCHMARK_LABEL = (
    "benchmark recipes are upper-bound throughput configs on mock data (perf_recipes, "
    "launched with scripts/training/train.sh or scripts/performance/setup_experiment.py), "
    "not production training"
)
FIRST_TIME_MODEL = "meta-llama/Meta-Llama-3-8B"
# NVL72-class racks are built from 4-GPU compute trays; HGX nodes hold 8.
NVL72_NODE_GPUS = 4
HGX_NODE_GPUS = 8
# The recipe fields the layout is read from: unknowns among them are worth a line.
LAYOUT_FIELDS = frozenset(
    {
        "tensor_model_parallel_size",
        "pipeline_model_parallel_size",
        "virtual_pipeline_model_parallel_size",
        "pipeline_model_parallel_layout",
        "context_parallel_size",
        "sequence_parallel",
        "global_batch_size",
        "micro_batch_size",
        "seq_length",
        "dataset.seq_length",
        "recompute_granularity",
    }
)
# Only when neither the recipe nor the model states a sequence length.
DEFAULT_SEQ = 4096


class Alternative(BaseModel):
    """Another recipe worth knowing about, and why it is not the answer."""

    recipe: RecipeRef
    why: str
    num_gpus: int | None = None
    command: str | None = None


class ResizingRule(BaseModel):
    """One of the seed's resizing rules and how it applies to this answer."""

    rule: str
    status: str


class Recommendation(Candidate):
    """recommend's answer: DESIGN.md's Candidate plus the reasoning behind it."""

    bridge_version: str
    model: str
    mode: Mode
    gpus: int
    gpu_type: str
    gpus_per_node: int
    nodes: int
    node_note: str | None = Field(
        None, description="how the GPUs split over nodes when not whole nodes"
    )
    fits_from_gpus: int | None = Field(
        None, description="when nothing fits: the fewest GPUs on which the planner finds a fit"
    )
    seq_length: int
    recipe_gpus: int | None = Field(None, description="GPU count the recipe was tuned for")
    recipe_layout: Layout | None = None
    layout_kept: bool = True
    released: list[str] = Field(
        default_factory=list, description="recipe factors the planner let move to resize it"
    )
    reasons: list[str] = Field(default_factory=list)
    differences: list[str] = Field(default_factory=list)
    variants: list[str] = Field(
        default_factory=list, description="equally matching variants (_deterministic, ...)"
    )
    dataset_reason: str | None = None
    dataset_alternatives: list[str] = Field(default_factory=list)
    runner_up: Alternative | None = None
    benchmark: Alternative | None = None
    benchmark_note: str = BENCHMARK_LABEL
    rules: list[ResizingRule] = Field(default_factory=list)
    tuning: list[Tuning] = Field(
        default_factory=list,
        description="optional execution-only speed-ups, not in the command: try and measure",
    )
    slurm_script: str | None = None


def parse_count(text: str, what: str, example: str = "8") -> int:
    """A positive whole number from user text; "32k" / "128K" allowed (x1024).

    >>> parse_count("32k", "--seq-len")
    32768
    """
    raw = text.strip().lower()
    scale = 1024 if raw.endswith("k") else 1
    digits = raw[:-1] if scale > 1 else raw
    if not digits.isdigit() or int(digits) < 1:
        raise UserError(f"{what} must be a positive whole number, e.g. {example}; got {text!r}")
    return int(digits) * scale


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise UserError(
            f"unknown mode {mode!r}; use one of: {', '.join(MODES)}.{did_you_mean(mode, MODES)}"
        )
    return mode  # type: ignore[return-value]


def _recipe_spec(hf_id: str) -> ModelSpec | None:
    """The catalog's spec for a recipe's checkpoint, or None (never the network)."""
    if hf_id not in catalog_entries():
        return None
    try:
        return catalog_spec(hf_id)
    except UserError:
        return None


def gpu_type_token(gpu: GPUSpec, index: RecipeIndex) -> str:
    """The GPU name recipe files use for `gpu` (``H100-SXM`` -> ``h100``), or its key."""
    norm = "".join(ch for ch in gpu.key.lower() if ch.isalnum())
    tokens = {r.gpu_type.lower() for r in index.recipes if r.gpu_type}
    hits = [t for t in tokens if t in norm]
    return max(hits, key=len) if hits else norm


def _known_gpu(name: str | None) -> GPUSpec | None:
    if not name:
        return None
    try:
        return resolve_gpu(name)
    except UserError:
        return None


def _overrides(
    before: Layout,
    after: Layout,
    seq_len: int,
    recipe_seq: int | None,
    pretrained: str | None = None,
    precision: Move | None = None,
    fields: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Change]]:
    """KEY=VALUE overrides taking the recipe from `before` to `after`, each classed;
    `pretrained` says what the release takes as the starting checkpoint, when one is due,
    `precision` switches the recipe to the precision asked for, and the recipe's `fields`
    say which of its settings the new layout cannot keep."""
    moves = [precision] if precision else []
    if recipe_seq != seq_len:
        moves.append(
            Move(
                SEQ_LENGTH_KEY,
                seq_len,
                recipe_seq,
                f"you asked for {seq_len} tokens (recipe: {recipe_seq}); the launcher copies "
                "dataset.seq_length into model.seq_length, so model.seq_length alone is reverted",
            )
        )
    if pretrained:
        moves.append(
            Move(
                PRETRAINED_KEY,
                PRETRAINED_VAR,
                None,
                "fine-tuning starts from pretrained weights, and the recipe names none (it "
                "builds the model with load_weights=False, so without this it trains from "
                f"random weights); set {PRETRAINED_VAR[1:]} to {pretrained}",
            )
        )
    return classed(moves + layout_moves(before, after) + setting_moves(fields or {}, after))


def _rules(
    spec: ModelSpec, gpu: GPUSpec, lo: Layout, gpus: int, seq_len: int, adapted: Adapted
) -> list[ResizingRule]:
    g = spec.num_key_value_heads
    tp_rule = (
        f"TP={lo.tp} divides num_key_value_heads={g}"
        if g % lo.tp == 0
        else f"TP={lo.tp} is a multiple of num_key_value_heads={g}: KV heads are replicated"
    )
    domain = gpu.nvlink_domain_size
    moe = (
        f"expert mesh ETP×EP×PP = {lo.etp}×{lo.ep}×{lo.pp} divides {gpus}; "
        f"EP={lo.ep} divides {spec.num_experts} experts"
        if spec.is_moe
        else "no experts: only the dense mesh applies"
    )
    cp = (
        f"CP={lo.cp} with cp_comm_type={lo.cp_comm_type or 'p2p'} for {seq_len} tokens"
        if lo.cp > 1
        else f"CP=1: {seq_len} tokens need no context parallelism here"
    )
    fits = adapted.memory is not None and adapted.memory.fits
    return [
        ResizingRule(rule="TP divides num_key_value_heads (GQA)", status=tp_rule),
        ResizingRule(
            rule="TP within the NVLink domain unless NVL72-class",
            status=f"TP={lo.tp} within the {domain}-GPU NVLink domain of {gpu.key}"
            if lo.tp <= domain
            else f"TP={lo.tp} crosses the {domain}-GPU NVLink domain",
        ),
        ResizingRule(rule="SP when TP > 1", status=f"SP {'on' if lo.sp else 'off'} at TP={lo.tp}"),
        ResizingRule(rule="CP for long context, with cp_comm_type", status=cp),
        ResizingRule(
            rule="DP is implicit: W / (TP·PP·CP)",
            status=f"DP = {gpus} / ({lo.tp}·{lo.pp}·{lo.cp}) = {lo.dp}; GBS {lo.gbs} unchanged",
        ),
        ResizingRule(
            rule="dense and expert meshes each divide the world size",
            status=f"dense mesh TP×CP×DP×PP = {lo.tp}×{lo.cp}×{lo.dp}×{lo.pp} = {gpus}; {moe}",
        ),
        ResizingRule(
            rule="reduce micro_batch_size first on OOM",
            status=f"MBS={lo.mbs}; fits in memory"
            if fits
            else f"MBS={lo.mbs} and still over memory: add GPUs, recompute or offload",
        ),
    ]


def _findings(
    adapted: Adapted,
    recipe: Recipe,
    before: Layout,
    gpu: GPUSpec,
    gpus: int,
    lint: list[Finding],
    shipped_seq: int | None,
    fits_from: tuple[int | None, int] = (None, 0),
) -> list[Finding]:
    """recommend's own findings, then the linter's (advise.check) on the final overrides.

    The linter's memory prediction (AR601) is left out: the answer's own memory verdict
    below covers the same layout. Its positions warning (AR122) is left out where
    Megatron-Bridge ships a recipe for this checkpoint at that length or longer.
    """
    found: list[Finding] = []
    mem = adapted.memory
    if adapted.layout is None:
        mp = before.tp * before.pp * before.cp
        found.insert(
            0,
            Finding(
                id="no-valid-layout",
                severity="error",
                message=f"No layout of {gpus} GPUs keeps the recipe's global batch size "
                f"{before.gbs} and passes Megatron-Core's checks (first problem of the recipe's "
                "own layout is listed below).",
                fix=f"Use a multiple of {mp} GPUs (the recipe's TP×PP×CP), or change "
                "train.global_batch_size (a convergence change: a new experiment).",
            ),
        )
        found += [
            Finding(id=v.rule, severity=v.severity, message=v.message, fix=v.fix)
            for v in adapted.violations
        ]
    elif adapted.trusted_recipe and mem is not None:
        found.append(
            Finding(
                id="memory-estimate-above-recipe",
                severity="info",
                message=f"Estimated {mem.per_gpu_gib:.1f} GiB per GPU is above the "
                f"{mem.capacity_gib:.0f} GiB usable, but the shipped recipe runs this layout with "
                "no more sharding on its own GPUs; the recipe is trusted over the estimate.",
                fix="Watch memory on the first steps; reduce micro_batch_size first if it runs out.",
            )
        )
    elif mem is not None and not mem.fits:
        found.append(
            Finding(
                id="memory",
                severity="error",
                message=f"No layout of {gpus} × {gpu.key} fits {_training_words(recipe.mode)}: "
                f"the planner's leanest needs an estimated {mem.per_gpu_gib:.1f} GiB per GPU, "
                f"over the {mem.capacity_gib:.0f} GiB usable.",
                fix=_memory_advice(mem, recipe, gpus, adapted.layout, fits_from),
            )
        )
    if recipe.mode in ("sft", "peft") and not recipe.fields.get(PRETRAINED_KEY):
        found.append(
            Finding(
                id="no-pretrained-checkpoint",
                severity="warning",
                message=f"The recipe sets no {PRETRAINED_KEY}, so {recipe.mode.upper()} would "
                "start from random weights (it builds the model with load_weights=False); the "
                f"command passes {PRETRAINED_VAR} instead.",
                fix=f"Set {PRETRAINED_VAR[1:]} before launching (see the comment above the "
                f"command), i.e. {PRETRAINED_KEY}=PATH.",
            )
        )
    for attr, reason in sorted(recipe.unknown.items()):
        if attr in LAYOUT_FIELDS:
            found.append(
                Finding(
                    id="unknown-field",
                    severity="info",
                    message=f"The recipe's {attr} is unknown: {reason}.",
                )
            )
    covered = {"AR601"} | ({"AR122"} if shipped_seq and adapted.layout else set())
    return found + [f for f in lint if f.id not in covered]


def _training_words(mode: str | None) -> str:
    return {"pretrain": "full-parameter pretraining", "sft": "full-parameter SFT"}.get(
        mode or "", "LoRA fine-tuning"
    )


def _memory_advice(
    mem: Memory, recipe: Recipe, gpus: int, lo: Layout | None, fits_from: tuple[int | None, int]
) -> str:
    """What would make it fit: the planner's smallest GPU count, then what needs none."""
    advice = []
    smallest, tried_upto = fits_from
    if smallest is not None and smallest <= tried_upto:
        advice.append(
            f"the smallest GPU count at which the planner finds a layout that fits is {smallest}"
        )
    elif smallest is not None:
        advice.append(
            f"the planner finds a layout that fits at {smallest} GPUs (at no launchable count "
            f"up to {tried_upto}; counts in between not tried)"
        )
    else:
        advice.append(f"the planner finds no layout that fits up to {tried_upto} GPUs either")
    if recipe.num_gpus and recipe.num_gpus > gpus:
        advice.append(f"the recipe is tuned for {recipe.num_gpus} GPUs")
    if lo is not None and lo.recompute != "full":
        advice.append("full activation recompute (model.recompute_granularity=full)")
    if mem.per_gpu_gib - mem.breakdown.optimizer <= mem.capacity_gib:
        advice.append(
            "offload the optimizer state to the CPU (optimizer.optimizer_cpu_offload=True): "
            f"about {mem.per_gpu_gib - mem.breakdown.optimizer:.0f} GiB per GPU"
        )
    if recipe.mode != "peft":
        advice.append("or train LoRA adapters instead of all weights (--mode peft)")
    return "; ".join(advice) + "."


def _seq_of(recipe) -> int:
    """The sequence length the recipe trains at (the launcher's, dataset.seq_length), or 0."""
    for key in ("dataset.seq_length", "seq_length"):
        value = recipe.fields.get(key)
        if isinstance(value, int):
            return value
    return 0


def _benchmark_recipe(index: RecipeIndex, choice: Choice, query: Query) -> Recipe | None:
    """The benchmark recipe for this model, mode, GPU type and count, if one ships."""
    key = checkpoint_key(choice.entry.hf_model_id)
    hits = [
        r
        for r in index.recipes
        if r.kind == "benchmark"
        and r.mode == query.mode
        and checkpoint_key(r.hf_model_id) == key
        and (r.gpu_type or "").lower() == query.gpu_type
        and r.num_gpus == query.gpus
    ]
    if not hits:
        return None
    # Prefer the precision asked for (BF16 by default) and the benchmark's sequence length
    # closest to the request; say its own length and precision, since a benchmark at 8K
    # says little about a 32K run.
    wanted = query.precision or "bf16"
    return min(
        hits,
        key=lambda r: (
            recipe_precision(r) != wanted,
            abs(_seq_of(r) - query.seq_len) if query.seq_len and _seq_of(r) else 0,
            len(r.name),
            r.name,
        ),
    )


def _benchmark(best: Recipe, query: Query, gpus_per_node: int) -> Alternative:
    shape = ", ".join(
        part
        for part in (
            f"seq {_seq_of(best)}" if _seq_of(best) else "",
            (best.precision or "").upper(),
        )
        if part
    )
    return Alternative(
        recipe=RecipeRef(name=best.name, kind=best.kind, alias_of=best.alias_of),
        why=f"{shape + '; ' if shape else ''}upper-bound throughput config on mock data, "
        "not production training",
        num_gpus=best.num_gpus,
        command=benchmark_command(
            recipe=best.name,
            num_gpus=best.num_gpus or query.gpus,
            gpus_per_node=gpus_per_node,
            mode=query.mode,
        ),
    )


def recommend(
    model: str | None,
    mode: str | None,
    gpus: int | None,
    gpu_type: str | None,
    *,
    seq_len: int | None = None,
    gpus_per_node: int | None = None,
    precision: str | None = None,
    first_time: bool = False,
    index: str | None = None,
    slurm: bool = False,
    tokens: float | None = None,
) -> Recommendation:
    """The best recipe, dataset preset, overrides and launch command for a job.

    With `first_time`, missing answers default to the gentlest start: Llama 3 8B
    pretraining on mock data on one H100 node.
    """
    if first_time:
        model, mode, gpu_type = model or FIRST_TIME_MODEL, mode or "pretrain", gpu_type or "h100"
    if model is None or mode is None or gpu_type is None:
        raise UserError("--model, --mode and --gpu-type are required (or use --first-time)")
    checked_mode = _check_mode(mode)
    if precision is not None:
        precision = canonical_precision(precision)
    idx = load_index(index, provenance=False)
    launcher = launcher_for(idx.bridge_version)
    spec = resolve_model(model)
    gpu = resolve_gpu(gpu_type)
    if precision is not None:
        peak_flops(gpu, precision)  # refused as plan and estimate refuse it
    if gpus is None:
        gpus = HGX_NODE_GPUS if first_time else 0
    if gpus < 1:
        raise UserError(f"--gpus must be a positive whole number of GPUs; got {gpus}")
    check_gpu_count(gpus)
    per_node = gpus_per_node or (
        NVL72_NODE_GPUS if gpu.nvlink_domain_size > HGX_NODE_GPUS else HGX_NODE_GPUS
    )
    if per_node < 1:
        raise UserError(f"--gpus-per-node must be a positive whole number; got {per_node}")
    limit = max_seq_len(idx, spec)
    seq_note = check_seq_limit(seq_len, limit, spec, model)  # a warning when unchecked

    query = Query(
        mode=checked_mode,
        gpus=gpus,
        gpu_type=gpu_type_token(gpu, idx),
        seq_len=seq_len,
        precision=precision,
    )
    choice = choose_recipe(idx, spec, query, _recipe_spec)
    adapted, choice, query = _fit(idx, spec, gpu, choice, query)
    recipe = choice.entry
    switch = _precision_switch(recipe, precision)
    before = recipe_layout(recipe, idx.bridge_version, spec)
    recipe_seq = recipe_seq_length(recipe)
    seq = seq_len or recipe_seq or spec.max_position_embeddings or DEFAULT_SEQ
    target = _target(recipe, spec, gpu, query, seq)
    tuned = (
        [
            t
            for t in (
                interleave(target, adapted.layout),
                all_to_all_cp(target, adapted.layout),
                data_parallel_overlap(target, adapted.layout, recipe.fields),
            )
            if t
        ]
        if adapted.layout
        else []
    )
    needs_weights = query.mode in ("sft", "peft") and not recipe.fields.get(PRETRAINED_KEY)
    how = pretrained_checkpoint_how(launcher) if needs_weights else None
    overrides, changes = _overrides(
        before, adapted.layout or before, seq, recipe_seq, how, switch, recipe.fields
    )

    data = choose_dataset(idx.datasets, query.mode, launcher, first_time=first_time)
    tp = adapted.layout.tp if adapted.layout else 1
    command_args = dict(
        recipe=choice.recipe.name,
        dataset=data.name,
        overrides=overrides,
        gpus=gpus,
        gpus_per_node=per_node,
        tp=tp,
        notes=(f"Set {PRETRAINED_VAR[1:]} to {how}.",) if how else (),
    )
    nodes, _ = node_shape(gpus, per_node, tp)
    mem = adapted.memory
    short = mem is not None and not mem.fits and not adapted.trusted_recipe
    fits_from, tried_upto = (
        smallest_fitting_world(target, before.gbs, per_node) if short else (None, gpus)
    )
    # The preset's index facts, not only its name: the launcher replaces the recipe's
    # dataset with it, and the data rules (packing, VLM data) must see what will run.
    preset = next((p for p in idx.datasets if p.name == data.name), data.name)
    lint = check_recipe(recipe, overrides, world_size=gpus, gpu=gpu, spec=spec, dataset=preset)
    if seq_note is not None:
        lint.findings.insert(0, seq_note)
    reasons = list(choice.reasons)
    bench = _benchmark_recipe(idx, choice, query)
    if switch:
        reasons.append(_precision_reason(switch, recipe, query, bench))
    if first_time:
        reasons.insert(0, "first time: the most travelled path, on data that needs no download")
    if adapted.layout is None:
        reasons.append(
            f"no layout of {gpus} GPUs works for this recipe without changing its global batch"
        )
    elif adapted.kept:
        reasons.append(
            f"the recipe's layout is kept; data parallelism grows to DP={adapted.layout.dp} on {gpus} GPUs"
            if adapted.layout.dp != before.dp
            else "the recipe's layout runs unchanged on this allocation"
        )
    else:
        pins = recipe_pins(before, spec)
        held = [f.upper() for f in pins if f not in adapted.released]
        reasons.append(
            f"the recipe's layout is not kept on {gpus} GPUs ({adapted.moved_because}); "
            f"the planner resized it keeping {', '.join(held) or 'none of its factors'}"
            + (
                f", releasing {', '.join(f.upper() for f in adapted.released)}"
                if adapted.released
                else ""
            )
            + ", best by predicted speed among the layouts that fit"
            if adapted.memory and adapted.memory.fits
            else f"the recipe's layout is not kept on {gpus} GPUs ({adapted.moved_because}); "
            "no layout fits: the planner's leanest is shown"
        )
    speed = (
        estimate_throughput(
            spec,
            adapted.layout,
            gpu,
            seq_len=seq,
            precision=target.precision,
            mode=query.mode,
            world_size=gpus,
            tokens=tokens,
            **target.knobs.speed_settings(),
        )
        if adapted.layout and adapted.memory
        else None
    )
    return Recommendation(
        recipe=RecipeRef(
            name=choice.recipe.name, kind=choice.recipe.kind, alias_of=choice.recipe.alias_of
        ),
        dataset=data.name,
        command=torchrun_command(launcher, **command_args),
        overrides=overrides,
        layout=adapted.layout,
        memory=adapted.memory,
        throughput=speed,
        findings=_other_model(choice, spec, query.mode)
        + _oversized(target, before, adapted.layout, speed)
        + _findings(
            adapted, recipe, before, gpu, gpus, lint.findings, limit, (fits_from, tried_upto)
        ),
        changes=changes,
        bridge_version=idx.bridge_version,
        model=spec.hf_id or model,
        mode=query.mode,
        gpus=gpus,
        gpu_type=gpu.key,
        gpus_per_node=per_node,
        nodes=nodes,
        node_note=node_note(gpus, per_node, tp),
        fits_from_gpus=fits_from,
        seq_length=seq,
        recipe_gpus=recipe.num_gpus,
        recipe_layout=before,
        layout_kept=adapted.kept,
        released=list(adapted.released),
        reasons=reasons,
        differences=choice.differences,
        variants=choice.variants,
        dataset_reason=data.reason,
        dataset_alternatives=list(data.others),
        runner_up=Alternative(
            recipe=RecipeRef(
                name=choice.runner_up.name,
                kind=choice.runner_up.kind,
                alias_of=choice.runner_up.alias_of,
            ),
            why=choice.runner_up_reason or "",
            num_gpus=choice.runner_up.num_gpus,
        )
        if choice.runner_up
        else None,
        benchmark=_benchmark(bench, query, per_node) if bench else None,
        rules=_rules(spec, gpu, adapted.layout, gpus, seq, adapted) if adapted.layout else [],
        tuning=tuned,
        slurm_script=slurm_script(launcher, **command_args) if slurm else None,
    )


# Extra GPUs that bring less than this share of their own speed are not worth having.
USEFUL_SCALING = 0.5


def _oversized(
    target: Target, before: Layout, after: Layout | None, speed: Throughput | None
) -> list[Finding]:
    """More GPUs than the recipe's global batch can feed at its own model parallelism, when
    the extra ones only split each sequence or layer further and bring less than half their
    share of speed (GPU-hours wasted)."""
    mp = before.tp * before.pp * before.cp
    useful = mp * max(before.gbs // max(before.mbs, 1), 1)
    if after is None or speed is None or target.world <= useful:
        return []
    fed = before.model_copy(update={"dp": useful // mp, "sp": before.tp > 1})
    try:
        small = estimate_throughput(
            target.spec, fed, target.gpu, seq_len=target.seq_len, precision=target.precision,
            mode=target.mode, world_size=useful, **target.knobs.speed_settings(),
        )  # fmt: skip
    except UserError:
        return []
    total_small = small.tokens_per_sec_per_gpu * useful
    total = speed.tokens_per_sec_per_gpu * target.world
    if total / total_small >= USEFUL_SCALING * target.world / useful:
        return []
    return [
        Finding(
            id="oversized-allocation",
            severity="warning",
            message=f"The recipe's global batch of {before.gbs} sequences (micro batch "
            f"{before.mbs}) feeds {useful} GPUs at its own TP×PP×CP = {mp}; the other "
            f"{target.world - useful} only split the work further (TP {after.tp}, PP {after.pp}, "
            f"CP {after.cp}): predicted {total:,.0f} tokens/s on {target.world} GPUs against "
            f"{total_small:,.0f} on {useful}, {total / total_small:.1f}x the speed for "
            f"{target.world / useful:.0f}x the GPUs.",
            fix=f"Run on {useful} GPUs, or raise train.global_batch_size to at least "
            f"{target.world // mp * before.mbs} (a convergence change: a new experiment).",
        )
    ]


def _other_model(choice: Choice, spec: ModelSpec, mode: str) -> list[Finding]:
    """When no recipe builds the model asked for, the command trains the recipe's own model:
    said as a finding, an error where a checkpoint of the model asked for must load."""
    if choice.exact_model:
        return []
    built = choice.entry.hf_model_id or "the recipe's model"
    differs = "; ".join(choice.differences[:4])
    return [
        Finding(
            id="other-model",
            severity="error" if mode in ("sft", "peft") else "warning",
            message=f"This command builds {built}, the recipe's own model, not {spec.hf_id}: "
            f"Megatron-Bridge ships no {mode} recipe for it"
            + (
                f", and a {spec.hf_id} checkpoint will not load into it ({differs})"
                if mode in ("sft", "peft")
                else f" ({differs})"
            )
            + f". Memory and speed above are {spec.hf_id}'s in this layout.",
            fix=f"Write a recipe from {choice.recipe.name} whose model is "
            f"AutoBridge.from_hf_pretrained('{spec.hf_id}').to_megatron_provider(), keeping its "
            "other settings, and launch that.",
        )
    ]


def _precision_switch(recipe: Recipe, wanted: str | None) -> Move | None:
    """The override that makes `recipe` train in the precision asked for, if it does not."""
    have = recipe_precision(recipe)
    if wanted is None or wanted == have:
        return None
    return Move(
        "mixed_precision",
        PRESETS[wanted],
        recipe.fields.get("mixed_precision"),
        f"you asked for {wanted.upper()} and the recipe trains in {have.upper()}",
    )


def _precision_reason(switch: Move, recipe: Recipe, query: Query, bench: Recipe | None) -> str:
    have = recipe_precision(recipe).upper()
    wanted = str(query.precision).upper()
    shipped = (
        f"; NVIDIA's benchmark {bench.name} trains it in {wanted}"
        if bench and recipe_precision(bench) == query.precision
        else ""
    )
    return (
        f"no {query.mode} recipe for this model trains in {wanted}: the {have} one, switched "
        f"with {switch.key}={switch.new} (changes the numerics){shipped}"
    )


def _target(recipe: Recipe, spec: ModelSpec, gpu: GPUSpec, query: Query, recipe_seq: int) -> Target:
    """The allocation, with the recipe's own memory-relevant settings (optimizer dtypes,
    LoRA rank, ...) so that the kept layout and the planner are estimated alike; in the
    precision asked for, which an override sets when the recipe trains in another."""
    rank = recipe.fields.get("peft.dim")
    return Target(
        spec=spec,
        world=query.gpus,
        gpu=gpu,
        seq_len=query.seq_len or recipe_seq,
        mode=query.mode,
        precision=query.precision or recipe_precision(recipe),
        knobs=recipe_knobs(recipe.fields),
        lora_rank=rank if isinstance(rank, int) and rank > 0 else 32,
    )


def _fit(
    idx: RecipeIndex, spec: ModelSpec, gpu: GPUSpec, choice: Choice, query: Query
) -> tuple[Adapted, Choice, Query]:
    """Adapt the chosen recipe; on one GPU, full SFT that cannot fit falls back to PEFT."""

    def run(c: Choice, q: Query) -> Adapted:
        recipe = c.entry
        recipe_seq = recipe_seq_length(recipe) or spec.max_position_embeddings or DEFAULT_SEQ
        return adapt_layout(
            recipe,
            recipe_layout(recipe, idx.bridge_version, spec),
            _target(recipe, spec, gpu, q, recipe_seq),
            recipe_seq=recipe_seq,
            recipe_gpu=_known_gpu(recipe.gpu_type),
            own_run=c.exact_model and _precision_switch(recipe, q.precision) is None,
        )

    adapted = run(choice, query)
    if query.gpus == 1 and query.mode == "sft" and adapted.memory and not adapted.memory.fits:
        peft_query = dataclasses.replace(query, mode="peft")
        try:
            peft = choose_recipe(idx, spec, peft_query, _recipe_spec)
        except UserError:
            return adapted, choice, query
        peft_adapted = run(peft, peft_query)
        peft.reasons.insert(
            0,
            f"one GPU: full SFT needs ~{adapted.memory.per_gpu_gib:.0f} GiB and does not fit, "
            "so PEFT (LoRA) instead — the seed's rule for a single GPU",
        )
        return peft_adapted, peft, peft_query
    return adapted, choice, query
