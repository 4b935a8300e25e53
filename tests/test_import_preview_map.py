"""The import preview map (layers.import_preview) on tiny hand-built frames (EPSG:4326), and its place on
the 数据管理 page in AppTest (an upload injected through the page's session key)."""
from __future__ import annotations

import io
import json
import time

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box
from streamlit.testing.v1 import AppTest

from geo.crs import wgs84_to_gcj02
from geo.errors import CRSError, DataValidationError
from geo.settings import Settings
from geo.vocab import ImportRowState
from layers.assets import asset_links
from layers.features import FeatureLayer
from layers.import_preview import (
    CANVAS_ROWS,
    FALLBACK_BOUNDS,
    ROWS_PADDING_DEG,
    moved_updates,
    outside_view,
    preview_map,
    state_counts,
    view_bounds,
    without_geometry,
)

HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
LON, LAT = 119.30, 26.08
DEG_PER_M = 1 / 111_320  # of latitude


def units_frame() -> gpd.GeoDataFrame:
    """Two communities side by side, about 2 km × 2 km each."""
    polys = [MultiPolygon([box(LON - 0.02, LAT - 0.01, LON, LAT + 0.01)]),
             MultiPolygon([box(LON, LAT - 0.01, LON + 0.02, LAT + 0.01)])]
    return gpd.GeoDataFrame({"code": ["350102004001", "350102004002"], "name": ["军门社区", "七星井社区"]},
                            geometry=polys, crs="EPSG:4326")


def rows_frame(records: list[dict]) -> gpd.GeoDataFrame:
    """A row_states()-shaped frame: _row, state, label, reason, stored_geom and the incoming geometry."""
    base = {"label": "", "reason": "", "stored_geom": None, "geometry": None}
    table = pd.DataFrame([{**base, "_row": i + 2, **r} for i, r in enumerate(records)])
    table["stored_geom"] = pd.Series(list(table["stored_geom"]), dtype=object)
    return gpd.GeoDataFrame(table.drop(columns="geometry"), geometry=list(table["geometry"]), crs="EPSG:4326")


def north(point: Point, metres: float) -> Point:
    return Point(point.x, point.y + metres * DEG_PER_M)


def three_states() -> gpd.GeoDataFrame:
    here = Point(LON - 0.005, LAT)
    return rows_frame([
        {"state": "new", "label": "新建小区", "geometry": Point(LON - 0.01, LAT + 0.002)},
        {"state": "update", "label": "津泰新村", "geometry": north(here, 500), "stored_geom": here},
        {"state": "update", "label": "原地小区", "geometry": north(here, 5), "stored_geom": here},
        {"state": "problem", "label": HOSTILE, "reason": f"户数：不能为负数；地址：{HOSTILE}",
         "geometry": Point(LON + 0.01, LAT - 0.002)},
    ])


def html_of(m: folium.Map) -> str:
    return m.get_root().render()


def layers_of(m: folium.Map) -> list[FeatureLayer]:
    return [c for c in m._children.values() if isinstance(c, FeatureLayer)]


def features(m: folium.Map) -> list[dict]:
    return [f for layer in layers_of(m) for f in layer.data["features"]]


def styled(m: folium.Map) -> list[tuple[dict, dict]]:
    """(feature, its style) for every feature drawn."""
    out = []
    for layer in layers_of(m):
        for f in layer.data["features"]:
            out.append((f, layer.styles[f["properties"]["style_id"]]))
    return out


def fitted_bounds(m: folium.Map) -> list[list[float]]:
    fits = [c for c in m._children.values() if type(c).__name__ == "FitBounds"]
    return fits[-1].bounds


# ---------------------------------------------------------------- the map


def test_each_state_has_its_colour_on_the_map_and_in_the_legend():
    m = preview_map(three_states(), units_frame())
    html = html_of(m)
    for state in ImportRowState:
        assert state.color in html and state.label in html
    fills = {f["properties"].get("state"): s.get("fillColor") for f, s in styled(m) if "state" in f["properties"]}
    assert fills == {s.value: s.color for s in ImportRowState}
    assert "军门社区" in html and "七星井社区" in html  # the stored units, named in their tooltips


def test_hostile_text_is_escaped_in_tooltips():
    m = preview_map(three_states(), units_frame())
    tips = [" ".join(f["properties"]["tip"]) for f in features(m) if f["properties"].get("state") == "problem"]
    assert len(tips) == 1
    assert tips[0].startswith(f"第 5 行 · {ESCAPED} · 有问题")
    assert f"户数：不能为负数；地址：{ESCAPED}" in tips[0]
    html = html_of(m)
    assert "<img" not in html and "onerror=alert(1)>" not in html


