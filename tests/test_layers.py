"""Map layers, offline assets, basemaps and GCJ-02, checked on tiny hand-built frames (EPSG:4326).

Maps are checked through their rendered HTML and through the links streamlit-folium would load;
the last test opens saved maps in headless Chromium with every network request blocked.
"""
from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo.crs import (
    bd09_to_gcj02,
    from_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    metric_crs,
    require_crs,
    to_gcj02,
    wgs84_to_gcj02,
)
from geo.errors import CRSError, DataValidationError, GuloError, SettingsError
from geo.settings import Settings
from geo.vocab import DisputeStatus, RenovationStatus
from layers import assets
from layers.assets import asset_files, asset_links, configure_assets
from layers.basemaps import available_basemaps, needs_gcj02
from layers.disputes import OVERDUE_COLOR, overdue_mask
from layers.features import FeatureLayer, script_json
from layers.legend import Legend, LegendSection
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS

CRS = "EPSG:4326"
ST = "350102004000"
C1, C2, C3 = "350102004001", "350102004002", "350102004003"
XSS = "<img src=x onerror=alert(1)>"
TODAY = date(2026, 11, 1)
BOUNDS = (119.29, 26.08, 119.32, 26.09)


def mp(*b) -> MultiPolygon:
    return MultiPolygon([box(*b)])


def wiggly(x0: float, y0: float, x1: float, y1: float, n: int = 400) -> MultiPolygon:
    """A box whose bottom edge has n tiny (≈1 m) zig-zags: simplification should remove them."""
    xs = np.linspace(x0, x1, n)
    bottom = [(x, y0 + (1e-5 if i % 2 else 0.0)) for i, x in enumerate(xs)]
    return MultiPolygon([Polygon(bottom + [(x1, y1), (x0, y1)])])


@pytest.fixture
def frames() -> dict[str, gpd.GeoDataFrame]:
    return hand_built_frames()


def hand_built_frames() -> dict[str, gpd.GeoDataFrame]:
    """Three communities in one sub-district, grids, compounds, stations and cases (EPSG:4326)."""
    streets = gpd.GeoDataFrame({"code": [ST], "name": ["东街街道"], "kind": ["街道"]},
                               geometry=[mp(*BOUNDS)], crs=CRS)
    communities = gpd.GeoDataFrame(
        {"code": [C1, C2, C3], "name": ["军门社区", XSS, "大根社区"], "street_code": [ST] * 3},
        geometry=[wiggly(119.29, 26.08, 119.30, 26.09), mp(119.30, 26.08, 119.31, 26.09),
                  mp(119.31, 26.08, 119.32, 26.09)], crs=CRS)
    grids = gpd.GeoDataFrame(
        {"code": [C1 + "001", C2 + "001", C3 + "001"], "name": ["军门一网格", "二网格", "大根一网格"],
         "street_code": [ST] * 3, "community_code": [C1, C2, C3], "households": [480, 700, 510],
         "population": [1300, 2000, 1400], "worker": ["张三", None, XSS], "assistants": [2, 1, 0]},
        geometry=list(communities.geometry), crs=CRS)
    compounds = gpd.GeoDataFrame(
        {"code": ["K1", "K2", "K3"], "name": ["省府宿舍", XSS, "杨桥新村"], "street_code": [ST] * 3,
         "community_code": [C1, C2, C3], "status": ["under_way", "completed", "not_planned"],
         "households": [200, 640, 90], "reno_type": ["basic", None, "enhanced"],
         "address": ["鼓屏路1号", "<b>x</b>", None], "plan_year": [2025, None, 2027]},
        geometry=[Point(119.295, 26.085), Point(119.305, 26.086), Point(119.315, 26.083)], crs=CRS)
    stations = gpd.GeoDataFrame(
        {"code": ["S1", "S2"], "name": ["军门居家养老服务站", XSS], "kind": ["elderly_home", "culture"],
         "street_code": [ST] * 2, "community_code": [C1, C2], "stars": [None, 5]},
        geometry=[Point(119.296, 26.0855), Point(119.3035, 26.0885)], crs=CRS)
    choropleth = communities.assign(value=[2.5, 7.0, np.nan])
    return {"streets": streets, "communities": communities, "grids": grids, "compounds": compounds,
            "stations": stations, "disputes": disputes(6), "choropleth": choropleth,
            "gaps": communities.assign(geometry=communities.geometry.to_crs(32650).buffer(-100).to_crs(CRS)),
            "reference": gpd.GeoDataFrame(  # a main road, a building, a river and a place name (layers.reference)
                {"kind": ["road", "building", "water", "place"], "name": ["鼓屏路", None, "白马河", XSS],
                 "subtype": ["主干路", None, None, None]},
                geometry=[LineString([(119.29, 26.085), (119.32, 26.085)]), box(119.2950, 26.0820, 119.2955, 26.0824),
                          box(119.29, 26.0805, 119.32, 26.0810), Point(119.305, 26.087)], crs=CRS),
            **party_frames(grids, compounds, stations)}


