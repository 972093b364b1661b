"""Every AR rule: one configuration that triggers it and one that does not.

Each case is a real recipe of the bundled 0.6.2 index with run_recipe.py overrides,
checked through the public API; the model facts come from the bundled catalog.
"""

from __future__ import annotations

import pytest

from autorecipe import api
from autorecipe.advise.check import CheckReport

L8 = "llama3_8b_pretrain_config"  # TP1 CP2, 2 GPUs, seq 8192, GBS 512
Q30 = "qwen3_30b_a3b_pretrain_config"  # EP16, 16 GPUs, TE graphs with the RNG tracker
Q30_8 = "qwen3_30b_a3b_pretrain_8gpu_h100_bf16_config"  # TP4 PP2 EP4, full recompute
L8_SFT = "llama3_8b_sft_config"  # offline packing, MBS 1
VLM_FSDP = "qwen35_vl_35b_a3b_fsdp_sft_config"
HYBRIDEP = ["model.moe_token_dispatcher_type=flex", "model.moe_flex_dispatcher_backend=hybridep"]

# rule id -> (triggering case, clean case); a case is (recipe, overrides, options)
CASES: dict[str, tuple[tuple, tuple]] = {
    "AR100": ((L8, ["model.tensor_model_parallel_size=0"], {}), (L8, [], {})),
    "AR101": (
        (L8, ["-tp", "6", "-cp", "1"], {"gpus": 16}),
        (L8, ["-tp", "2", "-cp", "1"], {"gpus": 16}),
    ),
    "AR102": ((Q30, ["-ep", "32"], {}), (Q30, ["-ep", "8"], {})),
    "AR103": (
        (L8, ["-tp", "6", "-cp", "1"], {"gpus": 12}),
        (L8, ["-tp", "4", "-cp", "1"], {"gpus": 12}),
    ),
    "AR104": (
        (L8, ["-tp", "16", "-cp", "1"], {"gpus": 16}),
        (L8, ["-tp", "8", "-cp", "1"], {"gpus": 16}),
    ),
    "AR105": (
        ("qwen25_7b_pretrain_config", ["-tp", "28"], {"gpus": 28}),
        ("qwen25_7b_pretrain_config", ["-tp", "4"], {"gpus": 28}),
    ),
    "AR106": (
        ("qwen25_7b_pretrain_config", ["-tp", "28"], {"gpus": 28}),
        ("qwen25_7b_pretrain_config", ["-tp", "4"], {"gpus": 28}),
    ),
    "AR107": (
        (L8, ["-tp", "16", "-cp", "1"], {"gpus": 16}),
        (L8, ["-tp", "16", "-cp", "1"], {"gpus": 16, "gpu_type": "gb200"}),
    ),
    "AR108": (
        (L8, ["model.sequence_parallel=true"], {}),
        (L8, ["-tp", "2", "-cp", "1", "model.sequence_parallel=true"], {}),
    ),
    "AR109": ((Q30, ["-tp", "2", "model.sequence_parallel=false"], {}), (Q30, ["-tp", "2"], {})),
    "AR110": ((L8, ["-vp", "2"], {}), (L8, ["-pp", "2", "-vp", "2", "-cp", "1"], {})),
    "AR111": ((L8, ["-pp", "3"], {"gpus": 6}), (L8, ["-pp", "2"], {"gpus": 4})),
    "AR112": (
        (L8, ["-pp", "4", "-vp", "2", "-cp", "1", "-gb", "6"], {"gpus": 8}),
        (L8, ["-pp", "4", "-vp", "2", "-cp", "1", "-gb", "8"], {"gpus": 8}),
    ),
    "AR113": (
        (L8, ["-cp", "4", "-sl", "8196"], {"gpus": 4}),
        (L8, ["-cp", "4", "-sl", "8192"], {"gpus": 4}),
    ),
    "AR114": (
        (L8, ["-tp", "4", "-cp", "1", "-sl", "8194"], {"gpus": 4}),
        (L8, ["-tp", "4", "-cp", "1", "-sl", "8192"], {"gpus": 4}),
    ),
    "AR115": (
        (L8, ["-cp", "16", "model.cp_comm_type=a2a"], {"gpus": 16}),
        (L8, ["-cp", "16", "model.cp_comm_type=p2p"], {"gpus": 16}),
    ),
    "AR116": ((L8, ["-ep", "2"], {}), (L8, [], {})),
    "AR117": ((Q30, ["-ep", "12"], {"gpus": 12}), (Q30, ["-ep", "16"], {})),
    "AR118": (
        ("qwen3_30b_a3b_peft_config", ["-etp", "2"], {}),
        ("qwen3_30b_a3b_peft_config", ["-etp", "1"], {}),
    ),
    "AR119": (
        (L8, ["-cp", "1", "-gb", "12"], {"gpus": 8}),
        (L8, ["-cp", "1", "-gb", "16"], {"gpus": 8}),
    ),
    "AR120": (
        (L8, ["model.recompute_granularity=full"], {}),
        (
            L8,
            [
                "model.recompute_granularity=full",
                "model.recompute_method=uniform",
                "model.recompute_num_layers=1",
            ],
            {},
        ),
    ),
    "AR121": (
        (
            L8,
            [
                "ddp.use_megatron_fsdp=true",
                "ddp.use_distributed_optimizer=false",
                "optimizer.use_distributed_optimizer=false",
            ],
            {},
        ),
        (L8, ["ddp.use_megatron_fsdp=true", "ddp.use_distributed_optimizer=true"], {}),
    ),
    "AR122": ((L8, ["-sl", "16384"], {}), (L8, ["-sl", "8192"], {})),
    "AR201": (
        (Q30_8, ["model.cuda_graph_impl=transformer_engine"], {}),
        (Q30_8, ["model.cuda_graph_impl=transformer_engine", "model.use_te_rng_tracker=true"], {}),
    ),
    "AR202": (
        (Q30_8, ["model.cuda_graph_impl=transformer_engine"], {}),
        (
            Q30_8,
            [
                "model.cuda_graph_impl=transformer_engine",
                "model.recompute_granularity=selective",
                "model.recompute_method=null",
                "model.recompute_num_layers=null",
            ],
            {},
        ),
    ),
    "AR203": (
        (L8_SFT, ["model.cuda_graph_impl=transformer_engine", "model.use_te_rng_tracker=true"], {}),
        (
            L8_SFT,
            [
                "model.cuda_graph_impl=transformer_engine",
                "model.use_te_rng_tracker=true",
                "dataset.pad_to_max_length=true",
                "dataset.offline_packing_specs.pad_cu_seqlens=true",
            ],
            {},
        ),
    ),
    "AR204": (
        (
            L8,
            [
                "model.cuda_graph_impl=local",
                "model.cuda_graph_scope=[attn]",
                "rng.te_rng_tracker=true",
            ],
            {},
        ),
        (
            L8,
            [
                "model.cuda_graph_impl=local",
                "model.cuda_graph_scope=[full_iteration]",
                "rng.te_rng_tracker=true",
            ],
            {},
        ),
    ),
    "AR205": (
        (Q30, ["model.cuda_graph_scope=[moe_preprocess]"], {}),
        (Q30, ["model.cuda_graph_scope=[moe_router,moe_preprocess]"], {}),
    ),
    "AR206": (
        (
            Q30,
            [
                "model.cuda_graph_impl=full_iteration",
                "rerun_state_machine.check_for_nan_in_loss=true",
            ],
            {},
        ),
        (
            Q30,
            [
                "model.cuda_graph_impl=full_iteration",
                "rerun_state_machine.check_for_nan_in_loss=false",
            ],
            {},
        ),
    ),
    "AR207": ((Q30, ["model.cpu_offloading=true"], {}), (Q30, ["model.cpu_offloading=false"], {})),
    "AR301": (
        (L8, ["-pp", "2", "-cp", "1"], {"gpus": 8}),
        (L8, ["-pp", "2", "-vp", "2", "-cp", "1"], {"gpus": 8}),
    ),
    "AR302": (
        (L8, ["ddp.use_megatron_fsdp=true", "-tp", "4", "-cp", "1"], {"gpus": 8}),
        (
            L8,
            ["ddp.use_megatron_fsdp=true", "-tp", "4", "-cp", "1"],
            {"gpus": 8, "gpu_type": "gb200"},
        ),
    ),
    "AR303": (
        (L8, ["-sl", "131072", "-cp", "1"], {"gpus": 8}),
        (L8, ["-sl", "131072", "-cp", "8"], {"gpus": 8}),
    ),
    "AR304": ((L8, ["model.seq_length=32768"], {}), (L8, ["dataset.seq_length=32768"], {})),
    "AR305": (
        ("deepseek_v3_pretrain_config", ["-pp", "8"], {}),
        (
            "deepseek_v3_pretrain_config",
            ["-pp", "8", "model.pipeline_model_parallel_layout=null"],
            {},
        ),
    ),
    "AR306": (
        ("llama3_8b_pretrain_32gpu_gb200_bf16_config", [], {"gpus": 64}),
        ("llama3_8b_pretrain_32gpu_gb200_bf16_config", ["-gb", "128"], {"gpus": 64}),
    ),
    "AR307": (
        (
            L8,
            [
                "comm_overlap.tp_comm_overlap=true",
                "-tp",
                "2",
                "-cp",
                "1",
                "model.sequence_parallel=false",
            ],
            {},
        ),
        (L8, ["comm_overlap.tp_comm_overlap=true", "-tp", "2", "-cp", "1"], {}),
    ),
    "AR308": (
        (L8, ["model.cpu_offloading=true", "-pp", "2", "-cp", "1"], {}),
        (L8, ["model.cpu_offloading=true"], {}),
    ),
    "AR309": (
        (
            L8,
            [
                "mixed_precision=bf16_with_mxfp8_mixed",
                "mixed_precision.reuse_grad_buf_for_mxfp8_param_ag=false",
            ],
            {},
        ),
        (L8, ["mixed_precision=bf16_with_mxfp8_mixed"], {}),
    ),
    "AR401": ((Q30, ["-ep", "1"], {}), (Q30, [], {})),
    "AR402": (
        (Q30, ["model.moe_permute_fusion=false"], {}),
        (Q30, ["model.moe_permute_fusion=true"], {}),
    ),
    "AR403": (
        (Q30_8, ["comm_overlap.overlap_moe_expert_parallel_comm=true"], {}),
        (Q30, ["comm_overlap.overlap_moe_expert_parallel_comm=true"], {}),
    ),
    "AR404": (
        (Q30, ["model.moe_flex_dispatcher_backend=deepep"], {"gpu_type": "gb200"}),
        (Q30, ["model.moe_flex_dispatcher_backend=deepep"], {}),
    ),
    "AR405": ((VLM_FSDP, ["model.cross_entropy_fusion_impl=native"], {}), (VLM_FSDP, [], {})),
    "AR501": (
        ("qwen3_vl_8b_sft_config", [], {"dataset": "squad"}),
        ("qwen3_vl_8b_sft_config", [], {"dataset": "cord-v2"}),
    ),
    "AR502": ((L8_SFT, ["-mb", "2"], {}), (L8_SFT, ["-mb", "1"], {})),
    "AR310": (
        (L8, ["ddp.use_megatron_fsdp=true", "checkpoint.ckpt_format=torch_dist"], {}),
        (L8, ["ddp.use_megatron_fsdp=true", "checkpoint.ckpt_format=fsdp_dtensor"], {}),
    ),
    "AR311": (
        ("deepseek_v4_flash_pretrain_32gpu_h100_fp8mx_config", ["-sl", "4104"], {}),
        ("deepseek_v4_flash_pretrain_32gpu_h100_fp8mx_config", ["-sl", "4112"], {}),
    ),
    "AR406": (
        ("qwen3_30b_a3b_sft_config", [*HYBRIDEP, "model.cuda_graph_impl=transformer_engine"], {}),
        ("qwen3_30b_a3b_sft_config", HYBRIDEP, {}),
    ),
    "AR505": ((L8_SFT, [], {"dataset": "cord-v2"}), (L8_SFT, [], {"dataset": "tulu3"})),
    "AR503": (
        (L8_SFT, ["-cp", "2", "ddp.average_in_collective=true"], {"gpus": 4}),
        (
            L8_SFT,
            ["-cp", "2", "model.calculate_per_token_loss=true", "ddp.average_in_collective=false"],
            {"gpus": 4},
        ),
    ),
    "AR504": (
        (
            "qwen3_30b_a3b_sft_config",
            [
                "-ep",
                "8",
                "-pp",
                "2",
                "dataset.enable_offline_packing=false",
                "dataset.offline_packing_specs=null",
            ],
            {},
        ),
        ("qwen3_30b_a3b_sft_config", ["-ep", "8", "-pp", "2"], {}),
    ),
    "AR314": ((Q30, ["model.recompute_granularity=junk"], {}), (Q30, [], {})),
    "AR601": (
        (
            "llama3_70b_pretrain_config",
            ["-tp", "1", "-pp", "1", "-vp", "none", "-cp", "1"],
            {"gpus": 8},
        ),
        (L8, [], {}),
    ),
}