@pytest.mark.parametrize("moved_m, lines", [(500, 1), (30, 1), (5, 0)])
def test_a_dashed_line_only_for_an_update_that_moved(moved_m, lines):
    here = Point(LON - 0.005, LAT)
    rows = rows_frame([
        {"state": "update", "label": "甲", "geometry": north(here, moved_m), "stored_geom": here},
        {"state": "new", "label": "乙", "geometry": north(here, 900)},  # new: nothing stored to compare
        {"state": "problem", "label": "丙", "reason": "x", "geometry": north(here, 700), "stored_geom": here},
    ])
    m = preview_map(rows, units_frame())
    dashed = [(f, s) for f, s in styled(m) if f["geometry"]["type"] == "LineString"]
    assert len(dashed) == lines
    assert all(s.get("dashArray") for _, s in dashed)
    stored = [f for f in features(m) if f["properties"]["tip"][0] == "库中位置"]
    assert len(stored) == lines
    if lines:
        (line, _), = dashed
        start, end = line["geometry"]["coordinates"]
        assert start == pytest.approx([here.x, here.y]) and end[1] > start[1]  # from the stored position
        assert moved_updates(rows)["distance_m"].iloc[0] == pytest.approx(moved_m, rel=0.02)


def test_a_moved_polygon_is_measured_by_its_centroid():
    old = MultiPolygon([box(LON - 0.004, LAT - 0.002, LON - 0.002, LAT)])
    new = MultiPolygon([box(LON - 0.004, LAT - 0.002 + 300 * DEG_PER_M, LON - 0.002, LAT + 300 * DEG_PER_M)])
    rows = rows_frame([{"state": "update", "label": "网格一", "geometry": new, "stored_geom": old}])
    moved = moved_updates(rows)
    assert len(moved) == 1 and moved["distance_m"].iloc[0] == pytest.approx(300, rel=0.02)
    m = preview_map(rows, units_frame())
    (poly, style), = [(f, s) for f, s in styled(m) if f["properties"].get("state") == "update"]
    assert poly["geometry"]["type"] == "MultiPolygon" and style["color"] == ImportRowState.UPDATE.color


def test_far_rows_do_not_zoom_the_map_out_and_are_counted():
    rows = rows_frame([
        {"state": "update", "label": "近", "geometry": Point(LON + 0.001, LAT)},
        {"state": "problem", "label": "经纬度颠倒", "reason": "位置不在鼓楼区范围内", "geometry": Point(LAT, LON)},
        {"state": "problem", "label": "北京", "reason": "位置不在鼓楼区范围内", "geometry": Point(116.40, 39.90)},
        {"state": "problem", "label": "无坐标", "reason": "经度：缺少"},
    ])
    units = units_frame()
    assert outside_view(rows, units) == 2 and without_geometry(rows) == 1
    pad = ROWS_PADDING_DEG  # the one near row, padded; the far ones are left out
    assert view_bounds(rows, units) == pytest.approx((LON + 0.001 - pad, LAT - pad, LON + 0.001 + pad, LAT + pad))
    (south, west), (north_, east) = fitted_bounds(preview_map(rows, units))
    assert 26.0 < south < north_ < 26.2 and 119.2 < west < east < 119.4


def test_the_view_follows_the_rows_and_the_stored_positions_they_move_from():
    stored = Point(LON - 0.015, LAT)
    rows = rows_frame([{"state": "new", "label": "界外一点", "geometry": Point(LON + 0.03, LAT)},
                       {"state": "update", "label": "移动", "geometry": Point(LON, LAT + 0.005), "stored_geom": stored}])
    minx, miny, maxx, maxy = view_bounds(rows, units_frame())
    pad = ROWS_PADDING_DEG
    assert (minx, miny, maxx, maxy) == pytest.approx((LON - 0.015 - pad, LAT - pad, LON + 0.03 + pad, LAT + 0.005 + pad))


def test_without_rows_near_the_district_the_view_is_the_units():
    rows = rows_frame([{"state": "problem", "label": "北京", "geometry": Point(116.40, 39.90)}])
    assert view_bounds(rows, units_frame()) == pytest.approx(tuple(units_frame().total_bounds))


def test_counts_list_every_state():
    assert state_counts(three_states()) == {ImportRowState.NEW: 1, ImportRowState.UPDATE: 2,
                                            ImportRowState.PROBLEM: 1}
    assert state_counts(rows_frame([{"state": "new"}])) == {ImportRowState.NEW: 1, ImportRowState.UPDATE: 0,
                                                             ImportRowState.PROBLEM: 0}


def test_nothing_to_draw_still_gives_a_map_of_the_district():
    m = preview_map(rows_frame([{"state": "problem", "reason": "经度：缺少"}]), units_frame().iloc[:0])
    (south, west), (north_, east) = fitted_bounds(m)
    assert [west, south, east, north_] == pytest.approx(list(FALLBACK_BOUNDS))


def test_the_map_loads_nothing_from_other_hosts():
    m = preview_map(three_states(), units_frame(), asset_mode="url", prefix="/app/static/vendor")
    js, css = asset_links(m)
    assert js and all(u.startswith("/app/static/vendor/") for u in js + css)


