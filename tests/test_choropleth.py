"""Class breaks (geo.classify) and the choropleth layer, on tiny hand-built frames (EPSG:4326).

The layer is checked through its features, its legend, the rendered map HTML, the links
streamlit-folium would load, and (when Chromium is installed) a real click in a browser.
"""
from __future__ import annotations

import re

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, box

from geo.classify import (
    as_method,
    assign_classes,
    class_breaks,
    class_labels,
    format_range,
    format_value,
    numeric_values,
)
from geo.errors import CRSError, DataValidationError, GuloError
from geo.vocab import ClassifyMethod
from layers import choropleth
from layers.assets import asset_links
from layers.choropleth import NO_DATA, PALETTES, class_colours
from layers.features import FeatureLayer
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS
from tests.test_layers import BROWSER_ARGS, CHROMIUM, features, outer_ring, wiggly

CRS = "EPSG:4326"
XSS = "<img src=x onerror=alert(1)>"
BOUNDS = (119.29, 26.08, 119.32, 26.09)
CODES = [f"35010200400{i}" for i in range(1, 7)]
NAMES = ["军门社区", XSS, "大根社区", "东门社区", "三坊七巷社区", "庆城社区"]
RATES = [1.0, 4.0, 6.0, 9.0, 10.0, np.nan]  # five distinct values and one unit without data
OPTS = {"value_column": "rate", "value_label": "每千户纠纷数", "value_format": "{:.1f}"}
YLORRD = PALETTES["YlOrRd"]


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    """Six communities in a 3 x 2 block (each 0.01° x 0.005°), the first with a 1 m zig-zag edge."""
    cells = [(119.29 + 0.01 * (i % 3), 26.08 + 0.005 * (i // 3)) for i in range(6)]
    geoms = [MultiPolygon([box(x, y, x + 0.01, y + 0.005)]) for x, y in cells]
    geoms[0] = wiggly(119.29, 26.08, 119.30, 26.085)
    return gpd.GeoDataFrame({"code": CODES, "name": NAMES, "rate": RATES}, geometry=geoms, crs=CRS)


def by_code(fg) -> dict[str, dict]:
    return {f["properties"]["code"]: f for f in features(fg) if "code" in f["properties"]}


# ---------------------------------------------------------------- geo.classify

@pytest.mark.parametrize("values, k, method, expected", [
    (range(1, 11), 5, "quantiles", [2, 4, 6, 8, 10]),
    (range(1, 11), 5, "natural_breaks", [2, 4, 6, 8, 10]),
    (range(1, 11), 5, "equal_interval", [2, 4, 6, 8, 10]),  # 2.8, 4.6 … snapped down to observed values
    (range(1, 11), 2, "quantiles", [5, 10]),
    ([1, 1, 2, 2, 3], 5, "quantiles", [1, 2, 3]),            # fewer distinct values than k
    ([1, 1, 2, 2, 3], 5, "natural_breaks", [1, 2, 3]),
    ([3, np.nan, 1, None, 2], 5, "quantiles", [1, 2, 3]),    # missing values ignored
    ([1, 2, np.inf, -np.inf, 3], 5, "equal_interval", [1, 2, 3]),
    ([4.5, 4.5, 4.5], 5, "quantiles", [4.5]),                 # all equal: one class
    ([4.5, 4.5, 4.5], 5, "equal_interval", [4.5]),
    ([], 5, "quantiles", []),
    ([np.nan, np.nan], 5, "natural_breaks", []),
    (range(1, 11), 1, "quantiles", [10]),
    (range(1, 11), 5, "分位数", [2, 4, 6, 8, 10]),           # Chinese labels are accepted
    (range(1, 11), 5, ClassifyMethod.NATURAL_BREAKS, [2, 4, 6, 8, 10]),
])
def test_class_breaks_known_values(values, k, method, expected):
    assert class_breaks(pd.Series(list(values), dtype="float64"), k, method) == pytest.approx(expected)


@pytest.mark.parametrize("method", [m.value for m in ClassifyMethod])
def test_breaks_with_many_ties_are_distinct_ascending_and_end_at_the_maximum(method):
    values = pd.Series([1.0] * 7 + [2, 3, 4, 5, 6] + [np.nan])
    breaks = class_breaks(values, 5, method)
    assert breaks == sorted(set(breaks)) and breaks[-1] == 6 and 2 <= len(breaks) <= 5
    assert set(assign_classes(values, breaks)) - {-1} == set(range(len(breaks)))  # no class is empty


def test_quantile_breaks_are_observed_values_and_keep_mapclassify_classes():
    values = pd.Series(np.random.default_rng(3).gamma(2.0, 3.0, 97).round(2))
    breaks = class_breaks(values, 5, "quantiles")
    assert set(breaks) <= set(values)
    ours = assign_classes(values, breaks)
    theirs = mapclassify.Quantiles(values.to_numpy(), k=5).yb
    assert (ours.to_numpy() == theirs).all()


@pytest.mark.filterwarnings("ignore:Numba not installed")
def test_natural_breaks_are_fisher_jenks_and_deterministic():
    values = pd.Series(np.random.default_rng(7).lognormal(1.0, 0.6, 150))
    first = class_breaks(values, 5, "natural_breaks")
    assert first == class_breaks(values.sample(frac=1, random_state=1), 5, "natural_breaks")
    assert first == pytest.approx(list(mapclassify.FisherJenks(values.to_numpy(), k=5).bins))


def test_class_breaks_does_not_modify_its_input():
    values = pd.Series([3.0, np.nan, 1.0, 2.0], index=[10, 11, 12, 13])
    before = values.copy()
    class_breaks(values, 2)
    assign_classes(values, [1, 3])
    pd.testing.assert_series_equal(values, before)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "jenks"}, "quantiles.*natural_breaks.*equal_interval"),
    ({"method": "jenks"}, "分位数"),
    ({"k": 0}, "不小于 1"),
    ({"k": 2.5}, "整数"),
    ({"k": True}, "整数"),
])
def test_bad_arguments_name_the_allowed_values(kwargs, match):
    with pytest.raises(GuloError, match=match):
        class_breaks([1, 2, 3], **kwargs)


