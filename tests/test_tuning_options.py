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


def test_dp_overlap_is_offered_where_the_recipe_leaves_it_off():
    from autorecipe import api

    # Llama 3 70B SFT sets overlap_grad_reduce=False; on 64 H100s it runs with DP=2
    rec = api.recommend("llama3-70b", "sft", 64, "h100")
    assert rec.layout.dp > 1
    tune = next(t for t in rec.tuning if t.name == "data-parallel communication overlap")
    assert tune.overrides == {"ddp.overlap_grad_reduce": True}
    assert [c.change_class for c in tune.changes] == ["execution"]
    assert tune.throughput.breakdown["dp_comm"] < rec.throughput.breakdown["dp_comm"]
    assert tune.throughput.step_time_s < 0.99 * tune.step_time_before_s
    # the override is one `check` accepts on that recipe
    check = api.check("llama3_70b_sft_config", ["ddp.overlap_grad_reduce=True"], gpus=64,
                      gpu_type="h100")  # fmt: skip
    assert not [f for f in check.findings if "overlap_grad_reduce" in f.message]


def test_no_dp_overlap_offer_without_data_parallelism_or_when_already_on():
    from autorecipe import api

    # 16 GPUs: TP8 PP2, DP=1, nothing to overlap
    assert not [t for t in api.recommend("llama3-70b", "sft", 16, "h100").tuning
                if t.name == "data-parallel communication overlap"]  # fmt: skip
    # the pretrain recipe already overlaps
    assert not [t for t in api.recommend("llama3-70b", "pretrain", 64, "h100").tuning
                if t.name == "data-parallel communication overlap"]  # fmt: skip
