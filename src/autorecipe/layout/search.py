"""Enumerate the parallel layouts Megatron-Core accepts for an allocation, best first.

Factors are chosen outermost first (TP, PP, CP, EP/ETP, VP, recompute, MBS) and each
level only offers values that already pass the rules it can see, so memory is evaluated
only for complete, valid layouts. Every complete layout is re-checked with
`rules.check_layout` before it is returned. Ranking is one function, `rank_key`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError
from autorecipe.estimate.memory import (
    DEFAULT_KNOBS,
    GIB,
    Knobs,
    Shapes,
    memory_by_stage,
    model_shapes,
    summarize,
)
from autorecipe.layout.rules import a2a_splits_heads, check_layout, divisors
from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import balanced_layout, even_splits
from autorecipe.result import Candidate, Finding

DEFAULT_GBS = {"pretrain": 512, "sft": 128, "peft": 128}
MBS_CHOICES = (1, 2, 4)
RECOMPUTE_LEVELS = (
    ("none", None, None),
    ("selective", None, None),
    ("full", "uniform", 1),
)
# Without a measured reason, CP is only offered for long sequences (one CP rank per 4K
# tokens); a second pass lifts the cap when nothing fits.
CP_TOKENS_PER_RANK = 4096
MAX_VP = 8
# Layouts given a throughput estimate and returned, after the seed-preference pre-sort
MAX_RANKED = 200
LAYOUT_KEYS = {
    "tp", "pp", "vp", "cp", "ep", "etp", "sp", "mbs", "gbs", "cp_comm_type", "recompute",
    "recompute_method", "recompute_num_layers", "use_distributed_optimizer",
    "use_megatron_fsdp", "pipeline_layout", "first_stage_layers", "last_stage_layers",
    "account_for_embedding", "account_for_loss",
}  # fmt: skip


@dataclass
class Rejection:
    """Why a value of one factor was never offered."""

    factor: str
    value: Any
    reason: str


@dataclass
class _Search:
    spec: ModelSpec
    shapes: Shapes
    world: int
    gpu: GPUSpec
    seq_len: int
    mode: str
    precision: str
    gbs: int | None
    fixed: dict[str, Any]
    allow_cross_nvlink_tp: bool
    lora_rank: int
    knobs: Knobs = DEFAULT_KNOBS
    rejections: list[Rejection] = field(default_factory=list)

    def pinned(self, key: str, values: list[Any]) -> list[Any]:
        if key not in self.fixed:
            return values
        want = self.fixed[key]
        if want not in values:
            self.rejections.append(
                Rejection(key, want, f"pinned {key}={want} is not among the valid values {values}")
            )
            return []
        return [want]

    def reject(self, factor: str, value: Any, reason: str) -> None:
        self.rejections.append(Rejection(factor, value, reason))


def _tp_values(s: _Search) -> list[int]:
    spec, out = s.spec, []
    a, g = spec.num_attention_heads, spec.num_key_value_heads
    for t in divisors(s.world):
        if a % t:
            s.reject("tp", t, f"does not divide the {a} attention heads")
        elif not spec.is_mla and g % t and t % g:
            s.reject("tp", t, f"neither divides nor is a multiple of the {g} KV heads")
        elif spec.vocab_size % t:
            s.reject("tp", t, f"does not divide the vocabulary {spec.vocab_size}")
        elif spec.intermediate_size and not spec.is_moe and spec.intermediate_size % t:
            s.reject("tp", t, f"does not divide ffn_hidden_size {spec.intermediate_size}")
        elif t > s.gpu.nvlink_domain_size and not s.allow_cross_nvlink_tp:
            s.reject("tp", t, f"crosses the {s.gpu.nvlink_domain_size}-GPU NVLink domain")
        elif t > 1 and s.seq_len % t:
            s.reject("tp", t, f"sequence {s.seq_len} not divisible by TP (sequence parallel)")
        else:
            out.append(t)
    return s.pinned("tp", out)


def _pp_splits(s: _Search, t: int) -> list[tuple[int, list[dict[str, Any]]]]:
    """(PP, [stage-split options]) with each option a dict of vp / first / last settings."""
    layers = s.shapes.num_layers
    out = []
    for p in s.pinned("pp", [p for p in divisors(s.world // t) if p <= layers]):
        options: list[dict[str, Any]] = []
        if layers % p == 0:
            options.append({"vp": None})
            if p > 1:
                options += [{"vp": v} for v in even_splits(layers, p, MAX_VP)[:2]]
        elif p > 1 and (layers + 2) % p == 0:
            # Bridge recipes' way: embedding and loss each count as a layer
            options.append({"vp": None, "account_for_embedding": True, "account_for_loss": True})
            vps = [v for v in range(2, MAX_VP + 1) if (layers + 2) % (p * v) == 0][:1]
            options += [
                {"vp": v, "account_for_embedding": True, "account_for_loss": True} for v in vps
            ]
        elif p > 1:
            middle = layers // p
            rest = layers - middle * (p - 2)
            first, last = rest - rest // 2, rest // 2
            if p == 2 or (first >= 1 and last >= 1):
                options.append({"vp": None, "first_stage_layers": first, "last_stage_layers": last})
            # interleaving an uneven split needs an explicit layout string
            for v in (2, 4):
                text = balanced_layout(layers, p, v, s.shapes.mtp_layers)
                if text is not None:
                    options.append({"vp": v, "pipeline_layout": text})
                    break
        if not options:
            s.reject("pp", p, f"{layers} layers do not split over PP={p}")
            continue
        if "vp" in s.fixed:
            options = [o for o in options if o.get("vp") == s.fixed["vp"]]
        out.append((p, options))
    return out


def _cp_values(s: _Search, t: int, p: int, cap: bool) -> list[int]:
    limit = max(1, s.seq_len // CP_TOKENS_PER_RANK) if cap else s.world
    out = []
    for c in divisors(s.world // (t * p)):
        if c > 1 and s.seq_len % (2 * c):
            s.reject("cp", c, f"sequence {s.seq_len} not divisible by 2×CP={2 * c}")
        elif c > 1 and t > 1 and s.seq_len % (c * t):
            s.reject("cp", c, f"sequence {s.seq_len} not divisible by TP×CP={t * c}")
        elif c <= limit:
            out.append(c)
    return s.pinned("cp", out)


def _expert_values(s: _Search, t: int, per_stage: int, cap: bool) -> list[tuple[int, int]]:
    if not s.spec.is_moe:
        return [(1, 1)]
    experts = s.spec.num_experts or 1
    f_e = s.spec.moe_intermediate_size or 1
    etps = [1] if cap else sorted({1, t})
    if "etp" in s.fixed:
        etps = [s.fixed["etp"]]
    out = []
    for e in s.pinned("ep", divisors(experts)):
        for etp in etps:
            if f_e % etp:
                continue
            if per_stage % (e * etp):
                s.reject(
                    "ep", e, f"EP×ETP={e * etp} does not divide the {per_stage} ranks per stage"
                )
                continue
            out.append((e, etp))
    return out


def _gbs_for(s: _Search, dp: int) -> int:
    if s.gbs is not None:
        return s.gbs
    base = DEFAULT_GBS.get(s.mode, 128)
    return math.ceil(base / dp) * dp


def _cp_comm_type(s: _Search, t: int, c: int) -> str | None:
    """p2p (ring), Megatron-Core's default and what 72 of the 95 context-parallel recipes of
    Megatron-Bridge 0.6.2 run (19 pick a2a, 4 DSA ones allgather); a pinned type (a
    recipe's) is kept while it is valid at this TP and CP: a recipe's a2a chosen for TP=1 no
    longer splits the heads once TP grows. Whether a2a would be faster is the tuning step's
    question (`advise.tuning`), not the enumeration's."""
    if c == 1:
        return None
    pinned = s.fixed.get("cp_comm_type")
    if pinned is not None and (pinned != "a2a" or a2a_splits_heads(s.spec, t, c)):
        return pinned
    return "p2p"


def _layouts(s: _Search, cap: bool, fsdp: bool = False) -> Iterator[tuple[Layout, list]]:
    """Complete layouts (memory evaluated) with their per-stage memory."""
    capacity = s.gpu.usable_memory_gib * GIB
    dist_opt = s.fixed.get("use_distributed_optimizer", True)
    fsdp = s.fixed.get("use_megatron_fsdp", fsdp)
    for t in _tp_values(s):
        for p, splits in _pp_splits(s, t):
            for c in _cp_values(s, t, p, cap):
                dp = s.world // (t * p * c)
                gbs = _gbs_for(s, dp)
                if gbs % dp:
                    s.reject("dp", dp, f"global batch {gbs} not divisible by DP={dp}")
                    continue
                for e, etp in _expert_values(s, t, t * c * dp, cap):
                    for split in splits:
                        base = Layout(
                            tp=t, pp=p, cp=c, dp=dp, ep=e, etp=etp, sp=t > 1, gbs=gbs,
                            cp_comm_type=_cp_comm_type(s, t, c),
                            use_distributed_optimizer=dist_opt or fsdp,
                            use_megatron_fsdp=fsdp, **split,
                        )  # fmt: skip
                        yield from _fill(s, base, capacity)


def _fill(s: _Search, base: Layout, capacity: float) -> Iterator[tuple[Layout, list]]:
    """The least recompute that fits, then every MBS that still fits (or the leanest miss)."""
    levels = [lv for lv in RECOMPUTE_LEVELS if lv[0] == s.fixed.get("recompute", lv[0])]
    mbs_values = s.pinned("mbs", list(MBS_CHOICES))
    leanest: tuple[Layout, list] | None = None
    modules = _selective_modules(s.spec)
    for recompute, method, layers in levels:
        found = False
        for mbs in mbs_values:
            if base.gbs % (mbs * base.dp):
                continue
            m = base.gbs // (mbs * base.dp)
            if base.vp and (m < base.pp or m % base.pp):
                continue
            layout = base.model_copy(
                update={
                    "mbs": mbs,
                    "recompute": recompute,
                    "recompute_method": method,
                    "recompute_num_layers": layers,
                    "recompute_modules": modules if recompute == "selective" else None,
                }
            )
            stages = memory_by_stage(
                s.spec, layout, seq_len=s.seq_len, mode=s.mode, precision=s.precision,
                lora_rank=s.lora_rank, shapes=s.shapes, world_size=s.world, knobs=s.knobs, gpu=s.gpu,
            )  # fmt: skip
            peak = max(st.total for st in stages)
            if max(st.weights + st.gradients + st.optimizer for st in stages) > capacity:
                # model state alone does not fit: no recompute or micro batch can help;
                # report the leanest form (full recompute, MBS 1)
                yield _leanest(s, layout)
                return
            if peak <= capacity:
                found = True
                yield layout, stages
            elif leanest is None or peak < max(st.total for st in leanest[1]):
                leanest = (layout, stages)
            if peak > capacity:
                break  # a larger MBS only needs more
        if found:
            return
    if leanest is not None:
        yield leanest


def _leanest(s: _Search, layout: Layout) -> tuple[Layout, list]:
    lean = layout.model_copy(
        update={
            "mbs": 1,
            "recompute": "full",
            "recompute_method": "uniform",
            "recompute_num_layers": 1,
            "recompute_modules": None,
        }
    )
    stages = memory_by_stage(
        s.spec, lean, seq_len=s.seq_len, mode=s.mode, precision=s.precision,
        lora_rank=s.lora_rank, shapes=s.shapes, world_size=s.world, knobs=s.knobs, gpu=s.gpu,
    )  # fmt: skip
    return lean, stages


_RECOMPUTE_RANK = {"none": 0, "selective": 1, "full": 2}


def _selective_modules(spec: ModelSpec) -> list[str]:
    """Cheap-to-recompute modules (Megatron recompute_modules) for the selective level:
    norms and the activation functions, plus MLA's up-projections."""
    if spec.is_moe:
        return ["layernorm", "moe_act"] + (["mla_up_proj"] if spec.is_mla else [])
    return ["layernorm", "mlp"]


def seed_key(lo: Layout, peak_bytes: float) -> tuple:
    """The seed's preferences as a sort key, smaller preferred (see rank_key)."""
    return (
        _RECOMPUTE_RANK[lo.recompute],
        lo.pp,
        lo.cp,
        lo.tp,
        lo.etp,
        lo.ep,
        lo.pp > 1 and not lo.vp,
        lo.vp or 0,
        lo.mbs,
        peak_bytes,
    )


# Predicted speeds this close are a tie (below the throughput model's resolution), ordered
# by the seed's preferences instead. Share of NVIDIA's published layouts in our top 3
# (tests/test_throughput_ranking.py) by band: none 72.2%, 1% 72.2%, 2% 70.9%, 3% 68.4%,
# 5% 60.8% — wider bands let the seed's minimal PP/CP/TP override layouts NVIDIA chose with
# more of them; with the previous parameters 1% was the best band (69.6% against 68.4%).
SPEED_TIE_TOLERANCE = 0.01


def speed_band(tokens_per_sec: float) -> int:
    """Predicted speed on a log grid of SPEED_TIE_TOLERANCE steps, fastest lowest: layouts in
    one band tie on speed."""
    return -math.floor(math.log(tokens_per_sec) / math.log1p(SPEED_TIE_TOLERANCE))


def rank_key(candidate: Candidate) -> tuple:
    """Sort key, smaller is better: fits first, then predicted speed when the throughput
    model gave one (in SPEED_TIE_TOLERANCE bands), then the seed's preferences (least
    recompute, minimal PP, no CP, TP inside the node and small, EP before TP, VP with PP,
    small MBS)."""
    lo, mem = candidate.layout, candidate.memory
    assert lo is not None and mem is not None
    speed = speed_band(candidate.throughput.tokens_per_sec_per_gpu) if candidate.throughput else 0
    return (
        not mem.fits,
        mem.per_gpu_gib if not mem.fits else 0.0,
        speed,
        *seed_key(lo, mem.per_gpu_gib),
    )


def _fits(stages: list, gpu: GPUSpec) -> bool:
    return max(st.total for st in stages) <= gpu.usable_memory_gib * GIB


def _throughput_fn():
    if importlib.util.find_spec("autorecipe.estimate.throughput") is None:
        return None
    from autorecipe.estimate import throughput

    return getattr(throughput, "estimate_throughput", None)


def _candidate(s: _Search, layout: Layout, stages: list, throughput_fn) -> Candidate:
    memory = summarize(
        stages, s.spec, layout, s.gpu, mode=s.mode, precision=s.precision,
        lora_rank=s.lora_rank, knobs=s.knobs,
    )  # fmt: skip
    violations = check_layout(
        layout, s.spec, world_size=s.world, seq_len=s.seq_len, gpu=s.gpu, mode=s.mode,
        allow_cross_nvlink_tp=s.allow_cross_nvlink_tp,
    )  # fmt: skip
    errors = [v for v in violations if v.severity == "error"]
    if errors:  # the enumerator and the rules disagree: a bug, never a silent answer
        raise AssertionError(f"enumerated an invalid layout {layout}: {errors[0].message}")
    findings = [
        Finding(id=v.rule, severity="warning", message=v.message, fix=v.fix) for v in violations
    ]
    throughput = None
    if throughput_fn is not None:
        throughput = throughput_fn(
            s.spec, layout, s.gpu, seq_len=s.seq_len, precision=s.precision, mode=s.mode,
            world_size=s.world, **s.knobs.speed_settings(),
        )  # fmt: skip
    return Candidate(layout=layout, memory=memory, throughput=throughput, findings=findings)


# More GPUs than any machine: a typo, and counts this large overflow the estimates' sense.
MAX_GPUS = 1 << 20


def check_gpu_count(gpus: int) -> int:
    """`gpus`, or UserError when no allocation has that many."""
    if gpus < 1:
        raise UserError(f"--gpus must be at least 1 (got {gpus}).")
    if gpus > MAX_GPUS:
        raise UserError(f"--gpus {gpus:,} is more than any cluster has; use at most {MAX_GPUS:,}.")
    return gpus


def _search(
    spec, world_size, gpu, seq_len, mode, gbs, precision, fixed, allow, lora_rank
) -> _Search:
    check_gpu_count(world_size)
    if seq_len < 1:
        raise UserError(f"--seq-len must be at least 1 (got {seq_len}).")
    unknown = set(fixed or {}) - LAYOUT_KEYS
    if unknown:
        raise UserError(
            f"Cannot pin {', '.join(sorted(unknown))}; pinnable factors: {', '.join(sorted(LAYOUT_KEYS))}."
        )
    return _Search(
        spec=spec,
        shapes=model_shapes(spec),
        world=world_size,
        gpu=gpu,
        seq_len=seq_len,
        mode=mode,
        precision=precision,
        gbs=gbs,
        fixed=dict(fixed or {}),
        allow_cross_nvlink_tp=allow,
        lora_rank=lora_rank,
    )


def enumerate_layouts(
    spec: ModelSpec,
    *,
    world_size: int,
    gpu: GPUSpec,
    seq_len: int,
    mode: str = "pretrain",
    gbs: int | None = None,
    precision: str = "bf16",
    fixed: dict[str, Any] | None = None,
    allow_cross_nvlink_tp: bool = False,
    lora_rank: int = 32,
    top: int | None = None,
    knobs: Knobs = DEFAULT_KNOBS,
) -> list[Candidate]:
    """Valid layouts for `spec` on `world_size` GPUs, best first (see `rank_key`).

    Layouts that fit come first; when none fits, the leanest misses are returned with
    `memory.fits` False (use `explain_rejections` and `what_would_fit`).
    `fixed` pins factors by Layout field name, e.g. {"tp": 2, "ep": 8}. An empty list means
    no layout is valid at all; `explain_rejections` says why.

    Example:
        >>> best = enumerate_layouts(llama3_8b, world_size=8, gpu=h100, seq_len=8192)[0]
        >>> best.layout.tp, best.memory.fits
    """
    s = _search(
        spec,
        world_size,
        gpu,
        seq_len,
        mode,
        gbs,
        precision,
        fixed,
        allow_cross_nvlink_tp,
        lora_rank,
    )
    s.knobs = knobs
    found = list(_layouts(s, cap=True))
    if not any(_fits(stages, gpu) for _, stages in found):
        found = list(_layouts(s, cap=False))
    if not any(_fits(stages, gpu) for _, stages in found) and not spec.is_moe:
        # Megatron-FSDP shards weights and grads too (Bridge's FSDP v1 supports TP/PP/CP)
        found += list(_layouts(s, cap=False, fsdp=True))
    throughput_fn = _throughput_fn()
    # Only fitting layouts are worth a throughput estimate; keep a few leanest misses
    fitting = [(lo, st) for lo, st in found if _fits(st, gpu)]
    if not fitting:
        found = sorted(found, key=lambda item: max(x.total for x in item[1]))[: max(top or 5, 5)]
    else:
        found = fitting
    # Throughput and findings only for the layouts the seed's preferences rank highest
    found.sort(key=lambda item: seed_key(item[0], max(x.total for x in item[1])))
    candidates = [_candidate(s, lo, st, throughput_fn) for lo, st in found[:MAX_RANKED]]
    candidates.sort(key=rank_key)
    return candidates[:top] if top else candidates


def explain_rejections(
    spec: ModelSpec,
    *,
    world_size: int,
    gpu: GPUSpec,
    seq_len: int,
    mode: str = "pretrain",
    gbs: int | None = None,
    fixed: dict[str, Any] | None = None,
    allow_cross_nvlink_tp: bool = False,
) -> list[Rejection]:
    """Every factor value the enumerator refused, and why (for `plan --explain`).

    Example:
        >>> explain_rejections(llama3_70b, world_size=12, gpu=h100, seq_len=8192)[0].reason
    """
    s = _search(spec, world_size, gpu, seq_len, mode, gbs, "bf16", fixed, allow_cross_nvlink_tp, 32)
    for t in _tp_values(s):
        for p, _ in _pp_splits(s, t):
            for c in _cp_values(s, t, p, cap=False):
                dp = world_size // (t * p * c)
                if _gbs_for(s, dp) % dp:
                    s.reject("dp", dp, f"global batch {_gbs_for(s, dp)} not divisible by DP={dp}")
                    continue
                _expert_values(s, t, t * c * dp, cap=False)
    unique: dict[tuple, Rejection] = {}
    for r in s.rejections:
        unique.setdefault((r.factor, r.value, r.reason), r)
    return list(unique.values())


def _fits_somewhere(spec, gpu, *, world_size, seq_len, mode, gbs, fixed) -> bool:
    try:
        found = enumerate_layouts(
            spec, world_size=world_size, gpu=gpu, seq_len=seq_len, mode=mode, gbs=gbs,
            fixed=fixed, top=1,
        )  # fmt: skip
    except UserError:
        return False
    return bool(found) and bool(found[0].memory and found[0].memory.fits)


def what_would_fit(
    spec: ModelSpec,
    *,
    world_size: int,
    gpu: GPUSpec,
    seq_len: int,
    mode: str = "pretrain",
    gbs: int | None = None,
    best: Candidate | None = None,
) -> list[str]:
    """Changes that would make some layout fit when none does, most direct first.

    Tries more GPUs (×2 up to ×16), PEFT instead of full training, a shorter sequence,
    and CPU offload of the optimizer state (from the leanest layout's breakdown).

    Example:
        >>> what_would_fit(llama3_70b, world_size=1, gpu=h100, seq_len=8192)
        ['use 8 GPUs or more (…)', …]
    """
    advice = []
    for factor in (2, 4, 8, 16):
        if _fits_somewhere(
            spec,
            gpu,
            world_size=world_size * factor,
            seq_len=seq_len,
            mode=mode,
            gbs=None,
            fixed=None,
        ):
            advice.append(f"use {world_size * factor} GPUs or more ({factor}× the allocation)")
            break
    if mode != "peft" and _fits_somewhere(
        spec, gpu, world_size=world_size, seq_len=seq_len, mode="peft", gbs=gbs, fixed=None
    ):
        advice.append("train LoRA adapters (--mode peft) instead of all weights")
    shorter = seq_len // 2
    while shorter >= 1024:
        if _fits_somewhere(
            spec, gpu, world_size=world_size, seq_len=shorter, mode=mode, gbs=gbs, fixed=None
        ):
            advice.append(f"shorten the sequence to {shorter} tokens")
            break
        shorter //= 2
    if best is not None and best.memory is not None:
        mem = best.memory
        offloaded = mem.per_gpu_gib - mem.breakdown.optimizer
        if offloaded <= mem.capacity_gib:
            advice.append(
                f"offload the optimizer state to CPU (optimizer_cpu_offload): "
                f"{mem.per_gpu_gib:.1f} → about {offloaded:.1f} GiB per GPU"
            )
    if not any(line.startswith("use ") for line in advice):
        advice.insert(
            0, _gpus_for_model_state(spec, gpu, world_size=world_size, seq_len=seq_len, mode=mode)
        )
    return advice


def _gpus_for_model_state(
    spec: ModelSpec, gpu: GPUSpec, *, world_size: int, seq_len: int, mode: str
) -> str:
    """How many GPUs the model needs when 16× the allocation is not enough: the floor that
    its weights, gradients and optimizer state set even fully sharded, then the first power
    of two above it (at most three tried) at which the planner finds a layout that fits."""
    from autorecipe.catalog.params import count_params

    # bf16 weights; full training adds fp32 grads and fp32 master weights + Adam moments
    bytes_per_param = 2.0 if mode == "peft" else 18.0
    state_gib = count_params(spec).total * bytes_per_param / 2**30
    floor = max(math.ceil(state_gib / gpu.usable_memory_gib), world_size * 32)
    n = 1 << (floor - 1).bit_length()
    for _ in range(3):
        if _fits_somewhere(
            spec, gpu, world_size=n, seq_len=seq_len, mode=mode, gbs=None, fixed=None
        ):
            return f"use {n} GPUs or more (model state alone is {state_gib:,.0f} GiB)"
        n *= 2
    return (
        f"model state alone is {state_gib:,.0f} GiB: at least {floor} × {gpu.key} even fully "
        f"sharded, and no layout up to {n // 2} GPUs fits"
    )
