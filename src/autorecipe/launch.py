"""Launch commands, written the way each Megatron-Bridge release's entry points expect them.

Library recipes run through ``scripts/training/run_recipe.py`` under torchrun: 0.6.x
documents ``uv run python -m torch.distributed.run`` and short dataset preset names
(``mock``, ``squad``, ``tulu3``); 0.4 and 0.5 document ``uv run torchrun`` with dataset
types (``llm-pretrain-mock``, ``llm-finetune``). Benchmark recipes (0.6.x perf_recipes)
go through ``scripts/training/train.sh``, a Slurm launcher that checks that nodes x
GPUs per node equals the GPU count encoded in the recipe name (Megatron-Bridge PR #4945).

Every release's runner copies ``dataset.seq_length`` into ``model.seq_length`` after the
overrides, so the sequence length is always set through ``dataset.seq_length``.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import BaseModel

from autorecipe.errors import UserError

RUN_RECIPE = "scripts/training/run_recipe.py"
TRAIN_SH = "./scripts/training/train.sh"
SEQ_LENGTH_KEY = "dataset.seq_length"
MASTER_PORT = 29500
PRETRAINED_KEY = "checkpoint.pretrained_checkpoint"
# A shell variable the user sets; left unquoted in commands so that the shell expands it.
PRETRAINED_VAR = "$PRETRAINED_CHECKPOINT"
_SHELL_VAR = re.compile(r"\$[A-Z][A-Z0-9_]*")


class Launcher(BaseModel):
    """How one release launches a library recipe."""

    release: str
    runner: str
    script: str = RUN_RECIPE
    # Dataset names this release's --dataset accepts, used when the index lists none
    pretrain_dataset: str
    finetune_dataset: str
    # Benchmark recipes are launched by name through train.sh only from 0.6 on
    benchmark_launcher: bool
    # checkpoint.pretrained_checkpoint also takes a Hugging Face model directory
    # (0.6.2: training/checkpointing.py _load_checkpoint_from_path → is_hf_checkpoint_dir);
    # 0.5.1 loads only Megatron checkpoints
    pretrained_hf_dir: bool

    model_config = {"frozen": True}


def _version(bridge_version: str) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in bridge_version.split(".")[:2])
    except ValueError:
        raise UserError(
            f"Megatron-Bridge version {bridge_version!r} is not of the form MAJOR.MINOR[.PATCH], "
            "e.g. 0.6.2."
        ) from None
    return major, minor


def launcher_for(bridge_version: str) -> Launcher:
    """The entry point of a Megatron-Bridge release, e.g. ``launcher_for("0.6.2").runner``."""
    version = _version(bridge_version)
    if version >= (0, 6):
        return Launcher(
            release=bridge_version,
            runner="uv run python -m torch.distributed.run",
            pretrain_dataset="mock",
            finetune_dataset="squad",
            benchmark_launcher=True,
            pretrained_hf_dir=True,
        )
    if version >= (0, 4):
        return Launcher(
            release=bridge_version,
            runner="uv run torchrun",
            pretrain_dataset="llm-pretrain-mock",
            finetune_dataset="llm-finetune",
            benchmark_launcher=False,
            pretrained_hf_dir=False,
        )
    raise UserError(
        f"Megatron-Bridge {bridge_version} has no scripts/training/run_recipe.py launcher "
        "(it arrived in 0.4); use --index 0.5.1 or --index 0.6.2."
    )


def node_shape(gpus: int, gpus_per_node: int, tp: int = 1) -> tuple[int, int]:
    """(nodes, processes per node) for `gpus` GPUs on nodes of `gpus_per_node`.

    torchrun starts the same number of processes on every node, so when `gpus` is not a
    multiple of `gpus_per_node` the GPUs are spread evenly over the fewest nodes that allow
    it (12 GPUs on 8-GPU nodes: 2 nodes x 6). Megatron-Core gives each TP group
    consecutive ranks, so a TP group stays inside a node only when TP divides the
    processes per node: 12 GPUs at TP 4 go 3 nodes x 4.
    """
    if gpus < 1 or gpus_per_node < 1:
        raise UserError(
            f"GPU counts must be positive integers (got {gpus} on {gpus_per_node}/node)."
        )
    shapes = uniform_shapes(gpus, gpus_per_node)
    return next(((n, k) for n, k in shapes if k % tp == 0), shapes[0])


def uniform_shapes(gpus: int, gpus_per_node: int) -> list[tuple[int, int]]:
    """Every (nodes, processes per node) with the same count on each node, fewest nodes
    first."""
    return [
        (n, gpus // n) for n in range(1, gpus + 1) if gpus % n == 0 and gpus // n <= gpus_per_node
    ]


def node_note(gpus: int, gpus_per_node: int, tp: int = 1) -> str | None:
    """The node arithmetic in words when `gpus` is not whole nodes (None when it is)."""
    if gpus <= gpus_per_node or gpus % gpus_per_node == 0:
        return None
    full, rest = divmod(gpus, gpus_per_node)
    nodes, per_node = node_shape(gpus, gpus_per_node, tp)
    others = [f"{n} × {k}" for n, k in uniform_shapes(gpus, gpus_per_node) if n != nodes][:2]
    why = f"; TP={tp} must divide the GPUs per node" if tp > 1 else ""
    return (
        f"nodes: {gpus} GPUs on {gpus_per_node}-GPU nodes would be "
        f"{' + '.join([str(gpus_per_node)] * full + [str(rest)])}, not a uniform torchrun "
        f"launch (torchrun starts the same process count on every node); this uses {nodes} nodes × "
        f"{per_node} GPUs{why} (also uniform: {', '.join(others) or 'none'}); "
        f"{(full + 1) * gpus_per_node} GPUs would be {full + 1} whole nodes"
    )


def format_value(value: Any) -> str:
    """A value as run_recipe.py's OmegaConf-style KEY=VALUE overrides read it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value)


