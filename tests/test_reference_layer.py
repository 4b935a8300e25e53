"""The reference layers (参考图层) on the map: what a view shows and how coarse (geo.reference_view), how they are
drawn (layers.reference: a pane of their own under every overlay), wired into the pages' maps (one read per view,
20,000 road segments in at most 1 MB) and into the briefing PDF's map.

Reference features here are generated (a street grid with detailed, wiggly segments, a river, buildings, place
names) and written with data.reference.replace_reference into a test database, never into the sample district.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from reportlab.graphics.shapes import Polygon, PolyLine
from reportlab.lib import colors
from shapely.geometry import LineString, Point, box
from streamlit.testing.v1 import AppTest

from geo.crs import metric_crs
from geo.reference_view import (
    COARSER_STEPS,
    merged_roads,
    name_points,
    read_bounds,
    road_class,
    vertex_count,
    view_features,
    visible_features,
)
from geo.vocab import ReferenceKind, RoadClass
from layers import reference as ref_layer
from layers.common import view_tolerance_m
from layers.features import FeatureLayer
from layers.mapbuild import add_layers, build_map

CRS = "EPSG:4326"
ROOT = Path(__file__).resolve().parent.parent
DISTRICT_BOUNDS = (119.2429, 26.0651, 119.3209, 26.1253)  # the sample district's streets, about 7.8 × 6.7 km
ZHONGSHAN = "350102001001"  # 中山社区 (鼓东街道)
LIMIT_BYTES = 1_000_000
XSS = "<img src=x onerror=alert(1)>"


# ---------------------------------------------------------------- generated reference features

def grid_roads(bounds=DISTRICT_BOUNDS, lines: int = 101, detail_m: float = 3.5, seed: int = 1) -> gpd.GeoDataFrame:
    """A street grid over ``bounds``: ``lines`` east-west and north-south roads cut at every crossing
    (2 × lines × (lines − 1) segments; 101 lines: 20,200), each segment with 10 inner vertices offset by up to
    ``detail_m`` metres across the road: detail the community view (3 m tolerance) keeps much of and the district
    view (3.9 m) drops, so that a district map simplified with the community's tolerance would show. Every 10th line is a 主干路
    and every 5th otherwise a 次干路, the rest 支路; each line is named (东西12路, 南北30路). EPSG:4326."""
    x0, y0, x1, y1 = bounds
    rng = np.random.default_rng(seed)
    xs, ys = np.linspace(x0, x1, lines), np.linspace(y0, y1, lines)
    per_lat, per_lon = 111_320.0, 111_320.0 * math.cos(math.radians((y0 + y1) / 2))
    t = np.linspace(0, 1, 12)
    geoms, classes, names = [], [], []
    for axis, (fixed, along) in enumerate(((ys, xs), (xs, ys))):
        for i, at in enumerate(fixed):
            cls = "主干路" if i % 10 == 0 else "次干路" if i % 5 == 0 else "支路"
            for j in range(lines - 1):
                run = along[j] + t * (along[j + 1] - along[j])
                run[[0, -1]] = along[j], along[j + 1]  # segments meet exactly end to end
                off = rng.uniform(-detail_m, detail_m, len(t))
                off[[0, -1]] = 0
                pts = (np.c_[run, at + off / per_lat] if axis == 0 else np.c_[at + off / per_lon, run])
                geoms.append(LineString(pts))
                classes.append(cls)
                names.append(f"{'东西' if axis == 0 else '南北'}{i}路")
    return gpd.GeoDataFrame({"kind": "road", "name": names, "subtype": classes}, geometry=geoms, crs=CRS)


def river(bounds=DISTRICT_BOUNDS) -> gpd.GeoDataFrame:
    """A winding river band (about 150 m wide) across ``bounds``."""
    x0, y0, x1, y1 = bounds
    xs = np.linspace(x0 - 0.01, x1 + 0.01, 200)
    yc = y0 + 0.45 * (y1 - y0) + 0.006 * np.sin((xs - x0) * 90)
    band = shapely.Polygon(list(zip(xs, yc + 0.0007)) + list(zip(xs[::-1], (yc - 0.0007)[::-1])))
    return gpd.GeoDataFrame({"kind": ["water"], "name": ["测试河"], "subtype": ["河流"]}, geometry=[band], crs=CRS)


def buildings(bounds=DISTRICT_BOUNDS, n: int = 3000, seed: int = 2) -> gpd.GeoDataFrame:
    """``n`` rectangles of about 9–33 m by 9–22 m scattered over ``bounds``."""
    x0, y0, x1, y1 = bounds
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    w, h = rng.uniform(0.00008, 0.0003, n), rng.uniform(0.00008, 0.0002, n)
    return gpd.GeoDataFrame({"kind": ["building"] * n}, geometry=shapely.box(cx - w / 2, cy - h / 2, cx + w / 2,
                                                                           cy + h / 2), crs=CRS)


def places(bounds=DISTRICT_BOUNDS, n: int = 400, seed: int = 3) -> gpd.GeoDataFrame:
    """``n`` place names (测试地名0 …) scattered over ``bounds``."""
    x0, y0, x1, y1 = bounds
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"kind": "place", "name": [f"测试地名{i}" for i in range(n)]},
                            geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)), crs=CRS)


def store_reference(url: str, detail_m: float = 3.5, n_buildings: int = 500) -> None:
    """Write the generated roads (20,200 segments), river, buildings and place names into the database at ``url``.
    With 500 buildings the district view fits its vertex budget even at the community's tolerance, so that only
    the view's own tolerance keeps its roads lean (a wiring that lost it would show in the vertices per km)."""
    from data.reference import replace_reference
    from data.store import engine_for

    engine = engine_for(url)
    for kind, frame in (("road", grid_roads(detail_m=detail_m)), ("water", river()), ("building", buildings(n=n_buildings)),
                        ("place", places())):
        replace_reference(engine, kind, frame, "测试生成", "tester")


