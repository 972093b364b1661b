"""Which decoder layers each pipeline rank builds (Megatron-Core's get_num_layers_to_build).

Three ways to split: an even split over PP×VP, explicit first/last stage counts with the
rest spread evenly, or an explicit `pipeline_model_parallel_layout` string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autorecipe.layout.schema import Layout


class StageSplitError(ValueError):
    """The layers cannot be split as asked; `fix` says what would work."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class Stage:
    """What one pipeline rank holds, over all its virtual chunks."""

    rank: int
    layers: tuple[int, ...]  # global decoder-layer indices
    chunk_sizes: tuple[int, ...]  # decoder layers per virtual chunk
    mtp_layers: int = 0
    has_embedding: bool = False
    has_output: bool = False


def decoder_layer_count(spec) -> int:
    """Decoder layers Megatron builds: the hybrid pattern's length when there is one."""
    pattern = spec.hybrid_layer_pattern
    return len(pattern.replace("|", "")) if pattern else spec.num_hidden_layers


def even_splits(num_layers: int, pp: int, limit_vp: int = 8) -> list[int]:
    """VP values (≥ 2) for which `num_layers` splits evenly over PP×VP."""
    return [v for v in range(2, limit_vp + 1) if num_layers % (pp * v) == 0]


def balanced_layout(num_layers: int, pp: int, vp: int, mtp_layers: int = 0) -> str | None:
    """A pipeline_model_parallel_layout for PP×VP stages when layers do not split evenly.

    Each stage gets ⌊L/(PP·VP)⌋ or one more decoder layer; the extra layers go to the
    middle stages first, because the first stage also holds the embedding and the last the
    output layer and loss. None when a stage would be empty.

    Example:
        >>> balanced_layout(61, 16, 1)
        'Et*3|t*4|…|t*4|t*3L'
    """
    stages = pp * vp
    base, extra = divmod(num_layers, stages)
    if base == 0:
        return None
    order = list(range(1, stages - 1)) + ([stages - 1, 0] if stages > 1 else [0])
    bumped = set(order[:extra])
    parts = []
    for i in range(stages):
        n = base + (1 if i in bumped else 0)
        text = f"t*{n}" if n > 1 else "t"
        if i == 0:
            text = "E" + text
        if i == stages - 1:
            text += "m" * mtp_layers + "L"
        parts.append(text)
    return "|".join(parts)


def _expand(layout: str) -> list[str]:
    text = layout.replace(" ", "")
    group = re.compile(r"\(([^()]*)\)\*(\d+)")
    while (match := group.search(text)) is not None:
        text = text[: match.start()] + match.group(1) * int(match.group(2)) + text[match.end() :]
    text = re.sub(r"([EtmL])\*(\d+)", lambda m: m.group(1) * int(m.group(2)), text)
    if set(text) - set("EtmL|"):
        raise StageSplitError(
            f"pipeline_layout {layout!r} has tokens other than E, t, m, L, |, (…)*n.",
            "Write the layout with E (embedding), t (decoder), m (MTP), L (loss), | between stages.",
        )
    return text.split("|")


def _from_layout(num_layers: int, layout: Layout) -> list[Stage]:
    stages = _expand(layout.pipeline_layout or "")
    p = layout.pp
    if len(stages) % p:
        raise StageSplitError(
            f"pipeline_layout has {len(stages)} stages, not a multiple of PP={p}.",
            f"Give PP×VP stages ({p}×VP).",
        )
    v = len(stages) // p
    if layout.vp not in (None, v) and not (layout.vp == 1 and v == 1):
        raise StageSplitError(
            f"pipeline_layout implies VP={v} but VP={layout.vp} is set.",
            f"Set VP={v} or unset it.",
        )
    decoders = sum(s.count("t") for s in stages)
    if decoders != num_layers:
        raise StageSplitError(
            f"pipeline_layout places {decoders} decoder layers; the model has {num_layers}.",
            f"Place exactly {num_layers} 't' tokens.",
        )
    per_rank: list[list[int]] = [[] for _ in range(p)]
    chunks: list[list[int]] = [[] for _ in range(p)]
    mtp = [0] * p
    emb = [False] * p
    out = [False] * p
    index = 0
    for j, stage in enumerate(stages):
        r = j % p
        n = stage.count("t")
        per_rank[r].extend(range(index, index + n))
        chunks[r].append(n)
        index += n
        mtp[r] += stage.count("m")
        emb[r] |= "E" in stage
        out[r] |= "L" in stage
    return [
        Stage(r, tuple(per_rank[r]), tuple(chunks[r]), mtp[r], emb[r], out[r]) for r in range(p)
    ]