def override_args(overrides: dict[str, Any]) -> list[str]:
    """`KEY=VALUE` arguments, shell-quoted where the shell would otherwise mangle them.

    A value that is a shell variable ($NAME) is left for the shell to fill in, inside
    double quotes, and quoted again for Hydra, which reads the overrides: a path with a
    space, a comma (Hydra's sweep syntax) or parentheses stays one string."""
    return [
        f'"{key}=\\"{value}\\""'
        if isinstance(value, str) and _SHELL_VAR.fullmatch(value)
        else shlex.quote(f"{key}={format_value(value)}")
        for key, value in overrides.items()
    ]


def pretrained_checkpoint_how(launcher: Launcher) -> str:
    """What this release accepts as checkpoint.pretrained_checkpoint, in one line."""
    if launcher.pretrained_hf_dir:
        return (
            "a Hugging Face model directory (config.json + *.safetensors, loaded through "
            "AutoBridge) or a Megatron checkpoint directory"
        )
    return (
        "a Megatron checkpoint directory (this release does not load Hugging Face "
        "directories: convert first with AutoBridge.import_ckpt)"
    )


def _comments(notes: tuple[str, ...]) -> str:
    """Notes as shell comments, wrapped to fit 80 columns."""
    import textwrap

    return "".join(
        f"# {line}\n" for note in notes for line in textwrap.wrap(note, 78, break_long_words=False)
    )


def _join(lines: list[list[str]]) -> str:
    """One argument group per line, joined with shell continuations (fits 80 columns)."""
    return " \\\n    ".join(" ".join(line) for line in lines if line)


def _recipe_args(
    launcher: Launcher, recipe: str, dataset: str, overrides: dict[str, Any]
) -> list[list[str]]:
    lines = [[launcher.script], ["--recipe", recipe], ["--dataset", dataset]]
    return lines + [[arg] for arg in override_args(overrides)]


# Several nodes that all `uv run` would sync one shared environment at once: sync it once,
# then run without syncing (Megatron-Bridge's scripts/training/run_recipe.sh does the same).
SYNC = "uv sync"


def _no_sync(runner: str) -> str:
    return runner.replace("uv run", "uv run --no-sync", 1)


