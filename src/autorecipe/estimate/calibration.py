"""The public throughput measurements the model is calibrated and checked on.

Reads perf-calibration.csv (Megatron-Bridge / NeMo published performance tables: system, GPU
count, precision, layout, tokens/s/GPU) and turns each usable row into the inputs of
`estimate_throughput`. The CSV's names are mapped explicitly to our catalog; a row we cannot
use is returned with the reason, never silently dropped.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.catalog.spec import GPUSpec, ModelSpec
from autorecipe.errors import UserError
from autorecipe.estimate.memory import DEFAULT_KNOBS, OVERLAP_KNOBS, Knobs
from autorecipe.estimate.throughput import estimate_throughput
from autorecipe.estimate.throughput_params import ThroughputParams
from autorecipe.layout.schema import Layout
from autorecipe.result import Candidate

# CSV model_key -> catalog Hugging Face id; None: not in the catalog (row skipped, reason given).
MODEL_KEYS: dict[str, str | None] = {
    "llama2_7b": "meta-llama/Llama-2-7b-hf",
    "llama3_8b": "meta-llama/Meta-Llama-3-8B",
    "llama3_70b": "meta-llama/Meta-Llama-3-70B",
    "llama3.1_405b": "meta-llama/Meta-Llama-3.1-405B",
    "deepseekv3": "deepseek-ai/DeepSeek-V3",
    "kimi_k2": "moonshotai/Kimi-K2-Instruct",
    "qwen3_30b_a3b": "Qwen/Qwen3-30B-A3B",
    "qwen3_235b_a22b": "Qwen/Qwen3-235B-A22B",
    "gpt_oss_120b": "openai/gpt-oss-120b",
    "nemotron_3_nano": "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
    "nemotron_340b": "nvidia/Nemotron-4-340B-Base",
    "llama2_70b": "meta-llama/Llama-2-70b-hf",
    "llama2_13b": "meta-llama/Llama-2-13b-hf",
    "gpt3_5b": None,
    "gpt3_20b": None,
    "gpt3_175b": None,
    "nemotron_8b": None,
    "nemotron_22b": None,
    "wan_2.1_14b": None,
}
GPU_KEYS = {"h100": "H100", "b200": "B200", "b300": "B300", "gb200": "GB200", "gb300": "GB300"}
# FP8 in the NeMo 24.x tables is per-tensor delayed/current scaling: the FP8 peak either way.
PRECISIONS = {
    "BF16": "bf16",
    "FP8": "fp8",
    "FP8-CS": "fp8",
    "FP8-blockwise": "fp8",
    "MXFP8": "mxfp8",
    "NVFP4": "nvfp4",
}
TASKS = {"pretrain": "pretrain", "sft": "sft", "lora": "peft"}


@dataclass(frozen=True)
class CalibrationRow:
    line: int  # 1-based line in the CSV (header = 1)
    container: str
    model_key: str
    gpu_type: str
    spec: ModelSpec
    gpu: GPUSpec
    layout: Layout
    seq_len: int
    precision: str
    mode: str
    world_size: int
    measured: float  # tokens/s/GPU
    published_tflops: float | None
    # The settings of the recipe named for the run beyond the layout (overlaps, dtypes); None:
    # no such recipe (Megatron-Core's defaults and Bridge's performance-recipe overlaps).
    knobs: Knobs | None = None

    @property
    def case(self) -> tuple[str, int, str, str, int, str]:
        """What a user would ask for: model, GPU count, GPU type, precision, sequence length, mode."""
        return (
            self.model_key,
            self.world_size,
            self.gpu_type,
            self.precision,
            self.seq_len,
            self.mode,
        )

    @property
    def label(self) -> str:
        lay = self.layout
        return (
            f"L{self.line} {self.container} {self.model_key} {self.mode} {self.world_size}x{self.gpu_type} "
            f"{self.precision} s{self.seq_len} tp{lay.tp} pp{lay.pp} vp{lay.vp or 1} cp{lay.cp} "
            f"ep{lay.ep} dp{lay.dp} mbs{lay.mbs} gbs{lay.gbs}{' fsdp' if lay.use_megatron_fsdp else ''}"
        )


def _int(text: str, default: int | None = None) -> int | None:
    text = text.strip()
    return int(float(text)) if text else default


# The columns `_row` reads (a model name, `model`, is used when present)
COLUMNS = (
    "container", "task", "model_key", "gpu_type", "num_gpus", "precision", "gbs", "mbs",
    "seq_len", "tp", "pp", "cp", "vp", "ep", "fsdp", "tokens_per_sec_per_gpu",
    "model_tflops_per_gpu",
)  # fmt: skip


def _catalog_id(key: str, name: str) -> str | None:
    """A model the table names that MODEL_KEYS does not map: the catalog model its key or
    its name (less a "(tokendrop)"-style note) resolves to, if exactly one."""
    for text in (key, re.sub(r"\s*\(.*?\)", "", name).strip()):
        if not text:
            continue
        try:
            return resolve_model(text).hf_id
        except UserError:
            continue
    return None


def _gpu(gpu_type: str) -> GPUSpec | None:
    try:
        return resolve_gpu(GPU_KEYS.get(gpu_type, gpu_type))
    except UserError:
        return None


def _row(line: int, raw: dict[str, str]) -> CalibrationRow | str:
    """A usable row, or the reason it is not usable."""
    if not raw["tokens_per_sec_per_gpu"].strip():
        return "no tokens/s/GPU published"
    key = raw["model_key"]
    hf_id = MODEL_KEYS[key] if key in MODEL_KEYS else _catalog_id(key, raw.get("model", ""))
    if hf_id is None:
        return f"{key} is not in the model catalog"
    gpu = _gpu(raw["gpu_type"])
    if gpu is None:
        return f"GPU type {raw['gpu_type']!r} is not in the GPU catalog"
    if raw["task"] not in TASKS:
        return f"task {raw['task']!r} is not one of {', '.join(TASKS)}"
    precision = PRECISIONS.get(raw["precision"].strip())
    if precision is None:
        return f"precision {raw['precision']!r} not stated or not modelled"
    mbs = _int(raw["mbs"])
    if mbs is None:
        return "micro-batch size not published"
    world = int(raw["num_gpus"])
    tp, pp, cp = _int(raw["tp"], 1), _int(raw["pp"], 1), _int(raw["cp"], 1)
    if world % (tp * pp * cp):
        return f"TP*PP*CP={tp * pp * cp} does not divide {world} GPUs"
    vp = _int(raw["vp"])
    layout = Layout(
        tp=tp,
        pp=pp,
        cp=cp,
        vp=vp if vp and vp > 1 and pp > 1 else None,
        ep=_int(raw["ep"], 1),
        dp=world // (tp * pp * cp),
        sp=tp > 1,
        mbs=mbs,
        gbs=int(raw["gbs"]),
        use_megatron_fsdp=(_int(raw["fsdp"], 0) or 0) > 0,
    )
    tflops = raw["model_tflops_per_gpu"].strip()
    return CalibrationRow(
        line=line,
        container=raw["container"],
        model_key=key,
        gpu_type=raw["gpu_type"],
        spec=resolve_model(hf_id),
        gpu=gpu,
        layout=layout,
        seq_len=int(raw["seq_len"]),
        precision=precision,
        mode=TASKS[raw["task"]],
        world_size=world,
        measured=float(raw["tokens_per_sec_per_gpu"]),
        published_tflops=float(tflops) if tflops else None,
    )


def load_rows(path: str | Path) -> tuple[list[CalibrationRow], list[tuple[int, str]]]:
    """(usable rows, [(line, reason)] for the rows left out); UserError when `path` is not
    a table in perf-calibration.csv's format."""
    used: list[CalibrationRow] = []
    skipped: list[tuple[int, str]] = []
    try:
        f = open(path, newline="")
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"{path} lacks the column(s) {', '.join(missing)}: a measurements table has "
                "the header of tests/data/perf-calibration.csv"
            )
        for line, raw in enumerate(reader, start=2):
            row = _row(line, raw)
            if isinstance(row, str):
                skipped.append((line, row))
            else:
                used.append(row)
    return used, skipped


