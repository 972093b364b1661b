"""recommend through the public API, against the bundled 0.6.2 / 0.5.1 indexes and catalog."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autorecipe import api
from autorecipe.advise.choose import Query, checkpoint_key, choose_recipe, recipe_seq_length
from autorecipe.advise.recommend import _recipe_spec, parse_count
from autorecipe.catalog.gpus import resolve_gpu
from autorecipe.catalog.models import resolve_model
from autorecipe.errors import UserError
from autorecipe.index.load import load_index
from autorecipe.index.schema import Recipe
from autorecipe.launch import PRETRAINED_KEY, PRETRAINED_VAR
from autorecipe.layout.from_recipe import recipe_knobs
from autorecipe.layout.search import enumerate_layouts

CLASSES = {"convergence", "execution", "benchmark-only"}


@cache
def index062():
    return load_index("0.6.2")


def library(name: str, version: str = "0.6.2") -> Recipe:
    """The library recipe called `name` (a benchmark recipe may share the name)."""
    return next(r for r in load_index(version).recipes if r.kind == "library" and r.name == name)


def canonical(name: str, version: str = "0.6.2") -> str:
    recipe = library(name, version)
    return recipe.alias_of or recipe.name


def own_query(recipe: Recipe) -> Query:
    """What someone who wants exactly this recipe would ask for.

    A recipe tuned for no GPU type is asked for on an A100 (no 0.6.2 recipe targets it),
    and one with no GPU count on the GPUs its model-parallel layout needs.
    """
    f = recipe.fields
    needed = 1
    for key in (
        "tensor_model_parallel_size",
        "pipeline_model_parallel_size",
        "context_parallel_size",
    ):
        value = f.get(key)
        needed *= value if isinstance(value, int) and value > 0 else 1
    return Query(
        mode=recipe.mode,
        gpus=recipe.num_gpus or needed,
        gpu_type=(recipe.gpu_type or "a100").lower(),
        seq_len=recipe_seq_length(recipe),
        precision=recipe.precision,
    )


@pytest.mark.parametrize(("version", "at_least"), [("0.6.2", 450), ("0.5.1", 200)])
def test_every_library_recipe_is_chosen_for_its_own_model_mode_gpus_and_seq(
    version: str, at_least: int
) -> None:
    """Solve the kind: each library recipe of a release is the answer to its own question,
    or an equally matching variant of the answer (_deterministic, _muon, ... differ in
    nothing the question names) that the answer lists."""
    index = load_index(version)
    tested, wrong = 0, []
    for recipe in index.recipes:
        if recipe.kind != "library" or recipe.mode is None or not recipe.hf_model_id:
            continue
        spec = _recipe_spec(recipe.hf_model_id)
        if spec is None:  # checkpoint missing from the catalog or incomplete there
            continue
        tested += 1
        choice = choose_recipe(index, spec, own_query(recipe), _recipe_spec)
        answers = {canonical(n, version) for n in (choice.recipe.name, choice.entry.name)}
        answers |= {canonical(v, version) for v in choice.variants}
        if canonical(recipe.name, version) not in answers:
            wrong.append(f"{recipe.name} -> {choice.recipe.name}")
    assert tested >= at_least
    assert wrong == []


def test_known_answers_through_the_api() -> None:
    one = api.recommend("Qwen3-30B-A3B", "sft", 16, "h100")
    assert one.recipe.name == "qwen3_30b_a3b_sft_config"
    assert one.recipe.alias_of == "qwen3_30b_a3b_sft_16gpu_h100_bf16_config"
    assert one.recipe_gpus == 16 and one.layout_kept
    # nothing to resize; only the starting weights, which the recipe leaves to the user
    assert one.overrides == {PRETRAINED_KEY: PRETRAINED_VAR}
    assert (
        api.recommend("Llama 3 8B", "pretrain", 2, "h100").recipe.name
        == "llama3_8b_pretrain_config"
    )


MODELS = [
    "meta-llama/Meta-Llama-3-8B",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-8B",
    "meta-llama/Meta-Llama-3-70B",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    mode=st.sampled_from(["pretrain", "sft", "peft"]),
    gpus=st.integers(1, 72),
    seq=st.sampled_from([None, 2048, 8192, 32768]),
)
def test_any_allocation_gets_a_valid_layout_or_a_reason(
    model: str, mode: str, gpus: int, seq: int | None
) -> None:
    answer = api.recommend(model, mode, gpus, "h100", seq_len=seq)
    recipe = library(answer.recipe.name)
    gbs = recipe.fields["global_batch_size"]
    assert "train.global_batch_size" not in answer.overrides  # never changed silently
    assert "model.seq_length" not in answer.overrides  # reverted by the launcher
    lo = answer.layout
    if lo is None:
        assert answer.findings[0].id == "no-valid-layout"
        assert answer.findings[0].severity == "error"
        return
    assert lo.tp * lo.pp * lo.cp * lo.dp == gpus
    assert gpus % (lo.etp * lo.ep * lo.pp) == 0
    assert lo.gbs == gbs and gbs % (lo.mbs * lo.dp) == 0
    assert lo.sp == (lo.tp > 1)
    assert answer.memory is not None
    for change in answer.changes:
        assert change.change_class in CLASSES and change.reason
        assert answer.overrides[change.key] == change.value
    if seq is not None and seq != recipe_seq_length(recipe):
        assert answer.overrides["dataset.seq_length"] == seq


def test_recipe_layout_kept_when_it_divides_the_allocation_and_dp_absorbs_the_rest() -> None:
    answer = api.recommend("Llama 3 8B", "pretrain", 8, "h100")
    assert answer.recipe.name == "llama3_8b_pretrain_config"
    assert answer.layout_kept
    before, after = answer.recipe_layout, answer.layout
    assert (after.tp, after.pp, after.cp) == (before.tp, before.pp, before.cp)
    assert after.dp == 8 // (after.tp * after.pp * after.cp) > before.dp
    assert after.gbs == before.gbs
    assert not any(k.startswith("model.") for k in answer.overrides)


@pytest.mark.parametrize("seq", [16384, 32768, 65536, 131072])
def test_long_context_picks_the_shortest_variant_that_covers_it(seq: int) -> None:
    answer = api.recommend("Llama 3 8B", "pretrain", 64, "h100", seq_len=seq)
    lengths = {
        recipe_seq_length(r)
        for r in index062().recipes
        if r.kind == "library"
        and r.mode == "pretrain"
        and checkpoint_key(r.hf_model_id) == "metallama38b"
    }
    chosen = library(answer.recipe.name)
    assert recipe_seq_length(chosen) == min(n for n in lengths if n >= seq)
    assert answer.layout.cp > 1
    if answer.layout.cp > 1:
        assert answer.layout.cp_comm_type


def test_one_gpu_full_sft_that_cannot_fit_becomes_peft() -> None:
    big = api.recommend("Llama 3 8B", "sft", 1, "h100")
    assert big.mode == "peft" and big.recipe.name == "llama3_8b_peft_config"
    assert "one GPU" in big.reasons[0]
    small = api.recommend("Qwen/Qwen3-0.6B", "sft", 1, "h100")
    assert small.mode == "sft" and small.memory.fits


def test_dataset_presets_follow_mode_and_release() -> None:
    presets = {p.name: p.modes for p in index062().datasets}
    for mode in ("sft", "peft"):
        answer = api.recommend("Qwen3-8B", mode, 8, "h100")
        assert answer.dataset in ("tulu3", "squad") and mode in presets[answer.dataset]
        assert "mock" not in answer.dataset
    assert api.recommend("Qwen3-8B", "pretrain", 8, "h100").dataset == "mock"
    assert api.recommend("Qwen3-8B", "sft", 8, "h100", first_time=True).dataset == "squad"
    old = api.recommend("Llama 3 8B", "sft", 8, "h100", index="0.5.1")
    assert old.dataset == "llm-finetune" and old.bridge_version == "0.5.1"
    assert "uv run torchrun" in old.command
    assert (
        api.recommend("Llama 3 8B", "pretrain", 8, "h100", index="0.5.1").dataset
        == "llm-pretrain-mock"
    )


def test_benchmark_recipe_named_alongside_only_for_its_gpu_type_and_count() -> None:
    answer = api.recommend("Llama 3 8B", "pretrain", 8, "h100")
    bench = answer.benchmark
    assert bench is not None and bench.recipe.kind == "benchmark"
    assert bench.num_gpus == 8 and "_h100_" in bench.recipe.name
    assert (
        "scripts/training/train.sh" in bench.command
        and "--nodes 1 --gpus-per-node 8" in bench.command
    )
    assert "upper-bound" in answer.benchmark_note and "mock data" in answer.benchmark_note
    assert answer.recipe.kind == "library"
    assert api.recommend("Llama 3 8B", "pretrain", 6, "h100").benchmark is None


def test_no_exact_recipe_takes_the_closest_size_of_the_architecture_and_says_what_differs() -> None:
    answer = api.recommend("Qwen/Qwen2.5-3B", "sft", 8, "h100")
    assert answer.recipe.name.startswith("qwen25_")
    assert "closest size" in answer.reasons[0]
    assert any(d.startswith("num_hidden_layers") for d in answer.differences)


def test_finetuning_without_a_pretrained_checkpoint_is_flagged() -> None:
    sft = api.recommend("Qwen3-8B", "sft", 8, "h100")
    flagged = [f for f in sft.findings if f.id == "no-pretrained-checkpoint"]
    assert flagged and "checkpoint.pretrained_checkpoint=" in flagged[0].fix
    pretrain = api.recommend("Qwen3-8B", "pretrain", 8, "h100")
    assert not any(f.id == "no-pretrained-checkpoint" for f in pretrain.findings)


def test_precision_is_honoured_before_gpu_type() -> None:
    fp8 = api.recommend("Llama 3 8B", "pretrain", 2, "h100", precision="fp8")
    assert library(fp8.recipe.name).precision == "fp8"
    # A GB200 user not asking for MXFP8 gets a BF16 recipe, not a GB200 MXFP8 one.
    gb200 = api.recommend("Qwen3-30B-A3B", "pretrain", 8, "gb200")
    assert library(gb200.recipe.name).precision == "bf16"
    assert gb200.gpus_per_node == 4 and gb200.nodes == 2  # NVL72 compute trays


def test_precision_no_library_recipe_trains_in_is_set_by_a_classed_override() -> None:
    # Qwen3-235B ships no FP8 library recipe; its 256xH100 FP8 benchmark is fp8cs.
    answer = api.recommend("Qwen/Qwen3-235B-A22B", "pretrain", 256, "h100", precision="fp8")
    assert library(answer.recipe.name).precision == "bf16"
    assert answer.overrides["mixed_precision"] == "bf16_with_fp8_current_scaling_mixed"
    change = next(c for c in answer.changes if c.key == "mixed_precision")
    assert change.change_class == "convergence"
    assert "mixed_precision=bf16_with_fp8_current_scaling_mixed" in answer.command
    assert any("no pretrain recipe for this model trains in FP8" in r for r in answer.reasons)
    # the benchmark shown is the one in the precision asked for, and the estimate is FP8's
    assert answer.benchmark is not None and "_fp8cs_" in answer.benchmark.recipe.name
    bf16 = api.recommend("Qwen/Qwen3-235B-A22B", "pretrain", 256, "h100")
    assert "mixed_precision" not in bf16.overrides and "_bf16_" in bf16.benchmark.recipe.name
    assert answer.throughput.tokens_per_sec_per_gpu > bf16.throughput.tokens_per_sec_per_gpu
    # asking for the precision the recipe already trains in changes nothing
    same = api.recommend("Qwen/Qwen3-235B-A22B", "pretrain", 256, "h100", precision="bf16")
    assert same.overrides == bf16.overrides


def test_a_recipe_for_another_model_is_said_to_build_that_model() -> None:
    # DeepSeek-V3 ships no SFT recipe: the closest size of its architecture is Moonlight-16B,
    # whose recipe builds Moonlight; a DeepSeek-V3 checkpoint does not load into it.
    sft = api.recommend("deepseek-ai/DeepSeek-V3", "sft", 8, "a100", seq_len=8192)
    assert sft.recipe.name.startswith("moonlight_")
    other = next(f for f in sft.findings if f.id == "other-model")
    assert other.severity == "error"
    assert (
        "builds moonshotai/Moonlight-16B-A3B" in other.message and "will not load" in other.message
    )
    assert "from_hf_pretrained('deepseek-ai/DeepSeek-V3')" in other.fix
    # ... and its shipped layout is not trusted over the estimate: the run is not the recipe's
    assert not any(f.id == "memory-estimate-above-recipe" for f in sft.findings)
    assert sft.memory is not None and not sft.memory.fits
    assert any(f.id == "memory" and f.severity == "error" for f in sft.findings)
    exact = api.recommend("Qwen3-30B-A3B", "sft", 16, "h100")
    assert not any(f.id == "other-model" for f in exact.findings)


def test_a_shipped_layout_is_trusted_over_the_estimate_only_for_the_recipes_own_run() -> None:
    # Qwen3-32B LoRA on one H100 fits in BF16; in FP8 (our override adds Transformer Engine's
    # weight copies) it does not, and the recipe never ran that: an error, with a way out.
    fp8 = api.recommend("Qwen/Qwen3-32B", "peft", 1, "h100", precision="fp8")
    assert fp8.memory is not None and not fp8.memory.fits
    assert not any(f.id == "memory-estimate-above-recipe" for f in fp8.findings)
    assert any(f.id == "memory" and f.severity == "error" for f in fp8.findings)
    assert fp8.fits_from_gpus is not None
    # weights alone over the GPU: no estimate error is that large, whatever the recipe ran
    big = api.recommend("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16", "sft", 1, "a100")
    assert big.memory is not None and big.memory.breakdown.weights > big.memory.capacity_gib
    assert any(f.id == "memory" and f.severity == "error" for f in big.findings)
    # Nor model state over the GPU: Nemotron-H 56B's recipe is named for 8 H100s, where TP8
    # with DP1 holds 26 GiB of weights, 26 of gradients and 79 of Adam state on every GPU
    # (16 bytes per parameter over 8 GPUs: 131 GiB before any activation)
    h56 = api.recommend("nvidia/Nemotron-H-56B-Base-8K", "pretrain", 8, "h100")
    b = h56.memory.breakdown
    assert b.weights < h56.memory.capacity_gib < b.weights + b.gradients + b.optimizer
    assert not any(f.id == "memory-estimate-above-recipe" for f in h56.findings)
    assert any(f.id == "memory" and f.severity == "error" for f in h56.findings)
    assert h56.fits_from_gpus is not None and h56.fits_from_gpus > 8


def test_a_resized_layout_turns_off_the_recipe_settings_megatron_would_reject_with_it() -> None:
    # Moonlight's pretrain recipe overlaps the EP all-to-all; on 12 GPUs the planner's layout
    # (PP 3, no VP) cannot run it, so the overlap goes, as an execution-only change (AR403)
    moon = api.recommend("moonlight", "pretrain", 12, "h100")
    lo = moon.layout
    if lo.pp > 1 and not lo.vp:
        key = "comm_overlap.overlap_moe_expert_parallel_comm"
        assert moon.overrides[key] is False
        assert next(c for c in moon.changes if c.key == key).change_class == "execution"
    assert not [f.id for f in moon.findings if f.severity == "error"]
    # Nemotron 3.5 Lightning at 128K on 16 B300s needs full recompute to fit, which
    # per-layer CUDA graphs reject (AR202): the graphs go
    long = api.recommend(
        "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16", "pretrain", 16, "b300", seq_len=131072
    )
    assert long.layout.recompute == "full"
    assert long.overrides["model.cuda_graph_impl"] == "none"
    assert "model.cuda_graph_impl=none" in long.command
    assert not [f.id for f in long.findings if f.severity == "error"]
    # GLM-5.2's PEFT recipe groups 6 microbatches per virtual stage (its PP 6, no VP); resized
    # to PP 2 with VP on 16 GB200s, 4 microbatches cannot form groups of 6 (AR112): the
    # group goes back to Megatron's default, PP
    glm = api.recommend("zai-org/GLM-5.2", "peft", 16, "gb200", precision="fp8")
    if (glm.layout.vp or 1) > 1:
        key = "model.microbatch_group_size_per_vp_stage"
        assert glm.overrides[key] == glm.layout.pp
    assert not [f.id for f in glm.findings if f.severity == "error"]


def test_more_gpus_than_the_recipes_batch_can_use_is_said_with_the_speed_they_add() -> None:
    # Qwen3-1.7B SFT ships with GBS 8 on one GPU: 8 data-parallel ranks at most. On 256 GB200s
    # the rest could only split each 2048-token sequence (context parallelism), whose ring
    # steps then cost more than the attention they split.
    big = api.recommend("Qwen/Qwen3-1.7B", "sft", 256, "gb200")
    warn = next(f for f in big.findings if f.id == "oversized-allocation")
    assert warn.severity == "warning" and "Run on 8 GPUs" in warn.fix
    assert big.layout is not None and big.layout.cp < 256
    fitting = api.recommend("Llama 3 8B", "pretrain", 16, "h100")
    assert not any(f.id == "oversized-allocation" for f in fitting.findings)


def test_multi_node_and_slurm_forms() -> None:
    answer = api.recommend("Qwen3-235B-A22B", "peft", 16, "h100", slurm=True)
    assert answer.nodes == 2 and "--nnodes=2" in answer.command
    assert "#SBATCH --nodes=2" in answer.slurm_script and "srun" in answer.slurm_script
    assert "--recipe qwen3_235b_a22b_peft_config" in answer.slurm_script


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(model="Llama 3 8B", mode="sfft", gpus=8, gpu_type="h100"), "Did you mean: sft"),
        (
            dict(model="Llama 3 8B", mode="sft", gpus=0, gpu_type="h100"),
            "--gpus must be a positive",
        ),
        (dict(model="Llama 3 8B", mode="sft", gpus=8, gpu_type="h1000"), "unknown GPU type"),
        (dict(model="llama-9-13b", mode="sft", gpus=8, gpu_type="h100"), "config.json"),
        (dict(model="Llama 3 8B", mode="sft", gpus=8, gpu_type="h100", seq_len=10**6), "at most"),
        (dict(model="Llama 3 8B", mode="sft", gpus=8, gpu_type="h100", precision="fp9"), "bf16"),
        (dict(model=None, mode="sft", gpus=8, gpu_type="h100"), "--first-time"),
        # recipes/qwen/h100/qwen3_next.py:310: its PEFT recipe raises; the refusal says so
        (
            dict(model="Qwen/Qwen3-Next-80B-A3B-Instruct", mode="peft", gpus=8, gpu_type="h100"),
            "PEFT is not currently supported for Qwen3-Next",
        ),
    ],
)
def test_bad_input_is_one_clear_user_error(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as err:
        api.recommend(**kwargs)
    assert "\n" not in str(err.value)


def test_counts_parse_with_k_suffix_and_reject_fractions() -> None:
    assert parse_count("32k", "--seq-len") == 32768
    assert parse_count(" 16 ", "--gpus") == 16
    for bad in ("7.5", "0", "-2", "eight", ""):
        with pytest.raises(UserError, match="positive whole number"):
            parse_count(bad, "--gpus")


@pytest.mark.parametrize(
    ("model", "mode", "gpus"),
    [
        ("DeepSeek-V3", "pretrain", 256),
        ("zai-org/GLM-4.5-Air", "pretrain", 32),
        ("Llama 3 70B", "pretrain", 64),
        ("Llama 3 8B", "pretrain", 8),
    ],
)
def test_tuning_offers_vp_only_for_pp_without_vp_and_keeps_everything_else(
    model: str, mode: str, gpus: int
) -> None:
    answer = api.recommend(model, mode, gpus, "h100")
    lo = answer.layout
    for tune in answer.tuning:
        assert lo.pp > 1 and lo.vp is None
        assert tune.layout.vp > 1
        same = {"tp", "pp", "cp", "ep", "etp", "dp", "mbs", "gbs", "recompute"}
        assert tune.layout.model_dump(include=same) == lo.model_dump(include=same)
        assert tune.memory.fits
        assert tune.throughput.step_time_s < tune.step_time_before_s
        assert all(c.change_class == "execution" for c in tune.changes)
        assert not set(tune.overrides) & set(answer.overrides)
    if lo.pp == 1 or lo.vp:
        assert answer.tuning == []


@pytest.mark.parametrize(
    ("model", "mode", "gpus", "seq"),
    [
        ("Llama 3 8B", "pretrain", 6, None),
        ("llama3-8b", "pretrain", 16, 131072),
        ("Qwen3-30B-A3B", "sft", 4, None),
        ("Llama 3 70B", "pretrain", 12, None),
        ("Qwen3-8B", "sft", 3, None),
    ],
)
def test_resizing_is_the_planners_best_releasing_the_fewest_recipe_factors(
    model: str, mode: str, gpus: int, seq: int | None
) -> None:
    """One source of truth: a resized layout is what layout.search ranks first with the
    recipe's factors pinned except the released ones, and releasing fewer fits nowhere."""
    from itertools import combinations

    from autorecipe.advise.adapt import recipe_pins
    from autorecipe.layout.search import rank_key

    answer = api.recommend(model, mode, gpus, "h100", seq_len=seq)
    assert not answer.layout_kept
    lo, before = answer.layout, answer.recipe_layout
    pins = recipe_pins(before, resolve_model(answer.model))
    assert set(answer.released) <= set(pins)
    for factor in set(pins) - set(answer.released):
        assert getattr(lo, factor) == pins[factor]
    assert lo.gbs == before.gbs and lo.mbs <= before.mbs
    spec, gpu = resolve_model(answer.model), resolve_gpu("h100")

    def planned(released: tuple[str, ...]) -> list:
        fixed = {f: v for f, v in pins.items() if f not in released}
        if "cp" in fixed and before.cp > 1 and before.cp_comm_type:
            fixed["cp_comm_type"] = before.cp_comm_type
        return [
            c
            for c in enumerate_layouts(
                spec,
                world_size=gpus,
                gpu=gpu,
                seq_len=answer.seq_length,
                mode=answer.mode,
                gbs=before.gbs,
                fixed=fixed,
                knobs=recipe_knobs(library(answer.recipe.name).fields),
            )  # fmt: skip
            if c.layout.mbs <= before.mbs
        ]

    if answer.memory.fits:
        k = len(answer.released)
        for fewer in range(k):
            for released in combinations(pins, fewer):
                assert not any(c.memory.fits for c in planned(released))
        level = [
            c for released in combinations(pins, k) for c in planned(released) if c.memory.fits
        ]
        best = min(level, key=rank_key)
        assert rank_key(best) == rank_key(answer)
    else:
        assert any(f.id == "memory" and f.severity == "error" for f in answer.findings)


