"""Megatron-Core's layout rules, on real models from the bundled catalog.

Worked examples come from shared/reference/megatron-parallelism-and-memory.md §1.6 and
acceptance-cases.md case 9.
"""

from __future__ import annotations

import pytest

from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.errors import UserError
from autorecipe.layout.rules import RULES, check_layout, valid_tp_values
from autorecipe.layout.schema import Layout

H100 = resolve_gpu("h100")
GB200 = resolve_gpu("gb200")


@pytest.fixture(scope="module")
def llama8b():
    return resolve_model("llama3-8b")


@pytest.fixture(scope="module")
def qwen235b():
    return resolve_model("qwen3-235b-a22b")


@pytest.fixture(scope="module")
def dsv3():
    return resolve_model("deepseek-v3")


def by_rule(violations):
    return {v.rule: v for v in violations}


def test_valid_layout_has_no_violations(llama8b):
    layout = Layout(tp=2, pp=2, vp=4, cp=2, dp=2, sp=True, mbs=1, gbs=256, cp_comm_type="p2p")
    assert check_layout(layout, llama8b, world_size=16, seq_len=8192, gpu=H100) == []


def test_case9_tp16_on_llama8b_is_two_warnings(llama8b):
    found = check_layout(
        Layout(tp=16, dp=1, sp=True, gbs=16), llama8b, world_size=16, seq_len=8192, gpu=H100
    )
    rules = by_rule(found)
    assert set(rules) == {"tp_vs_query_groups", "tp_within_nvlink"}
    assert all(v.severity == "warning" for v in found)
    assert "replicated 2×" in rules["tp_vs_query_groups"].message
    assert "Megatron-Core >= 0.16" in rules["tp_vs_query_groups"].depends_on
    assert "8-GPU NVLink" in rules["tp_within_nvlink"].message


def test_case9_tp16_is_an_error_on_old_megatron_core(llama8b):
    found = by_rule(
        check_layout(
            Layout(tp=16, dp=1, sp=True, gbs=16),
            llama8b,
            world_size=16,
            seq_len=8192,
            mcore_version="0.15.0",
        )
    )
    assert found["tp_vs_query_groups"].severity == "error"
    assert "1, 2, 4, 8" in found["tp_vs_query_groups"].fix


def test_case9_tp6_is_an_error_listing_valid_tp(llama8b):
    found = by_rule(
        check_layout(Layout(tp=6, dp=1, sp=True, gbs=6), llama8b, world_size=6, seq_len=8196)
    )
    err = found["tp_divides_heads"]
    assert err.severity == "error"
    assert "TP=6" in err.message and "32 attention heads" in err.message
    assert err.fix.endswith("1, 2, 4, 8, 16, 32.")


def test_valid_tp_values_follow_heads_and_groups(qwen235b):
    # 64 heads, 4 KV groups: divisors of 4 and multiples of 4 that divide 64
    assert valid_tp_values(qwen235b) == [1, 2, 4, 8, 16, 32, 64]
    assert valid_tp_values(resolve_model("qwen3-30b-a3b"), limit=8) == [1, 2, 4, 8]


def test_nvlink_domain_allows_tp_beyond_8_on_nvl72(llama8b):
    found = check_layout(
        Layout(tp=16, dp=1, sp=True, gbs=16), llama8b, world_size=16, seq_len=8192, gpu=GB200
    )
    assert "tp_within_nvlink" not in by_rule(found)
    allowed = check_layout(
        Layout(tp=16, dp=1, sp=True, gbs=16),
        llama8b,
        world_size=16,
        seq_len=8192,
        gpu=H100,
        allow_cross_nvlink_tp=True,
    )
    assert "tp_within_nvlink" not in by_rule(allowed)


def test_dense_mesh_product_must_equal_world(llama8b):
    found = by_rule(check_layout(Layout(tp=2, dp=3, gbs=6), llama8b, world_size=8, seq_len=4096))
    assert "2×1×3×1 = 6" in found["dense_mesh"].message
    assert "DP = 8 / (TP×PP×CP) = 4" in found["dense_mesh"].fix