# ---------------------------------------------------------------- hand-built tiny frames

def zigzag(x0: float, y0: float, x1: float, n: int = 400, amp_m: float = 1.0, seed: int = 4) -> LineString:
    """An east-west line of ``n`` vertices wandering north and south (a random walk, steps of about ``amp_m``
    metres): detail at every scale, so every coarser tolerance keeps fewer vertices."""
    walk = np.cumsum(np.random.default_rng(seed).normal(0, amp_m, n))
    walk -= np.linspace(walk[0], walk[-1], n)  # ends on the axis
    return LineString(np.c_[np.linspace(x0, x1, n), y0 + walk / 111_320.0])


def tiny_frame() -> gpd.GeoDataFrame:
    """A main road and a minor road (both detailed), a 2 m and a 30 m building, a river, a place name."""
    return gpd.GeoDataFrame(
        {"kind": ["road", "road", "building", "building", "water", "place"],
         "name": ["鼓屏路", "小巷", None, None, "白马河", "三坊七巷"],
         "subtype": ["主干路", "支路", None, None, None, None]},
        geometry=[zigzag(119.29, 26.085, 119.32), zigzag(119.29, 26.087, 119.32, seed=5),
                  box(119.2950, 26.0820, 119.29502, 26.08202), box(119.3000, 26.0820, 119.3003, 26.0823),
                  box(119.29, 26.0805, 119.32, 26.0810), Point(119.305, 26.088)], crs=CRS)


def classes(frame: gpd.GeoDataFrame) -> set[str]:
    return set(frame.loc[frame["kind"] == "road", "road_class"])


# ---------------------------------------------------------------- pure rules

@pytest.mark.parametrize(("subtype", "expected"), [
    ("主干路", RoadClass.MAJOR), ("城市快速路", RoadClass.EXPRESS), ("次干道", RoadClass.SECONDARY),
    ("支路", RoadClass.MINOR), ("primary", RoadClass.MAJOR), ("Motorway_Link", RoadClass.EXPRESS),
    ("tertiary", RoadClass.SECONDARY), ("residential", RoadClass.MINOR), (None, RoadClass.MINOR),
    (float("nan"), RoadClass.MINOR), ("major", RoadClass.MAJOR),
])
def test_road_class_is_read_from_the_subtype(subtype, expected):
    assert road_class(subtype) is expected


def test_minor_roads_are_dropped_at_district_zoom_and_kept_below():
    frame = tiny_frame()
    assert classes(visible_features(frame, "district", 3.9)) == {"major"}
    assert classes(visible_features(frame, "street", 3.0)) == {"major", "minor"}
    assert classes(visible_features(frame, "community", 3.0)) == {"major", "minor"}


def test_unclassified_roads_still_show_at_district_zoom():
    only_minor = tiny_frame().iloc[[1]]
    assert classes(visible_features(only_minor, "district", 3.9)) == {"minor"}