def torchrun_command(
    launcher: Launcher,
    *,
    recipe: str,
    dataset: str,
    overrides: dict[str, Any],
    gpus: int,
    gpus_per_node: int,
    tp: int = 1,
    notes: tuple[str, ...] = (),
) -> str:
    """The run_recipe.py command for `gpus` GPUs: one line per node when it spans several;
    `notes` go first as shell comments.

    Example: ``torchrun_command(launcher_for("0.6.2"), recipe="llama3_8b_pretrain_config",
    dataset="mock", overrides={}, gpus=8, gpus_per_node=8)``.
    """
    nodes, per_node = node_shape(gpus, gpus_per_node, tp)
    if nodes == 1:
        head = [launcher.runner, f"--nproc_per_node={per_node}"]
        return _comments(notes) + _join([head, *_recipe_args(launcher, recipe, dataset, overrides)])
    head = [_no_sync(launcher.runner), f"--nproc_per_node={per_node}"]
    # Static rendezvous: every node is told its rank and node 0's address.
    rendezvous = [
        [f"--nnodes={nodes}", "--node_rank=$NODE_RANK"],
        ["--master_addr=$MASTER_ADDR", f"--master_port={MASTER_PORT}"],
    ]
    note = (
        f"# Once, on the shared checkout: {SYNC}\n"
        f"# On each of the {nodes} nodes: NODE_RANK=0..{nodes - 1}, MASTER_ADDR=<node 0 address>\n"
    )
    return (
        _comments(notes)
        + note
        + _join([head, *rendezvous, *_recipe_args(launcher, recipe, dataset, overrides)])
    )


def slurm_script(
    launcher: Launcher,
    *,
    recipe: str,
    dataset: str,
    overrides: dict[str, Any],
    gpus: int,
    gpus_per_node: int,
    tp: int = 1,
    notes: tuple[str, ...] = (),
) -> str:
    """A complete sbatch script that runs the same command with srun on every node.

    One task per node runs torchrun; the c10d rendezvous on the first node lets every
    node find its rank without a per-node variable.
    """
    nodes, per_node = node_shape(gpus, gpus_per_node, tp)
    head = [_no_sync(launcher.runner), f"--nnodes={nodes}", f"--nproc_per_node={per_node}"]
    rendezvous = [
        ["--rdzv_backend=c10d", f'--rdzv_endpoint="$MASTER_ADDR:{MASTER_PORT}"'],
        ['--rdzv_id="$SLURM_JOB_ID"'],
    ]
    command = _join(
        [
            ["srun", "--ntasks-per-node=1"],
            head,
            *rendezvous,
            *_recipe_args(launcher, recipe, dataset, overrides),
        ]
    )
    return "\n".join(
        [
            "#!/bin/bash",
            f"#SBATCH --job-name={recipe[:64]}",
            f"#SBATCH --nodes={nodes}",
            "#SBATCH --ntasks-per-node=1",
            f"#SBATCH --gpus-per-node={per_node}",
            "#SBATCH --exclusive",
            "# Add your cluster's --account, --partition and --time lines here.",
            "set -euo pipefail",
            "# Run from a Megatron-Bridge checkout of the release this answer is for.",
            f"# (Megatron-Bridge {launcher.release})",
            *_comments(notes).splitlines(),
            *(
                f': "${{{v[1:]}:?set {v[1:]} first (see above)}}"'
                for v in overrides.values()
                if isinstance(v, str) and _SHELL_VAR.fullmatch(v)
            ),
            'MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
            "export MASTER_ADDR",
            "# The environment is synced once, here; the nodes then run it as it is.",
            SYNC,
            command,
            "",
        ]
    )


def benchmark_command(*, recipe: str, num_gpus: int, gpus_per_node: int, mode: str) -> str:
    """The train.sh command for a benchmark recipe at the GPU count its name encodes.

    train.sh is a Slurm launcher; ACCOUNT, PARTITION and IMAGE are the user's own.
    """
    nodes, per_node = node_shape(num_gpus, gpus_per_node)
    train_mode = "lora" if mode == "peft" else mode
    return _join(
        [
            [TRAIN_SH],
            [f"--nodes {nodes}", f"--gpus-per-node {per_node}"],
            ["--account ACCOUNT --partition PARTITION --container-image IMAGE"],
            ["--recipe", recipe, "--mode", train_mode],
        ]
    )