def _chunk_counts(num_layers: int, layout: Layout) -> list[int]:
    """Decoder layers per virtual stage, in virtual-stage order (rank-major inside a chunk)."""
    p, v = layout.pp, layout.vp or 1
    first, last = layout.first_stage_layers, layout.last_stage_layers
    if first is None and last is None:
        extra_e, extra_l = int(layout.account_for_embedding), int(layout.account_for_loss)
        if extra_e or extra_l:
            total = num_layers + extra_e + extra_l
            if total % (p * v):
                raise StageSplitError(
                    f"{num_layers} decoder layers + {extra_e + extra_l} (embedding/loss accounted "
                    f"as layers) = {total} do not split evenly over PP×VP = {p}×{v}.",
                    f"Use PP×VP dividing {total}, or unset account_for_embedding/loss.",
                )
            counts = [total // (p * v)] * (p * v)
            counts[0] -= extra_e
            counts[-1] -= extra_l
            return counts
        if num_layers % (p * v):
            good_pp = [x for x in range(1, num_layers + 1) if num_layers % x == 0 and x <= 64]
            raise StageSplitError(
                f"{num_layers} decoder layers do not split evenly over PP×VP = {p}×{v} = {p * v}.",
                f"Use PP×VP dividing {num_layers} (PP in {', '.join(map(str, good_pp))}), or set "
                "num_layers_in_first/last_pipeline_stage, or a pipeline_model_parallel_layout.",
            )
        return [num_layers // (p * v)] * (p * v)
    first = first if first is not None else 0
    last = last if last is not None else 0
    if p == 1:
        raise StageSplitError(
            "First/last pipeline-stage layer counts need PP > 1.", "Unset them, or use PP > 1."
        )
    middle_stages = p - (1 if first else 0) - (1 if last else 0)
    rest = num_layers - first - last
    if layout.account_for_embedding or layout.account_for_loss:
        raise StageSplitError(
            "First/last stage layer counts cannot be combined with account_for_embedding/loss.",
            "Use one of the two.",
        )
    if min(x for x in (first, last) if x) <= 0 or rest < 0:
        raise StageSplitError(
            f"First/last stage layers {first}/{last} do not fit {num_layers} layers.",
            "Use positive counts whose sum is below the layer count.",
        )
    if (rest > 0) != (middle_stages > 0) or (middle_stages and rest % middle_stages):
        raise StageSplitError(
            f"{rest} layers left after the first/last stages ({first}/{last}) do not split "
            f"evenly over {middle_stages} middle stages.",
            "Pick first/last counts so the rest divides by the middle-stage count.",
        )
    per_rank = [rest // middle_stages if middle_stages else 0] * p
    if first:
        per_rank[0] = first
    if last:
        per_rank[-1] = last
    if any(n % v for n in per_rank):
        raise StageSplitError(
            f"Stage layer counts {per_rank} are not all divisible by VP={v}.",
            "Pick first/last counts that are multiples of VP.",
        )
    return [per_rank[r] // v for _ in range(v) for r in range(p)]


def layers_per_stage(num_layers: int, layout: Layout, mtp_layers: int = 0) -> list[Stage]:
    """The decoder layers each PP rank builds; raises StageSplitError when Megatron would.

    Example:
        >>> [len(s.layers) for s in layers_per_stage(32, Layout(pp=4))]
        [8, 8, 8, 8]
    """
    if layout.pp > num_layers:
        raise StageSplitError(
            f"PP={layout.pp} is larger than the {num_layers} decoder layers.",
            f"Use PP ≤ {num_layers}.",
        )
    if layout.pipeline_layout:
        return _from_layout(num_layers, layout)
    p = layout.pp
    counts = _chunk_counts(num_layers, layout)
    per_rank: list[list[int]] = [[] for _ in range(p)]
    chunks: list[list[int]] = [[] for _ in range(p)]
    index = 0
    for j, n in enumerate(counts):
        per_rank[j % p].extend(range(index, index + n))
        chunks[j % p].append(n)
        index += n
    return [
        Stage(
            rank=r,
            layers=tuple(per_rank[r]),
            chunk_sizes=tuple(chunks[r]),
            mtp_layers=mtp_layers if r == p - 1 else 0,
            has_embedding=r == 0,
            has_output=r == p - 1,
        )
        for r in range(p)
    ]


def legal_split(num_layers: int, layout: Layout, mtp_layers: int = 0) -> tuple[Layout, str | None]:
    """`layout` with a legal split when it sets none of its own and the layers do not divide
    over PP×VP: embedding and loss counted as layers (account_for_*_in_pipeline_split, what
    Bridge's recipes use) when that divides, else a balanced pipeline_model_parallel_layout.

    Returns (the layout, the setting added in Megatron's words, or None when none was). A
    layout that splits, sets its own split, or has more stages than layers comes back as is.

    Example:
        >>> legal_split(126, Layout(pp=16, vp=8))[1]
        'account_for_embedding_in_pipeline_split and account_for_loss_in_pipeline_split'
    """
    stages = layout.pp * (layout.vp or 1)
    own_split = (
        layout.pipeline_layout
        or layout.first_stage_layers is not None
        or layout.last_stage_layers is not None
        or layout.account_for_embedding
        or layout.account_for_loss
    )
    if own_split or num_layers % stages == 0 or layout.pp > num_layers:
        return layout, None
    if (num_layers + 2) % stages == 0:
        update: dict = {"account_for_embedding": True, "account_for_loss": True}
        said = "account_for_embedding_in_pipeline_split and account_for_loss_in_pipeline_split"
        return layout.model_copy(update=update), said
    text = balanced_layout(num_layers, layout.pp, layout.vp or 1, mtp_layers)
    if text is None:
        return layout, None
    return layout.model_copy(update={"pipeline_layout": text}), (
        f"pipeline_model_parallel_layout={text!r}"
    )


def stage_split(
    num_layers: int, layout: Layout, mtp_layers: int = 0
) -> tuple[list[Stage], str | None]:
    """The stages Megatron would build; for a layout with no split of its own whose layers do
    not divide, those of the legal split `legal_split` adds (named in the second item).

    Raises StageSplitError when no legal split exists or the layout's own one is illegal.

    Example:
        >>> stage_split(61, Layout(pp=16), mtp_layers=1)[1]
        "pipeline_model_parallel_layout='Et*3|t*4|…|t*4|t*3|t*3mL'"
    """
    legal, said = legal_split(num_layers, layout, mtp_layers)
    return layers_per_stage(num_layers, legal, mtp_layers), said
