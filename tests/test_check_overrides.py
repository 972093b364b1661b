"""Override parsing: Hydra values as run_recipe.py reads them, checked against the real schema."""

from __future__ import annotations

import string
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autorecipe.advise.overrides import _plain_parse, config_keys, parse_overrides
from autorecipe.errors import UserError
from autorecipe.index.fields import PLAIN_FIELDS


def test_hydra_values_parse_as_the_launcher_reads_them():
    got = parse_overrides(
        [
            "model.tensor_model_parallel_size=2",
            "optimizer.lr=1e-4",
            "model.sequence_parallel=True",
            "model.cuda_graph_scope=[attn,moe_router,moe_preprocess]",
            "model.virtual_pipeline_model_parallel_size=null",
            "model.recompute_granularity=None",
            "model.cuda_graph_impl=transformer_engine",
        ]
    )
    assert got == {
        "model.tensor_model_parallel_size": 2,
        "optimizer.lr": 1e-4,
        "model.sequence_parallel": True,
        "model.cuda_graph_scope": ["attn", "moe_router", "moe_preprocess"],
        "model.virtual_pipeline_model_parallel_size": None,
        "model.recompute_granularity": None,
        "model.cuda_graph_impl": "transformer_engine",
    }


def test_launcher_flags_map_to_the_same_keys_and_explicit_keys_win():
    got = parse_overrides(
        ["-tp", "4", "-pp=2", "-vp", "none", "-cp", "2", "-ep", "8", "-etp", "1"]
        + ["-gb", "256", "-mb", "1", "-sl", "32768", "model.sequence_parallel=false"]
    )
    assert got["model.tensor_model_parallel_size"] == 4
    assert got["model.pipeline_model_parallel_size"] == 2
    assert got["model.virtual_pipeline_model_parallel_size"] is None
    assert got["model.context_parallel_size"] == 2
    assert got["model.expert_model_parallel_size"] == 8
    assert got["model.expert_tensor_parallel_size"] == 1
    assert got["train.global_batch_size"] == 256
    assert got["train.micro_batch_size"] == 1
    assert got["dataset.seq_length"] == got["model.seq_length"] == 32768
    assert got["model.sequence_parallel"] is False


def test_tp_flag_sets_sequence_parallel_like_the_launcher():
    assert parse_overrides(["-tp", "2"])["model.sequence_parallel"] is True
    assert parse_overrides(["-tp", "1"])["model.sequence_parallel"] is False


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("model.tensor_model_parallel_size=two", ["model.tensor_model_parallel_size", "integer"]),
        ("model.sequence_parallel=3", ["model.sequence_parallel", "true or false"]),
        ("train.global_batch_size=[1,2]", ["train.global_batch_size", "integer"]),
        ("model.cuda_graph_impl=graphs", ["one of", "transformer_engine"]),
        ("model.tensor_model_parallel_size=null", ["cannot be null", "integer"]),
    ],
)
def test_malformed_values_name_the_key_and_the_expected_type(item, words):
    with pytest.raises(UserError) as err:
        parse_overrides([item])
    for word in words:
        assert word in str(err.value)


def test_unknown_key_names_the_closest_known_key():
    with pytest.raises(UserError, match="model.tensor_model_parallel_size"):
        parse_overrides(["model.tensor_model_paralel_size=2"])
    with pytest.raises(UserError, match="closest sections are model"):
        parse_overrides(["modle.tensor_model_parallel_size=2"])


@pytest.mark.parametrize(
    "items",
    [["model.x"], ["a=[1"], ["train.global_batch_size=1,2"], ["-tp"], ["-zz", "1"], ["-tp", "0"]],
)
def test_syntax_errors_are_user_errors(items):
    with pytest.raises(UserError):
        parse_overrides(items)


def test_every_index_field_path_is_a_known_key():
    sections = config_keys()
    for path in PLAIN_FIELDS.values():
        section, _, attr = path.partition(".")
        assert attr in sections[section], path


def test_hydra_add_and_delete_prefixes_are_accepted():
    got = parse_overrides(
        ["+model.brand_new_field=3", "train.micro_batch_size=2", "~train.micro_batch_size"]
    )
    assert got == {"model.brand_new_field": 3}


_WORD = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=8)
_VALUES = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["007", "+3", "1_000", "1.5", "1e-4", "inf", "NaN", "None", "NULL", "True"]),
    st.sampled_from(["false", "TRUE", "null", "transformer_engine", "a-b", "[a,b]", "'x y'"]),
    _WORD,
)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(["model.tensor_model_parallel_size", "a.b_c", "x"]), raw=_VALUES)
def test_the_hydra_free_path_reads_what_hydra_reads(key, raw):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    item = f"{key}={raw}"
    plain = _plain_parse(item)
    try:
        parsed = OverridesParser.create().parse_overrides([item])[0]
    except Exception:
        assert plain is None  # what Hydra rejects, Hydra must see
        return
    if plain is not None:
        value = parsed.value()
        assert plain == (parsed.key_or_group, value) and type(plain[1]) is type(value)


def test_flags_and_plain_items_do_not_import_hydra():
    code = (
        "import sys; from autorecipe.advise.overrides import parse_overrides; "
        "parse_overrides(['-tp', '2', 'model.context_parallel_size=1', "
        "'model.cuda_graph_impl=transformer_engine', 'model.sequence_parallel=True']); "
        "print('hydra' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
