"""Issue 19, maps, follow-ups: legend labels with at most one decimal more than the indicator's format (classes
that would still read the same number are merged), the layer control folded on narrow maps, and legends that
list only what is drawn (renovation statuses present; no heading for an empty layer). Hand-built frames,
EPSG:4326."""
from __future__ import annotations

import re
from itertools import pairwise

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from geo.classify import assign_classes, class_breaks, class_ranges, readable_breaks
from geo.vocab import RenovationStatus
from layers.choropleth import unit_fills
from layers.mapbuild import LayerControl, add_layers, build_map
from layers.registry import LAYERS
from tests.test_layers import features
from tests.test_map_legibility import open_map

CRS = "EPSG:4326"
# 10 sub-districts' 每千户纠纷数 (0.596–1.084): quantiles pair them; 0.698 and 0.701 both read 0.70 at two decimals
DISTRICT = [0.596, 0.605, 0.609, 0.698, 0.701, 0.745, 0.812, 0.866, 0.951, 1.084]


def numbers(label: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?%?", label)


def decimals(label: str) -> set[int]:
    return {len(n.rstrip("%").partition(".")[2]) for n in numbers(label)}


def units(values: list[float]) -> gpd.GeoDataFrame:
    cells = [MultiPolygon([box(119.29 + 0.004 * i, 26.08, 119.2938 + 0.004 * i, 26.085)]) for i in range(len(values))]
    return gpd.GeoDataFrame({"code": [f"U{i}" for i in range(len(values))], "name": [f"街道{i}" for i in range(len(values))],
                             "value": values}, geometry=cells, crs=CRS)


# ---------------------------------------------------------------- labels: one decimal more at most, else merge


def test_district_labels_get_one_decimal_more_at_most_and_touching_classes_merge():
    values = pd.Series(DISTRICT)
    breaks = class_breaks(values, 5, "quantiles")
    assert len(breaks) == 5
    merged = readable_breaks(values, breaks, "{:.1f}")
    assert merged == [0.605, 0.745, 0.866, 1.084]  # 0.609–0.698 and 0.701–0.745 joined: both read 0.70
    labels = class_ranges(values, merged, "{:.1f}")
    assert labels == ["0.60", "0.61–0.74", "0.81–0.87", "0.95–1.08"]  # not 「0.596–0.605」「0.609–0.698」…
    assert all(decimals(label) == {2} for label in labels)
    for a, b in pairwise(labels):
        assert numbers(a)[-1] != numbers(b)[0], labels
    assert assign_classes(values, merged).tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 3, 3]


def test_labels_never_take_two_more_decimals_and_untouched_classes_stay():
    values = pd.Series([0.7301, 0.7304, 0.80, 0.90, 0.95])  # 73.0% and 73.0% even at one decimal more
    breaks = [0.7301, 0.7304, 0.80, 0.90, 0.95]
    merged = readable_breaks(values, breaks, "{:.0%}")
    assert merged == [0.7304, 0.80, 0.90, 0.95]
    assert class_ranges(values, merged, "{:.0%}") == ["73%", "80%", "90%", "95%"]
    spread = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert readable_breaks(spread, [1.0, 2.0, 3.0, 4.0, 5.0], "{:.0f}") == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert readable_breaks(spread, [5.0], "{:.0f}") == [5.0] and readable_breaks(spread, [], None) == []
    # the default format (up to two decimals) gets three at most
    close = pd.Series([1.0011, 1.0014, 2.0])
    assert readable_breaks(close, [1.0011, 1.0014, 2.0]) == [1.0014, 2.0]
    assert class_ranges(close, [1.0014, 2.0]) == ["1", "2"]


def test_the_map_and_the_pdf_colour_the_merged_classes_as_the_legend_says():
    frame = units(DISTRICT)
    items = LAYERS["choropleth"].legend(frame, value_format="{:.1f}", value_label="每千户纠纷数")
    assert [label for label, _ in items] == ["0.60", "0.61–0.74", "0.81–0.87", "0.95–1.08"]
    fills, legend = unit_fills(frame, value_format="{:.1f}")
    assert legend == items and len(set(fills)) == 4
    assert fills[3] == fills[4] == items[1][1]  # 0.698 and 0.701: one class, one colour
    drawn = [f for f in features(LAYERS["choropleth"].build(frame, value_format="{:.1f}", value_label="每千户纠纷数"))
             if "class_index" in f["properties"]]  # the polygons, not their name labels
    assert [f["properties"]["class_index"] for f in drawn] == [0, 0, 1, 1, 1, 1, 2, 2, 3, 3]
    assert {f["properties"]["style"]["fillColor"] for f in drawn} == {c for _, c in items}


