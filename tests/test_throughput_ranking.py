"""Ranking: the layout NVIDIA published for each case should be among our fastest predictions.

Issue 6's targets, asserted as they are. The one over-claim left after session 5 (Qwen3-235B
on 256 H100s, L107) was a strict xfail until the calibration's ranking term (weight 2) and
the pipeline's network hand-offs brought it to +9.6%: a narrow pass (benchmarks/RESULTS.md,
session 6).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autorecipe.estimate.calibration import best_published, published_rank
from autorecipe.estimate.published import calibration_rows

CSV = Path(__file__).parent / "data" / "perf-calibration.csv"


@pytest.fixture(scope="module")
def ranks():
    rows, _ = calibration_rows(CSV)
    return [published_rank(row) for row in best_published(rows).values()]


def _top3_share(ranks) -> float:
    return sum(r.rank <= 3 for r in ranks) / len(ranks)


def _overclaims(ranks) -> list[str]:
    return [f"{r.row.label}: {r.best_top3:.0f} vs {r.predicted:.0f}" for r in ranks if r.overclaims]


def test_published_layout_is_in_our_top_3_for_70_percent_of_cases(ranks):
    assert len(ranks) >= 70
    assert _top3_share(ranks) >= 0.70, [
        f"{r.row.label}: rank {r.rank}/{r.candidates}" for r in ranks if r.rank > 3
    ]


def test_no_top_3_layout_overclaims_against_a_well_predicted_published_one(ranks):
    assert _overclaims(ranks) == []


def _with_speed(candidate, tokens_per_sec):
    throughput = candidate.throughput.model_copy(update={"tokens_per_sec_per_gpu": tokens_per_sec})
    return candidate.model_copy(update={"throughput": throughput})


def test_near_ties_follow_the_seed_preferences_and_real_gaps_follow_speed():
    from autorecipe import api
    from autorecipe.layout.search import SPEED_TIE_TOLERANCE, rank_key

    flat = api.estimate("llama3-8b", gpus=8, gpu_type="h100", tp=2, mbs=1)
    piped = api.estimate("llama3-8b", gpus=8, gpu_type="h100", tp=2, pp=2, mbs=1)
    assert flat.memory.fits and piped.memory.fits
    base = 10_000.0
    # a hair faster with an extra pipeline stage: a tie, so minimal PP wins
    tied = [_with_speed(flat, base), _with_speed(piped, base * (1 + SPEED_TIE_TOLERANCE / 10))]
    assert min(tied, key=rank_key) is tied[0]
    # clearly faster with PP: speed wins
    apart = [_with_speed(flat, base), _with_speed(piped, base * (1 + 3 * SPEED_TIE_TOLERANCE))]
    assert min(apart, key=rank_key) is apart[1]