@pytest.mark.parametrize(("tolerance_m", "buildings_kept"), [(0.5, 2), (3.0, 1), (20.0, 0)])
def test_buildings_smaller_than_a_pixel_are_dropped(tolerance_m, buildings_kept):
    """A pixel is 2 × tolerance: 1 m (both shown), 6 m (the 2 m hut goes), 40 m (the 30 m block goes too)."""
    shown = visible_features(tiny_frame(), "community", tolerance_m)
    assert (shown["kind"] == "building").sum() == buildings_kept


def test_simplification_follows_the_view():
    """The same detailed road seen in ever wider views: the tolerance grows (half a pixel) and fewer vertices stay."""
    road = gpd.GeoDataFrame({"kind": ["road"], "name": ["鼓屏路"], "subtype": ["主干路"]},
                            geometry=[zigzag(119.29, 26.085, 119.32, n=2000, amp_m=2)], crs=CRS)
    views = [(119.29, 26.08, 119.30, 26.09), DISTRICT_BOUNDS, (119.1, 26.0, 119.5, 26.2), (118.8, 25.8, 119.8, 26.4)]
    tolerances = [view_tolerance_m(b) for b in views]
    counts = [vertex_count(view_features(road, "community", tol)[0]) for tol in tolerances]
    assert tolerances == sorted(tolerances) and len(set(tolerances)) == len(tolerances), tolerances
    assert all(a > b for a, b in zip(counts, counts[1:])), (tolerances, counts)
    assert counts[0] > 2 * counts[-1]


def test_district_zoom_merges_each_road_class_into_one_line():
    segments = grid_roads((119.29, 26.08, 119.30, 26.09), lines=11, detail_m=0)
    merged = merged_roads(visible_features(segments, "district", 3.0))
    assert sorted(merged["road_class"]) == ["major", "secondary"] and len(segments) == 220
    for geom in merged.geometry:  # lines meeting end to end joined: one part per grid line, not per segment
        assert len(shapely.get_parts(geom)) <= 4
    shown, _ = view_features(segments, "district", 3.0)
    assert len(shown) == 2 and len(view_features(segments, "community", 3.0)[0]) == 220


def test_a_view_over_its_vertex_budget_is_coarsened_until_it_fits():
    roads = grid_roads((119.29, 26.08, 119.31, 26.10), lines=21, detail_m=10)
    full, tol = view_features(roads, "community", 3.0)
    lean, coarser = view_features(roads, "community", 3.0, budget=2_000)
    assert tol == 3.0 and vertex_count(full) > 2_000
    assert vertex_count(lean) <= 2_000 and 3.0 < coarser <= 3.0 * 2 ** COARSER_STEPS
    assert classes(lean) == {"major", "secondary", "minor"}  # coarser, not emptier


def test_names_only_below_district_zoom_one_label_per_road():
    frame = tiny_frame()
    assert name_points(frame, "district").empty
    names = name_points(frame, "community")
    assert list(names["name"]) == ["三坊七巷", "鼓屏路"]  # the place first; the minor road 小巷 is not named
    twice = frame.iloc[[0, 0, 5]]
    assert list(name_points(twice, "street")["name"]) == ["三坊七巷", "鼓屏路"]


def test_read_bounds_fill_a_map_of_any_shape():
    x0, y0, x1, y1 = read_bounds((119.29, 26.08, 119.30, 26.082))  # 1 km by 220 m
    assert x0 < 119.29 - 0.005 and x1 > 119.30 + 0.005
    assert y1 - y0 > 2 * 0.01 * math.cos(math.radians(26.08))  # a tall phone map, its height 2.2× the width


def test_an_empty_frame_draws_nothing_and_has_no_legend():
    empty = tiny_frame().iloc[:0]
    fg = ref_layer.build(empty, level="community", tolerance_m=3.0)
    assert [c for c in fg._children.values() if isinstance(c, FeatureLayer)] == []
    assert ref_layer.legend(empty, level="community") == []
    assert view_features(empty, "district", 3.0)[0].empty and name_points(empty, "community").empty


# ---------------------------------------------------------------- the layer

def leaflet_z(pane: str) -> int:
    """A Leaflet pane's z-index in the vendored leaflet.css (the overlays' panes)."""
    css = (ROOT / "static/vendor/leaflet/leaflet.css").read_text()
    return int(re.search(rf"\.leaflet-{pane}-pane\s*{{\s*z-index:\s*(\d+)", css).group(1))


