"""Launch commands: the entry point of each release, node shapes, overrides, sbatch, train.sh."""

from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autorecipe.errors import UserError
from autorecipe.launch import (
    PRETRAINED_KEY,
    PRETRAINED_VAR,
    benchmark_command,
    format_value,
    launcher_for,
    node_note,
    node_shape,
    override_args,
    pretrained_checkpoint_how,
    slurm_script,
    torchrun_command,
)


def argv(command: str) -> list[str]:
    """The words a shell would pass, comments and line continuations removed."""
    lines = [ln for ln in command.splitlines() if not ln.lstrip().startswith("#")]
    return shlex.split(" ".join(ln.rstrip(" \\") for ln in lines))


def test_0_6_uses_torch_distributed_run_and_short_presets() -> None:
    launcher = launcher_for("0.6.2")
    cmd = torchrun_command(
        launcher,
        recipe="llama3_8b_pretrain_config",
        dataset="mock",
        overrides={},
        gpus=8,
        gpus_per_node=8,
    )
    assert argv(cmd) == [
        "uv", "run", "python", "-m", "torch.distributed.run", "--nproc_per_node=8",
        "scripts/training/run_recipe.py", "--recipe", "llama3_8b_pretrain_config", "--dataset", "mock",
    ]  # fmt: skip
    assert launcher.pretrain_dataset == "mock"
    assert launcher.benchmark_launcher


def test_0_4_and_0_5_use_torchrun_and_dataset_types() -> None:
    for version in ("0.4.0", "0.5.1"):
        launcher = launcher_for(version)
        words = argv(
            torchrun_command(
                launcher,
                recipe="r",
                dataset=launcher.pretrain_dataset,
                overrides={},
                gpus=4,
                gpus_per_node=8,
            )
        )
        assert words[:4] == ["uv", "run", "torchrun", "--nproc_per_node=4"]
        assert words[-2:] == ["--dataset", "llm-pretrain-mock"]
        assert launcher.finetune_dataset == "llm-finetune"
        assert not launcher.benchmark_launcher


def test_releases_without_run_recipe_are_refused() -> None:
    with pytest.raises(UserError, match="0.4"):
        launcher_for("0.3.1")
    with pytest.raises(UserError, match="MAJOR.MINOR"):
        launcher_for("latest")


def test_multi_node_form_names_nodes_rank_and_rendezvous() -> None:
    cmd = torchrun_command(
        launcher_for("0.6.2"),
        recipe="qwen3_30b_a3b_sft_config",
        dataset="tulu3",
        overrides={"dataset.seq_length": 4096},
        gpus=16,
        gpus_per_node=8,
    )
    words = argv(cmd)
    assert {"--nproc_per_node=8", "--nnodes=2", "--node_rank=$NODE_RANK"} <= set(words)
    assert "--master_addr=$MASTER_ADDR" in words
    assert words.index("scripts/training/run_recipe.py") > words.index("--nnodes=2")
    assert words[-1] == "dataset.seq_length=4096"
    assert all(len(line) <= 80 for line in cmd.splitlines())


