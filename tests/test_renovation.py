"""Renovation scorer, planner and nearby look-ups on tiny hand-built layouts with known answers.

Layouts are drawn in metres (EPSG:32650, near Gulou) and handed over in WGS84 (EPSG:4326), as the
store hands frames out.
"""
from __future__ import annotations

import itertools
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import CRSError, DataValidationError, GuloError
from geo.nearby import disputes_near, stations_within, twelve_months_before
from geo.renovation import (
    FACTORS,
    PriorityWeights,
    breakdown,
    estimated_budget_wan,
    plan_batch,
    schedule,
    score_compounds,
    too_costly,
    years_to_finish,
)

X0, Y0 = 730_000.0, 2_886_000.0  # metres in EPSG:32650, inside Gulou
AS_OF = date(2026, 11, 28)
S1, S2 = "350102001000", "350102002000"


def wgs84(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """A frame drawn at (x, y) metres from (X0, Y0) in EPSG:32650, converted to EPSG:4326."""
    geoms = [shapely.Point(X0 + x, Y0 + y) for x, y in xy]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=32650).to_crs(4326)


def compound(code, status="not_planned", built=1990, households=100, pm=False, budget=None, street=S1):
    return {"code": code, "name": f"小区{code}", "street_code": street, "status": status, "built_year": built,
            "households": households, "has_property_mgmt": pm, "budget_wan": budget}


@pytest.fixture
def layout():
    """A (0, 0): old, 100 households, no 物业, elderly station 300 m away, one recent 物业 dispute 100 m away.
    B (3000, 0): newer, 300 households, 物业, planned with a budget, nearest elderly station 800 m away.
    C (0, 50): completed (never a candidate)."""
    compounds = wgs84([compound("A", built=1980, households=100),
                       compound("B", status="planned", built=2000, households=300, pm=True, budget=200.0),
                       compound("C", status="completed", built=1970, households=500, budget=400.0)],
                      [(0, 0), (3000, 0), (0, 50)])
    stations = wgs84([{"code": "E1", "name": "甲站", "kind": "elderly_home"},
                      {"code": "E2", "name": "乙站", "kind": "elderly_home"},
                      {"code": "K1", "name": "少儿站", "kind": "children"}],
                     [(0, 300), (3000, 800), (3000, 10)])
    d = date
    disputes = wgs84([
        {"code": "D1", "category": "property_mgmt", "status": "resolved", "reported_on": d(2026, 6, 1)},   # counts
        {"code": "D2", "category": "property_mgmt", "status": "resolved", "reported_on": d(2026, 6, 1)},   # 700 m
        {"code": "D3", "category": "property_mgmt", "status": "resolved", "reported_on": d(2025, 10, 28)},  # 13 months
        {"code": "D4", "category": "neighbour", "status": "mediating", "reported_on": d(2026, 11, 1)},     # category
        {"code": "D5", "category": "property_mgmt", "status": "received", "reported_on": d(2026, 12, 2)},  # after as_of
    ], [(100, 0), (700, 0), (0, -100), (50, 0), (0, 100)])
    return compounds, stations, disputes


def by_code(scored: pd.DataFrame) -> pd.DataFrame:
    return scored.set_index("code")


# ------------------------------------------------------------------------------------------- scorer


def test_candidates_are_not_planned_and_planned_compounds_only(layout):
    scored = score_compounds(*layout, PriorityWeights(), AS_OF)
    assert sorted(scored["code"]) == ["A", "B"]
    assert scored.crs.to_epsg() == 4326


def test_each_factor_has_its_known_raw_and_normalised_value(layout):
    s = by_code(score_compounds(*layout, PriorityWeights(), AS_OF))
    expected_raw = {"age": (46, 26), "households": (100, 300), "no_property_mgmt": (1, 0),
                    "pm_disputes": (1, 0), "coverage_gap": (0, 1)}
    for factor, (a, b) in expected_raw.items():
        assert (s.at["A", f"{factor}_raw"], s.at["B", f"{factor}_raw"]) == (a, b), factor
    assert s.at["A", "age_norm"] == 1 and s.at["B", "age_norm"] == pytest.approx(26 / 46)
    assert s.at["A", "households_norm"] == pytest.approx(1 / 3) and s.at["B", "households_norm"] == 1
    assert s.at["A", "nearest_elderly_home_m"] == pytest.approx(300, abs=0.01)
    assert s.at["B", "nearest_elderly_home_m"] == pytest.approx(800, abs=0.01)


