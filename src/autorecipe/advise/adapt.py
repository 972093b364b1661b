"""Adapt a recipe's parallel layout to the user's GPUs and sequence length.

First choice: the recipe's own model-parallel layout, with data parallelism absorbing the
GPUs (DP is implicit: W / (TP·PP·CP)). When Megatron-Core would reject that on this
world size, or it does not fit in memory, the planner (layout.search) resizes it: first
with all of the recipe's factors pinned (TP, PP, CP, and EP, ETP on MoE models), then
releasing the fewest of them, and within the first level that fits the planner's own
ranking (predicted speed) decides. The global batch size is passed to the planner fixed:
changing it is a convergence change, which is reported, not made; the micro batch never
grows past the recipe's.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.estimate.memory import DEFAULT_KNOBS, Knobs, estimate_memory
from autorecipe.index.schema import Recipe
from autorecipe.layout.rules import Violation, check_layout
from autorecipe.layout.schema import Layout
from autorecipe.layout.search import MAX_GPUS, enumerate_layouts, rank_key
from autorecipe.layout.stages import balanced_layout
from autorecipe.result import Candidate, Memory

# Megatron-Core's default when a recipe sets CP without naming a transport.
DEFAULT_CP_COMM = "p2p"
# The recipe's factors the planner keeps pinned as long as they stay valid.
DENSE_FACTORS = ("tp", "pp", "cp")
MOE_FACTORS = ("tp", "pp", "cp", "ep", "etp")

_RECOMPUTE = {"full": "full", "selective": "selective"}


def _int(fields: dict[str, Any], key: str, default: int) -> int:
    value = fields.get(key)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _opt(fields: dict[str, Any], key: str, kind: type) -> Any:
    value = fields.get(key)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


_LAYOUT_TOKENS = {"embedding": "E", "decoder": "t", "mtp": "m", "loss": "L"}


def layout_string(value: Any) -> str | None:
    """A recipe's pipeline_model_parallel_layout as Megatron-Core's string form.

    Recipes write it as a list of stages, each a list of layer names; Megatron-Core also
    reads ``"Et*8|t*8|…|t*5mL"``, which is what overrides and the memory model use.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(stage, list) for stage in value):
        try:
            return "|".join("".join(_LAYOUT_TOKENS[t] for t in stage) for stage in value)
        except (KeyError, TypeError):
            return None
    return None


def _run_time_layout(recipe: Recipe, spec: ModelSpec, pp: int, vp: int | None) -> str | None:
    """A balanced layout standing in for one the recipe's bridge builds at run time (the
    index marks it unknown), when the layers do not split evenly without one."""
    if "pipeline_model_parallel_layout" not in recipe.unknown or pp == 1:
        return None
    stages = pp * (vp or 1)
    layers = spec.num_hidden_layers
    if layers % stages == 0:
        return None
    mtp = recipe.fields.get("model.mtp_num_layers", spec.mtp_num_layers)
    return balanced_layout(layers, pp, vp or 1, mtp if isinstance(mtp, int) else 0)