def _run(case: tuple) -> CheckReport:
    recipe, overrides, options = case
    return api.check(recipe, overrides, index="0.6.2", **options)


def test_every_rule_has_cases():
    assert set(CASES) | {"AR001", "AR312", "AR313"} == {r.id for r in api.list_rules()}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers(rule_id):
    report = _run(CASES[rule_id][0])
    hits = [f for f in report.findings if f.id == rule_id]
    assert hits, f"{rule_id} did not fire: {[f.id for f in report.findings]}"
    assert all(f.message and f.title for f in hits)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_quiet(rule_id):
    report = _run(CASES[rule_id][1])
    assert not [f for f in report.findings if f.id == rule_id and f.severity != "info"], [
        (f.id, f.message) for f in report.findings
    ]


def test_model_unknown_is_info_and_skips_model_rules():
    # GPT-3 175B's recipe builds a GPTModelProvider of a shape no catalog model has, so its
    # model facts are unknown (TP5 would not divide its 96 heads)
    blind = api.check("gpt3_175b_pretrain_config", ["-tp", "5"], gpus=5)
    assert [f.severity for f in blind.findings if f.id == "AR001"] == ["info"]
    assert not {f.id for f in blind.findings} & {"AR103", "AR104"}
    seen = api.check(
        "gpt3_175b_pretrain_config", ["-tp", "5"], gpus=5, model="google/gemma-3-1b-pt"
    )
    ids = {f.id for f in seen.findings}
    assert "AR001" not in ids and "AR103" in ids
    # gemma3_1b's provider names no checkpoint either, but its shape is Gemma 3 1B's
    told = api.check("gemma3_1b_pretrain_config", ["-tp", "3"], gpus=3)
    assert "AR001" not in {f.id for f in told.findings}
    assert "AR103" in {f.id for f in told.findings}


