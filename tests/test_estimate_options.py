"""estimate's --cp-comm-type and --ep-overlap: what a measured run set, so it can be compared."""

from __future__ import annotations

import json

from autorecipe import api
from cli_entry import one_line_error, run_cli

QWEN = dict(gpus=16, gpu_type="h100", ep=16)
LLAMA_CP = dict(gpus=16, gpu_type="h100", cp=16, seq_len=65536)


def test_ep_overlap_hides_part_of_the_all_to_all_and_holds_one_more_microbatch():
    off = api.estimate("qwen3-30b-a3b", **QWEN)
    on = api.estimate("qwen3-30b-a3b", **QWEN, ep_overlap=True)
    assert on.throughput.breakdown["ep_comm"] < off.throughput.breakdown["ep_comm"]
    assert on.throughput.tokens_per_sec_per_gpu > off.throughput.tokens_per_sec_per_gpu
    assert on.memory.per_gpu_gib >= off.memory.per_gpu_gib


def test_ep_overlap_where_megatron_cannot_run_it_is_refused():
    for args in (["-ep", "8", "-pp", "2"], ["-ep", "1"], ["-ep", "8", "--recompute", "full"]):
        proc = run_cli(
            "estimate", "--model", "qwen3-30b-a3b", "--gpus", "16", "--gpu-type", "h100",
            *args, "--ep-overlap",
        )  # fmt: skip
        one_line_error(proc, "--ep-overlap needs", "AR403")


def test_cp_comm_type_changes_the_cp_cost_and_a_bad_one_is_refused():
    ring = api.estimate("llama3-8b", **LLAMA_CP)
    assert ring.layout.cp_comm_type == "p2p"
    gather = api.estimate("llama3-8b", **LLAMA_CP, cp_comm_type="all_gather")
    assert gather.layout.cp_comm_type == "all_gather"
    assert gather.throughput.breakdown["cp_comm"] != ring.throughput.breakdown["cp_comm"]
    proc = run_cli(
        "estimate", "--model", "llama3-8b", "--gpus", "16", "--gpu-type", "h100", "-cp", "16",
        "--seq-len", "65536", "--cp-comm-type", "ulysses",
    )  # fmt: skip
    one_line_error(proc, "--cp-comm-type 'ulysses'", "a2a")
    # a2a that the heads cannot split is Megatron's error, named
    proc = run_cli(
        "estimate", "--model", "llama3-8b", "--gpus", "16", "--gpu-type", "h100", "-cp", "16",
        "--seq-len", "65536", "--cp-comm-type", "a2a",
    )  # fmt: skip
    one_line_error(proc, "cp_comm_type=a2a needs local Q heads")


def test_json_layout_carries_the_choice():
    proc = run_cli(
        "estimate", "--model", "llama3-8b", "--gpus", "16", "--gpu-type", "h100", "-cp", "16",
        "--seq-len", "65536", "--cp-comm-type", "a2a+p2p", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["layout"]["cp_comm_type"] == "a2a+p2p"
