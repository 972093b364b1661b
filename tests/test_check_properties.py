"""Properties: a fix written by `check` parses back to the same values; every key is classed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from autorecipe.advise.changes import classify_change
from autorecipe.advise.check import format_overrides
from autorecipe.advise.overrides import config_keys, known_keys, parse_overrides


def _keys_of(kind: str) -> list[str]:
    return sorted(
        f"{section}.{attr}"
        for section, attrs in config_keys().items()
        for attr, spec in attrs.items()
        if attr and spec["types"] == [kind] and "choices" not in spec
    )


INT_KEYS, BOOL_KEYS, STR_KEYS = _keys_of("int"), _keys_of("bool"), _keys_of("str")
WORD = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda w: w not in ("null", "true", "false", "none", "nan", "inf")
)
ENTRY = st.one_of(
    st.tuples(st.sampled_from(INT_KEYS), st.integers(-(2**40), 2**40)),
    st.tuples(st.sampled_from(BOOL_KEYS), st.booleans()),
    st.tuples(st.sampled_from(STR_KEYS), WORD),
    st.tuples(st.just("model.cuda_graph_scope"), st.lists(WORD, max_size=4)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ENTRY, max_size=6))
def test_formatted_overrides_parse_back(entries):
    overrides = dict(entries)
    assert parse_overrides(format_overrides(overrides).split()) == overrides


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(known_keys())), st.one_of(st.integers(), st.booleans(), st.none(), WORD)
)
def test_every_known_key_gets_a_class_and_a_reason(key, value):
    cls, reason = classify_change(key, value)
    assert cls in ("convergence", "execution", "benchmark-only") and reason