def feature_layers(element) -> list[FeatureLayer]:
    out = []
    for child in element._children.values():
        out += [child] if isinstance(child, FeatureLayer) else feature_layers(child)
    return out


def reference_group(m):
    return next(c for c in m._children.values() if getattr(c, "layer_name", "") == ref_layer.LABEL)


def test_the_layer_lies_in_its_own_pane_below_every_overlay_and_takes_no_clicks():
    units = gpd.GeoDataFrame({"code": ["1"], "name": ["军门社区"], "value": [1.0]},
                             geometry=[box(119.29, 26.08, 119.32, 26.09)], crs=CRS)
    m = build_map(units.total_bounds, asset_mode="url", prefix="/v")
    add_layers(m, {"choropleth": units, "reference": tiny_frame()}, level="community", tolerance_m=3.0)
    html = m.get_root().render()
    panes = {name: int(z) for name, z in re.findall(r'pane\("(glBase\w+)", (\d+)\)', html)}
    assert panes[ref_layer.PANE] < leaflet_z("overlay") and panes[ref_layer.PANE] > leaflet_z("tile")
    assert leaflet_z("overlay") < panes[ref_layer.NAME_PANE] < leaflet_z("shadow") < leaflet_z("marker")
    shapes, names = feature_layers(reference_group(m))
    styles = [p["style"] for p in shapes.styled_properties()]
    assert styles and all(s["pane"] == ref_layer.PANE and s["interactive"] is False for s in styles)
    assert all("tip" not in f["properties"] and "popup" not in f["properties"] for f in shapes.data["features"])
    assert {f["properties"]["pane"] for f in names.data["features"]} == {ref_layer.NAME_PANE}
    names_in_order = [getattr(c, "layer_name", None) for c in m._children.values()]
    assert names_in_order.index(ref_layer.LABEL) < names_in_order.index("指标分级")  # added first: the lowest


def test_muted_colours_and_road_widths_by_class():
    shapes = feature_layers(ref_layer.build(tiny_frame(), level="community", tolerance_m=1.0))[0]
    by_colour = {p["style"].get("fillColor") if p["style"].get("fill") else p["style"]["color"]: p["style"]
                 for p in shapes.styled_properties()}
    assert set(by_colour) == {ReferenceKind.WATER.color, ReferenceKind.BUILDING.color, RoadClass.MAJOR.color,
                              RoadClass.MINOR.color}
    assert by_colour[RoadClass.MAJOR.color]["weight"] > by_colour[RoadClass.MINOR.color]["weight"]
    order = [p["style"].get("fillColor") if p["style"].get("fill") else p["style"]["color"]
             for p in shapes.styled_properties()]  # water, buildings, then roads with the main road on top
    assert order == [ReferenceKind.WATER.color, ReferenceKind.BUILDING.color, RoadClass.MINOR.color,
                     RoadClass.MAJOR.color]


def test_names_are_escaped():
    frame = tiny_frame()
    frame.loc[5, "name"] = XSS
    names = feature_layers(ref_layer.build(frame, level="community", tolerance_m=3.0))[1]
    labels = [f["properties"]["label"] for f in names.data["features"]]
    assert "&lt;img src=x onerror=alert(1)&gt;" in labels and XSS not in names.data_json


# ---------------------------------------------------------------- the pages' maps, with 20,000 road segments

@pytest.fixture(scope="module")
def roads_db(tmp_path_factory) -> str:
    """The sample district with the generated reference layers (20,200 road segments) stored."""
    from data.store import open_store
    from geo.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'app.db'}"
    open_store(Settings.load({"database_url": url}))
    store_reference(url)
    return url


def page_ctx(url: str, scope: str = ""):
    """The PageContext a page would get for ``scope``, outside a browser session."""
    from dashboard.context import PageContext, _hierarchy, _layer, _open
    from data.store import data_version
    from geo.rollup import data_as_of
    from geo.scope import Scope
    from geo.settings import Settings

    s = Settings.load({"database_url": url})
    version = data_version(_open(url, s))
    return PageContext(s, version, Scope(scope), data_as_of(_layer(url, "disputes", "", version)), 30,
                       _hierarchy(url, version))