def test_qwen235b_512_gpus_expert_mesh_with_both_etp_defaults(qwen235b):
    # §1.6 A: TP4 PP16 CP2 EP8, d = 4. ETP1 → EDP 4; ETP4 (MCore default) → EDP 1: both valid on 512
    for etp, edp in ((1, 4), (4, 1)):
        layout = Layout(
            tp=4, pp=16, cp=2, dp=4, ep=8, etp=etp, sp=True, gbs=512,
            account_for_embedding=True, account_for_loss=True,
        )  # fmt: skip
        assert layout.edp == edp
        errors = [
            v
            for v in check_layout(layout, qwen235b, world_size=512, seq_len=4096)
            if v.severity == "error"
        ]
        assert errors == [], errors


def test_qwen235b_etp4_needs_512_gpus(qwen235b):
    # minimum GPUs = PP·lcm(TP·CP, ETP·EP): 128 with ETP1, 512 with ETP4
    ok = Layout(tp=4, pp=16, cp=2, dp=1, ep=8, etp=1, sp=True, gbs=64, account_for_loss=True)
    assert "expert_mesh" not in by_rule(check_layout(ok, qwen235b, world_size=128, seq_len=4096))
    bad = ok.model_copy(update={"etp": 4})
    err = by_rule(check_layout(bad, qwen235b, world_size=128, seq_len=4096))["expert_mesh"]
    assert "4×8×16 = 512" in err.message
    assert "8" in err.fix  # 8 ranks per stage


def test_deepseek_v3_1024_gpus_needs_etp1(dsv3):
    # §6.1: TP2 PP16 EP64 on 1024 GPUs is valid only with ETP=1
    layout = Layout(
        tp=2,
        pp=16,
        dp=32,
        ep=64,
        etp=1,
        sp=True,
        gbs=1024,
        first_stage_layers=4,
        last_stage_layers=1,
    )
    assert "expert_mesh" not in by_rule(check_layout(layout, dsv3, world_size=1024, seq_len=4096))
    bad = layout.model_copy(update={"etp": 2})
    assert "expert_mesh" in by_rule(check_layout(bad, dsv3, world_size=1024, seq_len=4096))


def test_experts_divisible_by_ep(qwen235b):
    layout = Layout(tp=1, dp=96, ep=96, sp=False, gbs=96)
    err = by_rule(check_layout(layout, qwen235b, world_size=96, seq_len=4096))
    assert "128 routed experts" in err["experts_divisible_by_ep"].message


def test_ep_on_dense_model(llama8b):
    found = by_rule(check_layout(Layout(dp=8, ep=2, gbs=8), llama8b, world_size=8, seq_len=4096))
    assert found["ep_requires_moe"].severity == "error"


def test_sp_rules(llama8b):
    moe = resolve_model("qwen3-30b-a3b")
    no_sp_moe = by_rule(
        check_layout(Layout(tp=4, dp=2, ep=8, gbs=8), moe, world_size=8, seq_len=4096)
    )
    assert no_sp_moe["sp_with_tp"].severity == "error"
    no_sp_dense = by_rule(
        check_layout(Layout(tp=4, dp=2, gbs=8), llama8b, world_size=8, seq_len=4096)
    )
    assert no_sp_dense["sp_with_tp"].severity == "warning"
    sp_tp1 = by_rule(
        check_layout(Layout(dp=8, sp=True, gbs=8), llama8b, world_size=8, seq_len=4096)
    )
    assert sp_tp1["sp_without_tp"].severity == "warning"


def test_vp_needs_pp_and_layer_divisibility(llama8b):
    vp_no_pp = by_rule(check_layout(Layout(vp=2, dp=8, gbs=8), llama8b, world_size=8, seq_len=4096))
    assert vp_no_pp["vp_requires_pp"].severity == "error"
    # 32 layers over PP4×VP3 = 12 stages does not split
    uneven = by_rule(
        check_layout(Layout(pp=4, vp=3, dp=2, gbs=64), llama8b, world_size=8, seq_len=4096)
    )
    assert "PP×VP = 4×3 = 12" in uneven["layers_split_over_pipeline"].message


