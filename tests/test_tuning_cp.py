"""The all-to-all CP tuning: offered where Transformer Engine accepts it and the model
predicts it faster, never where the heads do not split or the ring is as fast."""

from __future__ import annotations

from dataclasses import replace

import pytest

from autorecipe.advise.adapt import Target
from autorecipe.advise.tuning import all_to_all_cp
from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.layout.schema import Layout


@pytest.fixture(scope="module")
def target():
    return Target(
        spec=resolve_model("meta-llama/Meta-Llama-3-8B"),
        world=8,
        gpu=resolve_gpu("H100"),
        seq_len=8192,
        mode="pretrain",
    )


def test_wide_cp_over_the_ring_is_offered_all_to_all(target):
    ring = Layout(cp=8, dp=1, mbs=1, gbs=64, cp_comm_type="p2p")
    tune = all_to_all_cp(target, ring)
    assert tune is not None
    assert tune.overrides == {"model.cp_comm_type": "a2a"}
    assert [c.change_class for c in tune.changes] == ["execution"]
    assert tune.throughput.step_time_s < 0.99 * tune.step_time_before_s
    assert tune.memory.fits
    assert "faster" in tune.reason and "8 ways" in tune.reason


def test_no_offer_where_the_heads_do_not_split_or_nothing_is_gained(target):
    # TP4 leaves 2 local KV heads: Transformer Engine refuses CP4 over all-to-all
    split_fails = Layout(tp=4, sp=True, cp=4, dp=1, mbs=1, gbs=8, cp_comm_type="p2p")
    wide = replace(target, world=16)
    refused = split_fails.model_copy(update={"cp_comm_type": "a2a"})
    assert any(v.rule == "cp_comm_type" and v.severity == "error" for v in wide.violations(refused))
    assert all_to_all_cp(wide, split_fails) is None
    # CP2: one ring step, little to gain
    assert all_to_all_cp(target, Layout(cp=2, dp=4, mbs=1, gbs=64)) is None
    # already all-to-all, or no CP at all
    assert all_to_all_cp(target, Layout(cp=8, dp=1, gbs=64, cp_comm_type="a2a")) is None
    assert all_to_all_cp(target, Layout(dp=8, gbs=64)) is None