def test_arguments_are_checked_even_for_empty_input():
    with pytest.raises(GuloError):
        class_breaks([], method="kmeans")
    assert as_method("自然断点") is ClassifyMethod.NATURAL_BREAKS


def test_non_numeric_values_are_all_reported():
    with pytest.raises(DataValidationError, match="2 个值不是数字") as info:
        class_breaks(pd.Series(["1", "x", 3, "y"], index=list("abcd")))
    assert [(p[0], p[2]) for p in info.value.problems] == [("b", "x"), ("d", "y")]
    assert numeric_values(pd.Series([1, pd.NA], dtype="Int64")).isna().tolist() == [False, True]


def test_assign_classes():
    values = pd.Series([1, 2, 3, np.nan, 10, 11, -5, np.inf], index=list("abcdefgh"))
    got = assign_classes(values, [2, 4, 6, 8, 10])
    assert got.tolist() == [0, 0, 1, -1, 4, 4, 0, -1] and list(got.index) == list("abcdefgh")
    assert got.dtype == "int64"
    assert assign_classes(values, []).tolist() == [-1] * 8
    assert assign_classes(pd.Series([], dtype=float), [1, 2]).tolist() == []
    with pytest.raises(GuloError, match="递增"):
        assign_classes(values, [4, 2])
    with pytest.raises(GuloError, match="递增"):
        assign_classes(values, [2, 2])


@pytest.mark.parametrize("lo, hi, fmt, expected", [
    (450, 520, None, "450–520"),
    (450.0, 520.0, "{:.0f}", "450–520"),
    (0.1, 0.25, "{:.0%}", "10%–25%"),
    (1234.5, 2000, None, "1,234.5–2,000"),
    (2.8, 4.6, "{:.1f}", "2.8–4.6"),
    (3, 3, None, "3"),
    (0.333, 0.334, "{:.1f}", "0.3"),  # equal once formatted: one number
    (np.nan, 5, None, "—–5"),
])
def test_format_range(lo, hi, fmt, expected):
    assert format_range(lo, hi, fmt) == expected