def test_score_is_the_sum_of_weighted_points_and_ranks_highest_first(layout):
    scored = score_compounds(*layout, PriorityWeights(), AS_OF)
    assert list(scored["code"]) == ["A", "B"] and list(scored["rank"]) == [1, 2]
    s = by_code(scored)
    assert s.at["A", "score"] == pytest.approx(100 * (0.3 + 0.25 / 3 + 0.2 + 0.15))
    assert s.at["B", "score"] == pytest.approx(100 * (0.3 * 26 / 46 + 0.25 + 0.1))
    points = s[[f"{f}_points" for f in FACTORS]].sum(axis=1)
    np.testing.assert_allclose(points, s["score"])
    parts = breakdown(scored, "A")
    assert list(parts["label"]) == ["房龄", "户数", "无物业", "物业纠纷", "服务覆盖缺口"]
    assert parts["points"].sum() == pytest.approx(s.at["A", "score"])


def test_changing_a_weight_changes_the_ranking(layout):
    default = score_compounds(*layout, PriorityWeights(), AS_OF)
    by_size = score_compounds(*layout, PriorityWeights().with_weight("households", 5.0), AS_OF)
    assert list(default["code"]) == ["A", "B"]
    assert list(by_size["code"]) == ["B", "A"]


def test_only_weight_shares_matter(layout):
    one = score_compounds(*layout, PriorityWeights(), AS_OF)
    ten = score_compounds(*layout, PriorityWeights(3, 2.5, 2, 1.5, 1), AS_OF)
    np.testing.assert_allclose(one["score"], ten["score"])


@pytest.mark.parametrize("radius_m, walk_m, disputes_a, gap_b", [
    (500, 500, 1, 1),
    (90, 500, 0, 1),      # the 100 m dispute falls outside
    (700.5, 500, 2, 1),   # the 700 m dispute comes in
    (500, 800.5, 1, 0),   # B's station at 800 m is within walking distance
])
def test_radius_and_walking_distance(layout, radius_m, walk_m, disputes_a, gap_b):
    s = by_code(score_compounds(*layout, PriorityWeights(), AS_OF, radius_m=radius_m, walk_m=walk_m))
    assert s.at["A", "pm_disputes_raw"] == disputes_a
    assert s.at["B", "coverage_gap_raw"] == gap_b


def test_missing_budget_is_estimated_from_households(layout):
    s = by_code(score_compounds(*layout, PriorityWeights(), AS_OF))
    assert s.at["A", "budget_wan"] == pytest.approx(25 + 0.9 * 100) and s.at["A", "budget_estimated"]
    assert s.at["B", "budget_wan"] == 200 and not s.at["B", "budget_estimated"]


def test_unknown_values_count_as_zero(layout):
    compounds, stations, disputes = layout
    unknown = compounds.assign(built_year=pd.Series([None, 2000, 1970], dtype=object),
                               has_property_mgmt=pd.Series([None, True, True], dtype=object))
    s = by_code(score_compounds(unknown, stations, disputes, PriorityWeights(), AS_OF))
    assert np.isnan(s.at["A", "age_raw"]) and s.at["A", "age_norm"] == 0 and s.at["B", "age_norm"] == 1
    assert np.isnan(s.at["A", "no_property_mgmt_raw"]) and s.at["A", "no_property_mgmt_points"] == 0


def test_without_stations_every_candidate_is_in_a_gap(layout):
    compounds, stations, disputes = layout
    s = score_compounds(compounds, stations.iloc[0:0], disputes.iloc[0:0], PriorityWeights(), AS_OF)
    assert list(s["coverage_gap_raw"]) == [1, 1] and list(s["pm_disputes_raw"]) == [0, 0]


def test_inputs_are_not_mutated(layout):
    before = [f.copy() for f in layout]
    scored = score_compounds(*layout, PriorityWeights(), AS_OF)
    plan_batch(scored, 300)
    for old, new in zip(before, layout):
        pd.testing.assert_frame_equal(old, new)