def party_frames(grids, compounds, stations) -> dict[str, gpd.GeoDataFrame]:
    """The 党建引领 layers' frames (layers.party): grids, compounds with their coverage, party / volunteer stations."""
    covered = compounds.assign(party_cover=["single", "joint", "none"], party_org_names=["省府小区党支部", XSS, ""],
                               party_buildings=[0, 2, 0])
    sites = gpd.GeoDataFrame(
        {"code": ["S3", "S4"], "name": ["军门党群服务中心", XSS], "kind": ["party", "volunteer"],
         "street_code": [ST] * 2, "community_code": [C1, C2], "model_level": [None, "provincial"]},
        geometry=[Point(119.297, 26.0845), Point(119.306, 26.0875)], crs=CRS)
    return {"party_grids": grids, "party_compounds": covered, "party_stations": pd.concat([stations, sites])}


def disputes(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """n cases spread over the three test communities; the first is open and 60 days old."""
    rng = np.random.default_rng(seed)
    comm = [(C1, 119.29), (C2, 119.30), (C3, 119.31)]
    rows = [comm[i % 3] for i in range(n)]
    statuses = [s.value for s in DisputeStatus]
    status = ["received"] + [statuses[i % len(statuses)] for i in range(1, n)]
    age = [60] + list(rng.integers(0, 20, n - 1))
    return gpd.GeoDataFrame({
        "code": [f"D{i:05d}" for i in range(n)],
        "category": ["neighbour", "property_mgmt", "family"] * (n // 3) + ["other"] * (n % 3),
        "source": ["patrol"] * n, "status": status,
        "reported_on": [TODAY - timedelta(days=int(a)) for a in age],
        "closed_on": [None] * n, "street_code": [ST] * n, "community_code": [c for c, _ in rows],
        "grid_code": [c + "001" for c, _ in rows], "address": [f"地址{i}" if i else XSS for i in range(n)],
        "summary": ["邻里噪音"] * n,
    }, geometry=[Point(x + 0.001 + 0.008 * rng.random(), 26.081 + 0.008 * rng.random()) for _, x in rows],
        crs=CRS)


def feature_layers(element) -> list[FeatureLayer]:
    out = [element] if isinstance(element, FeatureLayer) else []
    for child in element._children.values():
        out.extend(feature_layers(child))
    return out


def features(element) -> list[dict]:
    """Every drawn feature, its properties with the interned style put back."""
    return [{**f, "properties": p} for layer in feature_layers(element)
            for f, p in zip(layer.data["features"], layer.styled_properties())]


def popup_text(feature: dict) -> str:
    return " ".join(v for v in feature["properties"]["popup"] if v)


def outer_ring(feature: dict) -> list:
    """The first exterior ring of a Polygon or MultiPolygon feature."""
    coords = feature["geometry"]["coordinates"]
    return coords[0][0] if feature["geometry"]["type"] == "MultiPolygon" else coords[0]


def full_map(frames, level="district", mode="url", **options) -> folium.Map:
    m = build_map(BOUNDS, asset_mode=mode, prefix="/app/static/vendor")
    add_layers(m, frames, level=level, today=TODAY, units=frames["communities"], **options)
    return m


def strip_embedded(html: str) -> str:
    """The page without the embedded library blocks (Leaflet's code names the SVG namespace URL)."""
    for name in asset_files():
        if name.endswith((".js", ".css")):
            html = html.replace(assets._text(name), "")
    return html


# ---------------------------------------------------------------- geo.crs

def metres(lon1, lat1, lon2, lat2) -> float:
    dx = (lon2 - lon1) * 111_320 * np.cos(np.radians(lat1))
    return float(np.hypot(dx, (lat2 - lat1) * 110_574))


def test_gcj02_reference_pair_gulou_centre():
    lon, lat = wgs84_to_gcj02(119.299112, 26.085088)
    assert metres(lon, lat, 119.303917, 26.081983) < 1.0
    back = gcj02_to_wgs84(119.303917, 26.081983)
    assert metres(*back, 119.299112, 26.085088) < 1.0


def test_published_coordtransform_pairs():
    # wandergis/coordtransform's documented results for (116.404, 39.915)
    assert metres(*wgs84_to_gcj02(116.404, 39.915), 116.41024449916938, 39.91640428150164) < 0.01
    assert metres(*gcj02_to_bd09(116.404, 39.915), 116.41036949371029, 39.92133699351021) < 0.01
    assert metres(*bd09_to_gcj02(116.404, 39.915), 116.39762729119315, 39.90865673957631) < 1.0


def test_round_trips_are_sub_half_metre_and_vectorised():
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(119.25, 119.35, 500), rng.uniform(26.05, 26.12, 500)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert back[0].shape == (500,)
    assert max(metres(a, b, c, d) for a, b, c, d in zip(lon, lat, *back)) < 0.5
    bd = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert max(metres(a, b, c, d) for a, b, c, d in zip(lon, lat, *bd)) < 0.5


def test_outside_china_is_not_shifted():
    lon, lat = wgs84_to_gcj02(np.array([2.35, 119.3]), np.array([48.85, 26.08]))
    assert (lon[0], lat[0]) == (2.35, 48.85)
    assert 300 < metres(119.3, 26.08, lon[1], lat[1]) < 700


def test_to_gcj02_shifts_copy_and_keeps_input(frames):
    comms = frames["communities"]
    before = comms.geometry.iloc[0].wkb
    shifted = to_gcj02(comms)
    assert comms.geometry.iloc[0].wkb == before
    assert shifted.crs == comms.crs and list(shifted["name"]) == list(comms["name"])
    a, b = comms.geometry.iloc[2].centroid, shifted.geometry.iloc[2].centroid
    assert 300 < metres(a.x, a.y, b.x, b.y) < 700
    back = from_gcj02(shifted)
    assert shapely.equals_exact(back.geometry.iloc[2], comms.geometry.iloc[2], tolerance=1e-7)


def test_require_crs_and_metric_crs(frames):
    naive = gpd.GeoDataFrame({"code": ["1"]}, geometry=[Point(119.3, 26.08)])
    with pytest.raises(CRSError, match="缺少坐标参考系"):
        require_crs(naive, "测试")
    with pytest.raises(CRSError, match="EPSG:4326"):
        require_crs(frames["streets"].to_crs(3857), "测试")
    assert require_crs(frames["streets"].set_crs(4490, allow_override=True), "测试") is not None
    assert metric_crs().to_epsg() == 32650
    with pytest.raises(CRSError):
        to_gcj02(naive)


# ---------------------------------------------------------------- assets

def test_asset_files_exist_and_cover_leaflet_images():
    files = asset_files()
    assert all(p.is_file() for p in files.values())
    assert {"leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/images/layers.png",
            "leaflet.markercluster/leaflet.markercluster.js"} <= set(files)


def test_plain_folium_map_would_load_cdns_but_configured_does_not():
    plain = folium.Map(tiles=None)
    js, _ = asset_links(plain)
    assert any(u.startswith("https://") for u in js)  # the helper sees what st_folium sees
    m = configure_assets(folium.Map(tiles=None), "url", "/static")
    assert asset_links(m) == (["/static/leaflet/leaflet.js"], ["/static/leaflet/leaflet.css"])
    assert folium.Map.default_js[0][1].startswith("https://")  # class lists untouched


@pytest.mark.parametrize("mode", ["inline", "url", "data", "component"])
def test_no_external_links_in_any_mode(frames, mode):
    m = full_map(frames, level="community", mode=mode, case_details=True)  # the cluster plugin's assets too
    js, css = asset_links(m)
    assert not [u for u in js + css if re.match(r"^(https?:)?//", u)]
    html = m.get_root().render()
    page = strip_embedded(html)  # Leaflet's own code mentions leafletjs.com and the SVG namespace
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    if mode == "inline":
        assert js == [] and css == [] and "L.markerClusterGroup" in html
        assert "url(images/" not in html and "data:image/png;base64," in html
    if mode == "data":
        assert all(u.startswith("data:") for u in js + css) and len(js) == 2


def test_url_mode_html_has_no_http_at_all(frames):
    html = full_map(frames, level="community", mode="url", case_details=True).get_root().render()
    assert "http://" not in html and "https://" not in html
    assert '<script src="/app/static/vendor/leaflet/leaflet.js">' in html


def test_plugin_added_after_configuration_is_localised():
    m = configure_assets(folium.Map(tiles=None), "url", "/v")
    folium.plugins.MarkerCluster().add_to(folium.FeatureGroup().add_to(m))
    js, css = asset_links(m)
    assert js == ["/v/leaflet/leaflet.js", "/v/leaflet.markercluster/leaflet.markercluster.js"]
    assert len(css) == 3 and all(c.startswith("/v/") for c in css)


@pytest.mark.parametrize("mode", ["inline", "url", "data", "component"])
def test_draw_plugin_loads_nothing_from_the_internet_in_any_mode(frames, mode):
    """folium's Draw asks cdnjs for Leaflet.draw; configured maps load the vendored copy instead."""
    assert folium.plugins.Draw.default_js[0][1].startswith("https://")  # what folium would do
    m = full_map(frames, level="community", mode=mode)
    folium.plugins.Draw(show_geometry_on_click=False, draw_options={"polygon": {}, "polyline": {}}).add_to(m)
    js, css = asset_links(m)
    assert not [u for u in js + css if re.match(r"^(https?:)?//", u)]
    html = m.get_root().render()
    assert "cdnjs" not in html and "L.Control.Draw" in html
    page = strip_embedded(html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    if mode in ("url", "component"):
        assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in js
        assert "/app/static/vendor/leaflet-draw/leaflet.draw.css" in css
        assert all(u.startswith("/app/static/vendor/") for u in js + css)
    if mode == "data":
        assert all(u.startswith("data:") for u in js + css) and len(js) == 2
        assert any(b"Leaflet.draw 1.0.4" in base64.b64decode(u.split(",", 1)[1]) for u in js)
    if mode == "inline":
        assert js == [] and css == [] and "data:image/svg+xml;base64," in html  # the toolbar's sprite embedded


def test_leaflet_draw_is_vendored_with_its_licence_and_every_image_its_css_names():
    files = asset_files()
    script, style = files["leaflet-draw/leaflet.draw.js"], files["leaflet-draw/leaflet.draw.css"]
    assert script.read_text(encoding="utf-8").startswith("/*\n Leaflet.draw 1.0.4")
    for ref in re.findall(r"url\(['\"]?(images/[^)'\"]+)", style.read_text(encoding="utf-8")):
        assert f"leaflet-draw/{ref}" in files and files[f"leaflet-draw/{ref}"].is_file()
    folder = script.parent
    assert (folder / "LICENSE").read_text().startswith("Copyright 2012-2016 Jacob Toye and Leaflet")
    assert "MIT" in (folder / "VERSION").read_text() and "1.0.4" in (folder / "README.md").read_text()


def test_st_folium_receives_only_local_links(frames, monkeypatch):
    streamlit_folium = pytest.importorskip("streamlit_folium")
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    m = full_map(frames, level="community", mode="url", case_details=True)
    streamlit_folium.st_folium(m, returned_objects=["last_active_drawing"])
    assert sent["js_links"] and sent["css_links"]
    assert all(u.startswith("/app/static/vendor/") for u in sent["js_links"] + sent["css_links"])
    assert "http://" not in sent["header"] and "https://" not in sent["header"]
    assert "gl-legend" in sent["header"]
    assert "L.control" in sent["script"] and XSS not in sent["script"]


@pytest.mark.parametrize("bad", [
    lambda m: branca.colormap.LinearColormap(["red", "blue"]).add_to(m),
    lambda m: folium.Marker([26.08, 119.3], popup="x").add_to(m),
    lambda m: folium.plugins.Fullscreen().add_to(m),
])
def test_elements_needing_the_internet_are_refused(bad):
    m = configure_assets(folium.Map(tiles=None), "url", "/v")
    bad(m)
    with pytest.raises(GuloError):
        m.get_root().render()


def test_streamlit_mode_never_inline():
    assert assets.streamlit_mode("inline") == "data"
    assert assets.streamlit_mode("component") == "url" and assets.streamlit_mode("data") == "data"


def test_bad_asset_mode_or_missing_prefix():
    with pytest.raises(GuloError, match="inline"):
        build_map(BOUNDS, asset_mode="cdn")
    with pytest.raises(GuloError, match="prefix"):
        build_map(BOUNDS, asset_mode="url")


# ---------------------------------------------------------------- basemaps and build_map

def test_basemap_choices():
    assert set(available_basemaps(Settings())) == {"none", "osm", "amap"}
    assert "tianditu" in available_basemaps(Settings(tianditu_key="abc"))
    assert available_basemaps()["none"].startswith("无底图")
    assert needs_gcj02("amap") and not needs_gcj02("none") and not needs_gcj02("tianditu")
    with pytest.raises(SettingsError, match="tianditu_key"):
        build_map(BOUNDS, basemap="tianditu")
    with pytest.raises(SettingsError, match="osm"):
        needs_gcj02("google")


def test_no_basemap_map_is_offline_and_plain():
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    html = m.get_root().render()
    assert not [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert m.options["max_zoom"] == 18 and m.options["attribution_control"] is False
    assert "fitBounds" in html and "L.control.scale" in html and "http" not in html.replace("http-equiv", "")


def test_tianditu_and_osm_add_tiles():
    m = build_map(BOUNDS, basemap="tianditu", asset_mode="url", prefix="/v",
                  settings=Settings(tianditu_key="k&y"))
    html = m.get_root().render()
    assert "tianditu.gov.cn" in html and "tk=k%26y" in html
    assert "tile.openstreetmap.org" in build_map(BOUNDS, basemap="osm").get_root().render()


def test_amap_basemap_shifts_overlays(frames):
    plain = full_map(frames)
    m = build_map(BOUNDS, basemap="amap", asset_mode="url", prefix="/v")
    add_layers(m, {"streets": frames["streets"]}, level="district")
    ring0 = outer_ring(next(f for f in features(plain) if f["properties"].get("code") == ST))
    ring1 = outer_ring(next(f for f in features(m) if f["properties"].get("code") == ST))
    x0, y0 = np.array(ring0).mean(axis=0)
    x1, y1 = np.array(ring1).mean(axis=0)
    assert 300 < metres(x0, y0, x1, y1) < 700
    assert "autonavi.com" in m.get_root().render()


@pytest.mark.parametrize("bounds", [(1, 2, 3), (119.3, 26.1, 119.2, 26.0), ("a", 1, 2, 3)])
def test_bad_bounds(bounds):
    with pytest.raises(GuloError, match="地图范围"):
        build_map(bounds)


# ---------------------------------------------------------------- layers

@pytest.mark.parametrize("key", list(LAYERS))
def test_each_layer_builds_and_has_a_legend(frames, key):
    spec = LAYERS[key]
    fg = spec.build(frames[key], level="community", today=TODAY)
    assert isinstance(fg, folium.FeatureGroup) and fg.layer_name == spec.label
    assert features(fg)
    legend = spec.legend()
    assert legend and all(re.match(r"^#[0-9a-f]{6}$", c) for _, c in legend)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label, _ in legend)


@pytest.mark.parametrize("key", list(LAYERS))
def test_each_layer_requires_wgs84(frames, key):
    naive = gpd.GeoDataFrame(frames[key].drop(columns="geometry"), geometry=list(frames[key].geometry))
    with pytest.raises(CRSError, match="坐标参考系"):
        LAYERS[key].build(naive)
    with pytest.raises(CRSError):
        LAYERS[key].build(frames[key].to_crs(32650))


@pytest.mark.parametrize("key", list(LAYERS))
def test_each_layer_accepts_an_empty_frame(frames, key):
    assert features(LAYERS[key].build(frames[key].iloc[:0], level="community")) == []


@pytest.mark.parametrize("mode", ["inline", "url"])
@pytest.mark.parametrize("level", ["district", "community"])
def test_xss_name_is_escaped_everywhere(frames, mode, level):
    html = full_map(frames, level=level, mode=mode).get_root().render()
    assert XSS not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html.replace("\\u0026", "&")


def test_polygon_features_carry_code_and_name_and_are_simplified(frames):
    fg = LAYERS["communities"].build(frames["communities"])
    feats = [f for f in features(fg) if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    assert [(f["properties"]["code"], f["properties"]["name"]) for f in feats] == \
        list(zip(frames["communities"]["code"], frames["communities"]["name"]))
    assert len(outer_ring(feats[0])) < 20  # 400 one-metre zig-zags simplified away at 3 m
    coords = [c for f in feats for xy in outer_ring(f) for c in xy]
    assert all(round(c, 6) == c for c in coords)
    exact = LAYERS["communities"].build(frames["communities"], tolerance_m=0)
    assert len(outer_ring(features(exact)[0])) > 400


def test_labels_follow_the_level(frames):
    def labels(fg):
        return [f["properties"]["label"] for f in features(fg) if "label" in f["properties"]]
    assert labels(LAYERS["streets"].build(frames["streets"], level="district")) == ["东街街道"]
    assert labels(LAYERS["streets"].build(frames["streets"], level="community")) == []
    assert "&lt;img" in labels(LAYERS["communities"].build(frames["communities"], level="street"))[1]
    assert labels(LAYERS["grids"].build(frames["grids"], level="district", labels=True))


def test_compound_and_station_colours_come_from_the_vocabulary(frames):
    drawn = features(LAYERS["compounds"].build(frames["compounds"], level="community"))
    comp = {f["properties"]["code"]: f["properties"]["style"]["fillColor"] for f in drawn}
    assert comp["K1"] == RenovationStatus.UNDER_WAY.color and comp["K2"] == RenovationStatus.COMPLETED.color
    popup = popup_text(drawn[0])
    assert "施工中" in popup and "基础类" in popup and "鼓屏路1号" in popup


def test_grid_colours_show_vacancy_and_oversize(frames):
    colours = [f["properties"]["style"]["fillColor"] for f in features(LAYERS["grids"].build(frames["grids"]))]
    assert colours == ["#26a69a", "#e53935", "#26a69a"]
    big = frames["grids"].assign(households=[480, 700, 900], worker=["a", "b", "c"])
    assert [f["properties"]["style"]["fillColor"] for f in features(LAYERS["grids"].build(big))][2] == "#fb8c00"


def test_bad_enum_values_are_all_reported(frames):
    bad = frames["compounds"].assign(status=["施工中", "finished", "nope"])
    with pytest.raises(DataValidationError, match="2 行") as info:
        LAYERS["compounds"].build(bad)
    assert [p[2] for p in info.value.problems] == ["finished", "nope"]


def test_missing_columns_and_unknown_options(frames):
    with pytest.raises(DataValidationError, match="kind"):
        LAYERS["stations"].build(frames["stations"].drop(columns="kind"))
    with pytest.raises(GuloError, match="overdue_days"):
        LAYERS["disputes"].build(frames["disputes"], overdue_dayz=3)
    with pytest.raises(GuloError, match="未知的图层"):
        add_layers(build_map(BOUNDS), frames, ["roads"])


# ---------------------------------------------------------------- disputes

def test_overdue_mask():
    d = disputes(6)
    mask = overdue_mask(d, TODAY, 30)
    assert list(mask) == [True] + [False] * 5
    assert not overdue_mask(d.assign(status="resolved", closed_on=TODAY), TODAY, 30).any()
    # open means no 办结日期: a 调解成功 case awaiting its 办结 step still runs against the time limit
    assert list(overdue_mask(d.assign(status="resolved"), TODAY, 30)) == [True] + [False] * 5


def layer_html(gdf, level: str) -> str:
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"disputes": gdf}, level=level, today=TODAY)
    return m.get_root().render()


@pytest.mark.parametrize("level", ["district", "street"])
def test_aggregated_disputes_do_not_grow_with_cases(level):
    small, large = len(layer_html(disputes(200), level)), len(layer_html(disputes(2000), level))
    assert abs(large - small) / small < 0.05, (small, large)


def test_aggregated_disputes_count_per_community_with_names(frames):
    fg = LAYERS["disputes"].build(disputes(30), level="district", today=TODAY, units=frames["communities"])
    props = {f["properties"]["code"]: f["properties"] for f in features(fg)}
    assert set(props) == {C1, C2, C3}
    assert props[C1]["cases"] == 10 and props[C1]["overdue"] == 1 and props[C1]["name"] == "军门社区"
    assert props[C1]["style"]["color"] == OVERDUE_COLOR and props[C2]["style"]["color"] != OVERDUE_COLOR
    assert props[C1]["style"]["radius"] > 6


def test_community_level_disputes_are_clustered_with_overdue_standing_out():
    fg = LAYERS["disputes"].build(disputes(12), level="community", today=TODAY, overdue_days=30, case_details=True)
    clusters = [c for g in [fg] for c in g._children.values() if isinstance(c, folium.plugins.MarkerCluster)]
    assert len(clusters) == 1
    feats = features(fg)
    late = [f for f in feats if f["properties"]["overdue"]]
    assert len(feats) == 12 and len(late) == 1
    assert late[0]["properties"]["style"]["fillColor"] == OVERDUE_COLOR
    assert late[0]["properties"]["style"]["radius"] > feats[0]["properties"]["style"]["radius"]
    assert feats[-1] is late[0]  # drawn last, on top
    popup = popup_text(late[0])
    assert "超期" in popup and "&lt;img" in popup and "2026-09-02" in popup


@pytest.mark.parametrize("level", ["community", "grid"])
def test_without_case_details_drilled_in_disputes_are_counts_per_grid(frames, level):
    """The default (no case details): no point, popup, address or summary at any level — counts per grid."""
    gdf = disputes(12)
    fg = LAYERS["disputes"].build(gdf, level=level, today=TODAY, units=frames["grids"])
    assert not [c for c in fg._children.values() if isinstance(c, folium.plugins.MarkerCluster)]
    props = {f["properties"]["code"]: f["properties"] for f in features(fg)}
    assert set(props) == set(frames["grids"]["code"]) and sum(p["cases"] for p in props.values()) == 12
    assert all("popup" not in p for p in props.values())
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"disputes": gdf}, level=level, today=TODAY, units=frames["grids"])
    html = m.get_root().render()
    assert "邻里噪音" not in html and "地址1" not in html and "&lt;img" not in html and "D00001" not in html
    assert LAYERS["disputes"].legend(None, level=level)[0][0].startswith("纠纷件数")
    assert LAYERS["disputes"].legend(None, level=level, case_details=True)[0][0] == DisputeStatus.RECEIVED.label


