"""What of the reference layers (参考图层: roads, buildings, water, place names) a view shows, and how coarse.

A view is described by its level (district / street / community / grid) and its simplification tolerance in
metres, half a screen pixel of the view (``layers.common.view_tolerance_m``; on paper half a point): so a
pixel is ``2 × tolerance_m`` metres. The rules, all on frames in WGS84 (EPSG:4326) with ``kind``, ``name``,
``subtype`` and geometry (``data.reference.read_reference``):

- what cannot be seen is dropped: buildings and water areas smaller than a pixel, lines shorter than one;
- at district level minor roads (支路 and unclassified) are dropped while the view has roads of a main class,
  the roads of each class are merged into one feature (``shapely.line_merge``), and no names are drawn;
- geometry is simplified by the view's tolerance; a view holding more than ``VERTEX_BUDGET`` vertices is
  treated as zoomed out further (tolerance doubled, smaller things dropped) until it fits, so the map's
  payload stays bounded whatever was imported;
- names (place names, and the names of main roads) only below district level, one label per road name.

Pure functions: the input is never changed; an empty frame gives an empty frame.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs, require_crs
from geo.errors import GuloError
from geo.scope import as_level
from geo.vocab import Level, ReferenceKind, RoadClass

NAME = "参考图层"
ROAD_TOKENS: dict[RoadClass, tuple[str, ...]] = {
    RoadClass.EXPRESS: ("motorway", "trunk", "expressway", "高速", "快速", "国道"),
    RoadClass.MAJOR: ("primary", "主干", "省道"),
    RoadClass.SECONDARY: ("secondary", "tertiary", "次干", "县道"),
}
"""Words in a road's ``subtype`` (OpenStreetMap ``highway`` values, Chinese class names) that set its class;
anything else, and no subtype, is a minor road."""
MAIN_ROADS = (RoadClass.EXPRESS, RoadClass.MAJOR, RoadClass.SECONDARY)
"""Road classes drawn at district level and named from street level down."""
ROAD_WIDTH = {RoadClass.EXPRESS: 3.6, RoadClass.MAJOR: 2.8, RoadClass.SECONDARY: 1.8, RoadClass.MINOR: 1.0}
"""Line width of a road class in screen pixels (on paper: the same numbers × ``layers``' scale, in points)."""
MIN_AREA_PX = 1.0
"""Buildings and water areas smaller than this many square pixels are not drawn."""
VERTEX_BUDGET = 25_000
"""Most vertices one view draws (about 0.5 MB of coordinates); beyond it the view is coarsened."""
COARSER_STEPS = 8
"""How often a view over the budget is coarsened (tolerance doubled) before it is drawn as it is."""
MAX_NAMES = 300
"""Most name labels one view carries (place names first, then main roads from the highest class)."""
EDGE_COLOR = {ReferenceKind.WATER.value: "#8fb8d8", ReferenceKind.BUILDING.value: "#cbc1b6"}
"""Outline of a water or building area (a shade darker than its fill, ``ReferenceKind.color``)."""
COLUMNS = ["kind", "name", "subtype", "road_class", "geometry"]
_KIND_ORDER = {ReferenceKind.WATER.value: 0, ReferenceKind.BUILDING.value: 1, ReferenceKind.ROAD.value: 2}
_LINES = ("LineString", "MultiLineString")


def road_class(subtype) -> RoadClass:
    """The class of a road from its ``subtype`` text (case-insensitive words of ``ROAD_TOKENS``, or a class's
    value or Chinese label); MINOR when none matches or the subtype is missing."""
    if subtype is None or (not isinstance(subtype, str) and pd.isna(subtype)):
        return RoadClass.MINOR
    text = str(subtype).strip().lower()
    for cls in RoadClass:
        if text in (cls.value, cls.label):
            return cls
    for cls, words in ROAD_TOKENS.items():
        if any(w in text for w in words):
            return cls
    return RoadClass.MINOR


def draw_rank(kind: str, road_class: str | None, area: bool) -> tuple[int, int, bool]:
    """Sort key of what is drawn first (lowest): water, buildings, roads from minor to main; areas before lines."""
    rank = -list(RoadClass).index(RoadClass(road_class)) if isinstance(road_class, str) else 0
    return _KIND_ORDER.get(kind, 3), rank, not area


def read_bounds(bounds, margin: float = 0.6) -> tuple[float, float, float, float]:
    """The area to read reference features for a map fitted to ``bounds`` (min lon, min lat, max lon, max lat;
    degrees): the square around them (in metres on the ground), widened by ``margin`` of its side on every side,
    so that a map of another shape than the scope (a phone held upright, a wide screen) is filled to its edges."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    aspect = math.cos(math.radians((y0 + y1) / 2)) or 1.0  # metres of a degree of longitude / of latitude
    side = max((x1 - x0) * aspect, y1 - y0) * (1 + 2 * margin)  # degrees of latitude
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - side / aspect / 2, cy - side / 2, cx + side / aspect / 2, cy + side / 2



def pixel_m(tolerance_m: float) -> float:
    """The size of a screen pixel in metres for a view simplified by ``tolerance_m`` (half a pixel)."""
    if not tolerance_m > 0:
        raise GuloError(f"简化容差应为正的米数，而不是 {tolerance_m}")
    return 2.0 * float(tolerance_m)


def _checked(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame's rows with a geometry, a ``road_class`` column (roads only) and the columns of ``COLUMNS``."""
    require_crs(frame, NAME)
    if "kind" not in frame.columns:
        raise GuloError(f"{NAME}缺少字段：kind")
    out = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    for col in ("name", "subtype"):
        if col not in out.columns:
            out[col] = None
    roads = out["kind"] == ReferenceKind.ROAD.value
    out["road_class"] = [road_class(s).value if r else None for s, r in zip(out["subtype"], roads)]
    return gpd.GeoDataFrame(out[COLUMNS], geometry="geometry", crs=frame.crs)


def _big_enough(metric: gpd.GeoDataFrame, px: float) -> np.ndarray:
    """Whether each feature (metric CRS) is at least a pixel long (lines) or a pixel in area (polygons)."""
    geoms = np.asarray(metric.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    lines = np.isin(kinds, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    areas = np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    big = np.ones(len(geoms), dtype=bool)
    big[lines] = shapely.length(geoms[lines]) >= px
    big[areas] = shapely.area(geoms[areas]) >= MIN_AREA_PX * px * px
    return big


def _shown_kinds(frame: gpd.GeoDataFrame, level: Level) -> np.ndarray:
    """Rows shown at ``level`` whatever their size: no place names and no minor roads (while main roads exist)
    at district level; place names only with a name."""
    kind, cls = frame["kind"].to_numpy(), frame["road_class"].to_numpy()
    named = frame["name"].notna().to_numpy() & (frame["name"].astype(str).str.strip() != "").to_numpy()
    keep = (kind != ReferenceKind.PLACE.value) | (named & (level is not Level.DISTRICT))
    main = np.isin(cls, [c.value for c in MAIN_ROADS])
    if level is Level.DISTRICT and main.any():
        keep &= (kind != ReferenceKind.ROAD.value) | main
    return keep


def _visible_metric(frame: gpd.GeoDataFrame, level: Level, px: float) -> gpd.GeoDataFrame:
    """The features shown at ``level`` at least a pixel (``px`` metres) in size, in the metric CRS."""
    checked = _checked(frame)
    metric = checked[_shown_kinds(checked, level)].to_crs(metric_crs())
    return metric[_big_enough(metric, px)] if len(metric) else metric


def visible_features(frame: gpd.GeoDataFrame, level: Level | str, tolerance_m: float) -> gpd.GeoDataFrame:
    """The features a view at ``level`` with ``tolerance_m`` (metres, half a pixel) can show, unsimplified,
    EPSG:4326, with ``road_class`` added (roads; None for the rest). See the module's rules."""
    return _visible_metric(frame, as_level(level), pixel_m(tolerance_m)).to_crs(frame.crs)


def merged_roads(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with its road lines merged into one feature per road class (``shapely.line_merge``: segments
    that meet end to end become one line; names dropped); everything else as it was, roads last."""
    roads = (frame["kind"] == ReferenceKind.ROAD.value) & frame.geometry.geom_type.isin(_LINES)
    rows = []
    for cls in RoadClass:
        geoms = frame.geometry[roads & (frame["road_class"] == cls.value)].to_numpy()
        if len(geoms):
            merged = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(geoms)))
            rows.append({"kind": ReferenceKind.ROAD.value, "name": None, "subtype": cls.label,
                         "road_class": cls.value, "geometry": merged})
    merged = gpd.GeoDataFrame(rows, columns=COLUMNS, geometry="geometry", crs=frame.crs)
    return gpd.GeoDataFrame(pd.concat([frame[~roads], merged], ignore_index=True), geometry="geometry",
                            crs=frame.crs)


def vertex_count(frame: gpd.GeoDataFrame) -> int:
    """Number of coordinates of every geometry of ``frame``."""
    return int(shapely.get_num_coordinates(np.asarray(frame.geometry.values, dtype=object)).sum())


def _simplify(metric: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Features (metric CRS) at least a pixel in size, simplified by ``tolerance_m``; polygons keep their
    topology, lines are simplified freely; what collapses is dropped."""
    kept = metric[_big_enough(metric, pixel_m(tolerance_m))]
    geoms = np.asarray(kept.geometry.values, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    out = np.empty(len(geoms), dtype=object)
    out[polygonal] = shapely.simplify(geoms[polygonal], tolerance_m, preserve_topology=True)
    out[~polygonal] = shapely.simplify(geoms[~polygonal], tolerance_m, preserve_topology=False)
    kept = kept.set_geometry(gpd.GeoSeries(out, index=kept.index, crs=metric.crs))
    return kept[~kept.geometry.is_empty & kept.geometry.notna()]


def view_features(frame: gpd.GeoDataFrame, level: Level | str, tolerance_m: float,
                  budget: int = VERTEX_BUDGET) -> tuple[gpd.GeoDataFrame, float]:
    """What a view draws: (features, tolerance used in metres). The visible features (``visible_features``),
    roads merged per class at district level, simplified by the view's tolerance, or by a coarser one (doubled,
    at most ``COARSER_STEPS`` times) while more than ``budget`` vertices remain. EPSG:4326, ``COLUMNS``."""
    level = as_level(level)
    metric, tol = _visible_metric(frame, level, pixel_m(tolerance_m)), float(tolerance_m)
    if level is Level.DISTRICT and len(metric):
        metric = merged_roads(metric)
    out = _simplify(metric, tol)
    for _ in range(COARSER_STEPS):
        if vertex_count(out) <= budget:
            break
        tol *= 2
        out = _simplify(metric, tol)
    out = out.to_crs(frame.crs)
    out["road_class"] = out["road_class"].astype(object).where(out["road_class"].notna(), None)
    return out, tol


def _label_point(geom) -> shapely.Point:
    """Where a name goes: the point itself, the middle of the longest line, or a point inside the largest area."""
    parts = shapely.get_parts(geom)
    if shapely.get_type_id(parts[0]) == 0:
        return parts[0]
    if shapely.get_type_id(parts[0]) in (1, 2):
        line = max(parts, key=lambda g: g.length)
        return line.interpolate(0.5, normalized=True)
    return max(parts, key=lambda g: g.area).point_on_surface()


def name_points(frame: gpd.GeoDataFrame, level: Level | str, limit: int = MAX_NAMES) -> gpd.GeoDataFrame:
    """The name labels of a view: ``kind``, ``name``, ``road_class`` and a point (EPSG:4326). Place names
    first, then one label per named main road (the middle of its longest merged line), highest class first;
    at most ``limit``; none at district level."""
    if as_level(level) is Level.DISTRICT:
        return gpd.GeoDataFrame(columns=["kind", "name", "road_class", "geometry"], geometry="geometry", crs=frame.crs)
    checked = _checked(frame)
    named = checked[checked["name"].notna() & (checked["name"].astype(str).str.strip() != "")]
    places = named[named["kind"] == ReferenceKind.PLACE.value]
    rows = [{"kind": ReferenceKind.PLACE.value, "name": str(n).strip(), "road_class": None, "geometry": _label_point(g)}
            for n, g in zip(places["name"], places.geometry)]
    roads = named[(named["kind"] == ReferenceKind.ROAD.value) & named.geometry.geom_type.isin(_LINES)]
    for cls in MAIN_ROADS:
        same = roads[roads["road_class"] == cls.value]
        for name, group in same.groupby(same["name"].astype(str).str.strip(), sort=False):
            line = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(group.geometry.to_numpy())))
            rows.append({"kind": ReferenceKind.ROAD.value, "name": name, "road_class": cls.value,
                         "geometry": _label_point(line)})
    return gpd.GeoDataFrame(rows[:limit], columns=["kind", "name", "road_class", "geometry"], geometry="geometry",
                            crs=frame.crs)