@pytest.mark.parametrize("fmt", ["{:d}", "abc", "{x}", "{0} {1}", 5])
def test_bad_formats_are_refused(fmt):
    with pytest.raises(GuloError, match=r"\{:\.1f\}"):
        format_value(1.0, fmt)


def test_class_labels_start_at_the_minimum():
    assert class_labels([2, 4, 6, 8, 10], 1) == ["1–2", "2–4", "4–6", "6–8", "8–10"]
    assert class_labels([5.0], 5.0, "{:.1f}") == ["5.0"]
    assert format_value(-0.001) == "0" and format_value(None) == "—"


# ---------------------------------------------------------------- layers.choropleth

def test_registered_above_the_outlines_and_below_the_points():
    keys = list(LAYERS)
    assert keys.index("streets") < keys.index("choropleth") < keys.index("compounds")
    assert LAYERS["choropleth"] is choropleth.SPEC and LAYERS["choropleth"].frame_legend


def test_fill_colours_follow_the_classes(units):
    feats = by_code(LAYERS["choropleth"].build(units, **OPTS))
    fill = {code: f["properties"]["style"]["fillColor"] for code, f in feats.items()}
    assert fill[CODES[0]] == YLORRD[0] and fill[CODES[4]] == YLORRD[-1]  # lowest, highest
    assert [fill[c] for c in CODES[:5]] == class_colours(5, YLORRD) == list(YLORRD[::2])
    assert fill[CODES[5]] == NO_DATA[1]
    assert [feats[c]["properties"]["class_index"] for c in CODES] == [0, 1, 2, 3, 4, -1]
    assert feats[CODES[3]]["properties"]["value"] == 9.0 and feats[CODES[5]]["properties"]["value"] is None


def test_properties_carry_raw_code_and_name_and_an_escaped_tip(units):
    feats = by_code(LAYERS["choropleth"].build(units, **OPTS))
    assert [(c, f["properties"]["name"]) for c, f in feats.items()] == list(zip(CODES, NAMES))
    assert feats[CODES[0]]["properties"]["tip"] == ["军门社区 · 每千户纠纷数: 1.0"]
    assert feats[CODES[1]]["properties"]["tip"] == ["&lt;img src=x onerror=alert(1)&gt; · 每千户纠纷数: 4.0"]
    assert feats[CODES[5]]["properties"]["tip"] == ["庆城社区 · 每千户纠纷数: 无数据"]