def test_overdue_mask_accepts_members_and_labels():
    d = disputes(3).assign(status=[DisputeStatus.RECEIVED, "调解中", "resolved"])
    assert list(overdue_mask(d, TODAY, 30)) == [True, False, False]


def test_script_json_is_safe_inside_a_script_element_and_keeps_chinese():
    text = script_json({"name": "</script><!--'&\u2028军门"})
    assert not set("<>'&\u2028") & set(text) and "军门" in text


def test_styles_are_interned_and_chinese_is_not_escaped(frames):
    layer = feature_layers(LAYERS["stations"].build(frames["stations"].assign(kind="culture")))[0]
    assert len(layer.styles) == 1 and {f["properties"]["style_id"] for f in layer.data["features"]} == {0}
    html = full_map(frames).get_root().render()
    assert "军门社区" in html and "\\u519b" not in html  # UTF-8, not \uXXXX per character


def test_legend_is_escaped_and_checks_colours():
    html = Legend([LegendSection(XSS, ((XSS, "#123456"),), "circle")]).inner_html
    assert XSS not in html and "&lt;img" in html and "图例" in html
    with pytest.raises(ValueError):
        Legend([LegendSection("a", (("b", "red;background:url(x)"),))])


# ---------------------------------------------------------------- browser

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
CHROMIUM = Path("/usr/bin/chromium")