def situation_map(url: str, scope: str, keys: tuple[str, ...]):
    from dashboard.mapview import scope_map

    return scope_map(page_ctx(url, scope), keys, "disputes_per_1000", "none", False)


def payload_bytes(m) -> int:
    """What streamlit-folium sends to the browser for the map: its script, body HTML and header, in bytes."""
    from dashboard.foliumview import render_args

    args = render_args(m)
    return sum(len(str(args[k]).encode()) for k in ("script", "html", "header"))


def road_vertices_per_km(m) -> float:
    """Vertices per kilometre of the reference layer's road lines in map ``m``."""
    shapes = feature_layers(reference_group(m))[0]
    lines = [shapely.geometry.shape(f["geometry"]) for f, p in zip(shapes.data["features"], shapes.styled_properties())
             if p["style"]["color"] in RoadClass.colors().values() and not p["style"]["fill"]]
    roads = gpd.GeoSeries(lines, crs=CRS)
    return vertex_count(gpd.GeoDataFrame(geometry=roads)) / (roads.to_crs(metric_crs()).length.sum() / 1000)


def test_district_map_with_20000_road_segments_stays_under_1_mb(roads_db, capsys):
    from dashboard.mapview import REFERENCE

    plain = payload_bytes(situation_map(roads_db, "", ("disputes",)))
    m = situation_map(roads_db, "", ("disputes", REFERENCE))
    size = payload_bytes(m)
    with capsys.disabled():
        print(f"\ndistrict map payload: {plain:,} B without, {size:,} B with 20,200 road segments")
    assert size <= LIMIT_BYTES
    shapes = feature_layers(reference_group(m))[0]
    drawn = {p["style"].get("color") for p in shapes.styled_properties()}
    assert RoadClass.MAJOR.color in drawn and RoadClass.MINOR.color not in drawn  # main roads, merged per class
    generated = grid_roads(detail_m=0)
    main_km = generated[generated["subtype"] != "支路"].to_crs(metric_crs()).length.sum() / 1000
    lines = [shapely.geometry.shape(f["geometry"]) for f in shapes.data["features"]
             if f["geometry"]["type"] == "MultiLineString"]
    drawn_km = gpd.GeoSeries(lines, crs=CRS).to_crs(metric_crs()).length.sum() / 1000
    assert 0.97 * main_km < drawn_km < 1.2 * main_km, (main_km, drawn_km)  # every main road, at full length


def test_a_community_view_shows_more_detail_than_the_district_view(roads_db):
    from dashboard.mapview import REFERENCE

    district = situation_map(roads_db, "", (REFERENCE,))
    community = situation_map(roads_db, ZHONGSHAN, (REFERENCE,))
    near, far = road_vertices_per_km(community), road_vertices_per_km(district)
    assert near > 2 * far, (near, far)  # about 68 against 3 per km; with the community's tolerance: 53
    drawn = {p["style"].get("color") for p in feature_layers(reference_group(community))[0].styled_properties()}
    assert RoadClass.MINOR.color in drawn  # every road near by
    names = feature_layers(reference_group(community))[1]
    assert any(f["properties"]["label"].startswith("测试地名") for f in names.data["features"])
    assert len(feature_layers(reference_group(district))) == 1  # no names at district zoom


def test_even_20000_main_road_segments_fit_in_1_mb():
    """Every segment a main road, with 6 m of detail: nothing may be dropped, the vertex budget keeps the page small."""
    roads = grid_roads(detail_m=6).assign(subtype="主干路")
    m = build_map(DISTRICT_BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"reference": roads}, level="district", tolerance_m=view_tolerance_m(DISTRICT_BOUNDS))
    assert len(m.get_root().render().encode()) <= LIMIT_BYTES


def test_the_reference_layer_is_read_per_view(roads_db):
    from dashboard.mapview import reference_frames

    ctx = page_ctx(roads_db, ZHONGSHAN)
    near = reference_frames(ctx, ctx.layer("grids").total_bounds)["reference"]
    assert 0 < (near["kind"] == "road").sum() < 20_200 / 10


def test_switched_off_the_reference_layer_is_not_drawn(roads_db):
    off = situation_map(roads_db, "", ("disputes",)).get_root().render()
    assert ref_layer.PANE not in off and "参考图层" not in off