def predict(
    row: CalibrationRow,
    params: ThroughputParams | None = None,
    *,
    layout: Layout | None = None,
    knobs: Knobs | None = None,
) -> float:
    """Predicted tokens/s/GPU for the row's published setup, or for another `layout` of its
    case run with `knobs`."""
    return estimate_throughput(
        row.spec,
        layout or row.layout,
        row.gpu,
        seq_len=row.seq_len,
        precision=row.precision,
        mode=row.mode,
        world_size=row.world_size,
        params=params,
        **(knobs or row.knobs or DEFAULT_KNOBS).speed_settings(),
    ).tokens_per_sec_per_gpu


def log_errors(
    rows: Iterable[CalibrationRow], params: ThroughputParams | None = None
) -> list[float]:
    """log(predicted / measured) per row: the quantity the calibration minimises."""
    return [math.log(predict(r, params) / r.measured) for r in rows]


def relative_errors(
    rows: Iterable[CalibrationRow], params: ThroughputParams | None = None
) -> list[float]:
    """|predicted - measured| / measured per row."""
    return [abs(predict(r, params) / r.measured - 1) for r in rows]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def best_published(rows: Iterable[CalibrationRow]) -> dict[tuple, CalibrationRow]:
    """Per case, the fastest published row: the layout NVIDIA's tuning settled on."""
    best: dict[tuple, CalibrationRow] = {}
    for row in rows:
        if row.case not in best or row.measured > best[row.case].measured:
            best[row.case] = row
    return best