def test_uneven_split_via_first_last_stage(dsv3):
    ok = Layout(
        tp=8, pp=16, dp=2, ep=16, sp=True, gbs=64, first_stage_layers=4, last_stage_layers=1
    )
    assert "layers_split_over_pipeline" not in by_rule(
        check_layout(ok, dsv3, world_size=256, seq_len=4096)
    )
    bad = ok.model_copy(update={"first_stage_layers": 3})  # 57 over 14 middle stages
    assert "layers_split_over_pipeline" in by_rule(
        check_layout(bad, dsv3, world_size=256, seq_len=4096)
    )


def test_interleaved_schedule_needs_multiple_of_pp_microbatches(llama8b):
    layout = Layout(pp=4, vp=2, dp=2, gbs=12, mbs=1)  # m = 6, not a multiple of 4
    err = by_rule(check_layout(layout, llama8b, world_size=8, seq_len=4096))
    assert "6 microbatches" in err["interleaved_microbatches"].message
    fine = layout.model_copy(update={"gbs": 16})
    assert "interleaved_microbatches" not in by_rule(
        check_layout(fine, llama8b, world_size=8, seq_len=4096)
    )


def test_sequence_rules_for_cp_and_sp(llama8b):
    cp = by_rule(check_layout(Layout(cp=4, dp=2, gbs=8), llama8b, world_size=8, seq_len=4100))
    assert "2×CP = 8" in cp["seq_divisible_by_cp"].message
    sp = by_rule(
        check_layout(Layout(tp=8, cp=1, dp=1, sp=True, gbs=8), llama8b, world_size=8, seq_len=4100)
    )
    assert "TP×CP = 8" in sp["seq_divisible_for_sp"].message


def test_a2a_cp_needs_heads_divisible(llama8b):
    # 8 KV heads over TP4 → 2 local KV heads; CP4 a2a cannot split them
    layout = Layout(tp=4, cp=4, dp=1, sp=True, gbs=4, cp_comm_type="a2a")
    err = by_rule(check_layout(layout, llama8b, world_size=16, seq_len=8192))
    assert "KV heads (2)" in err["cp_comm_type"].message


def test_gbs_divisible_excludes_cp(llama8b):
    # DP = 16/(1·1·2) = 8, so GBS 12 fails even though 12 % (DP·CP)... is irrelevant
    err = by_rule(check_layout(Layout(cp=2, dp=8, gbs=12), llama8b, world_size=16, seq_len=8192))
    assert "MBS×DP = 1×8 = 8" in err["gbs_divisible"].message


def test_vocab_not_divisible_by_tp():
    spec = resolve_model("llama3-8b").model_copy(update={"vocab_size": 151669})
    err = by_rule(
        check_layout(Layout(tp=4, dp=2, sp=True, gbs=8), spec, world_size=8, seq_len=4096)
    )
    assert "should_pad_vocab" in err["vocab_divisible_by_tp"].fix


def test_every_rule_addressable(llama8b):
    assert len(RULES) >= 20
    only = check_layout(
        Layout(tp=6, dp=1, gbs=6), llama8b, world_size=6, seq_len=8192, rules=["tp_divides_heads"]
    )
    assert [v.rule for v in only] == ["tp_divides_heads"]
    for info in RULES.values():
        assert info.id and info.name
    with pytest.raises(UserError, match="tp_divides_heads"):
        check_layout(Layout(), llama8b, world_size=1, seq_len=8, rules=["tp_divide_heads"])


def test_errors_before_warnings(llama8b):
    found = check_layout(
        Layout(tp=16, dp=2, gbs=16), llama8b, world_size=16, seq_len=8192, gpu=H100
    )
    severities = [v.severity for v in found]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert "error" in severities and "warning" in severities
