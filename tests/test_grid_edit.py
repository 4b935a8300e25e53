"""Grid geometry edits (geo.grid_edit) on hand-built rectangles: metres in EPSG:32650, handed over in EPSG:4326.

The community is 300 m × 100 m, tiled by three 100 m × 100 m grids G1 | G2 | G3 (west to east).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geo.access import Account
from geo.errors import CRSError, DataValidationError, PermissionDenied
from geo.grid_edit import (
    PROBLEM_KINDS,
    area_m2,
    changed_codes,
    check_edit,
    check_households,
    may_edit_geometry,
    move_boundary,
    new_grid_code,
    propose_households,
    redraw_grid,
    require_geometry_edit,
    split_grid,
)
from geo.vocab import Role

X0, Y0 = 730_000.0, 2_886_000.0  # UTM 50N, in Gulou
ST, C1 = "350102004000", "350102004001"
G1, G2, G3 = C1 + "001", C1 + "002", C1 + "003"


def to_lonlat(geom):
    return gpd.GeoSeries([geom], crs=32650).to_crs(4326).iloc[0]


def rect(x1, y1, x2, y2):
    """A box in metres from (X0, Y0), as lon/lat."""
    return to_lonlat(box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2))


def line(*points):
    return to_lonlat(LineString([(X0 + x, Y0 + y) for x, y in points]))


def polygon(*points):
    return to_lonlat(Polygon([(X0 + x, Y0 + y) for x, y in points]))


def community() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [C1], "name": ["军门社区"]},
                            geometry=[box(X0, Y0, X0 + 300, Y0 + 100)], crs=32650).to_crs(4326)


def grids(*boxes) -> gpd.GeoDataFrame:
    boxes = boxes or ((0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100))
    n = len(boxes)
    frame = pd.DataFrame({"code": [C1 + f"{i + 1:03d}" for i in range(n)], "name": [f"网格{i + 1:02d}" for i in range(n)],
                          "street_code": [ST] * n, "community_code": [C1] * n, "households": [500, 400, 600][:n],
                          "population": [1300, 1000, 1500][:n], "worker": ["林小梅", "王芳", None][:n],
                          "assistants": [2, 1, 0][:n], "version": [1] * n})
    return gpd.GeoDataFrame(frame, geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes],
                            crs=32650).to_crs(4326)


def compounds(*rows) -> gpd.GeoDataFrame:
    """Compounds as (x, y, households) in metres."""
    rows = rows or ((50, 50, 300), (130, 50, 100), (170, 50, 300), (250, 50, 200))
    return gpd.GeoDataFrame({"households": [h for _, _, h in rows]},
                            geometry=[Point(X0 + x, Y0 + y) for x, y, _ in rows], crs=32650).to_crs(4326)


def kinds(check) -> list[str]:
    return check.offending["kind"].tolist()


# ---------------------------------------------------------------- redraw


def test_redraw_that_fills_a_gap_passes_and_only_that_grid_changes():
    before = grids((10, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100))  # a 10 m strip uncovered
    after = redraw_grid(before, G1, rect(0, 0, 100, 100))
    check = check_edit(before, after, community())
    assert check.ok and check.problems == () and check.offending.empty
    assert check.changed == (G1,) and changed_codes(before, after) == [G1]
    assert after.geometry.iloc[0].geom_type == "MultiPolygon"
    assert area_m2(after.geometry)[0] == pytest.approx(10_000, rel=1e-6)


def test_redraw_over_the_neighbour_is_refused_with_the_overlap():
    before = grids()
    after = redraw_grid(before, G1, rect(0, 0, 150, 100))
    check = check_edit(before, after, community())
    assert not check.ok and kinds(check) == ["overlap"]
    row = check.offending.iloc[0]
    assert row["label"] == PROBLEM_KINDS["overlap"][0] == "网格重叠" and row["grids"] == "网格01、网格02"
    assert row["area_m2"] == pytest.approx(5_000, rel=1e-3)
    assert check.offending.crs.to_epsg() == 4326
    assert check.problems == ("网格重叠：“网格01”与“网格02”重叠约 5,000 平方米",)
    assert row.geometry.symmetric_difference(rect(100, 0, 150, 100)).area < 1e-9 * row.geometry.area  # the piece itself


def test_redraw_that_shrinks_leaves_a_gap_and_one_that_grows_out_leaves_the_community():
    before = grids()
    shrunk = check_edit(before, redraw_grid(before, G1, rect(20, 0, 100, 100)), community())
    assert kinds(shrunk) == ["gap"] and shrunk.offending["area_m2"].iloc[0] == pytest.approx(2_000, rel=1e-3)
    assert shrunk.problems == ("网格空隙：社区内有约 2,000 平方米不属于任何网格",)
    grown = check_edit(before, redraw_grid(before, G1, rect(-30, 0, 100, 100)), community())
    assert kinds(grown) == ["outside"] and grown.offending["grids"].iloc[0] == "网格01"
    assert "“网格01”越出社区边界约 3,000 平方米" in grown.problems[0]


def test_redraw_is_not_clipped_or_snapped():
    before = grids()
    drawn = rect(0, 0, 100.4, 100)  # 40 m² over the neighbour: kept, and refused
    after = redraw_grid(before, G1, drawn)
    assert shapely.equals(after.geometry.iloc[0], shapely.MultiPolygon([drawn]))
    check = check_edit(before, after, community())
    assert kinds(check) == ["overlap"] and check.offending["area_m2"].iloc[0] == pytest.approx(40, rel=1e-2)


@pytest.mark.parametrize("shape, message", [
    (polygon((0, 0), (100, 100), (100, 0), (0, 100)), "自相交"),
    (line((0, 0), (100, 100)), "应为一个面"),
    (Polygon(), "应为一个面"),
])
def test_redraw_refuses_shapes_that_are_no_area(shape, message):
    with pytest.raises(DataValidationError, match=message):
        redraw_grid(grids(), G1, shape)


def test_unknown_grid_and_missing_crs_are_refused():
    with pytest.raises(DataValidationError, match="找不到网格“X”；可选："):
        redraw_grid(grids(), "X", rect(0, 0, 100, 100))
    with pytest.raises(CRSError):
        redraw_grid(grids().set_crs(None, allow_override=True), G1, rect(0, 0, 100, 100))


def test_problems_there_before_do_not_block_an_edit():
    before = grids((0, 0, 100, 100), (100, 0, 210, 100), (200, 0, 300, 100))  # G2/G3 overlap by 10 m
    after = redraw_grid(before, G1, rect(0, 0, 100, 100).union(rect(0, 0, 50, 50)))
    assert check_edit(before, after, community()).ok


def test_inputs_are_not_mutated():
    before = grids()
    copy = before.copy()
    redraw_grid(before, G1, rect(0, 0, 150, 100))
    split_grid(before, G2, line((150, -10), (150, 110)))
    move_boundary(before, G1, G2, rect(0, 0, 150, 100))
    pd.testing.assert_frame_equal(pd.DataFrame(before.drop(columns="geometry")), pd.DataFrame(copy.drop(columns="geometry")))
    assert before.geometry.geom_equals(copy.geometry).all()


# ---------------------------------------------------------------- split


def test_split_makes_two_grids_the_second_with_a_new_code():
    before = grids()
    after = split_grid(before, G2, line((160, -10), (160, 110)))
    assert after["code"].tolist() == [G1, G2, G3, C1 + "004"]
    new = after.iloc[3]
    assert new["name"] == "网格04" and new["community_code"] == C1 and new["street_code"] == ST
    assert new["worker"] is None and new["households"] == 0
    assert area_m2(after.geometry)[[1, 3]] == pytest.approx([6_000, 4_000], rel=1e-6)  # the larger keeps the code
    check = check_edit(before, after, community())
    assert check.ok and check.changed == (G2, C1 + "004")


def test_split_proposes_households_by_the_compounds_in_each_piece():
    before = grids()
    after = split_grid(before, G2, line((160, -10), (160, 110)))  # compounds 130 (100 hh) | 170 (300 hh)
    table = propose_households(before, after, compounds())
    assert table["code"].tolist() == [G2, C1 + "004"]
    assert table["households"].tolist() == [100, 300] and table["households"].sum() == 400
    assert table["population"].tolist() == [250, 750]
    assert table["households_before"].tolist() == [400, None] and table["compound_households"].tolist() == [100, 300]
    assert check_households(table, 400, 1000) == []


@pytest.mark.parametrize("drawn, message", [
    (line((150, -10), (150, 50)), "没有把“网格02”分开"),
    (line((120, -10), (120, 110), (180, 110), (180, -10)), "分成了 3 块"),
    (rect(100, 0, 150, 100), "应为一条折线"),
])
def test_split_refuses_lines_that_do_not_cut_in_two(drawn, message):
    with pytest.raises(DataValidationError, match=message):
        split_grid(grids(), G2, drawn)


def test_new_grid_code_is_one_past_the_highest_used():
    frame = pd.DataFrame({"code": [C1 + "001", C1 + "007", "350102004002001"]})
    assert new_grid_code(frame, C1) == C1 + "008"
    with pytest.raises(DataValidationError, match="编号已用尽"):
        new_grid_code(pd.DataFrame({"code": [C1 + "999"]}), C1)


# ---------------------------------------------------------------- move boundary


def test_move_boundary_gives_b_the_rest_and_moves_households_with_the_compounds():
    before = grids()
    after = move_boundary(before, G1, G2, rect(0, 0, 150, 100))
    assert area_m2(after.geometry) == pytest.approx([15_000, 5_000, 10_000], rel=1e-6)
    check = check_edit(before, after, community())
    assert check.ok and check.changed == (G1, G2)
    table = propose_households(before, after, compounds())
    # G2's 400 households go with its compounds: 100 of 400 compound households lie west of x = 150
    assert table.set_index("code")["households"].to_dict() == {G1: 600, G2: 300}
    assert table["households"].sum() == 900 and table["population"].sum() == 2300


def test_move_boundary_that_swallows_b_is_refused():
    before = grids()
    check = check_edit(before, move_boundary(before, G1, G2, rect(0, 0, 200, 100)), community())
    assert check.problems == ("网格空了：调整后“网格02”没有剩下任何面积（至少 1 平方米）",)


def test_move_boundary_into_a_third_grid_is_refused_as_an_overlap():
    before = grids()
    check = check_edit(before, move_boundary(before, G1, G2, rect(0, 0, 250, 100)), community())
    assert "overlap" in kinds(check) and any("“网格01”与“网格03”重叠" in p for p in check.problems)


def test_move_boundary_trims_a_small_overshoot_only_within_the_tolerance():
    before = grids()
    drawn = rect(0, -3, 150, 100)  # 3 m over the community's edge
    strict = check_edit(before, move_boundary(before, G1, G2, drawn), community())
    assert kinds(strict) == ["outside"]
    after = move_boundary(before, G1, G2, drawn, tolerance_m=5)
    assert check_edit(before, after, community()).ok
    assert area_m2(after.geometry)[0] == pytest.approx(15_000, rel=1e-6)
    far = check_edit(before, move_boundary(before, G1, G2, rect(0, -30, 150, 100), tolerance_m=5), community())
    assert kinds(far) == ["outside"]


def test_move_boundary_that_cuts_b_in_two_is_refused():
    before = grids()
    band = rect(0, 0, 100, 100).union(rect(100, 40, 200, 60))  # a reaches right across b
    check = check_edit(before, move_boundary(before, G1, G2, band), community())
    assert kinds(check) == ["parts"] and "“网格02”被分成 2 块互不相连的部分" in check.problems[0]


def test_move_boundary_needs_two_neighbours():
    with pytest.raises(DataValidationError, match="不相邻"):
        move_boundary(grids(), G1, G3, rect(0, 0, 150, 100))
    with pytest.raises(DataValidationError, match="两个不同的网格"):
        move_boundary(grids(), G1, G1, rect(0, 0, 150, 100))


# ---------------------------------------------------------------- households


def test_households_by_area_without_compounds_and_totals_kept_exactly():
    before = grids()
    after = move_boundary(before, G1, G2, rect(0, 0, 133, 100))
    table = propose_households(before, after, compounds(*[]).iloc[:0])
    # G1 keeps its 500; 33 % of G2's area, so 132 of its 400 households, moves to G1
    assert table["households"].tolist() == [632, 268] and table["households"].sum() == 900
    assert table["population"].sum() == 2300


@pytest.mark.parametrize("households, population, expect", [
    ([600, 300], [1500, 800], []),
    ([600, 299], [1500, 800], ["户数：各网格合计 899，应等于调整前的合计 900"]),
    ([600.5, 299.5], [1500, 800], ["户数：网格01、网格02的户数应为不小于 0 的整数"]),
    ([-1, 901], [1500, 799], ["户数：网格01的户数应为不小于 0 的整数", "人口：各网格合计 2,299，应等于调整前的合计 2,300"]),
    ([None, 900], [1500, 800], ["户数：网格01的户数应为不小于 0 的整数"]),
])
def test_check_households(households, population, expect):
    table = pd.DataFrame({"name": ["网格01", "网格02"], "households": households, "population": population})
    assert check_households(table, 900, 2300) == expect


def test_proposal_sums_are_exact_for_awkward_shares():
    before = grids()
    after = move_boundary(before, G1, G2, rect(0, 0, 100 + 100 / 3, 100))
    table = propose_households(before, after, compounds((50, 50, 1), (110, 50, 1), (150, 50, 1), (190, 50, 1)))
    assert table["households"].sum() == 900 and np.issubdtype(table["households"].dtype, np.integer)


# ---------------------------------------------------------------- who may edit


@pytest.mark.parametrize("account, allowed", [
    (Account("qu", Role.DISTRICT), True),
    (Account("jie", Role.STREET, ST), True),
    (Account("other", Role.STREET, "350102001000"), False),
    (Account("she", Role.COMMUNITY, C1), False),
    (Account("off", Role.DISTRICT, active=False), False),
    (None, False),
])
def test_who_may_edit_grid_geometry(account, allowed):
    assert may_edit_geometry(account, C1) is allowed
    if allowed:
        assert require_geometry_edit(account, C1) is account
    else:
        with pytest.raises(PermissionDenied):
            require_geometry_edit(account, C1, "军门社区")


def test_community_account_is_told_who_may_edit():
    with pytest.raises(PermissionDenied, match="网格边界须由街道办或区级管理员调整"):
        require_geometry_edit(Account("she", Role.COMMUNITY, C1), C1, "军门社区")
