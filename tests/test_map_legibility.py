"""Issue 19, maps: degenerate classes, legend labels that share no number, legends listing only what is
drawn, a legend that folds and moves to the emptiest corner, a view that stays fitted to the scope when
the frame changes size, and the briefing PDF's outlined classes. Tiny hand-built frames, EPSG:4326."""
from __future__ import annotations

import re
from itertools import pairwise
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
from reportlab.lib import colors
from shapely.geometry import MultiPolygon, Point, box

from data import briefing as pdf
from geo.classify import class_breaks, class_ranges
from geo.vocab import StationKind
from layers import assets
from layers.legend import AUTO, NARROW_PX, Legend, LegendSection, legend_html
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS
from tests.test_layers import BROWSER_ARGS, CHROMIUM

CRS = "EPSG:4326"
MOSTLY_ZERO = [0.0] * 60 + [0.2, 0.3, 0.5, 0.7, 0.9, 1.1, 1.4, 1.6, 1.8]  # 69 communities, 60 without a case


def numbers(label: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?%?", label)


# ---------------------------------------------------------------- classes


@pytest.mark.parametrize("method", ["quantiles", "natural_breaks", "equal_interval"])
def test_degenerate_quantiles_fall_back_and_labels_share_no_number(method):
    values = pd.Series(MOSTLY_ZERO)
    breaks = class_breaks(values, 5, method)
    labels = class_ranges(values, breaks, "{:.1f}")
    assert len(breaks) == 5  # quantiles alone gave two classes: 0.0 / 0.0–1.8
    assert labels[:2] != ["0.0", "0.0–1.8"]
    for a, b in pairwise(labels):
        assert numbers(a)[-1] != numbers(b)[0], labels


def test_quantiles_that_degenerate_use_equal_steps():
    values = pd.Series(MOSTLY_ZERO)
    assert class_breaks(values, 5, "quantiles") == class_breaks(values, 5, "equal_interval")
    assert class_ranges(values, class_breaks(values, 5, "quantiles"), "{:.1f}")[0] == "0.0–0.3"


def test_labels_get_a_decimal_more_when_rounding_would_join_them():
    values = pd.Series([0.728, 0.731, 0.734, 0.74, 0.75, 0.76, 0.77, 0.78, 0.80, 0.82])
    labels = class_ranges(values, class_breaks(values, 5, "quantiles"), "{:.0%}")
    assert labels[:2] == ["72.8%–73.1%", "73.4%–74.0%"]  # not 「73%」 then 「73%–74%」
    assert len(set(sum((numbers(x) for x in labels), []))) == sum(len(numbers(x)) for x in labels)


def test_distinct_values_fewer_than_classes_are_unique_value_classes():
    values = pd.Series([3.0] * 50 + [5.0, 5.0, 8.0])
    breaks = class_breaks(values, 5, "quantiles")
    assert breaks == [3.0, 5.0, 8.0] and class_ranges(values, breaks, "{:.0f}") == ["3", "5", "8"]


def test_choropleth_legend_uses_the_ranges_of_the_values_held():
    cells = [MultiPolygon([box(119.29 + 0.001 * i, 26.08, 119.2909 + 0.001 * i, 26.081)]) for i in range(69)]
    units = gpd.GeoDataFrame({"code": [f"35010200{i:04d}" for i in range(69)], "name": ["社区"] * 69,
                              "value": MOSTLY_ZERO}, geometry=cells, crs=CRS)
    items = LAYERS["choropleth"].legend(units, value_format="{:.1f}")
    assert [label for label, _ in items] == ["0.0–0.3", "0.5–0.7", "0.9", "1.1–1.4", "1.6–1.8"]


# ---------------------------------------------------------------- only what is drawn


def stations(kinds: list[StationKind]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [f"S{i}" for i in range(len(kinds))], "name": ["站"] * len(kinds),
                             "kind": [k.value for k in kinds]},
                            geometry=[Point(119.30 + 0.001 * i, 26.085) for i in range(len(kinds))], crs=CRS)


