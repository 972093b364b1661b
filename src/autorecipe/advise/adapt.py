"""Adapt a recipe's parallel layout to the user's GPUs and sequence length.

First choice: the recipe's own model-parallel layout, with data parallelism absorbing the
GPUs (DP is implicit: W / (TP·PP·CP)). When Megatron-Core would reject that on this
world size, or it does not fit in memory, the nearest layout that is valid and fits is
searched for, moving the recipe's sizes as little as possible: micro batch first (the
seed's advice on OOM), then recompute, then the parallel sizes. The global batch size is
never changed: doing so is a convergence change, which is reported, not made.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.estimate.memory import estimate_memory
from autorecipe.index.schema import Recipe
from autorecipe.layout.rules import Violation, check_layout, divisors, valid_tp_values
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import balanced_layout
from autorecipe.result import Memory

# Megatron-Core's default when a recipe sets CP without naming a transport.
DEFAULT_CP_COMM = "p2p"
# Layouts generated at most, nearest first; and valid ones whose memory is estimated
# before settling for the leanest of those (keeps a no-fit answer fast on big models).
SEARCH_LIMIT = 4000
MEMORY_LIMIT = 200

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


@dataclass(frozen=True)
class StageSplit:
    """How a recipe splits layers over pipeline stages, and how to keep doing so after a
    PP/VP change: its account_for_embedding/loss flags while the layers plus those still
    divide PP×VP, else a balanced pipeline_model_parallel_layout.
    """

    embedding: bool = False
    loss: bool = False
    mtp_layers: int = 0

    def apply(self, lo: Layout, num_layers: int) -> Layout:
        stages = lo.pp * (lo.vp or 1)
        update: dict[str, Any] = {
            "pipeline_layout": None,
            "first_stage_layers": None,
            "last_stage_layers": None,
            "account_for_embedding": self.embedding,
            "account_for_loss": self.loss,
        }
        extra = int(self.embedding) + int(self.loss)
        uneven = (num_layers + extra) % stages or (self.mtp_layers and lo.pp > 1)
        if lo.pp > 1 and uneven:
            update.update(
                pipeline_layout=balanced_layout(num_layers, lo.pp, lo.vp or 1, self.mtp_layers),
                account_for_embedding=False,
                account_for_loss=False,
            )
        return lo.model_copy(update=update)


def stage_split(recipe: Recipe, spec: ModelSpec) -> StageSplit:
    f = recipe.fields
    mtp = f.get("model.mtp_num_layers", spec.mtp_num_layers)
    with_mtp = isinstance(mtp, int) and layout_string(f.get("pipeline_model_parallel_layout"))
    return StageSplit(
        embedding=f.get("account_for_embedding_in_pipeline_split") is True,
        loss=f.get("account_for_loss_in_pipeline_split") is True,
        mtp_layers=mtp if with_mtp else 0,
    )


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
        pipeline_layout=layout_string(f.get("pipeline_model_parallel_layout")),
        first_stage_layers=_opt(f, "num_layers_in_first_pipeline_stage", int),
        last_stage_layers=_opt(f, "num_layers_in_last_pipeline_stage", int),
    )
    split = stage_split(recipe, spec)
    return lo.model_copy(
        update={"account_for_embedding": split.embedding, "account_for_loss": split.loss}
    )


@dataclass
class Adapted:
    """The layout to run, how it was reached, and its memory estimate."""

    layout: Layout | None  # None when no valid layout keeps the global batch
    memory: Memory | None
    kept: bool  # the recipe's model-parallel layout was kept as is
    violations: list[Violation] = field(default_factory=list)
    trusted_recipe: bool = False  # kept although the estimate is over capacity
    moved_because: str | None = None  # why the recipe's own layout was not kept


def _distance(a: Layout, b: Layout) -> float:
    """How far `b` moves from the recipe layout `a`; micro batch is the cheapest to move."""
    steps = sum(
        abs(math.log2(getattr(b, k) / getattr(a, k))) for k in ("tp", "pp", "cp", "ep", "etp")
    )
    return (
        steps
        + 0.25 * abs(math.log2(b.mbs / a.mbs))
        + (0.5 if (a.vp or 1) != (b.vp or 1) else 0.0)
        + (1.5 if a.recompute != b.recompute else 0.0)
    )


@dataclass(frozen=True)
class _Target:
    spec: ModelSpec
    world: int
    gpu: GPUSpec
    seq_len: int
    mode: str
    precision: str
    split: StageSplit

    def resize(self, base: Layout, **sizes: Any) -> Layout:
        """`base` with new sizes; DP, SP, CP transport and the stage split follow."""
        lo = base.model_copy(update=sizes)
        update: dict[str, Any] = {"dp": self.world // (lo.tp * lo.pp * lo.cp), "sp": lo.tp > 1}
        if lo.cp > 1:
            update["cp_comm_type"] = lo.cp_comm_type or DEFAULT_CP_COMM
        if lo.recompute == "full" and base.recompute != "full":
            update.update(recompute_method="uniform", recompute_num_layers=1)
        lo = lo.model_copy(update=update)
        if lo.pp == base.pp and lo.vp == base.vp:
            return lo
        # A recipe's own stage split is stale once PP/VP move (pitfalls-evidence.md #4).
        return self.split.apply(lo, self.spec.num_hidden_layers)

    def violations(self, lo: Layout) -> list[Violation]:
        return check_layout(
            lo, self.spec, world_size=self.world, seq_len=self.seq_len, gpu=self.gpu, mode=self.mode
        )

    def memory(self, lo: Layout) -> Memory:
        return estimate_memory(
            self.spec,
            lo,
            self.gpu,
            seq_len=self.seq_len,
            mode=self.mode,
            precision=self.precision,
            world_size=self.world,
        )

    def neighbours(self, base: Layout) -> list[Layout]:
        """Layouts whose meshes divide the world and keep GBS, nearest to `base` first."""
        world, spec = self.world, self.spec
        sizes = divisors(world)
        tps = [
            t
            for t in valid_tp_values(spec)
            if world % t == 0 and t <= max(self.gpu.nvlink_domain_size, base.tp)
        ]
        experts = spec.num_experts or 1
        eps = [e for e in sizes if experts % e == 0] if spec.is_moe else [1]
        etps = sorted({1, base.etp}) if spec.is_moe else [1]
        vps = [base.vp, None] if base.vp else [None]
        recomputes = [base.recompute] + (["full"] if base.recompute != "full" else [])
        found = []
        for tp, pp, cp, ep, etp, mbs, vp, rc in itertools.product(
            tps, sizes, sizes, eps, etps, divisors(base.mbs), vps, recomputes
        ):
            mp = tp * pp * cp
            if world % mp or world % (etp * ep * pp) or base.gbs % (mbs * (world // mp)):
                continue
            lo = self.resize(
                base,
                tp=tp,
                pp=pp,
                cp=cp,
                ep=ep,
                etp=etp,
                mbs=mbs,
                vp=vp if pp > 1 else None,
                recompute=rc,
            )
            # Ties go to fewer pipeline stages, then to more TP inside the node.
            found.append(((_distance(base, lo), pp, -tp), lo))
        found.sort(key=lambda x: x[0])
        return [lo for _, lo in found[:SEARCH_LIMIT]]


def adapt_layout(
    recipe: Recipe,
    recipe_lo: Layout,
    spec: ModelSpec,
    *,
    world: int,
    gpu: GPUSpec,
    seq_len: int,
    mode: str,
    recipe_seq: int,
    recipe_gpu: GPUSpec | None,
    precision: str = "bf16",
) -> Adapted:
    """The recipe's layout on `world` GPUs, or the nearest valid one that fits in memory
    (when none fits: the leanest of the nearest valid ones).

    `recipe_seq` and `recipe_gpu` are what the recipe was tuned for: on no more than that,
    the recipe's own layout is trusted over the memory estimate.

    Example:
        >>> lo = recipe_layout(r, "0.6.2", llama3_8b)
        >>> adapt_layout(r, lo, llama3_8b, world=8, gpu=h100, seq_len=8192, mode="pretrain").layout.dp
        4
    """
    target = _Target(spec, world, gpu, seq_len, mode, precision, stage_split(recipe, spec))
    mp = recipe_lo.tp * recipe_lo.pp * recipe_lo.cp
    kept = target.resize(recipe_lo) if world % mp == 0 else None
    why = f"TP×PP×CP = {mp} does not divide {world} GPUs"
    if kept is not None:
        found = target.violations(kept)
        errors = [v for v in found if v.severity == "error"]
        why = f"Megatron-Core would reject it: {errors[0].message}" if errors else why
        if not errors:
            mem = target.memory(kept)
            # The shipped recipe runs this layout with no more sharding, on a GPU with no
            # more memory, at no shorter a sequence: that outweighs a pessimistic estimate.
            shipped = (
                recipe_gpu is not None
                and gpu.usable_memory_gib >= recipe_gpu.usable_memory_gib
                and kept.dp >= recipe_lo.dp
                and seq_len <= recipe_seq
            )
            if mem.fits or shipped:
                return Adapted(kept, mem, kept=True, violations=found, trusted_recipe=not mem.fits)
            why = (
                f"it needs an estimated {mem.per_gpu_gib:.0f} GiB per GPU here, over the "
                f"{mem.capacity_gib:.0f} GiB usable"
            )

    leanest: Adapted | None = None
    estimated = 0
    for lo in target.neighbours(recipe_lo):
        found = target.violations(lo)
        if any(v.severity == "error" for v in found):
            continue
        mem = target.memory(lo)
        if mem.fits:
            return Adapted(lo, mem, kept=False, violations=found, moved_because=why)
        if leanest is None or mem.per_gpu_gib < leanest.memory.per_gpu_gib:
            leanest = Adapted(lo, mem, kept=False, violations=found, moved_because=why)
        estimated += 1
        if estimated >= MEMORY_LIMIT:
            break
    if leanest:
        return leanest
    # Nothing valid keeps the global batch: say what the recipe's layout breaks here.
    return Adapted(
        None,
        None,
        kept=False,
        violations=target.violations(kept or target.resize(recipe_lo)),
        moved_because=why,
    )
