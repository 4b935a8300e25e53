"""Grid standard, service coverage, gaps and site proposals on tiny hand-built layouts.

Layouts are drawn in metres (EPSG:32650, near Gulou) and handed over in EPSG:4326, as the store does.
"""
from __future__ import annotations

import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import coverage as cv
from geo.errors import CRSError, DataValidationError, GuloError
from geo.nearby import nearest_distance, to_metric
from geo.vocab import StationKind

X0, Y0 = 730_000.0, 2_886_000.0  # UTM 50N, in Gulou
ELDERLY, CHILDREN, CULTURE = "elderly_home", "children", "culture"


def to_store(frame: pd.DataFrame, xy: list[tuple[float, float]] | None = None, geoms=None) -> gpd.GeoDataFrame:
    """A frame with geometry given in metres from (X0, Y0), in EPSG:4326."""
    if geoms is None:
        geoms = [Point(X0 + x, Y0 + y) for x, y in xy]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=32650).to_crs(4326)


def compounds(rows: list[tuple[str, float, float, int, str]]) -> gpd.GeoDataFrame:
    """Compounds from (code, x m, y m, households, grid code)."""
    frame = pd.DataFrame({
        "code": [r[0] for r in rows], "name": [f"小区{r[0]}" for r in rows],
        "street_code": "S1", "community_code": [r[4][:2] for r in rows], "grid_code": [r[4] for r in rows],
        "households": [r[3] for r in rows],
    })
    return to_store(frame, [(r[1], r[2]) for r in rows])


def stations(rows: list[tuple[str, float, float]]) -> gpd.GeoDataFrame:
    """Stations from (kind, x m, y m); community C1."""
    frame = pd.DataFrame({"code": [f"ST{i}" for i in range(len(rows))], "kind": [r[0] for r in rows],
                          "community_code": "C1"})
    return to_store(frame, [(r[1], r[2]) for r in rows])


@pytest.fixture
def layout() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """An elderly station at the origin; compounds 200 m, 250 m and 600 m away."""
    comp = compounds([("A", 200, 0, 100, "C1G1"), ("B", 600, 0, 200, "C1G1"), ("C", 0, 250, 300, "C1G2")])
    return comp, stations([(ELDERLY, 0, 0), (CULTURE, 0, 900)])


# ---- coverage ----------------------------------------------------------------------------------

def test_compound_coverage_straight_line(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [ELDERLY], cv.LIFE_CIRCLES["5分钟"])
    assert list(cov.columns) == ["code", "distance_m_elderly_home", "covered_elderly_home"]
    assert cov["distance_m_elderly_home"].to_numpy() == pytest.approx([200, 600, 250], abs=0.01)
    assert cov["covered_elderly_home"].tolist() == [True, False, True]


def test_detour_shrinks_the_reach(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, "居家养老服务站", 300, detour=1.3)
    assert cov["covered_elderly_home"].tolist() == [True, False, False]  # 250 × 1.3 = 325 > 300


def test_missing_kind_is_never_covered(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [StationKind.CHILDREN, CULTURE], 1000)
    assert cov["distance_m_children"].isna().all()
    assert not cov["covered_children"].any()
    assert cov["covered_culture"].tolist() == [True, False, True]  # 922 m, 1082 m, 650 m


def test_inputs_not_mutated(layout):
    comp, sta = layout
    before = comp.copy(), sta.copy()
    cv.compound_coverage(comp, sta, [ELDERLY], 300)
    cv.propose_sites(comp, sta, ELDERLY, 300, k=2)
    pd.testing.assert_frame_equal(comp, before[0])
    pd.testing.assert_frame_equal(sta, before[1])


def test_rollup_households_by_grid(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [ELDERLY, CULTURE], 300)
    out = cv.coverage_rollup(cov, comp, "grid_code")
    row = out[(out["grid_code"] == "C1G1") & (out["kind"] == ELDERLY)].iloc[0]
    assert (row["households"], row["covered_households"], row["uncovered_households"]) == (300, 100, 200)
    assert row["covered_share"] == pytest.approx(1 / 3)
    assert row["kind_label"] == "居家养老服务站"
    g2 = out[(out["grid_code"] == "C1G2") & (out["kind"] == ELDERLY)].iloc[0]
    assert g2["covered_households"] == 300
    assert out[out["kind"] == CULTURE]["covered_households"].sum() == 0
    assert len(out) == 4