# ---------------------------------------------------------------- legends list only what is drawn


def compounds(statuses: list[RenovationStatus]) -> gpd.GeoDataFrame:
    n = len(statuses)
    return gpd.GeoDataFrame({"code": [f"K{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)],
                             "street_code": ["350102004000"] * n, "community_code": ["350102004001"] * n,
                             "grid_code": ["350102004001001"] * n, "status": [s.value for s in statuses],
                             "households": [100 + i for i in range(n)]},
                            geometry=[Point(119.30 + 0.001 * i, 26.085) for i in range(n)], crs=CRS)


def empty_stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [], "name": [], "kind": []}, geometry=[], crs=CRS)


@pytest.mark.parametrize("level", ["district", "community"])
def test_compounds_legend_lists_the_statuses_drawn(level):
    frame = compounds([RenovationStatus.MANAGED, RenovationStatus.UNDER_WAY, RenovationStatus.MANAGED])
    wanted = [(s.label, s.color) for s in (RenovationStatus.UNDER_WAY, RenovationStatus.MANAGED)]  # lifecycle order
    assert LAYERS["compounds"].legend_items(frame, level=level) == wanted
    m = build_map((119.29, 26.08, 119.32, 26.09), asset_mode="url", prefix="/v")
    add_layers(m, {"compounds": frame}, level=level)
    inner = m._children["legend"].inner_html
    assert inner.count("<li>") == 2 and RenovationStatus.NOT_PLANNED.label not in inner
    assert LAYERS["compounds"].legend(level=level) == [(s.label, s.color) for s in RenovationStatus]  # no frame


def test_compound_pies_have_slices_only_for_the_statuses_present():
    frame = compounds([RenovationStatus.MANAGED, RenovationStatus.UNDER_WAY, RenovationStatus.MANAGED])
    fg = LAYERS["compounds"].build(frame, level="district")
    pies = [f["properties"] for f in features(fg) if "counts" in f["properties"]]
    assert len(pies) == 1 and pies[0]["counts"] == [1, 2] and pies[0]["weights"] == [101, 202]
    layer = next(c for c in fg._children.values() if hasattr(c, "pie_json"))
    assert RenovationStatus.UNDER_WAY.label in layer.pie_json and RenovationStatus.COMPLETED.label not in layer.pie_json


def test_an_empty_layer_gets_no_legend_heading_but_the_layer_control_stays():
    frame = compounds([RenovationStatus.COMPLETED])
    assert LAYERS["stations"].legend_items(empty_stations(), level="community") == []
    m = build_map((119.29, 26.08, 119.32, 26.09), asset_mode="url", prefix="/v")
    add_layers(m, {"compounds": frame, "stations": empty_stations()}, level="community")
    inner = m._children["legend"].inner_html
    assert inner.count("<h5>") == 1 and "<h5>老旧小区</h5>" in inner and "服务站点" not in inner
    assert isinstance(m._children["layer_control"], LayerControl)
    html = m.get_root().render()
    assert '"服务站点"' in html.replace("\\u670d\\u52a1\\u7ad9\\u70b9", "服务站点")  # still switchable
    only_empty = build_map((119.29, 26.08, 119.32, 26.09), asset_mode="url", prefix="/v")
    add_layers(only_empty, {"stations": empty_stations()}, level="community")
    assert "legend" not in only_empty._children and "layer_control" in only_empty._children


# ---------------------------------------------------------------- the layer control on a phone


_CONTROL = """() => { const c = document.querySelector('.leaflet-control-layers');
    const list = c.querySelector('.leaflet-control-layers-list');
    return {n: document.querySelectorAll('.leaflet-control-layers').length,
            open: c.classList.contains('leaflet-control-layers-expanded'), list: list.offsetHeight,
            width: Math.round(c.getBoundingClientRect().width),
            title: c.querySelector('.leaflet-control-layers-toggle').title}; }"""


