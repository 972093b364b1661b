"""Which dataset preset to pass to a release's launcher for a mode.

Pretraining gets the mock preset (no download, no tokenised corpus needed); SFT and PEFT
get a finetuning preset, never a pretrain-only one (0.6.x's launcher rejects the mix:
"Mode '…' is incompatible with dataset '…'"). The names come from the index's presets
for that release; the launcher's documented defaults stand in when an index lists none.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorecipe.index.schema import DatasetPreset, Mode
from autorecipe.launch import Launcher

# Most useful first. tulu3 is a general instruction mixture (the upstream skill's answer
# for SFT); squad is small and quick, so it suits a first run.
FINETUNE_PREFERENCE = ("tulu3", "squad", "llm-finetune")
FIRST_RUN_PREFERENCE = ("squad", "llm-finetune", "tulu3")
OTHERS_SHOWN = 4


@dataclass(frozen=True)
class DatasetChoice:
    name: str
    reason: str
    others: tuple[str, ...] = ()


def choose_dataset(
    presets: list[DatasetPreset], mode: Mode, launcher: Launcher, *, first_time: bool = False
) -> DatasetChoice:
    """The preset for `mode`, with the reason and the other presets that would do.

    Example:
        >>> choose_dataset(index.datasets, "sft", launcher_for("0.6.2")).name
        'tulu3'
    """
    names = [p.name for p in presets if mode in p.modes]
    if mode == "pretrain":
        mock = next((n for n in names if "mock" in n), None) or launcher.pretrain_dataset
        return DatasetChoice(
            mock,
            "pretraining on generated mock data: no corpus to download or tokenise; "
            "swap in your own data (a Megatron indexed dataset) for a real run",
        )
    order = FIRST_RUN_PREFERENCE if first_time else FINETUNE_PREFERENCE
    pick = next((n for n in order if n in names), None)
    if pick is None:
        pick = next((n for n in names if "mock" not in n), launcher.finetune_dataset)
    # The well-known text presets first; the full list is in `autorecipe show`'s index.
    others = tuple(n for n in (*order, *names) if n in names and n != pick and "mock" not in n)
    return DatasetChoice(
        pick,
        f"{mode.upper()} needs a finetuning preset, never the pretraining mock data",
        tuple(dict.fromkeys(others))[:OTHERS_SHOWN],
    )
