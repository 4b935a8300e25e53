"""Planner objectives (score, households, score × households), the batch's size distribution and this year's
plan lag — checked against an independent dynamic-programming knapsack and hand-counted frames."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from geo.errors import GuloError
from geo.renovation import (
    OBJECTIVES,
    PriorityWeights,
    lagging_compounds,
    plan_batch,
    score_compounds,
    size_distribution,
    year_plan_progress,
)

S1, S2 = "350102001000", "350102002000"


def dp_knapsack(cost: np.ndarray, value: np.ndarray, budget: int) -> float:
    """The best total value of a 0/1 knapsack with whole-number costs (textbook table over capacities)."""
    best = np.zeros(budget + 1)
    for c, v in zip(cost.astype(int), value):
        if c <= budget:
            best[c:] = np.maximum(best[c:], best[:budget + 1 - c] + v)
    return float(best[budget])


def random_items(seed: int, n: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"code": [f"K{i:02d}" for i in range(n)], "street_code": rng.choice([S1, S2], n),
                         "households": rng.integers(20, 900, n), "score": rng.uniform(0, 100, n).round(2),
                         "budget_wan": rng.integers(30, 400, n).astype(float)})


VALUE = {"score": lambda f: f["score"].to_numpy(float), "households": lambda f: f["households"].to_numpy(float),
         "score_households": lambda f: (f["score"] * f["households"]).to_numpy(float)}


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("seed", range(4))
def test_every_objective_is_solved_exactly(objective, seed):
    items = random_items(seed)
    budget = 1500
    plan = plan_batch(items, budget, objective=objective)
    greedy = plan_batch(items, budget, objective=objective, method="greedy")
    exact = dp_knapsack(items["budget_wan"].to_numpy(), VALUE[objective](items), budget)
    assert plan.proven_optimal and plan.objective == objective
    assert plan.total_value == pytest.approx(exact, rel=1e-9)
    assert plan.total_value >= greedy.total_value - 1e-9
    assert plan.budget_used_wan <= budget


SMALL_AND_LARGE = pd.DataFrame({
    "code": ["A", "B", "C", "BIG"], "street_code": S1, "households": [40, 50, 60, 800],
    "score": [60.0, 55.0, 50.0, 70.0], "budget_wan": [100.0, 100.0, 100.0, 300.0]})
"""Three small compounds (score 165, 150 households) or one large one (score 70, 800 households) for 300 万元."""


@pytest.mark.parametrize("objective, codes", [("score", ["A", "B", "C"]), ("households", ["BIG"]),
                                              ("score_households", ["BIG"])])
def test_the_objective_decides_between_many_small_and_one_large_compound(objective, codes):
    plan = plan_batch(SMALL_AND_LARGE, 300, objective=objective)
    assert sorted(plan.chosen["code"]) == codes
    assert plan.total_value == {"score": 165.0, "households": 800.0, "score_households": 56_000.0}[objective]
    assert plan.mean_households == pytest.approx(plan.households / plan.compounds)


def test_an_unknown_objective_is_refused_naming_the_choices():
    with pytest.raises(GuloError, match="可选：score"):
        plan_batch(SMALL_AND_LARGE, 300, objective="area")


def test_size_distribution_counts_compounds_and_households_per_band():
    chosen = pd.DataFrame({"households": [40, 99, 100, 199, 200, 499, 500, 1200, np.nan]})
    sizes = size_distribution(chosen)
    assert sizes["band"].tolist() == ["100 户以下", "100–199 户", "200–499 户", "500 户及以上"]
    assert sizes["compounds"].tolist() == [2, 2, 2, 2]
    assert sizes["households"].tolist() == [139, 299, 699, 1700]
    empty = size_distribution(chosen.iloc[0:0])
    assert empty["compounds"].tolist() == [0, 0, 0, 0] and len(empty) == 4


def test_on_the_sample_district_households_objective_chooses_larger_compounds():
    from data.sample import build_sample, sample_as_of

    f = build_sample()
    scored = score_compounds(f["compounds"], f["stations"], f["disputes"], PriorityWeights(), sample_as_of())
    plans = {o: plan_batch(scored, 3000, objective=o) for o in OBJECTIVES}
    assert plans["households"].households > plans["score"].households
    assert plans["households"].mean_households > plans["score"].mean_households
    assert plans["score"].total_score > plans["households"].total_score
    assert plans["score_households"].total_value >= max(
        float((p.chosen["score"] * p.chosen["households"]).sum()) for p in plans.values()) - 1e-6


# ------------------------------------------------------------------------------------- this year's plan lag

AS_OF = date(2026, 7, 2)  # 183/365 of the year passed: 50%
PLAN = pd.DataFrame({
    "code": ["A1", "A2", "A3", "A4", "B1", "B2", "C1", "D1"],
    "community_code": ["A", "A", "A", "A", "B", "B", "C", "D"],
    "plan_year": [2026, 2026, 2026, 2025, 2026, 2026, 2026, 2027],
    "status": ["under_way", "planned", "completed", "planned", "completed", "planned", "managed", "planned"],
})
"""A: 1 of 3 done (33%, within 25 points of the 50% passed); B: 1 of 2; C: 1 of 1; A4 and D1: other years."""


def test_year_plan_progress_follows_the_overview_alert_rule():
    progress = year_plan_progress(PLAN, AS_OF, "community_code")
    assert progress.index.tolist() == ["A", "B", "C"]
    assert progress["planned"].tolist() == [3, 2, 1] and progress["done"].tolist() == [1, 1, 1]
    assert progress["elapsed"].iloc[0] == pytest.approx(183 / 365)
    assert not progress["lagging"].any()  # 33% is within 25 points of 50%
    strict = year_plan_progress(PLAN, AS_OF, "community_code", lag=0.1)
    assert strict["lagging"].tolist() == [True, False, False]


def test_lagging_compounds_are_the_unfinished_ones_of_lagging_units_not_started_first():
    late = lagging_compounds(PLAN, AS_OF, "community_code", lag=0.1)
    assert late["code"].tolist() == ["A2", "A1"]  # 已纳入计划 before 施工中; A3 done, A4 of 2025
    assert lagging_compounds(PLAN, AS_OF, "community_code").empty


def test_nothing_planned_for_the_year_gives_empty_frames():
    other_year = PLAN.assign(plan_year=2030)
    assert year_plan_progress(other_year, AS_OF, "community_code").empty
    assert lagging_compounds(other_year, AS_OF, "community_code").empty
    with pytest.raises(GuloError, match="community_code|缺少"):
        year_plan_progress(PLAN.drop(columns="community_code"), AS_OF, "community_code")