_LAYER_COUNT_JS = """name => {
    const map = window[name]; let polygons = 0, circles = 0;
    map.eachLayer(l => { if (l instanceof L.Polygon) polygons++; else if (l instanceof L.CircleMarker) circles++; });
    return {polygons, circles, legend: document.querySelectorAll('.gl-legend li').length,
            labels: document.querySelectorAll('.gl-label').length, text: document.body.innerText};
}"""


def open_in_chromium(path: Path, shot: Path, hover: tuple[float, float] | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    blocked, errors, dialogs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   else (blocked.append(r.request.url), r.abort()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => document.querySelector('.gl-legend') !== null", timeout=10_000)
        name = re.search(r'id="(map_[0-9a-f]+)"', path.read_text()).group(1)
        result = page.evaluate(_LAYER_COUNT_JS, name)
        if hover:
            xy = page.evaluate("([n, lat, lon]) => window[n].latLngToContainerPoint([lat, lon])",
                               [name, hover[1], hover[0]])
            for dx in (3, 0):  # canvas hover needs a mouse *move* onto the marker
                page.mouse.move(xy["x"] + dx, xy["y"])
                page.wait_for_timeout(200)
            result["tooltip"] = page.locator(".leaflet-tooltip").first.inner_text()
            result["tooltip_imgs"] = page.locator(".leaflet-tooltip img").count()
        page.screenshot(path=str(shot))
        page.locator(".leaflet-control-layers label", has_text="服务站点").click()
        result["stations_legend_after_toggle"] = page.locator(
            '.gl-legend-section[data-layer="服务站点"]').is_visible()
        browser.close()
    return {**result, "blocked": blocked, "errors": errors, "dialogs": dialogs}


@pytest.mark.parametrize("mode,level", [("inline", "community"), ("url", "district")])
def test_maps_draw_offline_in_chromium(frames, tmp_path, mode, level):
    if not CHROMIUM.exists():
        from tests.conftest import skip_or_fail
        skip_or_fail("Chromium not installed (/usr/bin/chromium)", "REQUIRE_BROWSER")
    m = build_map(BOUNDS, asset_mode=mode, prefix=str(tmp_path / "vendor"))
    add_layers(m, {k: v for k, v in frames.items() if k != "grids"}, level=level, today=TODAY,
               units=frames["communities"])
    assets.copy_assets(tmp_path / "vendor")
    path = tmp_path / "map.html"
    m.save(str(path))
    res = open_in_chromium(path, tmp_path / f"map-{mode}.png", hover=(119.3035, 26.0885))
    assert res["blocked"] == [] and res["errors"] == [] and res["dialogs"] == []
    assert res["polygons"] >= 4 and res["circles"] >= 5 and res["legend"] >= 8
    assert "图例" in res["text"] and "老旧小区" in res["text"]
    assert res["tooltip"].splitlines()[0] == XSS and res["tooltip_imgs"] == 0  # shown as text
    assert res["labels"] >= 1
    assert res["stations_legend_after_toggle"] is False  # legend follows the layer control