@pytest.mark.parametrize("rows", [slice(0, 0), slice(2, 3)])  # no compounds; only a completed one
def test_no_candidates_gives_an_empty_frame_with_every_column(layout, rows):
    compounds, stations, disputes = layout
    full = score_compounds(compounds, stations, disputes, PriorityWeights(), AS_OF)
    empty = score_compounds(compounds.iloc[rows], stations, disputes, PriorityWeights(), AS_OF)
    assert len(empty) == 0 and list(empty.columns) == list(full.columns)
    assert len(plan_batch(empty, 1000).chosen) == 0


def test_crs_and_columns_are_checked(layout):
    compounds, stations, disputes = layout
    with pytest.raises(CRSError, match="EPSG:4326"):
        score_compounds(compounds.to_crs(32650), stations, disputes, PriorityWeights(), AS_OF)
    with pytest.raises(CRSError, match="缺少坐标参考系"):
        score_compounds(compounds, stations.set_crs(None, allow_override=True), disputes, PriorityWeights(), AS_OF)
    with pytest.raises(DataValidationError, match="households"):
        score_compounds(compounds.drop(columns="households"), stations, disputes, PriorityWeights(), AS_OF)
    with pytest.raises(GuloError, match="纠纷统计半径"):
        score_compounds(compounds, stations, disputes, PriorityWeights(), AS_OF, radius_m=-1)


@pytest.mark.parametrize("kwargs, message", [
    ({"age": -1}, "房龄"), ({"households": float("nan")}, "户数"), ({"pm_disputes": "高"}, "物业纠纷"),
    ({"age": 0, "households": 0, "no_property_mgmt": 0, "pm_disputes": 0, "coverage_gap": 0}, "全为 0"),
])
def test_weights_are_checked(kwargs, message):
    with pytest.raises(GuloError, match=message):
        PriorityWeights(**kwargs)
    with pytest.raises(GuloError, match="可选"):
        PriorityWeights().with_weight("beauty", 1)


# ------------------------------------------------------------------------------------------- planner


def table(items: list[tuple[str, float, float]], street: str = S1, households: int = 100) -> pd.DataFrame:
    """A scored frame from (code, score, budget 万元) tuples."""
    return pd.DataFrame({"code": [c for c, _, _ in items], "street_code": street, "households": households,
                         "score": [s for _, s, _ in items], "budget_wan": [b for _, _, b in items]})


KNAPSACK = [("X", 7.0, 6.0), ("Y", 5.0, 5.0), ("Z", 5.0, 5.0)]
"""Greedy by score per 万元 takes X (7/6 > 1) and then nothing fits: 7. The optimum is Y + Z: 10."""


def test_the_optimiser_beats_greedy_by_score_per_wan():
    greedy = plan_batch(table(KNAPSACK), 10, method="greedy")
    best = plan_batch(table(KNAPSACK), 10, method="milp")
    assert list(greedy.chosen["code"]) == ["X"] and greedy.total_score == 7 and not greedy.proven_optimal
    assert sorted(best.chosen["code"]) == ["Y", "Z"] and best.total_score == 10 and best.proven_optimal
    assert best.total_score > greedy.total_score
    assert best.method_label.startswith("整数规划") and greedy.method_label.startswith("贪心")


def test_plan_totals_and_order():
    items = table([("P", 3.0, 40.0), ("Q", 9.0, 30.0), ("R", 5.0, 50.0)])
    items["households"] = [10, 20, 30]
    plan = plan_batch(items, 80)
    assert list(plan.chosen["code"]) == ["Q", "R"]  # 14 beats P+Q (12) and P alone; highest score first
    assert plan.totals() == {"compounds": 2, "households": 50, "budget_used_wan": 80.0,
                             "budget_left_wan": 0.0, "total_score": 14.0}


def brute_force(items: pd.DataFrame, budget: float, caps: dict[str, float]) -> float:
    """The best total score over all 2^n subsets (numpy, one row per subset)."""
    subsets = np.array(list(itertools.product([0.0, 1.0], repeat=len(items))))
    cost = items["budget_wan"].to_numpy(float)
    ok = subsets @ cost <= budget
    for street, cap in caps.items():
        ok &= subsets @ np.where(items["street_code"] == street, cost, 0.0) <= cap
    return float((subsets[ok] @ items["score"].to_numpy(float)).max())