@pytest.mark.parametrize("width, folded", [(390, True), (1366, False)])
def test_layer_control_is_folded_on_a_phone_and_open_on_a_wide_map(tmp_path, width, folded):
    def act(page, name, b):
        first = page.evaluate(_CONTROL)
        if folded:
            page.locator(".leaflet-control-layers-toggle").dispatch_event("click")  # a tap: no hover first
            page.wait_for_timeout(200)
        return first, page.evaluate(_CONTROL)

    first, after = open_map(tmp_path, width, 800, act)
    assert first["n"] == 1 and first["open"] is (not folded) and first["title"] == "图层"
    if folded:
        assert first["list"] == 0 and first["width"] <= 48  # only Leaflet's layers button
        assert after["open"] is True and after["list"] > 0  # a tap opens it
    else:
        assert first["list"] > 0 and first["width"] > 60


def test_layer_control_folds_when_the_map_becomes_narrow(tmp_path):
    def act(page, name, b):
        wide = page.evaluate(_CONTROL)
        page.set_viewport_size({"width": 390, "height": 800})
        page.wait_for_timeout(300)
        narrow = page.evaluate(_CONTROL)
        page.set_viewport_size({"width": 1200, "height": 800})
        page.wait_for_timeout(300)
        return wide, narrow, page.evaluate(_CONTROL)

    wide, narrow, again = open_map(tmp_path, 1200, 800, act)
    assert (wide["open"], narrow["open"], again["open"]) == (True, False, True)
    assert wide["n"] == narrow["n"] == again["n"] == 1  # rebuilt, never doubled


# ---------------------------------------------------------------- an open legend sits beside the scope

_OVERLAP = """([n, b]) => { const map = window[n], d = document.querySelector('.gl-legend').getBoundingClientRect();
    const home = map.getContainer().getBoundingClientRect();
    const p = map.latLngToContainerPoint([b[3], b[0]]), q = map.latLngToContainerPoint([b[1], b[2]]);
    const s = {left: home.left + p.x, top: home.top + p.y, right: home.left + q.x, bottom: home.top + q.y};
    const x = Math.min(d.right, s.right) - Math.max(d.left, s.left), y = Math.min(d.bottom, s.bottom) - Math.max(d.top, s.top);
    return {overlap: x > 0 && y > 0, scope: Math.round(s.right - s.left), legend: Math.round(d.width)}; }"""


def test_an_open_legend_moves_the_fitted_scope_beside_it_and_a_folded_one_gives_the_room_back(tmp_path):
    def act(page, name, b):
        opened = page.evaluate(_OVERLAP, [name, list(b)])
        page.locator(".gl-legend-toggle").click()  # fold it
        page.wait_for_timeout(200)
        return opened, page.evaluate(_OVERLAP, [name, list(b)])

    opened, folded = open_map(tmp_path, 800, 640, act)  # the scope fills the map: any corner would cover it
    assert opened["overlap"] is False and opened["legend"] > 80
    assert folded["scope"] > opened["scope"]  # the room comes back


def test_grid_legend_lists_only_the_classes_drawn():
    square = MultiPolygon([box(119.29, 26.07, 119.30, 26.08)])
    grids = gpd.GeoDataFrame({"worker": ["张三", None], "households": [500, 480]}, geometry=[square, square],
                             crs="EPSG:4326")
    labels = [label for label, _ in LAYERS["grids"].legend_items(grids, target_households=500)]
    assert labels == ["专职网格员在岗", "专职网格员空缺"]  # no oversized / undersized grid is drawn
    assert len(LAYERS["grids"].legend_items(None, target_households=500)) == 4


def test_dispute_legend_lists_the_statuses_drawn_and_overdue_only_when_a_case_is():
    from datetime import date

    from geo.vocab import DisputeStatus

    cases = gpd.GeoDataFrame({
        "status": [DisputeStatus.MEDIATING.value, DisputeStatus.RESOLVED.value],
        "reported_on": pd.to_datetime(["2026-11-20", "2026-09-01"]),
        "closed_on": pd.to_datetime([None, "2026-09-10"]),
    }, geometry=[Point(119.29, 26.07), Point(119.30, 26.08)], crs="EPSG:4326")
    spec, today = LAYERS["disputes"], date(2026, 11, 28)
    shown = [label for label, _ in spec.legend_items(cases, level="community", case_details=True, today=today)]
    assert shown == [DisputeStatus.MEDIATING.label, DisputeStatus.RESOLVED.label]  # nothing overdue
    late = cases.assign(reported_on=pd.to_datetime(["2026-09-20", "2026-09-01"]))
    shown = [label for label, _ in spec.legend_items(late, level="community", case_details=True, today=today)]
    assert shown[-1].startswith("超期未结") and len(shown) == 3
    assert spec.legend_items(cases.iloc[:0], level="district", today=today) == []