def test_stations_legend_lists_only_the_kinds_drawn():
    one = stations([StationKind.ELDERLY_HOME, StationKind.ELDERLY_HOME])
    assert LAYERS["stations"].legend_items(one) == [(StationKind.ELDERLY_HOME.label, StationKind.ELDERLY_HOME.color)]
    two = stations([StationKind.VOLUNTEER, StationKind.ELDERLY_HOME])
    assert [label for label, _ in LAYERS["stations"].legend_items(two)] == \
        [k.label for k in StationKind if k in (StationKind.VOLUNTEER, StationKind.ELDERLY_HOME)]
    m = build_map((119.29, 26.08, 119.32, 26.09), asset_mode="url", prefix="/v")
    add_layers(m, {"stations": one}, level="community")
    inner = m._children["legend"].inner_html
    assert inner.count("<li>") == 1 and StationKind.VOLUNTEER.label not in inner


# ---------------------------------------------------------------- the legend control


def test_legend_has_a_fold_button_and_checks_its_position():
    inner = legend_html([LegendSection("网格", (("在岗", "#26a69a"),))])
    assert re.search(r'<button type="button" class="gl-legend-toggle" aria-expanded="true"[^>]*>图例', inner)
    assert '<div class="gl-legend-body">' in inner
    legend = Legend([LegendSection("网格", (("在岗", "#26a69a"),))], position=AUTO)
    assert legend.js_options["auto"] and legend.js_options["narrow"] == NARROW_PX == 600
    with pytest.raises(ValueError, match="auto"):
        Legend([], position="middle")


