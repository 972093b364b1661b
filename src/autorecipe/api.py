"""The one public Python API of autorecipe.

The CLI and the MCP server wrap these functions and add nothing of their own. Every
function takes plain values, returns pydantic models (``.model_dump(mode="json",
by_alias=True)`` gives the documented JSON) and raises ``autorecipe.errors.UserError``
for bad input.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Every section imports its modules when first called, so that a command pays only for
# what it uses (importing them all took longer than most commands' own work). The types
# the signatures name are imported on first attribute access, or all at once by
# `import_types()` for tools that read the annotations at run time.
_TYPES = {
    "IndexDiff": "autorecipe.index.diff",
    "LintReport": "autorecipe.index.lint",
    "RecipeDetail": "autorecipe.index.schema",
    "RecipeIndex": "autorecipe.index.schema",
    "RecipeListing": "autorecipe.index.schema",
    "RecipeSummary": "autorecipe.index.schema",
    "ModelInfo": "autorecipe.catalog.info",
    "GPUSpec": "autorecipe.catalog.spec",
    "PlanResult": "autorecipe.layout.plan",
    "Candidate": "autorecipe.result",
    "Recommendation": "autorecipe.advise.recommend",
    "CheckReport": "autorecipe.advise.check",
    "RuleDoc": "autorecipe.advise.check",
}


def __getattr__(name: str) -> Any:
    if name not in _TYPES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_TYPES[name]), name)
    globals()[name] = value
    return value


def import_types() -> dict[str, type]:
    """Import every type the API's signatures name and bind it in this module, for
    tools that resolve the annotations at run time (the MCP server's tool schemas).

    >>> import_types()["Recommendation"].__name__
    'Recommendation'
    """
    return {name: __getattr__(name) for name in _TYPES}


# --- index: list_recipes, show_recipe, load_index -------------------------------------
if TYPE_CHECKING:
    from autorecipe.index.diff import IndexDiff
    from autorecipe.index.lint import LintReport
    from autorecipe.index.schema import RecipeDetail, RecipeIndex, RecipeListing


def _load_index(index: str | None, *, provenance: bool = True) -> RecipeIndex:
    from autorecipe.index.load import load_index

    return load_index(index, provenance=provenance)


def load_index(index: str | None = None) -> RecipeIndex:
    """The recipe index: a bundled Megatron-Bridge version ("0.6.2", "0.5.1"), a path to
    an index JSON file, or None for $AUTORECIPE_INDEX else the bundled 0.6.2.

    >>> load_index("0.5.1").bridge_version
    '0.5.1'
    """
    return _load_index(index)


def list_recipes(
    family: str | None = None,
    mode: str | None = None,
    kind: str | None = None,
    gpu_type: str | None = None,
    max_gpus: int | None = None,
    index: str | None = None,
) -> RecipeListing:
    """Recipes matching every filter given (family, mode, kind, GPU type, at most N GPUs).

    >>> rows = list_recipes(family="llama", mode="pretrain", kind="benchmark", gpu_type="h100")
    >>> rows.recipes[0].name
    'llama31_405b_pretrain_1024gpu_h100_bf16_config'
    """
    from autorecipe.errors import UserError, did_you_mean
    from autorecipe.index.schema import RecipeListing, RecipeSummary

    idx = _load_index(index, provenance=False)
    choices = {
        "family": (family, sorted({r.family for r in idx.recipes if r.family})),
        "mode": (mode, ["pretrain", "sft", "peft"]),
        "kind": (kind, ["library", "benchmark"]),
        "gpu type": (gpu_type, sorted({r.gpu_type for r in idx.recipes if r.gpu_type})),
    }
    for label, (value, allowed) in choices.items():
        if value is not None and value not in allowed:
            raise UserError(
                f"unknown {label} {value!r} in the {idx.bridge_version} index; choose from: "
                f"{', '.join(allowed)}.{did_you_mean(value, allowed)}"
            )
    if max_gpus is not None and max_gpus < 1:
        raise UserError(f"--max-gpus must be a positive GPU count, not {max_gpus}.")
    rows = [
        RecipeSummary.of(r)
        for r in idx.recipes
        if (family is None or r.family == family)
        and (mode is None or r.mode == mode)
        and (kind is None or r.kind == kind)
        and (gpu_type is None or r.gpu_type == gpu_type)
        and (max_gpus is None or (r.num_gpus is not None and r.num_gpus <= max_gpus))
    ]
    return RecipeListing(bridge_version=idx.bridge_version, count=len(rows), recipes=rows)


def show_recipe(name: str, kind: str | None = None, index: str | None = None) -> RecipeDetail:
    """Every extracted field of one recipe with its provenance, unknowns with reasons.
    A name both kinds use gives the library recipe unless kind="benchmark"; `also_as`
    says the other kind exists.

    >>> show_recipe("llama3_8b_pretrain_config").recipe.fields["context_parallel_size"]
    2
    """
    from autorecipe.errors import UserError
    from autorecipe.index.load import find_recipe, other_kinds
    from autorecipe.index.schema import RecipeDetail

    if kind is not None and kind not in ("library", "benchmark"):
        raise UserError(f"unknown kind {kind!r}; choose from: library, benchmark.")
    idx = _load_index(index)
    recipe = find_recipe(idx, name, kind)  # type: ignore[arg-type]
    return RecipeDetail(
        bridge_version=idx.bridge_version, recipe=recipe, also_as=other_kinds(idx, recipe)
    )


def build_index(source: str, *, exiting: bool = False) -> RecipeIndex:
    """Index a Megatron-Bridge release statically: a checkout (repo root or
    src/megatron/bridge), a megatron_bridge-*.whl file, or "installed".
    exiting=True only in a process that ends right after (the CLI): what the build
    parsed is then never freed, and cyclic garbage collection stays off.

    >>> build_index("megatron_bridge-0.6.2-py3-none-any.whl").bridge_version
    '0.6.2'
    """
    from autorecipe.index.scan import build_index as _build

    return _build(source, exiting=exiting)


def index_json(index: RecipeIndex) -> str:
    """The index as the JSON text that is bundled (compact, defaults left out).

    >>> index_json(load_index("0.6.2")).startswith('{"schema_version"')
    True
    """
    return index.model_dump_json(exclude_defaults=False, exclude_none=False)


def write_index(index: RecipeIndex, out: str) -> None:
    """Write `index_json(index)` and a newline to the file `out` (the bundled files' form),
    as bytes straight from the serializer: twice as fast as text for a 10 MB index.

    >>> write_index(build_index("megatron_bridge-0.6.2-py3-none-any.whl"), "mb-0.6.2.json")
    """
    from pydantic import TypeAdapter

    with open(out, "wb") as f:
        f.write(TypeAdapter(type(index)).dump_json(index))
        f.write(b"\n")


def lint_index(index: str | None = None) -> LintReport:
    """Recipes whose docstring (or name) claims a layout or precision their code does
    not set.

    >>> lint_index("0.6.2").findings[0].contradictions[0]  # doctest: +ELLIPSIS
    "name says bf16, code sets mixed_precision='nanov2_bf16_with_fp8_current_scaling_mixed' ..."
    """
    from autorecipe.index.lint import lint_index as _lint

    return _lint(_load_index(index))


def diff_indexes(old: str, new: str) -> IndexDiff:
    """Recipes added, removed, and fields changed between two indexes (versions or files).

    >>> "library:llama3_8b_pretrain_2gpu_h100_bf16_config" in diff_indexes("0.5.1", "0.6.2").added
    True
    """
    from autorecipe.index.diff import diff_indexes as _diff

    return _diff(_load_index(old), _load_index(new))


# --- catalog: model_info, gpu_info ------------------------------------------------------
if TYPE_CHECKING:
    from autorecipe.catalog.info import ModelInfo
    from autorecipe.catalog.spec import GPUSpec


def model_info(name: str, seq_len: int | None = None, index: str | None = None) -> ModelInfo:
    """A model's spec, total/active/per-layer parameters, training FLOPs per token and
    the recipes the index has for it. `name` is a Hugging Face id, a name as people type
    it ("Llama 3 8B", "qwen3 30b a3b"), or a config.json path (file or directory).

    >>> round(model_info("deepseek v3").params.total / 1e9)
    671
    """
    from autorecipe.catalog.info import model_info as _model_info

    return _model_info(name, seq_len=seq_len, index=index)


def gpu_info(name: str) -> GPUSpec:
    """One GPU type: a catalog name in any common spelling (h100, dgx-h100, gb200), a
    ``custom:mem=96,bf16=700,domain=8`` description, or a JSON file with those keys.

    >>> gpu_info("dgx-h100").usable_memory_gib
    78.0
    """
    from autorecipe.catalog.gpus import resolve_gpu

    return resolve_gpu(name)


def list_gpus() -> list[GPUSpec]:
    """Every GPU type in the bundled catalog.

    >>> [g.key for g in list_gpus()][:2]
    ['A100-40GB', 'A100-80GB']
    """
    from autorecipe.catalog.gpus import list_gpus as _list

    return _list()


# --- layout: plan, estimate -------------------------------------------------------------
if TYPE_CHECKING:
    from autorecipe.layout.plan import PlanResult
    from autorecipe.result import Candidate


def plan(
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
    tokens: str | float | None = None,
) -> PlanResult:
    """Every parallel layout Megatron-Core accepts for `model` on `gpus` GPUs, best first,
    each with its memory per GPU (and speed when the throughput model applies).

    `mode` is pretrain, sft or peft: by default the recipe's own mode with `recipe` (a
    `recipe_mode` info finding says so when it is not pretrain; another `mode` than the
    recipe's is a UserError), else pretrain; `PlanResult.mode` is the one planned for. A selective-recompute layout
    names its modules (`layout.recompute_modules`, override model.recompute_modules).
    A fitting best layout whose global batch gives each GPU less than one sequence per step
    at a poor MFU gets the finding `oversized-allocation`, with the fix.
    `recipe` pins the recipe's own factors and GBS where they are valid here. When nothing
    fits, the leanest layouts come back with `fits=False` and `advice` says what would fit;
    when no layout is valid at all, UserError explains why. `explain=True` fills `rejected`.
    `tokens` (a count, or text like "1T", "500B") adds each layout's time to train on that
    many tokens and its GPU-hours (`throughput.training_time_s`, `throughput.gpu_hours`).

    Example:
        >>> best = plan("llama3-8b", gpus=8, gpu_type="h100", seq_len=8192, tokens="1T").candidates[0]
        >>> best.layout.tp, best.memory.fits, best.throughput.gpu_hours
    """
    from autorecipe.layout.plan import plan_layouts

    return plan_layouts(
        model, gpus=gpus, gpu_type=gpu_type, mode=mode, seq_len=seq_len, precision=precision,
        global_batch_size=global_batch_size, recipe=recipe, top=top, explain=explain,
        allow_cross_nvlink_tp=allow_cross_nvlink_tp, tokens=_token_count(tokens),
    )  # fmt: skip


def estimate(
    model: str,
    *,
    gpus: int,
    gpu_type: str,
    mode: str = "pretrain",
    precision: str = "bf16",
    seq_len: int = 4096,
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
    allow_cross_nvlink_tp: bool = False,
    tokens: str | float | None = None,
) -> Candidate:
    """Memory (and speed) of one explicit layout; UserError listing the broken
    Megatron-Core rules when the layout is invalid. `etp` defaults as Bridge >= 0.6 does
    (1 with EP > 1, else TP); `sp` defaults to TP > 1; `gbs` to a per-mode default
    rounded to a multiple of MBS×DP; `recompute` (none, selective or full) to none, or to
    selective when `recompute_modules` is given: Megatron's recompute_modules (a list or
    "a,b" text: core_attn, layernorm, mlp, moe, moe_act, shared_experts, mla_up_proj),
    by default core_attn (Megatron's own); `plan`'s selective rows name the modules they
    use, and re-estimate with the same `recompute_modules`.
    `cp_comm_type` defaults to p2p with CP > 1; `ep_overlap` (the
    EP all-to-all overlapped with compute, as some MoE recipes set) to off, as in
    Megatron-Core. `tokens` (a count, or text like "1T", "500B") adds the time and
    GPU-hours to train on that many tokens.

    Example:
        >>> c = estimate("qwen3-30b-a3b", gpus=8, gpu_type="h100", tp=1, ep=8, mode="sft")
        >>> c.memory.per_gpu_gib, c.memory.fits
    """
    from autorecipe.layout.plan import estimate_layout

    return estimate_layout(
        model, gpus=gpus, gpu_type=gpu_type, mode=mode, precision=precision, seq_len=seq_len,
        tp=tp, pp=pp, vp=vp, cp=cp, ep=ep, etp=etp, mbs=mbs, gbs=gbs, sp=sp,
        recompute=recompute, recompute_modules=recompute_modules, cp_comm_type=cp_comm_type,
        ep_overlap=ep_overlap, use_megatron_fsdp=use_megatron_fsdp,
        allow_cross_nvlink_tp=allow_cross_nvlink_tp, tokens=_token_count(tokens),
    )  # fmt: skip


def _token_count(tokens: str | float | None) -> float | None:
    """A token budget given as text ("1T", "500B") or a number; UserError when it is neither."""
    from autorecipe.estimate.tokens import parse_tokens

    return None if tokens is None else parse_tokens(str(tokens))


# --- advice: recommend ------------------------------------------------------------------
if TYPE_CHECKING:
    from autorecipe.advise.recommend import Recommendation


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
    tokens: str | float | None = None,
) -> Recommendation:
    """The best shipped recipe for a model, goal (pretrain/sft/peft), GPUs and sequence
    length: dataset preset, layout resized to the allocation, memory and speed estimates,
    every override with its change class, and the launch command for that release.
    The recipe's layout is kept when it runs here; else the planner resizes it, releasing
    the fewest of its factors (`released`). Optional execution-only speed-ups (VP for a
    pipeline without it) are in `tuning`, not in the command; when nothing fits,
    `fits_from_gpus` is the planner's smallest GPU count that does. `precision` (bf16 by
    default) prefers a recipe that trains in it; when none does, the chosen one gets a
    `mixed_precision` override, classed as a convergence change.

    `first_time` fills what is missing with the gentlest start (Llama 3 8B pretraining on
    mock data, one 8-GPU H100 node); `slurm` adds a complete sbatch script. `tokens` ("1T",
    "500B" or a count) adds the time and GPU-hours to train on that many tokens.

    >>> answer = recommend("Qwen3-30B-A3B", "sft", 16, "h100")
    >>> answer.recipe.name, answer.dataset
    ('qwen3_30b_a3b_sft_config', 'tulu3')
    """
    from autorecipe.advise.recommend import recommend as _recommend

    return _recommend(
        model,
        mode,
        gpus,
        gpu_type,
        seq_len=seq_len,
        gpus_per_node=gpus_per_node,
        precision=precision,
        first_time=first_time,
        index=index,
        slurm=slurm,
        tokens=_token_count(tokens),
    )


# --- lint: check ------------------------------------------------------------------------
if TYPE_CHECKING:
    from autorecipe.advise.check import CheckReport, RuleDoc


def check(
    recipe: str,
    overrides: list[str] | None = None,
    *,
    gpus: int | None = None,
    gpu_type: str | None = None,
    model: str | None = None,
    dataset: str | None = None,
    kind: str | None = None,
    index: str | None = None,
) -> CheckReport:
    """Lint a recipe plus launcher overrides on an allocation: findings and change classes.

    `overrides` are run_recipe.py arguments: ``KEY=VALUE`` items (Hydra syntax) and the
    flags ``-tp/-pp/-cp/-vp/-ep/-etp/-gb/-mb/-sl N``. `gpus`/`gpu_type` default to the
    recipe's own; `model` (catalog name or config.json) to the recipe's model; `dataset`
    is the run_recipe.py --dataset preset (a name from the index's presets): it replaces
    the recipe's dataset as the launcher does, and `report.dataset` says which dataset the
    data rules read. A mesh or divisibility error that involves a factor the recipe set
    names it with its file:line, and its fix overrides that factor.

    >>> report = check("llama3_8b_pretrain_config", ["-tp", "6", "-cp", "1"], gpus=12, gpu_type="h100")
    >>> [f.id for f in report.errors]
    ['AR103', 'AR104', 'AR105', 'AR114']
    """
    from autorecipe.advise.check import check_recipe
    from autorecipe.advise.overrides import parse_overrides
    from autorecipe.catalog.gpus import resolve_gpu
    from autorecipe.catalog.models import catalog_entries, catalog_spec, resolve_model
    from autorecipe.errors import UserError, did_you_mean
    from autorecipe.index.load import find_recipe

    lean = _load_index(index, provenance=False)
    found = find_recipe(lean, recipe, kind=kind)  # type: ignore[arg-type]
    preset = None
    if dataset is not None:
        presets = {p.name: p for p in lean.datasets}
        if presets and dataset not in presets:
            raise UserError(
                f"--dataset {dataset}: no such preset in Megatron-Bridge {lean.bridge_version}."
                f"{did_you_mean(dataset, presets) or ' Presets: ' + ', '.join(presets)}"
            )
        preset = presets.get(dataset)
    world = gpus if gpus is not None else found.num_gpus
    if world is None:
        raise UserError(f"{found.name} does not say its GPU count; pass --gpus N")
    if world < 1:
        raise UserError(f"--gpus {world}: the GPU count must be a positive integer")
    gpu_name = gpu_type or found.gpu_type
    if gpu_name is None:
        raise UserError(f"{found.name} does not say its GPU type; pass --gpu-type (e.g. h100)")
    parsed = parse_overrides(list(overrides or []))
    if model is not None:
        spec = resolve_model(model)
    elif found.hf_model_id in catalog_entries():
        try:
            spec = catalog_spec(found.hf_model_id)
        except UserError:
            spec = None  # incomplete catalog facts: AR001 says which rules were skipped
    else:
        spec = None
    return check_recipe(
        found,
        parsed,
        world_size=world,
        gpu=resolve_gpu(gpu_name),
        spec=spec,
        dataset=preset or dataset,
        provenance=lambda: find_recipe(_load_index(index), found.name, found.kind).provenance,
    )


def list_rules(rule_id: str | None = None) -> list[RuleDoc]:
    """The pitfall rules `check` runs (id, title, severity, group, explanation), or one.

    >>> list_rules("AR201")[0].title
    'CUDA graphs need Transformer Engine\\'s RNG tracker'
    """
    from autorecipe.advise.check import rule_docs

    return rule_docs(rule_id)