def test_rollup_by_community_and_bad_key(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [ELDERLY], 300)
    out = cv.coverage_rollup(cov, comp, "community_code")
    assert out[["households", "covered_households"]].to_numpy().tolist() == [[600, 400]]
    with pytest.raises(GuloError, match="汇总单位"):
        cv.coverage_rollup(cov, comp, "name")


def test_uncovered_compounds_lists_missing_kinds(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [ELDERLY, CULTURE], 300)
    out = cv.uncovered_compounds(cov, comp, [ELDERLY, CULTURE])
    assert out["code"].tolist() == ["C", "B", "A"]  # most households first
    assert out.set_index("code").loc["B", "missing"] == [ELDERLY, CULTURE]
    assert out.set_index("code").loc["C", "missing_label"] == "文化普及服务站"
    assert out.crs.to_epsg() == 4326
    only_elderly = cv.uncovered_compounds(cov, comp, [ELDERLY])
    assert only_elderly["code"].tolist() == ["B"]
    assert only_elderly["distance_m_elderly_home"].iloc[0] == pytest.approx(600, abs=0.01)
    with pytest.raises(GuloError, match="少儿成长服务站"):
        cv.uncovered_compounds(cov, comp, [CHILDREN])


def test_uncovered_compounds_empty_when_all_covered(layout):
    comp, sta = layout
    cov = cv.compound_coverage(comp, sta, [ELDERLY], 700)
    out = cv.uncovered_compounds(cov, comp, [ELDERLY])
    assert out.empty and "missing" in out.columns


@pytest.mark.parametrize("kwargs, message", [
    ({"metres": -1}, "步行距离"),
    ({"metres": "300"}, "步行距离"),
    ({"detour": 0.8}, "绕行系数"),
    ({"kinds": ["菜市场"]}, "站点类型"),
    ({"kinds": []}, "至少选择"),
])
def test_bad_arguments_name_the_problem(layout, kwargs, message):
    comp, sta = layout
    args = {"kinds": [ELDERLY], "metres": 300, "detour": 1.0} | kwargs
    with pytest.raises(GuloError, match=message):
        cv.compound_coverage(comp, sta, **args)


def test_missing_crs_and_columns(layout):
    comp, sta = layout
    with pytest.raises(CRSError):
        cv.compound_coverage(comp.set_crs(None, allow_override=True), sta, [ELDERLY], 300)
    with pytest.raises(CRSError):
        cv.compound_coverage(comp.to_crs(32650), sta, [ELDERLY], 300)
    with pytest.raises(DataValidationError, match="kind"):
        cv.compound_coverage(comp, sta.drop(columns="kind"), [ELDERLY], 300)


# ---- gaps --------------------------------------------------------------------------------------

def test_gap_area_is_square_minus_circle():
    units = to_store(pd.DataFrame({"code": ["U1", "U2"], "name": ["甲", "乙"]}),
                     geoms=[box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500), box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)])
    sta = stations([(ELDERLY, 0, 0)])
    gaps = cv.gap_areas(units, sta, ELDERLY, 300)
    assert gaps["code"].tolist() == ["U1"]  # U2 lies wholly within reach
    assert gaps["area_m2"].iloc[0] == pytest.approx(1_000_000 - math.pi * 300**2, rel=0.002)
    assert gaps.crs.to_epsg() == 4326
    farther = cv.gap_areas(units, sta, ELDERLY, 300, detour=1.5)  # reach 200 m
    assert farther["area_m2"].iloc[0] == pytest.approx(1_000_000 - math.pi * 200**2, rel=0.002)


def test_gap_is_whole_unit_without_stations():
    units = to_store(pd.DataFrame({"code": ["U1"]}), geoms=[box(X0, Y0, X0 + 100, Y0 + 100)])
    gaps = cv.gap_areas(units, stations([(CULTURE, 0, 0)]), ELDERLY, 300)
    assert gaps["area_m2"].iloc[0] == pytest.approx(10_000, abs=0.5)
    assert gaps["gap_share"].iloc[0] == pytest.approx(1.0)


# ---- where to add a station -------------------------------------------------------------------