@pytest.mark.parametrize("seed", range(6))
def test_the_optimiser_is_exact_and_never_worse_than_greedy(seed):
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"code": [f"K{i:02d}" for i in range(11)], "households": 50,
                          "street_code": rng.choice([S1, S2], 11), "score": rng.uniform(0, 100, 11).round(1),
                          "budget_wan": rng.uniform(20, 300, 11).round(1)})
    caps = {S1: 350.0}
    best = plan_batch(items, 700, caps)
    greedy = plan_batch(items, 700, caps, method="greedy")
    assert best.proven_optimal
    assert best.total_score == pytest.approx(brute_force(items, 700, caps))
    assert best.total_score >= greedy.total_score - 1e-9


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_sub_district_caps_are_respected(method):
    items = pd.concat([table([("A1", 90.0, 60.0), ("A2", 80.0, 60.0), ("A3", 70.0, 60.0)], S1),
                       table([("B1", 10.0, 60.0), ("B2", 5.0, 60.0)], S2)], ignore_index=True)
    plan = plan_batch(items, 240, street_caps={S1: 130.0, "350102009000": 0.0}, method=method)
    used = plan.by_street()
    assert used.at[S1, "budget_used_wan"] <= 130 and used.at[S1, "cap_wan"] == 130
    assert sorted(plan.chosen["code"]) == ["A1", "A2", "B1", "B2"]
    assert plan.budget_used_wan <= 240


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_budget_zero_gives_an_empty_plan(method):
    plan = plan_batch(table(KNAPSACK), 0, method=method)
    assert plan.compounds == 0 and plan.households == 0 and plan.budget_used_wan == 0 and plan.total_score == 0
    assert list(plan.chosen.columns)[:5] == ["code", "street_code", "households", "score", "budget_wan"]


def test_no_fundable_compound_is_left_out_even_with_score_zero():
    plan = plan_batch(table([("A", 10.0, 5.0), ("Z", 0.0, 3.0)]), 9)
    assert sorted(plan.chosen["code"]) == ["A", "Z"]


def test_missing_budgets_are_estimated_and_uncostable_compounds_excluded():
    items = table([("A", 5.0, np.nan), ("B", 4.0, 0.0), ("C", 3.0, 10.0), ("D", 9.0, np.nan)])
    items["households"] = [100, 10, 1, 0]
    plan = plan_batch(items, 1000)
    assert plan.excluded == ("D",)
    spent = plan.chosen.set_index("code")["budget_wan"]
    assert spent["A"] == estimated_budget_wan(pd.Series([100])).iloc[0] == pytest.approx(115)
    assert spent["B"] == pytest.approx(34) and spent["C"] == 10
    assert list(plan.chosen["budget_estimated"]) == [True, True, False]


@pytest.mark.parametrize("kwargs, message", [
    ({"budget_wan": -1}, "不小于 0"), ({"budget_wan": float("inf")}, "万元"),
    ({"budget_wan": 10, "method": "lp"}, "可选：milp"),
    ({"budget_wan": 10, "street_caps": {S1: -5}}, S1),
])
def test_plan_arguments_are_checked_in_chinese(kwargs, message):
    with pytest.raises(GuloError, match=message):
        plan_batch(table(KNAPSACK), **kwargs)


def test_the_scored_frame_is_not_mutated():
    items = table([("A", 5.0, np.nan), ("B", 4.0, 20.0)])
    before = items.copy()
    plan_batch(items, 100)
    pd.testing.assert_frame_equal(items, before)


# ------------------------------------------------------------------------------------------- years


def test_years_to_finish_on_a_known_case():
    # Costs 6, 4, 5, 5 at 10 a year: planning by priority takes (6, 4) then (5, 5): two years.
    items = table([("A", 10.0, 6.0), ("B", 1.0, 4.0), ("C", 1.0, 5.0), ("D", 1.0, 5.0)])
    assert years_to_finish(items, 10) == 2
    # With the priorities on C and B, year 1 is (5, 4); then 6 and 5 cannot share a year: three years.
    items["score"] = [1.0, 10.0, 10.0, 1.0]
    plan = schedule(items, 10).set_index("code")["year"]
    assert plan["B"] == plan["C"] == 1 and {plan["A"], plan["D"]} == {2, 3}
    assert years_to_finish(items, 10) == 3
    assert years_to_finish(items, 20) == 1


