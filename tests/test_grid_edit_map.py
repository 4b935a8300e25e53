"""The grid editor's maps (layers.grid_edit), checked through their rendered HTML and what st_folium is sent."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from geo.grid_edit import check_edit, move_boundary, redraw_grid
from geo.settings import Settings
from layers.assets import asset_links
from layers.features import FeatureLayer
from layers.grid_edit import DRAW_LOCALE, GAP_FILL, draw_map, drawn_to_wgs84, result_map
from tests.test_grid_edit import G1, G2, community, grids, rect

XSS = "<img src=x onerror=alert(1)>"
PREFIX = "/app/static/vendor"


def feature_layers(m) -> list[FeatureLayer]:
    return [c for c in m._children.values() if isinstance(c, FeatureLayer)]


def styles_of(m) -> list[dict]:
    return [p for layer in feature_layers(m) for p in layer.styled_properties()]


def test_draw_map_sends_st_folium_only_local_links_and_chinese_tools(monkeypatch):
    streamlit_folium = pytest.importorskip("streamlit_folium")
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    m = draw_map(grids(), community(), tool="polygon", edited=(G1,), asset_mode="url", prefix=PREFIX)
    streamlit_folium.st_folium(m, returned_objects=["all_drawings"])
    assert f"{PREFIX}/leaflet-draw/leaflet.draw.js" in sent["js_links"]
    assert f"{PREFIX}/leaflet-draw/leaflet.draw.css" in sent["css_links"]
    assert all(u.startswith(PREFIX + "/") for u in sent["js_links"] + sent["css_links"])
    script = sent["script"]
    assert "http://" not in script and "https://" not in script and "cdnjs" not in sent["header"]
    assert script.index("L.drawLocal") < script.index("new L.Control.Draw") < script.index("window.drawnItems =")
    assert "画多边形（网格新范围）" in script and "alert(coords)" not in script
    options = json.loads(re.search(r"draw: (\{.*?\}),\n", script).group(1))
    assert options["polygon"]["allowIntersection"] is False and options["polyline"] is False
    assert options["rectangle"] is False and options["circle"] is False and options["marker"] is False


def test_every_text_of_leaflet_draw_is_chinese():
    def leaves(d):
        for v in d.values():
            yield from leaves(v) if isinstance(v, dict) else [v]

    texts = list(leaves(DRAW_LOCALE))
    assert len(texts) > 30
    assert not [t for t in texts if re.search(r"[A-Za-z]{2,}", re.sub(r"</?strong>", "", t))]


def test_split_tool_offers_only_the_polyline():
    m = draw_map(grids(), community(), tool="polyline", asset_mode="url", prefix=PREFIX)
    html = m.get_root().render()
    options = json.loads(re.search(r"draw: (\{.*?\}),\n", html).group(1))
    assert options["polygon"] is False and options["polyline"]["showLength"] is False
    with pytest.raises(ValueError, match="绘图工具"):
        draw_map(grids(), community(), tool="circle")


def test_grid_names_are_escaped():
    frame = grids().assign(name=[XSS, "网格02", "网格03"])
    m = draw_map(frame, community(), edited=(G1,), asset_mode="url", prefix=PREFIX)
    html = m.get_root().render()
    assert XSS not in html and "\\u0026lt;img src=x" in html  # escaped, and its & made safe for <script>


def test_result_map_colours_the_refused_pieces():
    before = grids()
    after = redraw_grid(before, G1, rect(-20, 0, 150, 90))  # over G2, outside the community, a gap at the top
    check = check_edit(before, after, community())
    assert set(check.offending["kind"]) == {"overlap", "outside", "gap"}
    m = result_map(after, community(), check.offending, check.changed, asset_mode="url", prefix=PREFIX)
    problems = [p for p in styles_of(m) if "kind" in p]
    fills = {p["kind"]: p["style"]["fillColor"] for p in problems}
    assert fills == {"overlap": "#d32f2f", "outside": "#7b1fa2", "gap": GAP_FILL}
    tips = {p["kind"]: p["tip"] for p in problems}
    assert tips["overlap"][:2] == ["网格重叠", "网格01、网格02"] and tips["overlap"][2] == "约 4,500 平方米"
    html = m.get_root().render()
    assert 'id: "gl-hatch"' in html and "网格重叠" in html and "越出社区边界" in html and "网格空隙" in html
    assert not [u for u in sum(asset_links(m), []) if not u.startswith(PREFIX)]


def test_result_map_of_a_passing_edit_has_no_problem_legend():
    before = grids()
    after = move_boundary(before, G1, G2, rect(0, 0, 150, 100))
    check = check_edit(before, after, community())
    m = result_map(after, community(), check.offending, check.changed, asset_mode="url", prefix=PREFIX)
    html = m.get_root().render()
    assert "问题" not in html and "gl-hatch" not in html
    changed = [p for p in styles_of(m) if p.get("code") in (G1, G2)]
    assert {p["style"]["color"] for p in changed} == {"#1565c0"}


def test_amap_maps_are_drawn_in_gcj02_and_drawings_come_back_in_wgs84():
    amap = Settings.load({"basemap": "amap"})
    plain = draw_map(grids(), community(), asset_mode="url", prefix=PREFIX)
    shifted = draw_map(grids(), community(), asset_mode="url", prefix=PREFIX, settings=amap)
    a = np.array(feature_layers(plain)[0].data["features"][0]["geometry"]["coordinates"][0][0][0])
    b = np.array(feature_layers(shifted)[0].data["features"][0]["geometry"]["coordinates"][0][0][0])
    assert 0.003 < np.abs(a - b).max() < 0.01  # about 500 m in Fuzhou
    drawn = rect(0, 0, 100, 100)
    import geopandas as gpd

    from geo.crs import to_gcj02
    on_amap = to_gcj02(gpd.GeoDataFrame(geometry=[drawn], crs=4326)).geometry.iloc[0]
    back = drawn_to_wgs84(on_amap, "amap")
    assert back.symmetric_difference(drawn).area < 1e-6 * drawn.area
    assert drawn_to_wgs84(drawn, "none") is drawn