def test_polygons_are_simplified_rounded_and_interactive(units):
    fg = LAYERS["choropleth"].build(units, **OPTS)
    polys = [f for f in features(fg) if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    assert len(polys) == 6 and len(outer_ring(polys[0])) < 20
    assert all(round(c, 6) == c for f in polys for xy in outer_ring(f) for c in xy)
    exact = LAYERS["choropleth"].build(units, tolerance_m=0, **OPTS)
    assert len(outer_ring(features(exact)[0])) > 400
    layer = next(c for c in fg._children.values() if isinstance(c, FeatureLayer))
    assert layer.highlight_json != "null" and layer.points == "circle"  # hover, clickable paths


def test_labels_are_escaped_and_can_be_turned_off(units):
    def labels(fg):
        return [f["properties"]["label"] for f in features(fg) if "label" in f["properties"]]
    assert labels(LAYERS["choropleth"].build(units, level="street", **OPTS))[:2] == \
        ["军门社区", "&lt;img src=x onerror=alert(1)&gt;"]
    assert labels(LAYERS["choropleth"].build(units, level="grid", **OPTS))
    assert labels(LAYERS["choropleth"].build(units, labels=False, **OPTS)) == []


def test_legend_lists_class_ranges_and_no_data(units):
    items = LAYERS["choropleth"].legend(units, **OPTS)
    # five values in five classes: each class names its own value, no number in two classes
    assert items == [("1.0", YLORRD[0]), ("4.0", YLORRD[2]), ("6.0", YLORRD[4]),
                     ("9.0", YLORRD[6]), ("10.0", YLORRD[8]), NO_DATA]
    assert LAYERS["choropleth"].legend(units.dropna(subset=["rate"]), **OPTS)[-1] != NO_DATA
    assert LAYERS["choropleth"].legend(units.iloc[:0], **OPTS) == []
    ramp = LAYERS["choropleth"].legend(classes=3)
    assert ramp == [("第1级（低）", YLORRD[0]), ("第2级", YLORRD[4]), ("第3级（高）", YLORRD[8])]


def test_legend_and_fill_agree_for_other_methods_and_palettes(units):
    opts = {**OPTS, "breaks_method": "equal_interval", "classes": 3, "palette": "Blues", "value_format": None}
    feats = by_code(LAYERS["choropleth"].build(units, **opts))
    items = LAYERS["choropleth"].legend(units, **opts)
    assert [label for label, _ in items] == ["1–4", "6", "9–10", "无数据"]  # lowest–highest value held
    assert [feats[c]["properties"]["style"]["fillColor"] for c in CODES[:5]] == \
        [items[0][1], items[0][1], items[1][1], items[2][1], items[2][1]]
    custom = ["#EEEEEE", "#888888", "#111111"]
    fill = by_code(LAYERS["choropleth"].build(units, **{**OPTS, "palette": custom, "classes": 3}))
    assert fill[CODES[4]]["properties"]["style"]["fillColor"] == "#111111"


def test_all_equal_values_make_one_class(units):
    flat = units.assign(rate=[3.0] * 5 + [np.nan])
    fills = {f["properties"]["style"]["fillColor"] for f in by_code(LAYERS["choropleth"].build(flat, **OPTS)).values()}
    assert fills == {YLORRD[4], NO_DATA[1]}
    assert LAYERS["choropleth"].legend(flat, **OPTS) == [("3.0", YLORRD[4]), NO_DATA]


def test_full_map_titles_legend_by_indicator_and_stays_offline(units):
    m = build_map(BOUNDS, asset_mode="url", prefix="/app/static/vendor")
    add_layers(m, {"choropleth": units}, ["choropleth"], level="street", **OPTS)
    js, css = asset_links(m)
    assert js and css and not [u for u in js + css if re.match(r"^(https?:)?//", u)]
    assert all(u.startswith("/app/static/vendor/") for u in js + css)
    html = m.get_root().render()
    assert "http://" not in html and "https://" not in html
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html.replace("\\u0026", "&")
    legend = m._children["legend"].inner_html
    assert '<div class="gl-legend-section" data-layer="每千户纠纷数">' in legend
    assert "<h5>每千户纠纷数</h5>" in legend and "<li>" in legend and "无数据" in legend
    assert ">6.0</li>" in legend
    group = [c for c in m._children.values() if getattr(c, "layer_name", None) == "每千户纠纷数"]
    assert len(group) == 1 and group[0].control  # the layer control shows the indicator name
    assert f'"code":"{CODES[0]}"' in html


def test_st_folium_gets_local_links_and_the_codes(units, monkeypatch):
    streamlit_folium = pytest.importorskip("streamlit_folium")
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    m = build_map(BOUNDS, asset_mode="url", prefix="/app/static/vendor")
    add_layers(m, {"choropleth": units}, level="street", **OPTS)
    streamlit_folium.st_folium(m, returned_objects=["last_active_drawing"])
    assert all(u.startswith("/app/static/vendor/") for u in sent["js_links"] + sent["css_links"])
    assert f'"code":"{CODES[3]}"' in sent["script"] and XSS not in sent["script"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"palette": "Rainbow"}, GuloError, "YlOrRd"),
    ({"palette": ["#fff", "red"]}, GuloError, "#RRGGBB"),
    ({"classes": 1}, GuloError, "2 到 9"),
    ({"classes": 10}, GuloError, "2 到 9"),
    ({"palette": ["#000000", "#ffffff"], "classes": 3}, GuloError, "2 到 2"),
    ({"breaks_method": "kmeans"}, GuloError, "natural_breaks"),
    ({"value_format": "{:d}"}, GuloError, "格式"),
    ({"value_label": "<b>x</b>"}, GuloError, "指标名称"),
    ({"value_column": "missing"}, DataValidationError, "missing"),
    ({"value_column": "name"}, DataValidationError, "不是数字"),
    ({"valu_column": "rate"}, GuloError, "value_column"),
])
def test_bad_options(units, kwargs, error, match):
    with pytest.raises(error, match=match):
        LAYERS["choropleth"].build(units, **kwargs)
    with pytest.raises(error, match=match):
        LAYERS["choropleth"].legend(units, **kwargs)