@dataclass(frozen=True)
class PublishedRank:
    row: CalibrationRow
    predicted: float  # our tokens/s/GPU for the published layout
    rank: int  # 1 + fitting candidates the planner ranks ahead of the published layout
    candidates: int
    best_top3: float  # fastest prediction among our top 3 (or the published one)

    @property
    def overclaims(self) -> bool:
        """We predict the published layout well, yet claim a >10% faster one in our top 3."""
        return (
            abs(self.predicted / self.row.measured - 1) <= 0.15
            and self.best_top3 > 1.1 * self.predicted
        )


def _shape(layout: Layout) -> tuple:
    return (layout.tp, layout.pp, layout.vp or 1, layout.cp, layout.ep, layout.mbs)


def overlaps_only(knobs: Knobs | None) -> Knobs:
    """The row recipe's overlaps on the planner's default memory settings: layouts are
    ranked as `plan` ranks them for a user who names no recipe, run as NVIDIA ran them."""
    if knobs is None:
        return DEFAULT_KNOBS
    return replace(DEFAULT_KNOBS, **{name: getattr(knobs, name) for name in OVERLAP_KNOBS})


def _rivals(row: CalibrationRow) -> list[Candidate]:
    """The candidates the planner enumerates for the row's case that fit, the published
    layout aside, run with `overlaps_only(row.knobs)`."""
    from autorecipe.layout.search import enumerate_layouts

    found = enumerate_layouts(
        row.spec,
        world_size=row.world_size,
        gpu=row.gpu,
        seq_len=row.seq_len,
        mode=row.mode,
        gbs=row.layout.gbs,
        precision=row.precision,
        knobs=overlaps_only(row.knobs),
    )
    return [
        c
        for c in found
        if c.memory and c.memory.fits and c.layout and _shape(c.layout) != _shape(row.layout)
    ]


def rival_layouts(row: CalibrationRow) -> list[Layout]:
    """The layouts `published_rank` ranks the published one against. Which fit does not
    depend on the throughput parameters, so a calibration can enumerate them once."""
    return [c.layout for c in _rivals(row) if c.layout]


def published_rank(row: CalibrationRow) -> PublishedRank:
    """Where the published layout lands among the layouts the planner enumerates for its
    case, ordered as the planner orders them (`rank_key`: speed in tie bands, then the seed's
    preferences; memory peaks aside, which a published layout we did not enumerate lacks)."""
    from autorecipe.layout.search import seed_key, speed_band

    ours = predict(row)
    others = [
        ((speed_band(c.throughput.tokens_per_sec_per_gpu), *seed_key(c.layout, 0.0)[:-1]), c)
        for c in _rivals(row)
        if c.throughput and c.layout
    ]
    published = (speed_band(ours), *seed_key(row.layout, 0.0)[:-1])
    top3 = sorted(others, key=lambda item: item[0])[:3]
    return PublishedRank(
        row=row,
        predicted=ours,
        rank=1 + sum(key < published for key, _ in others),
        candidates=len(others) + 1,
        best_top3=max([ours, *(c.throughput.tokens_per_sec_per_gpu for _, c in top3)]),
    )
