"""Change control: every override gets the class the change-control rules give it."""

from __future__ import annotations

import pytest

from autorecipe.advise.changes import classify_change


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dataset.seq_length", 32768),
        ("model.seq_length", 32768),
        ("train.global_batch_size", 256),
        ("optimizer.lr", 1e-4),
        ("scheduler.lr_warmup_iters", 100),
        ("model.fp8", "hybrid"),
        ("mixed_precision", "bf16_with_fp8_current_scaling_mixed"),
        ("dataset.packed_sequence_specs.packed_sequence_size", 4096),
        ("model.moe_expert_capacity_factor", 1.0),
        ("model.moe_token_drop_policy", "probs"),
        ("model.moe_router_topk", 4),
        ("dataset.blend", ["a"]),
        ("peft.dim", 16),
    ],
)
def test_convergence_changes(key, value):
    cls, reason = classify_change(key, value)
    assert cls == "convergence", (key, reason)
    assert reason


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model.tensor_model_parallel_size", 4),
        ("model.pipeline_model_parallel_size", 2),
        ("model.virtual_pipeline_model_parallel_size", 2),
        ("model.context_parallel_size", 2),
        ("model.expert_model_parallel_size", 8),
        ("model.expert_tensor_parallel_size", 1),
        ("model.sequence_parallel", True),
        ("model.recompute_granularity", "full"),
        ("model.cpu_offloading", True),
        ("model.fine_grained_activation_offloading", True),
        ("ddp.overlap_grad_reduce", True),
        ("comm_overlap.tp_comm_overlap", True),
        ("model.moe_permute_fusion", True),
        ("model.bias_activation_fusion", True),
        ("model.cuda_graph_impl", "transformer_engine"),
        ("model.cuda_graph_scope", ["attn"]),
        ("model.moe_token_dispatcher_type", "flex"),
        ("model.moe_flex_dispatcher_backend", "deepep"),
        ("rng.te_rng_tracker", True),
        ("logger.log_interval", 5),
    ],
)
def test_execution_changes(key, value):
    assert classify_change(key, value)[0] == "execution", key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model.moe_router_force_load_balancing", True),
        ("rerun_state_machine.check_for_nan_in_loss", False),
        ("ddp.check_for_nan_in_grad", False),
        ("dataset.mock", True),
    ],
)
def test_benchmark_only_shortcuts(key, value):
    assert classify_change(key, value)[0] == "benchmark-only", key


def test_re_enabling_a_check_is_not_a_shortcut():
    assert classify_change("rerun_state_machine.check_for_nan_in_loss", True)[0] == "execution"
    assert classify_change("model.moe_router_force_load_balancing", False)[0] == "convergence"


@pytest.mark.parametrize("key", ["train.micro_batch_size", "micro_batch_size"])
def test_micro_batch_is_execution_only_while_gbs_is_fixed(key):
    assert classify_change(key, 2, gbs_fixed=True)[0] == "execution"
    assert classify_change(key, 2, gbs_fixed=False)[0] == "convergence"


def test_plain_index_names_class_like_their_paths():
    for name, path in [
        ("tensor_model_parallel_size", "model.tensor_model_parallel_size"),
        ("global_batch_size", "train.global_batch_size"),
        ("lr", "optimizer.lr"),
    ]:
        assert classify_change(name, 1) == classify_change(path, 1)


def test_unchanged_value_is_not_a_change():
    cls, reason = classify_change("train.global_batch_size", 128, old=128)
    assert cls == "execution" and "no change" in reason


def test_unknown_keys_default_to_convergence_and_say_so():
    cls, reason = classify_change("model.some_new_knob", 3)
    assert cls == "convergence" and "not a known" in reason


def test_a_precision_preset_spelled_with_dashes_is_the_same_preset():
    # Bridge reads "-" as "_" in preset names: bf16-mixed on a bf16_mixed recipe is no change
    assert classify_change("mixed_precision", "bf16-mixed", old="bf16_mixed")[0] == "execution"
    assert (
        classify_change("mixed_precision", "bf16_with_fp8_current_scaling_mixed", old="bf16_mixed")[
            0
        ]
        == "convergence"
    )
