"""A finding's override fix is re-checked before it is offered: it must not bring a new
error. Real recipes of the bundled 0.6.2 index, through the public API and the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from autorecipe import api
from autorecipe.advise.check import format_value
from autorecipe.cli import app

PACKING_VL = "qwen25_vl_32b_peft_config"  # in-batch packing, MBS 2
H100_8 = {"gpus": 8, "gpu_type": "h100", "index": "0.6.2"}


def _errors_after(recipe: str, overrides: list[str], fix: dict, **options) -> set[str]:
    args = overrides + [f"{k}={format_value(v)}" for k, v in fix.items()]
    return {f.id for f in api.check(recipe, args, **options).errors}


def _ids_after(recipe: str, overrides: list[str], fix: dict, **options) -> set[str]:
    args = overrides + [f"{k}={format_value(v)}" for k, v in fix.items()]
    return {f.id for f in api.check(recipe, args, **options).findings}


def test_oom_fix_skips_micro_batch_one_on_in_batch_packing():
    # MBS 1 with in-batch packing is AR502's error: the next-best fix that frees enough
    # memory (full recompute) instead
    vl3b = "qwen25_vl_3b_sft_config"
    report = api.check(vl3b, [], index="0.6.2")
    oom = next(f for f in report.findings if f.id == "AR601")
    assert oom.fix_overrides and "train.micro_batch_size" not in oom.fix_overrides
    assert oom.fix_overrides["model.recompute_granularity"] == "full"
    assert "AR502" in oom.message
    after = _ids_after(vl3b, [], oom.fix_overrides, index="0.6.2")
    assert "AR601" not in after
    assert {i for i in after if i.startswith("AR5")} <= {f.id for f in report.errors}


def test_fix_carries_what_the_new_error_needs_when_no_alternative_is_clean():
    # only micro batch 1 and full recompute together free enough memory; MBS 1 brings
    # AR502, whose own fix (in-batch packing off) is carried with it
    report = api.check(PACKING_VL, [], **H100_8)
    oom = next(f for f in report.findings if f.id == "AR601")
    assert oom.fix_overrides == {
        "train.micro_batch_size": 1,
        "model.recompute_granularity": "full",
        "model.recompute_method": "uniform",
        "model.recompute_num_layers": 1,
        "dataset.enable_in_batch_packing": False,
    }
    assert "also needs dataset.enable_in_batch_packing=false, see AR502" in oom.message
    assert not _errors_after(PACKING_VL, [], oom.fix_overrides, **H100_8)
    assert "AR601" not in _ids_after(PACKING_VL, [], oom.fix_overrides, **H100_8)


def test_fix_dropped_with_the_reason_when_nothing_is_clean():
    # TE CUDA graphs rule out full recompute (AR202), and nothing less frees enough memory
    graphs = [
        "model.cuda_graph_impl=transformer_engine",
        "model.use_te_rng_tracker=true",
        "rng.te_rng_tracker=true",
    ]
    report = api.check(PACKING_VL, graphs, **H100_8)
    oom = next(f for f in report.findings if f.id == "AR601")
    assert oom.fix_overrides is None
    assert oom.fix.startswith("none as overrides") and "AR202" in oom.fix


def test_oom_fix_that_cannot_free_enough_memory_says_so():
    report = api.check("nemotron_3_5_lightning_pretrain_config", [], **H100_8)
    oom = next(f for f in report.findings if f.id == "AR601")
    assert oom.fix_overrides is None
    assert "execution-only changes are not enough: it still needs" in oom.fix
    assert "add GPUs" in oom.fix


def test_no_shipped_recipe_is_offered_a_fix_that_adds_an_error():
    idx = api.load_index("0.6.2")
    names = [
        "qwen25_vl_72b_sft_config",
        "qwen3_vl_8b_sft_config",
        "ministral3_8b_sft_config",
        "qwen3_vl_235b_a22b_peft_config",
        "llama3_8b_pretrain_2gpu_h100_fp8mx_config",
        "gpt_oss_20b_pretrain_mxfp8_config",
    ]
    recipes = {r.name: r for r in idx.recipes}
    for name in names:
        r = recipes[name]
        opts = {
            "gpus": None if r.num_gpus else 8,
            "gpu_type": None if r.gpu_type else "h100",
            "index": "0.6.2",
        }
        report = api.check(name, [], **opts)
        before = {f.id for f in report.errors}
        for f in report.findings:
            if f.fix_overrides:
                new = _errors_after(name, [], f.fix_overrides, **opts) - before - {f.id}
                assert not new, (name, f.id, f.fix_overrides, new)


def test_cli_repro_offers_no_micro_batch_one():
    result = CliRunner().invoke(app, ["check", "--recipe", "qwen25_vl_3b_sft_config"])
    assert result.exit_code == 0, result.output
    assert "fix: train.micro_batch_size=1" not in result.output
    assert "fix: model.recompute_granularity=full" in result.output


def test_pipeline_rule_is_silent_without_a_single_microbatch():
    # GBS 32 < MBS 4 × DP 16: AR119 reports it; AR301 must not claim a 100% bubble
    report = api.check("qwen35_vl_397b_a17b_sft_config", [], gpu_type="h100", index="0.6.2")
    ids = {f.id for f in report.findings}
    assert "AR119" in ids and "AR301" not in ids