def clustered_units() -> gpd.GeoDataFrame:
    """Sixteen small units packed into the top-left quarter of the bounds, one tiny unit at the far corner."""
    cells = [box(119.290 + 0.003 * (i % 4), 26.100 - 0.003 * (i // 4) - 0.003,
                 119.290 + 0.003 * (i % 4) + 0.003, 26.100 - 0.003 * (i // 4)) for i in range(16)]
    cells.append(box(119.318, 26.080, 119.320, 26.082))
    return gpd.GeoDataFrame({"code": [f"U{i}" for i in range(17)], "name": [f"单元{i}" for i in range(17)],
                             "value": list(range(17))}, geometry=[MultiPolygon([c]) for c in cells], crs=CRS)


def open_map(tmp_path, width: int, height: int, actions):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        from tests.conftest import skip_or_fail
        skip_or_fail("Chromium not installed (/usr/bin/chromium)", "REQUIRE_BROWSER")
    units = clustered_units()
    m = build_map(units.total_bounds, asset_mode="url", prefix=str(tmp_path / "vendor"))
    add_layers(m, {"choropleth": units}, ["choropleth"], level="street", value_label="每千户纠纷数")
    assets.copy_assets(tmp_path / "vendor")
    path = tmp_path / "map.html"
    m.save(str(path))
    name = re.search(r'id="(map_[0-9a-f]+)"', path.read_text()).group(1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => document.querySelector('.gl-legend') !== null", timeout=10_000)
        page.wait_for_timeout(300)
        try:
            return actions(page, name, units.total_bounds)
        finally:
            browser.close()


_LEGEND_STATE = """() => { const d = document.querySelector('.gl-legend');
    return {corner: d.parentElement.className, folded: d.classList.contains('gl-collapsed'),
            body: d.querySelector('.gl-legend-body').offsetHeight, covered: Number(d.dataset.covered),
            expanded: d.querySelector('.gl-legend-toggle').getAttribute('aria-expanded')}; }"""
_SCOPE_INSIDE = """([n, b]) => { const v = window[n].getBounds();
    return v.contains([[b[1], b[0]], [b[3], b[2]]]); }"""


def test_legend_moves_to_the_emptiest_corner_on_a_wide_map(tmp_path):
    state = open_map(tmp_path, 1000, 700, lambda page, name, b: page.evaluate(_LEGEND_STATE))
    assert state["folded"] is False and state["body"] > 0 and state["expanded"] == "true"
    assert "leaflet-left" not in state["corner"] or "leaflet-bottom" in state["corner"]  # not over the cluster
    assert state["covered"] <= 2


def test_legend_starts_folded_on_a_narrow_map_and_opens_on_click(tmp_path):
    def act(page, name, b):
        before = page.evaluate(_LEGEND_STATE)
        page.locator(".gl-legend-toggle").click()
        after = page.evaluate(_LEGEND_STATE)
        page.set_viewport_size({"width": 360, "height": 640})  # the reader's choice stays on resize
        page.wait_for_timeout(200)
        return before, after, page.evaluate(_LEGEND_STATE)

    before, after, resized = open_map(tmp_path, NARROW_PX - 10, 700, act)
    assert before["folded"] is True and before["body"] == 0 and before["expanded"] == "false"
    assert after["folded"] is False and after["body"] > 0
    assert resized["folded"] is False


def test_view_refits_the_scope_when_the_frame_resizes_until_the_reader_moves(tmp_path):
    def act(page, name, b):
        inside = [page.evaluate(_SCOPE_INSIDE, [name, list(b)])]
        page.set_viewport_size({"width": 300, "height": 700})
        page.wait_for_timeout(300)
        inside.append(page.evaluate(_SCOPE_INSIDE, [name, list(b)]))
        page.evaluate("n => window[n].setZoom(window[n].getZoom() + 2)", name)  # the reader zooms in
        page.set_viewport_size({"width": 900, "height": 700})
        page.wait_for_timeout(300)
        inside.append(page.evaluate(_SCOPE_INSIDE, [name, list(b)]))
        return inside

    assert open_map(tmp_path, 900, 700, act) == [True, True, False]


# ---------------------------------------------------------------- the briefing PDF's map


def test_pdf_map_outlines_every_class_and_lists_distinct_labels():
    values = pd.Series(MOSTLY_ZERO[:9] + MOSTLY_ZERO[-6:])
    cells = [MultiPolygon([box(119.29 + 0.004 * i, 26.08, 119.2938 + 0.004 * i, 26.085)]) for i in range(15)]
    units = gpd.GeoDataFrame({"code": [f"C{i}" for i in range(15)], "name": [f"社区{i}" for i in range(15)],
                              "value": values}, geometry=cells, crs=CRS)
    from layers.choropleth import unit_fills

    fills, legend = unit_fills(units, value_format="{:.1f}", palette="YlOrRd")
    b = SimpleNamespace(units=units.assign(fill=fills), indicator_label="每千户纠纷数", legend=legend)
    d = pdf._map_drawing(b)
    polys = [s for s in d.contents if isinstance(s, Polygon)]
    swatches = [s for s in d.contents if isinstance(s, Rect)]
    assert "#ffffcc" in fills and len(polys) == 15 and len(swatches) == len(legend)
    for shape in polys + swatches:  # the lightest class too: a visible, non-white edge
        assert shape.strokeWidth > 0 and shape.strokeColor not in (None, colors.white)
        assert shape.strokeColor.red < 0.8
    texts = [s.text for s in d.contents if isinstance(s, String)]
    shown = [t for t in texts if t in {pdf._plain(label) for label, _ in legend}]
    assert len(shown) == len(legend) and len(set(shown)) == len(shown)
    assert all(numbers(a)[-1] != numbers(c)[0] for a, c in pairwise(shown))
    ys = sorted(s.y for s in d.contents if isinstance(s, String) and s.text in shown)
    assert all(y2 - y1 >= 10 for y1, y2 in pairwise(ys))  # 8.5 pt text, one line each: no overlap
    assert isinstance(d, Drawing) and np.isfinite(d.width)
