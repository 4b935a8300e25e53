"""Grid topology against communities on hand-built rectangles (metres, EPSG:32650 → EPSG:4326)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import CRSError, GuloError
from geo.topology import topology_report

X0, Y0 = 730_000.0, 2_886_000.0  # UTM 50N, in Gulou
KEYS = {"overlaps", "gaps", "crossings", "slivers"}


def rect(x1: float, y1: float, x2: float, y2: float):
    """A box in EPSG:32650 metres from (X0, Y0)."""
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def community(*boxes, codes=("C1",)) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"code": list(codes), "name": [f"社区{c}" for c in codes]})
    return gpd.GeoDataFrame(frame, geometry=list(boxes), crs=32650).to_crs(4326)


def grids(*boxes, community_codes=None) -> gpd.GeoDataFrame:
    n = len(boxes)
    frame = pd.DataFrame({"code": [f"G{i + 1}" for i in range(n)], "name": [f"网格{i + 1}" for i in range(n)],
                          "community_code": list(community_codes or ["C1"] * n)})
    return gpd.GeoDataFrame(frame, geometry=list(boxes), crs=32650).to_crs(4326)


COMMUNITY = community(rect(0, 0, 200, 100))


def test_exact_tiling_reports_nothing():
    report = topology_report(grids(rect(0, 0, 100, 100), rect(100, 0, 200, 100)), COMMUNITY)
    assert set(report) == KEYS
    assert all(frame.empty for frame in report.values())
    assert all(frame.crs.to_epsg() == 4326 for frame in report.values())


def test_known_gap_strip():
    report = topology_report(grids(rect(0, 0, 100, 100), rect(110, 0, 200, 100)), COMMUNITY)
    gaps = report["gaps"]
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["area_m2"] == pytest.approx(1000, abs=1)
    assert gap["community_code"] == "C1" and not gap["sliver"]
    where = gpd.GeoSeries([Point(gap["lon"], gap["lat"])], crs=4326).to_crs(32650).iloc[0]
    assert rect(100, 0, 110, 100).contains(where)
    assert report["overlaps"].empty and report["crossings"].empty and report["slivers"].empty


def test_known_overlap():
    report = topology_report(grids(rect(0, 0, 110, 100), rect(100, 0, 200, 100)), COMMUNITY)
    overlaps = report["overlaps"]
    assert len(overlaps) == 1
    row = overlaps.iloc[0]
    assert (row["grid_a"], row["grid_b"]) == ("G1", "G2")
    assert row["area_m2"] == pytest.approx(1000, abs=1)
    assert report["gaps"].empty


def test_grid_crossing_the_boundary():
    report = topology_report(grids(rect(0, 0, 100, 100), rect(100, 0, 220, 100)), COMMUNITY)
    crossings = report["crossings"]
    assert crossings["code"].tolist() == ["G2"]
    assert crossings["area_outside_m2"].iloc[0] == pytest.approx(2000, abs=1)
    assert crossings["share_outside"].iloc[0] == pytest.approx(2000 / 12000, rel=1e-3)
    assert report["gaps"].empty and report["overlaps"].empty


def test_unknown_community_code_lies_wholly_outside():
    report = topology_report(grids(rect(0, 0, 200, 100), rect(300, 0, 400, 100),
                                   community_codes=["C1", "C9"]), COMMUNITY)
    crossings = report["crossings"].set_index("code")
    assert crossings.loc["G2", "area_outside_m2"] == pytest.approx(10_000, abs=1)
    assert crossings.loc["G2", "share_outside"] == pytest.approx(1.0)


def test_community_without_grids_is_all_gap():
    two = community(rect(0, 0, 200, 100), rect(200, 0, 300, 100), codes=("C1", "C2"))
    report = topology_report(grids(rect(0, 0, 200, 100)), two)
    assert report["gaps"]["community_code"].tolist() == ["C2"]
    assert report["gaps"]["area_m2"].iloc[0] == pytest.approx(10_000, abs=1)


@pytest.mark.parametrize("sliver_m2, expected", [(50.0, 2), (10.0, 0)])
def test_slivers_flagged_below_threshold(sliver_m2, expected):
    # A 0.2 m gap (20 m²) and a 0.15 m overlap (15 m²).
    layout = grids(rect(0, 0, 100, 100), rect(100.2, 0, 150.15, 100), rect(150, 0, 200, 100))
    report = topology_report(layout, COMMUNITY, sliver_m2=sliver_m2)
    assert report["gaps"]["area_m2"].iloc[0] == pytest.approx(20, abs=0.5)
    assert report["overlaps"]["area_m2"].iloc[0] == pytest.approx(15, abs=0.5)
    slivers = report["slivers"]
    assert len(slivers) == expected
    if expected:
        assert sorted(slivers["problem"]) == ["gap", "overlap"]
        assert set(slivers["problem_label"]) == {"网格空隙", "网格重叠"}


def test_inputs_not_mutated_and_arguments_checked():
    layout = grids(rect(0, 0, 110, 100), rect(100, 0, 200, 100))
    before = layout.copy()
    topology_report(layout, COMMUNITY)
    pd.testing.assert_frame_equal(layout, before)
    with pytest.raises(GuloError, match="碎片面积"):
        topology_report(layout, COMMUNITY, sliver_m2=-1)
    with pytest.raises(CRSError):
        topology_report(layout.to_crs(32650), COMMUNITY)


def test_sample_district_tiles_cleanly():
    from data.sample import build_sample

    district = build_sample()
    report = topology_report(district["grids"], district["communities"])
    assert report["overlaps"].empty and report["crossings"].empty
    assert report["gaps"]["area_m2"].sum() < 1.0
