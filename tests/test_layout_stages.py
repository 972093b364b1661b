"""Which decoder layers each pipeline rank builds (get_num_layers_to_build semantics)."""

from __future__ import annotations

import pytest

from autorecipe.layout.schema import Layout
from autorecipe.layout.stages import StageSplitError, balanced_layout, layers_per_stage


def sizes(stages):
    return [len(s.layers) for s in stages]


def test_even_split_and_interleaving_order():
    stages = layers_per_stage(32, Layout(pp=4, vp=2))
    assert sizes(stages) == [8, 8, 8, 8]
    # virtual stage j lives on rank j % PP: rank 0 holds layers 0-3 and 16-19
    assert stages[0].layers == (0, 1, 2, 3, 16, 17, 18, 19)
    assert stages[0].chunk_sizes == (4, 4)
    assert stages[0].has_embedding and stages[-1].has_output


def test_account_for_embedding_and_loss():
    # Qwen3-235B recipe: (94 + 2) / 16 = 6 per stage; the first and last build 5
    stages = layers_per_stage(94, Layout(pp=16, account_for_embedding=True, account_for_loss=True))
    assert sizes(stages) == [5] + [6] * 14 + [5]
    with pytest.raises(StageSplitError, match="94 decoder layers \\+ 1"):
        layers_per_stage(94, Layout(pp=16, account_for_loss=True))


def test_first_and_last_stage_counts():
    stages = layers_per_stage(61, Layout(pp=16, first_stage_layers=4, last_stage_layers=1))
    assert sizes(stages) == [4] + [4] * 14 + [1]
    with pytest.raises(StageSplitError, match="middle stages"):
        layers_per_stage(61, Layout(pp=16, first_stage_layers=3, last_stage_layers=1))


def test_bridge_deepseek_v3_layout_string():
    text = "Et*4|(t*4|)*14tmL"  # Bridge's (PP16, VP1) layout for DeepSeek-V3
    stages = layers_per_stage(61, Layout(pp=16, pipeline_layout=text))
    assert sizes(stages) == [4] * 15 + [1]
    assert stages[-1].mtp_layers == 1 and stages[-1].has_output
    with pytest.raises(StageSplitError, match="places 61"):
        layers_per_stage(60, Layout(pp=16, pipeline_layout=text))
    with pytest.raises(StageSplitError, match="implies VP=1"):
        layers_per_stage(61, Layout(pp=16, vp=2, pipeline_layout=text))


@pytest.mark.parametrize(
    "layers, pp, vp", [(61, 16, 1), (61, 8, 2), (27, 2, 1), (46, 4, 2), (5, 2, 2)]
)
def test_balanced_layout_places_every_layer(layers, pp, vp):
    text = balanced_layout(layers, pp, vp, mtp_layers=1)
    stages = layers_per_stage(
        layers, Layout(pp=pp, vp=vp if vp > 1 else None, pipeline_layout=text)
    )
    per_stage = [n for s in stages for n in s.chunk_sizes]
    assert sum(sizes(stages)) == layers
    assert max(per_stage) - min(per_stage) <= 1
    assert stages[-1].mtp_layers == 1


def test_balanced_layout_refuses_empty_stages():
    assert balanced_layout(3, 2, 2) is None


def test_pp_beyond_layers():
    with pytest.raises(StageSplitError, match="larger than the 4"):
        layers_per_stage(4, Layout(pp=8))