def test_tp_multiple_of_kv_heads_is_a_warning_and_names_the_version():
    report = _run(CASES["AR104"][0])
    finding = next(f for f in report.findings if f.id == "AR104")
    assert finding.severity == "warning" and "Megatron-Core >= 0.16" in finding.message


def test_fix_overrides_are_valid_overrides_that_clear_the_finding():
    report = _run(CASES["AR201"][0])
    finding = next(f for f in report.findings if f.id == "AR201")
    assert finding.fix == "model.use_te_rng_tracker=true rng.te_rng_tracker=true"
    recipe, overrides, options = CASES["AR201"][0]
    fixed = api.check(recipe, overrides + finding.fix.split(), index="0.6.2", **options)
    assert "AR201" not in {f.id for f in fixed.findings}


def test_model_seq_length_alone_trains_at_the_recipe_length():
    report = _run(CASES["AR304"][0])
    assert report.seq_len == 8192
    assert _run(CASES["AR304"][1]).seq_len == 32768


def test_shipped_recipe_performance_findings_are_info():
    report = api.check(Q30_8, [])
    assert {f.severity for f in report.findings if f.id in ("AR301", "AR401", "AR601")} <= {"info"}


def test_moe_tp_without_sp_is_no_error_where_bridge_turns_sp_on():
    # Qwen3VLMoEModelProvider.finalize sets sequence_parallel=True when TP > 1; the GLM-4.5
    # provider does not, so the same shipped setting is a real MoELayer failure there
    qwen3_vl = api.check("qwen3_vl_235b_a22b_sft_32gpu_h100_bf16_config", [], index="0.6.2")
    assert "AR109" not in {f.id for f in qwen3_vl.findings}
    glm = api.check("glm45_355b_sft_128gpu_h100_bf16_config", [], index="0.6.2")
    assert [f.severity for f in glm.findings if f.id == "AR109"] == ["error"]