def test_on_amap_everything_drawn_is_shifted_to_gcj02():
    rows = three_states()
    m = preview_map(rows, units_frame(), settings=Settings(basemap="amap"))
    new = next(f for f in features(m) if f["properties"].get("state") == "new")
    lon, lat = wgs84_to_gcj02(np.array([rows.geometry.iloc[0].x]), np.array([rows.geometry.iloc[0].y]))
    assert new["geometry"]["coordinates"] == pytest.approx([lon[0], lat[0]], abs=1e-6)


@pytest.mark.parametrize("change, error", [
    (lambda r: r.set_crs(None, allow_override=True), CRSError),
    (lambda r: r.to_crs("EPSG:32650"), CRSError),
    (lambda r: r.drop(columns="stored_geom"), DataValidationError),
    (lambda r: r.assign(state=["new", "update", "deleted", "problem"]), DataValidationError),
])
def test_bad_input_is_refused_with_a_project_error(change, error):
    with pytest.raises(error):
        preview_map(change(three_states()), units_frame())


def test_thousands_of_rows_stay_light():
    rng = np.random.default_rng(1)
    n = 5_000
    xs, ys = LON + rng.uniform(-0.02, 0.02, n), LAT + rng.uniform(-0.01, 0.01, n)
    states = rng.choice(["new", "update", "problem"], n)
    rows = rows_frame([{"state": s, "label": f"小区{i}", "reason": "户数：不能为负数" if s == "problem" else "",
                        "geometry": Point(x, y), "stored_geom": Point(x, y - 0.005) if s == "update" else None}
                       for i, (s, x, y) in enumerate(zip(states, xs, ys))])
    start = time.perf_counter()
    m = preview_map(rows, units_frame())
    html = html_of(m)
    assert time.perf_counter() - start < 10
    assert n > CANVAS_ROWS and '"preferCanvas": true' in html
    assert len(html) < 4_000_000


# ---------------------------------------------------------------- the page


@pytest.fixture
def page_db(filled_sample_db, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    return filled_sample_db


def _page():
    from dashboard.pages import data_admin

    data_admin.render()


def junmen_ledger(url: str, gcj02: bool = False, swap: bool = False) -> tuple[bytes, int]:
    """军门社区's compounds as exported (updates), one with negative households (a problem), one new;
    with ``gcj02`` every coordinate shifted to GCJ-02; with ``swap`` one row's 经度 and 纬度 swapped."""
    from data.exchange import export_layer
    from data.store import engine_for
    from geo.scope import Scope

    csv = export_layer(engine_for(url), "compounds", Scope("350102004001"), "csv")
    table = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str)
    table.loc[2, "户数"] = "-5"
    new = table.iloc[[1]].copy()
    new["小区编码"], new["小区名称"] = "350102004001C901", "测试新村"
    table = pd.concat([table, new], ignore_index=True)
    if swap:
        table.loc[3, ["经度", "纬度"]] = table.loc[3, ["纬度", "经度"]].to_numpy()
    if gcj02:
        lon, lat = wgs84_to_gcj02(table["经度"].astype(float).to_numpy(), table["纬度"].astype(float).to_numpy())
        table["经度"], table["纬度"] = np.round(lon, 7), np.round(lat, 7)
    return table.to_csv(index=False).encode("utf-8"), len(table)


def open_import(upload: tuple[str, bytes]) -> AppTest:
    from dashboard.data_admin.import_view import UPLOAD_KEY

    at = AppTest.from_function(_page, default_timeout=120)
    at.session_state["da_view"] = "导入"
    at.session_state[UPLOAD_KEY] = upload
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def preview_maps(at: AppTest) -> list[str]:
    """The decoded arguments of every st_folium map on the page."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    return [json.dumps(json.loads(e.proto.json_args), ensure_ascii=False) for e in maps]


def test_the_import_view_maps_the_records_with_their_counts(page_db):
    from dashboard.data_admin import importing as imp

    data, n = junmen_ledger(page_db, swap=True)
    at = open_import(("junmen.csv", data))
    assert any(md.value.startswith("**地图预览**") for md in at.markdown)
    (args,) = preview_maps(at)
    for state in ImportRowState:
        assert state.color in args
    assert "http://" not in args and "https://" not in args
    captions = " ".join(c.value for c in at.caption)
    assert f"新增（绿）1 条 · 更新（蓝）{n - 3} 条 · 有问题（橙红）2 条" in captions
    assert "1 条记录位于地图范围以外（见问题清单）" in " ".join(w.value for w in at.warning)
    kept = at.session_state[imp.MAP_KEY]
    at.run()  # a rerun keeps the built map
    assert at.session_state[imp.MAP_KEY][1] is kept[1]


def test_a_gcj02_ledger_shows_the_moved_updates_and_the_shift_warning(page_db):
    data, n = junmen_ledger(page_db, gcj02=True)
    at = open_import(("junmen-gcj02.csv", data))
    assert any("坐标整体偏移约" in w.value and "GCJ02" in w.value for w in at.warning)
    captions = " ".join(c.value for c in at.caption)
    assert "条更新与库中位置相距超过 20 米" in captions
    (args,) = preview_maps(at)
    assert "库中位置" in args