def test_propose_picks_the_big_uncovered_cluster():
    rows = [("K1", 3000, 0, 500, "C1G1"), ("K2", 3080, 0, 600, "C1G1"), ("K3", 3000, 90, 400, "C1G1"),
            ("S1", -3000, 0, 60, "C1G2"), ("S2", 0, -3000, 40, "C1G2"), ("N", 100, 0, 900, "C1G2")]
    comp = compounds(rows)
    sta = stations([(ELDERLY, 0, 0)])  # covers only N (900 households, already served)
    sites = cv.propose_sites(comp, sta, ELDERLY, 300, k=2)
    first = sites.iloc[0]
    assert first["code"] in {"K1", "K2", "K3"}
    assert first["households_added"] == 1500 and first["compounds_added"] == 3
    assert sorted(first["added_codes"]) == ["K1", "K2", "K3"]
    assert sites.iloc[1]["code"] == "S1" and sites.iloc[1]["households_added"] == 60
    assert sites["cumulative_households"].tolist() == [1500, 1560]
    assert sites.crs.to_epsg() == 4326


def test_propose_stops_when_everyone_is_covered(layout):
    comp, sta = layout
    sites = cv.propose_sites(comp, sta, ELDERLY, 700, k=3)
    assert sites.empty and list(sites.columns)[:9] == cv.SITE_COLUMNS
    with pytest.raises(GuloError, match="建议站点数"):
        cv.propose_sites(comp, sta, ELDERLY, 300, k=0)


# ---- grid standard and completeness -----------------------------------------------------------

def test_grid_standard_bands_and_vacancy():
    grids = pd.DataFrame({
        "code": list("abcdef"), "name": list("abcdef"), "community_code": "C1", "street_code": "S1",
        "households": [700, 300, 500, 600, 400, 601], "worker": ["王", None, "", "李", np.nan, "陈"],
        "assistants": [1, 0, 2, 0, 1, 3],
    })
    out = cv.grid_standard(grids)
    assert out["band"].tolist() == ["over", "under", "ok", "ok", "ok", "over"]
    assert out["band_label"].iloc[0] == cv.BAND_LABELS["over"]
    assert out["vacant"].tolist() == [False, True, True, False, True, False]
    assert out["deviation"].iloc[0] == pytest.approx(0.4)
    assert cv.grid_standard(grids, target=600, tolerance=0.0)["band"].tolist()[:4] == ["over", "under", "under", "ok"]
    with pytest.raises(GuloError, match="允许偏差"):
        cv.grid_standard(grids, tolerance=1.5)
    with pytest.raises(GuloError, match="标准户数"):
        cv.grid_standard(grids, target=0)


def test_completeness_one_old_one_young_one_general():
    communities = pd.DataFrame({"code": ["C1", "C2", "C3"], "name": ["一", "二", "三"], "street_code": "S1"})
    sta = pd.DataFrame({"community_code": ["C1", "C1", "C1", "C2", "C2", "C2"],
                        "kind": [ELDERLY, CHILDREN, CULTURE, ELDERLY, CHILDREN, "volunteer"]})
    out = cv.completeness(sta, communities)
    assert out["complete"].tolist() == [True, False, False]
    assert out["has_culture"].tolist() == [True, False, False]
    assert out["missing_label"].tolist() == ["", "文化普及服务站", "居家养老服务站、少儿成长服务站、文化普及服务站"]


# ---- district scale ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def district() -> dict[str, gpd.GeoDataFrame]:
    from data.sample import build_sample

    return build_sample()


def test_district_coverage_is_fast(district):
    kinds = [k.value for k in StationKind]
    cv.compound_coverage(district["compounds"], district["stations"], kinds, 500)  # warm up
    start = time.perf_counter()
    cov = cv.compound_coverage(district["compounds"], district["stations"], kinds, 500)
    elapsed = time.perf_counter() - start
    print(f"compound_coverage, {len(cov)} compounds × {len(kinds)} kinds: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0
    assert len(cov) == len(district["compounds"])
    # Every community has an elderly station, so a 1 km circle covers nearly every household.
    wide = cv.compound_coverage(district["compounds"], district["stations"], [ELDERLY], 1000)
    assert wide["covered_elderly_home"].mean() > 0.9


def test_strtree_distances_match_sjoin_nearest(district):
    comp, sta = district["compounds"], district["stations"]
    cov = cv.compound_coverage(comp, sta, [ELDERLY], 300)
    expected = nearest_distance(to_metric(comp, "小区"), to_metric(sta[sta["kind"] == ELDERLY], "站点"))
    np.testing.assert_allclose(cov["distance_m_elderly_home"].to_numpy(), expected, atol=1e-6)