def recipe_layout(recipe: Recipe, bridge_version: str, spec: ModelSpec) -> Layout:
    """The layout a recipe sets, on the GPU count its name encodes (DP 1 if unknown).

    ETP left unset resolves to 1 with EP > 1 from Megatron-Bridge 0.6 on, to TP before
    (pitfalls-evidence.md #9).
    """
    f = recipe.fields
    tp = _int(f, "tensor_model_parallel_size", 1)
    pp = _int(f, "pipeline_model_parallel_size", 1)
    cp = _int(f, "context_parallel_size", 1)
    # Expert sizes mean nothing on a dense model (Megatron ignores them).
    ep = _int(f, "expert_model_parallel_size", 1) if spec.is_moe else 1
    new_etp_default = tuple(int(p) for p in bridge_version.split(".")[:2]) >= (0, 6)
    etp = (
        _int(f, "expert_tensor_parallel_size", 1 if (ep > 1 and new_etp_default) else tp)
        if spec.is_moe
        else 1
    )
    vp = _opt(f, "virtual_pipeline_model_parallel_size", int)
    granularity = _opt(f, "recompute_granularity", str)
    gpus = recipe.num_gpus or tp * pp * cp
    lo = Layout(
        tp=tp,
        pp=pp,
        vp=vp if vp and vp > 1 else None,
        cp=cp,
        ep=ep,
        etp=etp,
        dp=max(gpus // (tp * pp * cp), 1),
        sp=f.get("sequence_parallel") is True and tp > 1,
        mbs=_int(f, "micro_batch_size", 1),
        gbs=_int(f, "global_batch_size", 1),
        cp_comm_type=_opt(f, "cp_comm_type", str),
        recompute=_RECOMPUTE.get(granularity or "", "none"),
        recompute_method=_opt(f, "recompute_method", str),
        recompute_num_layers=_opt(f, "recompute_num_layers", int),
        use_distributed_optimizer=f.get("use_distributed_optimizer") is not False,
        use_megatron_fsdp=f.get("use_megatron_fsdp") is True,
        pipeline_layout=layout_string(f.get("pipeline_model_parallel_layout"))
        or _run_time_layout(recipe, spec, pp, vp),
        first_stage_layers=_opt(f, "num_layers_in_first_pipeline_stage", int),
        last_stage_layers=_opt(f, "num_layers_in_last_pipeline_stage", int),
    )
    return lo.model_copy(
        update={
            "account_for_embedding": f.get("account_for_embedding_in_pipeline_split") is True,
            "account_for_loss": f.get("account_for_loss_in_pipeline_split") is True,
        }
    )


@dataclass(frozen=True)
class Target:
    """What the layout must run on, and the recipe settings the memory model needs."""

    spec: ModelSpec
    world: int
    gpu: GPUSpec
    seq_len: int
    mode: str
    precision: str = "bf16"
    knobs: Knobs = DEFAULT_KNOBS
    lora_rank: int = 32

    def violations(self, lo: Layout) -> list[Violation]:
        return check_layout(
            lo, self.spec, world_size=self.world, seq_len=self.seq_len, gpu=self.gpu, mode=self.mode
        )

    def memory(self, lo: Layout) -> Memory:
        return estimate_memory(
            self.spec, lo, self.gpu, seq_len=self.seq_len, mode=self.mode,
            precision=self.precision, lora_rank=self.lora_rank, world_size=self.world,
            knobs=self.knobs,
        )  # fmt: skip

    def plan(self, gbs: int, fixed: dict[str, Any]) -> list[Candidate]:
        """The planner's valid layouts with `fixed` pinned, best first (rank_key)."""
        return enumerate_layouts(
            self.spec, world_size=self.world, gpu=self.gpu, seq_len=self.seq_len,
            mode=self.mode, gbs=gbs, precision=self.precision, fixed=fixed,
            lora_rank=self.lora_rank, knobs=self.knobs,
        )  # fmt: skip


@dataclass
class Adapted:
    """The layout to run, how it was reached, and its memory estimate."""

    layout: Layout | None  # None when no valid layout keeps the global batch
    memory: Memory | None
    kept: bool  # the recipe's model-parallel layout was kept as is
    violations: list[Violation] = field(default_factory=list)
    trusted_recipe: bool = False  # kept although the estimate is over capacity
    moved_because: str | None = None  # why the recipe's own layout was not kept
    released: tuple[str, ...] = ()  # recipe factors the planner had to let move


def _model_state_gib(mem: Memory) -> float:
    b = mem.breakdown
    return b.weights + b.gradients + b.optimizer


def keep_recipe_layout(target: Target, recipe_lo: Layout) -> Layout:
    """The recipe's layout on the target's GPUs: DP absorbs them, SP follows TP."""
    lo = recipe_lo
    update: dict[str, Any] = {"dp": target.world // (lo.tp * lo.pp * lo.cp), "sp": lo.tp > 1}
    if lo.cp > 1:
        update["cp_comm_type"] = lo.cp_comm_type or DEFAULT_CP_COMM
    return lo.model_copy(update=update)


def recipe_pins(recipe_lo: Layout, spec: ModelSpec) -> dict[str, Any]:
    """The recipe's factors to keep while they stay valid (with CP, its transport)."""
    factors = MOE_FACTORS if spec.is_moe else DENSE_FACTORS
    return {k: getattr(recipe_lo, k) for k in factors}


def resize(target: Target, recipe_lo: Layout) -> tuple[Candidate | None, tuple[str, ...]]:
    """The planner's best layout releasing the fewest of the recipe's factors.

    Levels go from nothing released to everything released; the first level with a
    layout that fits wins, ranked by the planner's rank_key. Any pinned search is a subset
    of the free one, so when the free search fits nothing, nothing is searched level by
    level: its leanest layout is returned (memory.fits False) with the factors it moved.
    """
    pins = recipe_pins(recipe_lo, target.spec)

    def plan(released: tuple[str, ...]) -> list[Candidate]:
        fixed = {f: v for f, v in pins.items() if f not in released}
        if "cp" in fixed and recipe_lo.cp > 1 and recipe_lo.cp_comm_type:
            fixed["cp_comm_type"] = recipe_lo.cp_comm_type
        return [
            c
            for c in target.plan(recipe_lo.gbs, fixed)
            # the recipe's micro batch was sized for its memory: only ever shrink it
            if c.layout is not None and c.memory is not None and c.layout.mbs <= recipe_lo.mbs
        ]

    free = plan(tuple(pins))
    if not any(c.memory.fits for c in free):
        if not free:
            return None, tuple(pins)
        leanest = min(free, key=rank_key)
        return leanest, tuple(f for f in pins if getattr(leanest.layout, f) != pins[f])
    for k in range(len(pins)):
        fitting = [
            (c, released)
            for released in itertools.combinations(pins, k)
            for c in plan(released)
            if c.memory.fits
        ]
        if fitting:
            return min(fitting, key=lambda item: rank_key(item[0]))
    return min((c for c in free if c.memory.fits), key=rank_key), tuple(pins)


def adapt_layout(
    recipe: Recipe,
    recipe_lo: Layout,
    target: Target,
    *,
    recipe_seq: int,
    recipe_gpu: GPUSpec | None,
    own_run: bool = True,
) -> Adapted:
    """The recipe's layout on the target's GPUs, or the planner's resize of it.

    `recipe_seq` and `recipe_gpu` are what the recipe was tuned for: on no more than that,
    the recipe's own layout is trusted over the memory estimate, if the run is the recipe's
    own (`own_run`: its model, in its precision).

    Example:
        >>> lo = recipe_layout(r, "0.6.2", llama3_8b)
        >>> adapt_layout(r, lo, Target(llama3_8b, 8, h100, 8192, "pretrain"),
        ...              recipe_seq=8192, recipe_gpu=h100).layout.dp
        4
    """
    world = target.world
    mp = recipe_lo.tp * recipe_lo.pp * recipe_lo.cp
    kept = keep_recipe_layout(target, recipe_lo) if world % mp == 0 else None
    why = f"TP×PP×CP = {mp} does not divide {world} GPUs"
    if kept is not None:
        found = target.violations(kept)
        errors = [v for v in found if v.severity == "error"]
        why = f"Megatron-Core would reject it: {errors[0].message.rstrip('.')}" if errors else why
        if not errors:
            mem = target.memory(kept)
            # The shipped recipe runs this layout with no more sharding, on a GPU with no
            # more memory, at no shorter a sequence: that outweighs a pessimistic estimate.
            shipped = (
                own_run
                # model state alone over the GPU: exact bytes per parameter, no estimate
                # error is that large (only activations are uncertain)
                and _model_state_gib(mem) < mem.capacity_gib
                and recipe_gpu is not None
                and target.gpu.usable_memory_gib >= recipe_gpu.usable_memory_gib
                and kept.dp >= recipe_lo.dp
                and target.seq_len <= recipe_seq
            )
            if mem.fits or shipped:
                return Adapted(kept, mem, kept=True, violations=found, trusted_recipe=not mem.fits)
            why = (
                f"it needs an estimated {mem.per_gpu_gib:.0f} GiB per GPU here, over the "
                f"{mem.capacity_gib:.0f} GiB usable"
            )

    best, released = resize(target, recipe_lo)
    if best is not None and best.layout is not None and best.memory is not None:
        return Adapted(
            best.layout,
            best.memory,
            kept=False,
            violations=target.violations(best.layout),
            moved_because=why,
            released=released,
        )
    # Nothing valid keeps the global batch: say what the recipe's layout breaks here.
    return Adapted(
        None,
        None,
        kept=False,
        violations=target.violations(kept or keep_recipe_layout(target, recipe_lo)),
        moved_because=why,
        released=released,
    )


def launchable_counts(start: int, per_node: int, tries: int = 8) -> tuple[list[int], int]:
    """GPU counts above `start` that torchrun launches uniformly (part of one node, or
    whole nodes), at most `tries`: every one in turn for half the tries, then doubling, so
    that a model far too big for the allocation costs a few searches, not hundreds.
    Also returns the count up to which every launchable count is in the list.
    """
    every = [n for n in range(start + 1, 2 * start + 1) if n <= per_node or n % per_node == 0]
    head = every[: tries // 2]
    counts = list(head)
    n = head[-1] if head else start
    while len(counts) < tries:
        n *= 2
        counts.append(n)
    return counts, 2 * start if head == every else head[-1]


def smallest_fitting_world(target: Target, gbs: int, per_node: int) -> tuple[int | None, int]:
    """The fewest GPUs among `launchable_counts` above the target's on which the planner
    finds a layout that fits, keeping the global batch `gbs` (None when none does), and
    the count up to which every launchable count was tried.

    Example:
        >>> smallest_fitting_world(Target(llama3_70b, 12, h100, 8192, "pretrain"), 512, 8)
        (24, 24)
    """
    counts, exhaustive = launchable_counts(target.world, per_node)
    for n in (c for c in counts if c <= MAX_GPUS):
        found = dataclasses.replace(target, world=n).plan(gbs, {})
        if any(c.memory and c.memory.fits for c in found):
            return n, exhaustive
    return None, counts[-1]