def test_enumerated_values_name_the_closest_and_the_severity():
    # recompute_granularity: TransformerConfig.__post_init__ raises on any other name
    junk = api.check(L8, ["model.recompute_granularity=junk"], index="0.6.2")
    f = next(f for f in junk.findings if f.id == "AR314")
    assert f.severity == "error" and f.fix_overrides == {"model.recompute_granularity": None}
    # a MoE model's MoELayer raises on an unknown dispatcher; the closest is offered
    moe = api.check(Q30, ["model.moe_token_dispatcher_type=all2all"], index="0.6.2")
    f = next(f for f in moe.findings if f.id == "AR314")
    assert f.severity == "error" and "closest: alltoall" in f.message
    assert f.fix_overrides == {"model.moe_token_dispatcher_type": "alltoall"}
    # a dense model never builds a dispatcher: ignored, a warning
    dense = api.check(L8, ["model.moe_token_dispatcher_type=all2all"], index="0.6.2")
    assert [f.severity for f in dense.findings if f.id == "AR314"] == ["warning"]
    # cp_comm_type reaches Transformer Engine only with CP > 1 (L8 runs CP=2)
    cp = api.check(L8, ["model.cp_comm_type=ring"], index="0.6.2")
    assert [f.severity for f in cp.findings if f.id == "AR314"] == ["error"]
    cp1 = api.check(L8, ["model.cp_comm_type=ring", "-cp", "1"], index="0.6.2")
    assert [f.severity for f in cp1.findings if f.id == "AR314"] == ["warning"]
    # Bridge's own spelling "allgather" is accepted
    ok = api.check(L8, ["model.cp_comm_type=allgather"], index="0.6.2")
    assert "AR314" not in {f.id for f in ok.findings}


def test_enumerated_fix_avoids_a_value_that_adds_an_error():
    # "ful" is closest to full, but full recompute with TE CUDA graphs is AR202's error
    report = api.check(Q30, ["model.recompute_granularity=ful"], index="0.6.2")
    f = next(f for f in report.findings if f.id == "AR314")
    assert "closest: full" in f.message and "AR202" in f.message
    assert f.fix_overrides == {"model.recompute_granularity": None}
