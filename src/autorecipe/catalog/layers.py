"""What each decoder layer of a ModelSpec is made of: its mixer and its MLP kind.

One list, read by both the parameter and the FLOP counts, so they agree on which layers
are MoE, which attend over a sliding window, and which are Mamba or linear attention.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorecipe.catalog.spec import ModelSpec
from autorecipe.errors import UserError

# Mixers: attention (full causal), swa (sliding-window attention), mla, mamba, gdn (gated
# DeltaNet linear attention), none. MLPs: dense, moe, none.
_HYBRID = {
    "M": ("mamba", "none"),
    "*": ("attention", "none"),
    "-": ("none", "dense"),
    "E": ("none", "moe"),
}


@dataclass(frozen=True)
class LayerKind:
    mixer: str
    mlp: str

    @property
    def label(self) -> str:
        return "+".join(x for x in (self.mixer, self.mlp) if x != "none")


def layer_kinds(spec: ModelSpec) -> list[LayerKind]:
    """The kind of every decoder layer, in order (MTP layers excluded)."""
    if spec.hybrid_layer_pattern:
        try:
            kinds = [LayerKind(*_HYBRID[c]) for c in spec.hybrid_layer_pattern if c != "|"]
        except KeyError as exc:
            raise UserError(
                f"hybrid layer pattern has an unknown symbol {exc.args[0]!r}; known: M * - E"
            ) from None
        return kinds
    n = spec.num_hidden_layers
    mixers = ["mla" if spec.is_mla else "attention"] * n
    if spec.linear_attention:
        types = spec.linear_attention.get("layer_types") or _every(
            n, spec.linear_attention.get("full_attention_interval") or 4
        )
        mixers = ["gdn" if t == "linear_attention" else "attention" for t in types]
    elif spec.layer_types and spec.sliding_window:
        mixers = ["swa" if t == "sliding_attention" else "attention" for t in spec.layer_types]
    if len(mixers) != n:
        raise UserError(f"layer_types lists {len(mixers)} layers but num_hidden_layers is {n}")
    dense_first = spec.first_k_dense_replace or 0
    mlps = ["moe" if spec.is_moe and i >= dense_first else "dense" for i in range(n)]
    return [LayerKind(m, f) for m, f in zip(mixers, mlps, strict=True)]


def _every(n: int, interval: int) -> list[str]:
    return ["full_attention" if (i + 1) % interval == 0 else "linear_attention" for i in range(n)]


def is_gated(spec: ModelSpec) -> bool:
    """Gated MLP (SwiGLU/GeGLU: three projections) versus plain (two)."""
    return spec.activation in ("swiglu", "geglu")