def test_requires_wgs84(units):
    with pytest.raises(CRSError):
        LAYERS["choropleth"].build(units.to_crs(32650), **OPTS)
    with pytest.raises(CRSError):
        LAYERS["choropleth"].legend(gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=list(units.geometry)),
                                    **OPTS)


def test_amap_basemap_shifts_the_choropleth(units):
    plain, amap = build_map(BOUNDS, asset_mode="url", prefix="/v"), build_map(BOUNDS, "amap", "url", "/v")
    for m in (plain, amap):
        add_layers(m, {"choropleth": units}, **OPTS)
    groups = [next(c for c in m._children.values() if getattr(c, "layer_name", "") == "每千户纠纷数")
              for m in (plain, amap)]
    first = [outer_ring(features(fg)[1])[0] for fg in groups]
    assert first[0] != first[1] and abs(first[0][0] - first[1][0]) < 0.01


# ---------------------------------------------------------------- browser

_HOOK_CLICKS_JS = """name => {
    // what streamlit-folium does: listen for clicks on every layer, keep layer.toGeoJSON()
    const map = window[name]; window.__drawing = null;
    for (const id in map._layers) {
        const l = map._layers[id];
        if (l && typeof l.on === "function") {
            l.on("click", e => {
                if (e.layer && typeof e.layer.toGeoJSON === "function") window.__drawing = e.layer.toGeoJSON();
            });
        }
    }
}"""


def test_click_returns_the_unit_code_in_chromium(units, tmp_path):
    if not CHROMIUM.exists():
        from tests.conftest import skip_or_fail
        skip_or_fail("Chromium not installed (/usr/bin/chromium)", "REQUIRE_BROWSER")
    from playwright.sync_api import sync_playwright

    from layers.assets import copy_assets

    m = build_map(BOUNDS, asset_mode="url", prefix=str(tmp_path / "vendor"))
    add_layers(m, {"choropleth": units}, level="street", **OPTS)
    copy_assets(tmp_path / "vendor")
    path = tmp_path / "map.html"
    m.save(str(path))
    name = re.search(r'id="(map_[0-9a-f]+)"', path.read_text()).group(1)
    blocked, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 600})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   else (blocked.append(r.request.url), r.abort()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => document.querySelector('.gl-legend') !== null", timeout=10_000)
        page.evaluate(_HOOK_CLICKS_JS, name)
        xy = page.evaluate("([n, lat, lon]) => window[n].latLngToContainerPoint([lat, lon])",
                           [name, 26.0875, 119.305])  # centre of the fifth unit (rate 10)
        page.mouse.move(xy["x"] + 2, xy["y"] + 12)
        page.mouse.move(xy["x"], xy["y"] + 10)
        page.wait_for_timeout(200)
        tooltip = page.locator(".leaflet-tooltip").first.inner_text()
        page.mouse.click(xy["x"], xy["y"] + 10)
        drawing = page.evaluate("() => window.__drawing")
        legend = page.locator(".gl-legend").inner_text()
        browser.close()
    assert blocked == [] and errors == []
    assert drawing["properties"]["code"] == CODES[4] and drawing["properties"]["name"] == NAMES[4]
    assert tooltip == "三坊七巷社区 · 每千户纠纷数: 10.0"
    assert "每千户纠纷数" in legend and "10.0" in legend.splitlines()