def test_years_to_finish_is_none_when_something_never_fits():
    items = table([("A", 10.0, 6.0), ("BIG", 1.0, 12.0)])
    assert years_to_finish(items, 0) is None
    assert years_to_finish(items, 10) is None
    assert list(too_costly(items, 10)["code"]) == ["BIG"]
    assert years_to_finish(items.iloc[0:0], 10) == 0
    with pytest.raises(GuloError, match="年度预算"):
        years_to_finish(items, -3)


# ------------------------------------------------------------------------------------------- nearby


@pytest.fixture
def around():
    compounds = wgs84([compound("A"), compound("B")], [(0, 0), (5000, 0)])
    stations = wgs84([{"code": "S1", "name": "养老", "kind": "elderly_home"},
                      {"code": "S2", "name": "少儿", "kind": "children"},
                      {"code": "S3", "name": "文化", "kind": "culture"}],
                     [(0, 300), (-450, 0), (600, 0)])
    return compounds, stations


def test_stations_within_walking_distance_of_each_compound(around):
    compounds, stations = around
    near = stations_within(compounds, stations, 500)
    assert list(near["compound_code"]) == ["A", "A"]
    assert list(near["code"]) == ["S1", "S2"]
    np.testing.assert_allclose(near["distance_m"], [300, 450], atol=0.01)
    assert list(near["kind_label"]) == ["居家养老服务站", "少儿成长服务站"]
    assert near.crs.to_epsg() == 4326


def test_stations_within_of_a_point_and_by_kind(around):
    compounds, stations = around
    point = compounds.geometry.iloc[0]
    near = stations_within(point, stations, 650, kinds=["文化普及服务站", "elderly_home"])
    assert "compound_code" not in near.columns and list(near["code"]) == ["S1", "S3"]
    with pytest.raises(GuloError, match="可选"):
        stations_within(point, stations, 500, kinds=["游乐场"])


def test_nothing_near_gives_an_empty_frame_with_the_same_columns(around):
    compounds, stations = around
    empty = stations_within(compounds.iloc[[1]], stations, 500)
    assert len(empty) == 0 and list(empty.columns) == list(stations_within(compounds, stations, 500).columns)


def test_disputes_near_in_the_last_twelve_months(layout):
    compounds, _, disputes = layout
    since = twelve_months_before(AS_OF)
    assert since == date(2025, 11, 29)
    near = disputes_near(compounds.iloc[[0]], disputes, 500, since, until=AS_OF)
    assert list(near["code"]) == ["D4", "D1"]  # newest first; D2 too far, D3 too old, D5 after AS_OF
    np.testing.assert_allclose(near["distance_m"], [50, 100], atol=0.01)
    assert list(near["category_label"]) == ["邻里纠纷", "物业纠纷"]
    only_pm = disputes_near(compounds.iloc[[0]], disputes, 500, since, AS_OF, categories=["property_mgmt"])
    assert list(only_pm["code"]) == ["D1"]


def test_nearby_checks_crs_and_distance(around):
    compounds, stations = around
    with pytest.raises(CRSError):
        stations_within(compounds.to_crs(32650), stations, 500)
    with pytest.raises(GuloError, match="步行距离"):
        stations_within(compounds, stations, -1)


# ------------------------------------------------------------------------------------------- sample district


@pytest.fixture(scope="module")
def sample_scored():
    from data.sample import build_sample, sample_as_of

    f = build_sample()
    return score_compounds(f["compounds"], f["stations"], f["disputes"], PriorityWeights(), sample_as_of())


def test_on_the_sample_district_the_optimiser_is_within_budget_and_beats_greedy(sample_scored):
    assert len(sample_scored) == 252 and sample_scored["budget_wan"].gt(0).all()
    caps = {street: 1000.0 for street in sample_scored["street_code"].unique()}
    for street_caps in (None, caps):
        best = plan_batch(sample_scored, 10_000, street_caps)
        greedy = plan_batch(sample_scored, 10_000, street_caps, method="greedy")
        assert best.proven_optimal and best.budget_used_wan <= 10_000
        assert best.total_score >= greedy.total_score
    assert best.by_street()["budget_used_wan"].max() <= 1000
    assert years_to_finish(sample_scored, 10_000) >= np.ceil(sample_scored["budget_wan"].sum() / 10_000)
