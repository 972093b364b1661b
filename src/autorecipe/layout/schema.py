"""One parallel layout, in Megatron's terms."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Precision = Literal["bf16", "fp8", "mxfp8", "nvfp4"]
Recompute = Literal["none", "selective", "full"]


class Layout(BaseModel):
    tp: int = 1
    pp: int = 1
    vp: int | None = None
    cp: int = 1
    ep: int = 1
    etp: int = 1
    dp: int = 1
    sp: bool = False
    mbs: int = 1
    gbs: int = 1
    cp_comm_type: str | None = None
    recompute: Recompute = "none"
    recompute_method: str | None = None
    recompute_num_layers: int | None = None
    # selective recompute: Megatron's recompute_modules (None means its default, core_attn)
    recompute_modules: list[str] | None = None
    use_distributed_optimizer: bool = True
    use_megatron_fsdp: bool = False
    # When layers do not split evenly over PP x VP
    pipeline_layout: str | None = None
    first_stage_layers: int | None = None
    last_stage_layers: int | None = None
    # account_for_embedding/loss_in_pipeline_split: the embedding / loss count as one layer
    account_for_embedding: bool = False
    account_for_loss: bool = False

    @property
    def world_size(self) -> int:
        return self.tp * self.pp * self.cp * self.dp

    @property
    def edp(self) -> int:
        """Expert data-parallel size: what remains of the world after ETP x EP x PP."""
        return self.world_size // (self.etp * self.ep * self.pp)

    @property
    def grad_accum_steps(self) -> int:
        return self.gbs // (self.mbs * self.dp)