@pytest.mark.parametrize(("version", "form"), [("0.6.2", "Hugging Face"), ("0.5.1", "import_ckpt")])
def test_finetuning_commands_carry_the_starting_checkpoint_as_the_release_takes_it(
    version: str, form: str
) -> None:
    for mode in ("sft", "peft"):
        answer = api.recommend("Llama 3 8B", mode, 8, "h100", index=version)
        assert answer.overrides[PRETRAINED_KEY] == PRETRAINED_VAR
        change = next(c for c in answer.changes if c.key == PRETRAINED_KEY)
        assert change.change_class == "convergence" and form in change.reason
        assert f'"{PRETRAINED_KEY}=\\"{PRETRAINED_VAR}\\""' in answer.command.split()
        notes = " ".join(ln for ln in answer.command.splitlines() if ln.startswith("#"))
        assert "PRETRAINED_CHECKPOINT" in notes and form in notes
    pretrain = api.recommend("Llama 3 8B", "pretrain", 8, "h100", index=version)
    assert PRETRAINED_KEY not in pretrain.overrides
    assert "PRETRAINED_CHECKPOINT" not in pretrain.command


def test_every_library_recipe_recommends_a_valid_answer_at_its_own_allocation() -> None:
    """The whole 0.6.2 index through recommend end to end (choice, resize, tuning, launch):
    a valid layout at the recipe's GBS, or the no-valid-layout error; never an exception."""
    checked = 0
    for recipe in index062().recipes:
        if recipe.kind != "library" or recipe.mode is None or not recipe.hf_model_id:
            continue
        if _recipe_spec(recipe.hf_model_id) is None:
            continue
        q = own_query(recipe)
        answer = api.recommend(recipe.hf_model_id, q.mode, q.gpus, q.gpu_type, seq_len=q.seq_len)
        checked += 1
        assert "train.global_batch_size" not in answer.overrides, recipe.name
        lo = answer.layout
        if lo is None:
            assert answer.findings[0].id == "no-valid-layout", recipe.name
            continue
        assert lo.tp * lo.pp * lo.cp * lo.dp == q.gpus, recipe.name
        assert q.gpus % (lo.etp * lo.ep * lo.pp) == 0, recipe.name
        assert lo.gbs == answer.recipe_layout.gbs, recipe.name
        for tune in answer.tuning:
            assert tune.throughput.step_time_s < tune.step_time_before_s, recipe.name
    assert checked >= 450


def test_a_recipes_a2a_context_parallelism_is_dropped_when_resized_tp_no_longer_splits_heads():
    # qwen3_600m_sft_128k_config ships CP=8 with a2a at TP=1; its GBS only allows DP <= 2 on
    # 256 GPUs, so TP grows to 16 and the 16 heads no longer split over CP=8 with a2a.
    from autorecipe import api

    answer = api.recommend("Qwen/Qwen3-0.6B", "sft", 256, "gb300", seq_len=32768)
    assert answer.layout.cp > 1 and answer.layout.tp > 1
    assert answer.layout.cp_comm_type == "p2p"
    assert answer.overrides.get("model.cp_comm_type") == "p2p"