@given(gpus=st.integers(1, 4096), per_node=st.integers(1, 16))
def test_node_shape_covers_every_gpu_with_equal_nodes(gpus: int, per_node: int) -> None:
    nodes, procs = node_shape(gpus, per_node)
    assert nodes * procs == gpus
    assert procs <= per_node
    assert nodes >= -(-gpus // per_node)


def test_node_shape_spreads_uneven_counts() -> None:
    assert node_shape(12, 8) == (2, 6)
    assert node_shape(4, 8) == (1, 4)
    with pytest.raises(UserError):
        node_shape(0, 8)


@given(gpus=st.integers(1, 512), per_node=st.integers(1, 16), tp=st.sampled_from([1, 2, 4, 8]))
def test_node_shape_keeps_tp_groups_inside_a_node_when_any_shape_can(
    gpus: int, per_node: int, tp: int
) -> None:
    nodes, procs = node_shape(gpus, per_node, tp)
    assert nodes * procs == gpus and procs <= per_node
    possible = [
        n
        for n in range(1, gpus + 1)
        if gpus % n == 0 and gpus // n <= per_node and (gpus // n) % tp == 0
    ]
    if possible:
        assert procs % tp == 0 and nodes == min(possible)
    else:
        assert (nodes, procs) == node_shape(gpus, per_node)


def test_node_note_spells_out_the_arithmetic_only_for_partial_nodes() -> None:
    note = node_note(12, 8, tp=4)
    assert "8 + 4" in note and "3 nodes × 4 GPUs" in note and "TP=4" in note
    assert "2 × 6" in note and "16 GPUs would be 2 whole nodes" in note
    assert "2 nodes × 6 GPUs" in node_note(12, 8)
    assert node_note(16, 8) is None and node_note(6, 8) is None
    cmd = torchrun_command(
        launcher_for("0.6.2"), recipe="r", dataset="mock", overrides={}, gpus=12,
        gpus_per_node=8, tp=4,
    )  # fmt: skip
    assert "--nproc_per_node=4" in cmd and "--nnodes=3" in cmd


def test_override_values_read_as_run_recipe_reads_them() -> None:
    assert format_value(True) == "True"
    assert format_value(None) == "null"
    assert format_value(["attn", "moe_router"]) == "[attn,moe_router]"
    args = override_args(
        {"model.cuda_graph_scope": ["attn"], "model.tensor_model_parallel_size": 2}
    )
    assert shlex.split(" ".join(args)) == [
        "model.cuda_graph_scope=[attn]",
        "model.tensor_model_parallel_size=2",
    ]


def test_sbatch_script_runs_the_same_command_on_every_node() -> None:
    launcher = launcher_for("0.6.2")
    args = dict(
        recipe="qwen3_235b_a22b_peft_config",
        dataset="squad",
        overrides={"model.pipeline_model_parallel_size": 2},
    )
    script = slurm_script(launcher, gpus=16, gpus_per_node=8, **args)
    assert script.startswith("#!/bin/bash\n")
    assert "#SBATCH --nodes=2" in script
    assert "#SBATCH --gpus-per-node=8" in script
    assert "#SBATCH --ntasks-per-node=1" in script
    srun = script[script.index("srun") :]
    words = argv(srun)
    assert words[:2] == ["srun", "--ntasks-per-node=1"]
    assert "--nnodes=2" in words and "--rdzv_backend=c10d" in words
    tail = words[words.index("scripts/training/run_recipe.py") :]
    single = argv(torchrun_command(launcher, gpus=16, gpus_per_node=8, **args))
    assert tail == single[single.index("scripts/training/run_recipe.py") :]


def test_benchmark_recipes_launch_at_their_encoded_gpu_count() -> None:
    cmd = benchmark_command(
        recipe="qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config",
        num_gpus=16,
        gpus_per_node=8,
        mode="pretrain",
    )
    words = argv(cmd)
    assert words[0] == "./scripts/training/train.sh"
    nodes = int(words[words.index("--nodes") + 1])
    per_node = int(words[words.index("--gpus-per-node") + 1])
    assert nodes * per_node == 16
    assert words[-2:] == ["--mode", "pretrain"]
    peft = argv(benchmark_command(recipe="x", num_gpus=8, gpus_per_node=8, mode="peft"))
    assert peft[-1] == "lora"


def _wheel_text(wheel, member: str) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        return zf.read(member).decode()


def test_pretrained_checkpoint_forms_match_each_releases_loader(wheel_062, wheel_051) -> None:
    """0.6.2 loads a Hugging Face directory given as pretrained_checkpoint; 0.5.1 does not."""
    loader = "megatron/bridge/training/checkpointing.py"
    assert "is_hf_checkpoint_dir(load_dir)" in _wheel_text(wheel_062, loader)
    assert "is_hf_checkpoint_dir" not in _wheel_text(wheel_051, loader)
    for wheel in (wheel_062, wheel_051):
        assert "pretrained_checkpoint: Optional[str]" in _wheel_text(
            wheel, "megatron/bridge/training/config.py"
        )
    assert launcher_for("0.6.2").pretrained_hf_dir and not launcher_for("0.5.1").pretrained_hf_dir
    assert "Hugging Face model directory" in pretrained_checkpoint_how(launcher_for("0.6.2"))
    assert "import_ckpt" in pretrained_checkpoint_how(launcher_for("0.5.1"))


def test_a_shell_variable_placeholder_stays_unquoted_for_the_shell() -> None:
    args = override_args({PRETRAINED_KEY: PRETRAINED_VAR, "logger.name": "$(rm -rf /)"})
    assert args[0] == '"checkpoint.pretrained_checkpoint=\\"$PRETRAINED_CHECKPOINT\\""'
    assert args[1] == "'logger.name=$(rm -rf /)'"
    script = slurm_script(
        launcher_for("0.6.2"), recipe="r", dataset="squad",
        overrides={PRETRAINED_KEY: PRETRAINED_VAR}, gpus=16, gpus_per_node=8,
        notes=("Set PRETRAINED_CHECKPOINT first.",),
    )  # fmt: skip
    guard = script.index(': "${PRETRAINED_CHECKPOINT:?')
    assert guard < script.index("srun") and "# Set PRETRAINED_CHECKPOINT first." in script


@pytest.mark.parametrize("path", ["/data/ckpt", "/data/my ckpt", "/data/ckpt,v2", "/a/b(1)"])
def test_a_checkpoint_path_reaches_hydra_as_one_string(path: str) -> None:
    # what bash hands the launcher for the argument, then what Bridge's override parser
    # (Hydra's grammar, training/utils/omegaconf_utils.py) makes of it
    from hydra.core.override_parser.overrides_parser import OverridesParser

    arg = override_args({PRETRAINED_KEY: PRETRAINED_VAR})[0]
    shell = subprocess.run(
        ["bash", "-c", f"printf '%s' {arg}"],
        env={"PRETRAINED_CHECKPOINT": path, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (override,) = OverridesParser.create().parse_overrides([shell.stdout])
    assert override.key_or_group == PRETRAINED_KEY and override.value() == path


def test_several_nodes_sync_the_shared_environment_once() -> None:
    launcher = launcher_for("0.6.2")
    one = torchrun_command(launcher, recipe="r", dataset="mock", overrides={}, gpus=8,
                           gpus_per_node=8)  # fmt: skip
    assert one.startswith("uv run python") and "--no-sync" not in one
    two = torchrun_command(launcher, recipe="r", dataset="mock", overrides={}, gpus=16,
                           gpus_per_node=8)  # fmt: skip
    assert "uv run --no-sync python -m torch.distributed.run" in two and "uv sync" in two
    script = slurm_script(launcher, recipe="r", dataset="mock", overrides={}, gpus=16,
                          gpus_per_node=8)  # fmt: skip
    assert script.index("\nuv sync\n") < script.index("srun") and "uv run --no-sync" in script
