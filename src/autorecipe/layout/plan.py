"""`plan` and `estimate` over names: resolve the model and GPU, validate the inputs, and
answer with candidates (or a clear explanation when there is nothing to answer with)."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError
from autorecipe.estimate.memory import DEFAULT_KNOBS, RECOMPUTE_DROPS
from autorecipe.index.schema import Recipe, RecipeIndex
from autorecipe.layout.from_recipe import RecipeLayout, recipe_layout
from autorecipe.layout.rules import check_layout
from autorecipe.layout.schema import Layout
from autorecipe.layout.search import (
    DEFAULT_GBS,
    Rejection,
    check_gpu_count,
    enumerate_layouts,
    explain_rejections,
    what_would_fit,
)
from autorecipe.layout.stages import decoder_layer_count, legal_split
from autorecipe.precision import canonical_precision
from autorecipe.result import Candidate, Change, Finding, RecipeRef

MODES = ("pretrain", "sft", "peft")
RECOMPUTES = ("none", "selective", "full")
# Transformer Engine's context-parallel transports; "allgather" is Megatron-Core DSA's spelling
CP_COMM_TYPES = ("p2p", "a2a", "all_gather", "allgather", "a2a+p2p")
DEFAULT_SEQ_LEN = 4096
# Megatron-Core's recompute_modules the memory model knows: core_attn (its default; it drops
# nothing here, flash attention keeps no s² term) and those whose activations it drops
RECOMPUTE_MODULES = ("core_attn", *RECOMPUTE_DROPS)
# The best layout's MFU below which a plan whose global batch gives each GPU less than one
# sequence per step says so (finding `oversized-allocation`)
LOW_MFU = 0.10


# Layout field → the ConfigContainer override that sets it (Megatron-Bridge 0.6 paths)
OVERRIDE_KEYS = {
    "tp": "model.tensor_model_parallel_size",
    "pp": "model.pipeline_model_parallel_size",
    "vp": "model.virtual_pipeline_model_parallel_size",
    "cp": "model.context_parallel_size",
    "cp_comm_type": "model.cp_comm_type",
    "ep": "model.expert_model_parallel_size",
    "etp": "model.expert_tensor_parallel_size",
    "sp": "model.sequence_parallel",
    "mbs": "train.micro_batch_size",
    "gbs": "train.global_batch_size",
    "recompute": "model.recompute_granularity",
    "recompute_method": "model.recompute_method",
    "recompute_num_layers": "model.recompute_num_layers",
    "recompute_modules": "model.recompute_modules",
    "use_megatron_fsdp": "ddp.use_megatron_fsdp",
    "pipeline_layout": "model.pipeline_model_parallel_layout",
    "first_stage_layers": "model.num_layers_in_first_pipeline_stage",
    "last_stage_layers": "model.num_layers_in_last_pipeline_stage",
    "account_for_embedding": "model.account_for_embedding_in_pipeline_split",
    "account_for_loss": "model.account_for_loss_in_pipeline_split",
}
_MOE_ONLY = {"ep", "etp"}


def layout_overrides(layout: Layout, spec: ModelSpec, base: Layout | None = None) -> dict[str, Any]:
    """The overrides that set `layout` (only those that differ from `base` when given).

    Example:
        >>> layout_overrides(Layout(tp=2, sp=True, gbs=64), llama3_8b)["model.tensor_model_parallel_size"]
        2
    """
    out: dict[str, Any] = {}
    for field, key in OVERRIDE_KEYS.items():
        if field in _MOE_ONLY and not spec.is_moe:
            continue
        value = getattr(layout, field)
        if field == "recompute":
            value = None if value == "none" else value
        if base is not None:
            old = getattr(base, field)
            old = None if field == "recompute" and old == "none" else old
            if old == value:
                continue
        elif value in (None, False) and field not in ("sp", "recompute"):
            continue
        out[key] = value
    return out


def _changes(overrides: dict[str, Any], base: Layout | None) -> list[Change]:
    if importlib.util.find_spec("autorecipe.advise.changes") is None:
        return []
    from autorecipe.advise.changes import classify_change

    gbs_fixed = "train.global_batch_size" not in overrides
    out = []
    for key, value in overrides.items():
        field = next(f for f, k in OVERRIDE_KEYS.items() if k == key)
        old = getattr(base, field) if base is not None else None
        klass, why = classify_change(key, value, old=old, gbs_fixed=gbs_fixed)
        out.append(Change(key=key, value=value, change_class=klass, reason=why))
    return out


class PlanResult(BaseModel):
    """Valid layouts best first; why values were refused; what would fit when nothing does."""

    candidates: list[Candidate]
    fits: bool
    advice: list[str] = Field(default_factory=list)
    rejected: list[dict[str, Any]] = Field(default_factory=list)
    pinned: dict[str, Any] = Field(default_factory=dict)
    # the training mode planned for: --mode, else the --recipe's own, else pretrain
    mode: str = "pretrain"


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UserError(f"--{name} {value!r} is not one of: {', '.join(allowed)}.")
    return value


def _resolve(model: str, gpu_type: str) -> tuple[ModelSpec, GPUSpec]:
    from autorecipe.catalog.gpus import resolve_gpu
    from autorecipe.catalog.models import resolve_model

    return resolve_model(model), resolve_gpu(gpu_type)


def max_seq_len(index: RecipeIndex, spec: ModelSpec) -> int | None:
    """The longest context this model is trained at: its positions or its longest recipe."""
    from autorecipe.advise.choose import checkpoint_key, recipe_seq_length

    key = checkpoint_key(spec.hf_id)
    shipped = [
        s
        for r in index.recipes
        if key and checkpoint_key(r.hf_model_id) == key and (s := recipe_seq_length(r))
    ]
    known = [v for v in [spec.max_position_embeddings, *shipped] if v]
    return max(known) if known else None


def check_seq_len(seq_len: int | None, spec: ModelSpec, model: str) -> Finding | None:
    """UserError when `seq_len` is over the model's longest context (`max_seq_len`), for
    plan and estimate; a warning Finding instead when the catalog lacks the model's
    max_position_embeddings (see `check_seq_limit`). The bundled index is read only when
    the request is over max_position_embeddings (a shipped recipe may go further)."""
    if seq_len is None or (
        spec.max_position_embeddings and seq_len <= spec.max_position_embeddings
    ):
        return None
    from autorecipe.index.load import load_index

    return check_seq_limit(seq_len, max_seq_len(load_index(provenance=False), spec), spec, model)


def check_seq_limit(
    seq_len: int | None, limit: int | None, spec: ModelSpec, model: str
) -> Finding | None:
    """UserError when `seq_len` is over `limit` (from `max_seq_len`) and the catalog knows
    the model's max_position_embeddings: one wording for plan, estimate and recommend.

    Without max_position_embeddings, `limit` is only the longest shipped recipe (or None),
    which says nothing about what the model supports: the answer goes on, with a warning
    Finding (returned) that says so."""
    name = spec.hf_id or model
    if not seq_len or (limit and seq_len <= limit):
        return None
    positions = spec.max_position_embeddings
    if positions:
        which = (
            f"its max_position_embeddings ({positions})"
            if not limit or limit <= positions
            else f"its longest shipped recipe ({limit}; max_position_embeddings is {positions})"
        )
        raise UserError(
            f"--seq-len {seq_len} is over what {name} supports: {limit or positions} tokens, "
            f"the larger of its max_position_embeddings and its longest shipped recipe, here "
            f"{which}; use at most that"
        )
    shipped = (
        f"the longest shipped recipe for {name} runs {limit} tokens"
        if limit
        else f"no shipped recipe trains {name}"
    )
    return Finding(
        id="seq_len_unchecked",
        severity="warning",
        message=(
            f"Sequence length {seq_len} is unchecked: {shipped}; the catalog does not know the "
            "model's max_position_embeddings."
        ),
        fix=(
            "Check max_position_embeddings (and rope_scaling) in the model's config.json "
            f"covers {seq_len} tokens."
        ),
    )


def _recipe_pins(
    recipe: str, spec: ModelSpec, model: str
) -> tuple[RecipeRef, dict[str, Any], RecipeLayout]:
    """The layout factors a recipe pins (from the bundled index), and its whole layout.

    The recipe must be one for `spec`'s checkpoint; a config.json model (no hub id) may
    borrow the recipe of a catalog model of the same architecture (model_type)."""
    from autorecipe.index.load import find_recipe, load_index

    index = load_index()
    found = find_recipe(index, recipe)
    _same_model(found, spec, model, index)
    own = recipe_layout(found)
    lo = own.layout
    pins = {"tp": lo.tp, "pp": lo.pp, "cp": lo.cp, "mbs": lo.mbs}
    if lo.ep > 1:
        pins |= {"ep": lo.ep, "etp": lo.etp}
    ref = RecipeRef(name=found.name, kind=found.kind, alias_of=found.alias_of)
    return ref, pins, own


def _same_model(found: Recipe, spec: ModelSpec, model: str, index: RecipeIndex) -> None:
    from autorecipe.advise.choose import checkpoint_key

    theirs = found.hf_model_id
    if not theirs:
        return  # the index does not say which checkpoint the recipe builds
    if spec.hf_id:
        key = checkpoint_key(spec.hf_id)
        if key == checkpoint_key(theirs):
            return
        own = sorted(
            r.name
            for r in index.recipes
            if r.kind == "library" and checkpoint_key(r.hf_model_id) == key
        )
        some = f" (e.g. {', '.join(own[:3])})" if own else " (the index has none)"
        raise UserError(
            f"--recipe {found.name} is a recipe for {theirs}, not {spec.hf_id}; give a recipe "
            f"of {spec.hf_id}{some}, or drop --recipe"
        )
    from autorecipe.catalog.models import catalog_entries, catalog_spec

    other = catalog_spec(theirs) if theirs in catalog_entries() else None
    if other is None or other.model_type == spec.model_type:
        return
    raise UserError(
        f"--recipe {found.name} is a recipe for {theirs} ({other.model_type}), but {model} is "
        f"a {spec.model_type} model; give a recipe of a {spec.model_type} model, or drop --recipe"
    )


def _rejections(items: list[Rejection]) -> list[dict[str, Any]]:
    return [{"factor": r.factor, "value": r.value, "reason": r.reason} for r in items]


def plan_layouts(
    model: str,
    *,
    gpus: int,
    gpu_type: str,
    mode: str | None = None,
    seq_len: int | None = None,
    precision: str = "bf16",
    global_batch_size: int | None = None,
    recipe: str | None = None,
    top: int | None = 10,
    explain: bool = False,
    allow_cross_nvlink_tp: bool = False,
    tokens: float | None = None,
) -> PlanResult:
    """See autorecipe.api.plan."""
    if mode is not None:
        _check_choice("mode", mode, MODES)
    precision = canonical_precision(precision)
    check_gpu_count(gpus)
    if top is not None and top < 1:
        raise UserError(f"--top must be at least 1 (got {top}).")
    if global_batch_size is not None and global_batch_size < 1:
        raise UserError(f"--global-batch-size must be at least 1 (got {global_batch_size}).")
    if seq_len is not None and seq_len < 1:
        # checked before the defaults: 0 is a typo, not a request for the default
        raise UserError(f"--seq-len must be at least 1 (got {seq_len}); omit it for the default.")
    spec, gpu = _resolve(model, gpu_type)
    seq_note = check_seq_len(seq_len, spec, model)
    ref, pins, knobs = None, {}, DEFAULT_KNOBS
    mode_note = None
    if recipe:
        ref, pins, own = _recipe_pins(recipe, spec, model)
        mode, mode_note = _recipe_mode(mode, own.mode, ref.name)
        global_batch_size = global_batch_size or own.layout.gbs
        seq_len = seq_len or own.seq_len
        knobs = own.knobs
    mode = mode or "pretrain"
    seq_len = seq_len or DEFAULT_SEQ_LEN
    kwargs = dict(
        world_size=gpus, gpu=gpu, seq_len=seq_len, mode=mode, gbs=global_batch_size,
        allow_cross_nvlink_tp=allow_cross_nvlink_tp,
    )  # fmt: skip
    candidates = enumerate_layouts(
        spec, precision=precision, fixed=pins, top=top, knobs=knobs, **kwargs
    )
    resized = None
    if pins and not (candidates and candidates[0].memory and candidates[0].memory.fits):
        # the recipe's own factors do not work (or fit) here: resize freely, keep its GBS
        why = "do not fit" if candidates else "are not valid"
        resized = Finding(
            id="recipe_layout_resized",
            severity="info",
            message=(
                f"{ref.name}'s own factors ({', '.join(f'{k}={v}' for k, v in pins.items())}, "
                f"for {own.world_size} GPUs) {why} on {gpus} × {gpu.key}; these layouts resize it."
            ),
        )
        pins = {}
        candidates = enumerate_layouts(spec, precision=precision, top=top, knobs=knobs, **kwargs)
    rejected = explain_rejections(spec, fixed=pins, **kwargs) if explain or not candidates else []
    if not candidates:
        reasons = (
            "; ".join(f"{r.factor}={r.value}: {r.reason}" for r in rejected[:8])
            or "no factor combination passes Megatron-Core's rules"
        )
        raise UserError(
            f"No parallel layout of {spec.hf_id or model} is valid on {gpus} GPUs "
            f"(seq {seq_len}, GBS {global_batch_size or DEFAULT_GBS[mode]}): {reasons}. "
            "Try a GPU count with more small factors (e.g. a multiple of 8) or another GBS."
        )
    base = own.layout if recipe else None
    if tokens is not None:
        from autorecipe.estimate.throughput import with_token_budget
    for c in candidates:
        if tokens is not None and c.throughput is not None:
            c.throughput = with_token_budget(c.throughput, tokens, gpus)
        c.recipe = ref
        c.overrides = layout_overrides(c.layout, spec, base)
        if resized is not None:
            c.findings.insert(0, resized)
        if seq_note is not None:
            c.findings.insert(0, seq_note)
        if mode_note is not None:
            c.findings.insert(0, mode_note)
        if base is not None:
            c.changes = _changes(c.overrides, base)
    fits = bool(candidates[0].memory and candidates[0].memory.fits)
    if fits:
        small = _small_work(spec, candidates[0], kwargs, precision=precision, knobs=knobs)
        for c in candidates if small is not None else []:
            c.findings.append(small)
    advice: list[str] = []
    if not fits:
        advice = what_would_fit(
            spec, world_size=gpus, gpu=gpu, seq_len=seq_len, mode=mode,
            gbs=global_batch_size, best=candidates[0],
        )  # fmt: skip
        note = Finding(
            id="nothing_fits",
            severity="error",
            message=(
                f"No valid layout fits in {gpu.usable_memory_gib:g} GiB per {gpu.key}: the "
                f"leanest needs {candidates[0].memory.per_gpu_gib:.1f} GiB even with full recompute."
            ),
            fix="; ".join(advice),
        )
        for c in candidates:
            c.findings.insert(0, note)
    return PlanResult(
        candidates=candidates, fits=fits, advice=advice, rejected=_rejections(rejected),
        pinned=pins, mode=mode,
    )  # fmt: skip


def _recipe_mode(
    mode: str | None, recipe_mode: str | None, name: str
) -> tuple[str | None, Finding | None]:
    """The mode to plan for with --recipe: the recipe's own when --mode is not given (said
    as an info Finding unless it is pretrain, the default anyway); a UserError when --mode
    names another one."""
    if recipe_mode is None or mode == recipe_mode:
        return mode, None
    if mode is None and recipe_mode == "pretrain":
        return recipe_mode, None  # the default anyway: nothing to say
    if mode is not None:
        raise UserError(
            f"--mode {mode} but --recipe {name} is a {recipe_mode} recipe; drop --mode to plan "
            f"for {recipe_mode}, or give a recipe for {mode}"
        )
    return recipe_mode, Finding(
        id="recipe_mode",
        severity="info",
        message=f"Planned for {recipe_mode}, the mode of {name} (no --mode given).",
    )


def _small_work(
    spec: ModelSpec, best: Candidate, kwargs: dict[str, Any], **more: Any
) -> Finding | None:
    """`oversized-allocation` when the global batch gives each GPU less than one sequence's
    worth of tokens per step and the best layout's MFU is below LOW_MFU: the GPUs only split
    each sequence and layer further. Said with the MFU the same GPUs would reach at the
    smallest multiple of the batch that gives every GPU one sequence (only when that is
    faster); the fix is fewer GPUs or that larger batch (a convergence change)."""
    lo, tput = best.layout, best.throughput
    gpus, seq_len = kwargs["world_size"], kwargs["seq_len"]
    if lo is None or tput is None or lo.gbs >= gpus or tput.mfu >= LOW_MFU:
        return None
    bigger = lo.gbs * -(-gpus // lo.gbs)
    fed = enumerate_layouts(spec, top=1, **more, **{**kwargs, "gbs": bigger})
    if not fed or not fed[0].throughput or not (fed[0].memory and fed[0].memory.fits):
        return None
    speedup = fed[0].throughput.tokens_per_sec_per_gpu / tput.tokens_per_sec_per_gpu
    if speedup < 1 + LOW_MFU:
        return None  # a larger batch would not help: the model is slow here anyway
    per_gpu = lo.gbs * seq_len / gpus
    fewer = _fits_on(spec, kwargs | {"world_size": lo.gbs}, more)
    return Finding(
        id="oversized-allocation",
        severity="warning",
        message=(
            f"The global batch of {lo.gbs} × {seq_len}-token sequences gives each of the {gpus} "
            f"GPUs {per_gpu:,.0f} tokens per step ({lo.gbs / gpus:.2g} of a sequence): the best "
            f"layout runs each sequence on TP×PP×CP = {lo.tp * lo.pp * lo.cp} GPUs and "
            f"reaches MFU {tput.mfu:.1%}; at GBS {bigger} (one sequence per GPU) the best "
            f"reaches MFU {fed[0].throughput.mfu:.1%}, {speedup:.1f}x the speed per GPU."
        ),
        fix=(
            (f"Use {lo.gbs} GPUs (one sequence each per step), or raise" if fewer else "Raise")
            + f" train.global_batch_size to {bigger} (a convergence change: a new experiment)."
        ),
    )


def _fits_on(spec: ModelSpec, kwargs: dict[str, Any], more: dict[str, Any]) -> bool:
    try:
        found = enumerate_layouts(spec, top=1, **more, **kwargs)
    except UserError:
        return False
    return bool(found and found[0].memory and found[0].memory.fits)


def _recompute_choice(
    recompute: str | None, modules: list[str] | str | None
) -> tuple[str, list[str] | None]:
    """--recompute and --recompute-modules as a granularity and Megatron's recompute_modules:
    modules imply selective (None keeps Megatron's default, core_attn); each must be one the
    memory model knows."""
    if isinstance(modules, str):
        modules = [m for m in modules.replace(" ", "").split(",") if m]
    if recompute is None:
        recompute = "selective" if modules else "none"
    recompute = _check_choice("recompute", recompute.lower(), RECOMPUTES)
    if not modules:
        return recompute, None
    if recompute != "selective":
        raise UserError(
            f"--recompute-modules needs --recompute selective (got --recompute {recompute}); "
            "Megatron-Core reads recompute_modules only with selective granularity"
        )
    unknown = [m for m in modules if m not in RECOMPUTE_MODULES]
    if unknown:
        raise UserError(
            f"--recompute-modules {', '.join(unknown)}: not a module the memory model knows; "
            f"choose from {', '.join(RECOMPUTE_MODULES)}"
        )
    return recompute, list(dict.fromkeys(modules))


def estimate_layout(
    model: str,
    *,
    gpus: int,
    gpu_type: str,
    mode: str = "pretrain",
    precision: str = "bf16",
    seq_len: int = DEFAULT_SEQ_LEN,
    tp: int = 1,
    pp: int = 1,
    vp: int | None = None,
    cp: int = 1,
    ep: int = 1,
    etp: int | None = None,
    mbs: int = 1,
    gbs: int | None = None,
    sp: bool | None = None,
    recompute: str | None = None,
    recompute_modules: list[str] | str | None = None,
    cp_comm_type: str | None = None,
    ep_overlap: bool = False,
    use_megatron_fsdp: bool = False,
    use_distributed_optimizer: bool = True,
    allow_cross_nvlink_tp: bool = False,
    tokens: float | None = None,
) -> Candidate:
    """See autorecipe.api.estimate."""
    _check_choice("mode", mode, MODES)
    precision = canonical_precision(precision)
    recompute, modules = _recompute_choice(recompute, recompute_modules)
    if cp_comm_type is not None:
        cp_comm_type = _check_choice("cp-comm-type", cp_comm_type.lower(), CP_COMM_TYPES)
    spec, gpu = _resolve(model, gpu_type)
    for name, value in (
        ("-tp", tp),
        ("-pp", pp),
        ("-cp", cp),
        ("-ep", ep),
        ("-etp", etp),
        ("-vp", vp),
        ("-mb", mbs),
        ("-gb", gbs),
        ("--gpus", gpus),
        ("--seq-len", seq_len),
    ):
        if value is not None and value < 1:
            hint = "; omit -vp for no virtual pipeline" if name == "-vp" else ""
            raise UserError(f"{name} must be at least 1 (got {value}){hint}.")
    check_gpu_count(gpus)
    mp = tp * pp * cp
    if gpus % mp:
        raise UserError(
            f"TP×PP×CP = {tp}×{pp}×{cp} = {mp} does not divide {gpus} GPUs, so DP is not an "
            f"integer; choose factors whose product divides {gpus}."
        )
    seq_note = check_seq_len(seq_len, spec, model)
    dp = gpus // mp
    # Bridge >= 0.6: ETP defaults to 1 when EP > 1, else to TP
    etp = etp if etp is not None else (1 if ep > 1 else tp)
    if not spec.is_moe and ep == 1 and etp in (1, tp):
        etp = 1  # ETP at its default is moot without experts; any other is ep_requires_moe's
    gbs = gbs if gbs is not None else -(-DEFAULT_GBS[mode] // (mbs * dp)) * mbs * dp
    layout = Layout(
        tp=tp, pp=pp, vp=vp if vp and vp > 1 else None, cp=cp, ep=ep, etp=etp, dp=dp,
        sp=sp if sp is not None else tp > 1, mbs=mbs, gbs=gbs,
        cp_comm_type=cp_comm_type or ("p2p" if cp > 1 else None),
        recompute=recompute,  # type: ignore[arg-type]
        recompute_modules=modules,
        recompute_method="uniform" if recompute == "full" else None,
        recompute_num_layers=1 if recompute == "full" else None,
        use_distributed_optimizer=use_distributed_optimizer or use_megatron_fsdp,
        use_megatron_fsdp=use_megatron_fsdp,
    )  # fmt: skip
    # layers that do not divide over PP×VP: estimate with the split setting Megatron needs
    layers = decoder_layer_count(spec)
    layout, split = legal_split(layers, layout, int(spec.mtp_num_layers or 0))
    violations = check_layout(
        layout, spec, world_size=gpus, seq_len=seq_len, gpu=gpu, mode=mode,
        allow_cross_nvlink_tp=allow_cross_nvlink_tp,
    )  # fmt: skip
    errors = [v for v in violations if v.severity == "error"]
    if errors:
        raise UserError(" ".join(f"[{v.rule}] {v.message} Fix: {v.fix}" for v in errors))
    from autorecipe.estimate.memory import estimate_memory

    if ep_overlap and (layout.ep <= 1 or (layout.pp > 1 and not layout.vp) or recompute == "full"):
        raise UserError(
            "--ep-overlap needs EP > 1, a virtual pipeline (-vp) when PP > 1 and no full "
            "recompute; Megatron-Core asserts all three (rule AR403)"
        )
    knobs = replace(DEFAULT_KNOBS, ep_overlap=ep_overlap)
    memory = estimate_memory(
        spec, layout, gpu, seq_len=seq_len, mode=mode, precision=precision, world_size=gpus,
        knobs=knobs,
    )  # fmt: skip
    throughput = None
    if importlib.util.find_spec("autorecipe.estimate.throughput") is not None:
        from autorecipe.estimate.throughput import estimate_throughput

        throughput = estimate_throughput(
            spec, layout, gpu, seq_len=seq_len, precision=precision, mode=mode, world_size=gpus,
            tokens=tokens, **knobs.speed_settings(),
        )  # fmt: skip
    findings = [
        Finding(id=v.rule, severity="warning", message=v.message, fix=v.fix) for v in violations
    ]
    if seq_note is not None:
        findings.insert(0, seq_note)
    if split:
        findings.append(
            Finding(
                id="pipeline_split",
                severity="info",
                message=f"{layers} decoder layers do not divide over PP×VP = "
                f"{layout.pp}×{layout.vp or 1}; estimated with {split}.",
                fix=f"Set {split} in the recipe (the layout carries it).",
            )
        )
    if not memory.fits:
        findings.insert(
            0,
            Finding(
                id="does_not_fit",
                severity="error",
                message=f"Needs {memory.per_gpu_gib:.1f} GiB per GPU; {gpu.key} has "
                f"{memory.capacity_gib:g} GiB usable.",
                fix="Run `autorecipe plan` for layouts that fit, or use full recompute, "
                "a smaller micro batch, more GPUs, or PEFT.",
            ),
        )
    return Candidate(layout=layout, memory=memory, throughput=throughput, findings=findings)