def situation_app(url: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    from tests.test_app import _situation_page

    at = AppTest.from_function(_situation_page, default_timeout=180).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_page_toggles_the_reference_layer_on_by_default(roads_db, monkeypatch):
    from tests.test_app import map_args

    at = situation_app(roads_db, monkeypatch)
    toggle = at.toggle(key="layer_reference")
    assert toggle.label == "参考图层" and toggle.value is True
    assert f'pane("{ref_layer.PANE}"' in map_args(at).replace('\\"', '"')
    toggle.set_value(False).run()
    assert not at.exception and ref_layer.PANE not in map_args(at)


def test_without_reference_features_nothing_is_drawn_and_nothing_offered(filled_sample_db, monkeypatch):
    from dashboard.mapview import REFERENCE, reference_frames
    from tests.test_app import map_args

    assert reference_frames(page_ctx(filled_sample_db), DISTRICT_BOUNDS) == {}
    html = situation_map(filled_sample_db, "", (REFERENCE,)).get_root().render()
    assert ref_layer.PANE not in html and "参考图层" not in html
    at = situation_app(filled_sample_db, monkeypatch)
    assert "layer_reference" not in [t.key for t in at.toggle]
    assert ref_layer.PANE not in map_args(at)


# ---------------------------------------------------------------- the briefing PDF's map

def district_briefing(url: str, monkeypatch):
    from tests.test_overview_page import briefing_for

    return briefing_for(url, monkeypatch, "")


def test_the_pdf_map_draws_the_roads_under_the_units(roads_db, monkeypatch):
    from data import briefing as pdf

    b = district_briefing(roads_db, monkeypatch)
    assert b.reference is not None and (b.reference["kind"] == "road").any()
    shapes = pdf._map_drawing(b).contents
    fills = {colors.HexColor(f) for f in b.units["fill"]}
    units = [i for i, s in enumerate(shapes) if isinstance(s, Polygon) and s.fillColor in fills]
    roads = [i for i, s in enumerate(shapes) if isinstance(s, PolyLine)
             and s.strokeColor in {colors.HexColor(c) for c in RoadClass.colors().values()}]
    assert len(roads) > 10 and units and max(roads) < min(units)  # drawn first: under the units
    assert {shapes[i].fillOpacity for i in units} == {pdf.UNITS_OVER_REFERENCE}
    assert all(s.strokeWidth < 1.5 for s in (shapes[i] for i in roads))  # thin on paper
    plain = pdf._map_drawing(replace(b, reference=None)).contents
    assert not any(isinstance(s, PolyLine) for s in plain) and len(plain) < len(shapes)


def _map_page(pdf_bytes: bytes, folder: Path, name: str):
    """The PDF's map page rendered at 100 dpi (PIL image)."""
    from PIL import Image

    path = folder / f"{name}.pdf"
    path.write_bytes(pdf_bytes)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                                                               check=True).stdout).group(1))
    page = next(p for p in range(1, pages + 1) if "分布图" in subprocess.run(
        ["pdftotext", "-f", str(p), "-l", str(p), str(path), "-"], capture_output=True, text=True).stdout)
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "100", "-png", str(path), str(folder / name)],
                   check=True)
    return Image.open(next(folder.glob(f"{name}-*.png"))).convert("RGB")


def test_the_pdf_page_shows_the_roads_through_the_units(roads_db, monkeypatch, tmp_path):
    """Rendered (pdftoppm), the map page with roads differs from the one without along the road lines: many
    pixels inside the map, darker than without (a grey road shows through the fill)."""
    from data.briefing import briefing_pdf
    from tests.conftest import skip_or_fail

    if not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfinfo")):
        skip_or_fail("pdftoppm / pdftotext / pdfinfo (poppler-utils) are not installed", "REQUIRE_BROWSER")
    b = district_briefing(roads_db, monkeypatch)
    with_roads = np.asarray(_map_page(briefing_pdf(b), tmp_path, "roads"), dtype=int)
    without = np.asarray(_map_page(briefing_pdf(replace(b, reference=None)), tmp_path, "plain"), dtype=int)
    assert with_roads.shape == without.shape
    darker = (with_roads.sum(axis=2) + 30 < without.sum(axis=2))
    rows, cols = np.nonzero(darker)
    assert darker.sum() > 3_000, darker.sum()
    height, width = darker.shape
    assert rows.min() > 0.05 * height and rows.max() < 0.6 * height  # on the map, in its upper half of the page
    assert cols.max() - cols.min() > 0.4 * width  # across the map, not one spot
