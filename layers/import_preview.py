"""The import preview map: a file's records over the stored district, before anything is written.

Input: ``rows``, the frame of ``data.ingest.ImportPreview.row_states()`` (EPSG:4326; columns ``_row``,
``state`` = new / update / problem, ``label``, ``reason``, ``stored_geom`` and the incoming geometry,
points or polygons, possibly None), and ``units``, the stored community polygons (EPSG:4326, ``code``,
``name``). Drawn, bottom to top:

- the stored units as light grey outlines, their names in the tooltip;
- for each update whose position moved more than :data:`MOVED_M` metres: a thin dashed grey line
  from the stored position to the file's and a small hollow grey circle at the stored one, so a
  systematic shift (GCJ-02 in a file declared WGS84: about 500 m in Fuzhou) shows as parallel arrows;
- the records, coloured by ``geo.vocab.ImportRowState``: points as circles, polygons as outlines,
  each with the tooltip 第 N 行 · name · state (and the problems of that row), every text escaped.

The view fits the units and the records within :data:`NEAR_M` of them; records farther away (lon/lat
swapped, another city) are drawn but never zoom the map out to the whole country:
:func:`outside_view` counts them for the page. A "position" is a point itself or the centroid of a
polygon (computed in EPSG:32650).
"""
from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.crs import metric_crs, require_crs, to_gcj02
from geo.settings import Settings
from geo.vocab import ImportRowState
from layers.assets import normalise_mode
from layers.basemaps import needs_gcj02
from layers.boundaries import COMMUNITY_LABEL
from layers.common import (
    METRES_PER_DEGREE,
    HeaderStyle,
    enum_members,
    esc,
    is_missing,
    require_columns,
    round_coords,
    simplified,
    view_tolerance_m,
)
from layers.features import FeatureLayer
from layers.legend import Legend, LegendSection
from layers.mapbuild import build_map

ROW_COLUMNS = ("_row", "state", "label", "reason", "stored_geom")
MOVED_M = 20.0
"""An update whose position moved more than this many metres gets a line from its stored position."""
NEAR_M = 5_000.0
"""Records farther than this from the units' bounding box do not widen the map's view."""
CANVAS_ROWS = 2_000
"""With more records than this the map draws on one canvas instead of one SVG path per record."""
FALLBACK_BOUNDS = (119.25, 26.04, 119.34, 26.13)
"""About Gulou District (lon/lat), for a map with neither units nor records to fit."""
REASON_CHARS = 160
UNIT_COLOR = "#9e9e9e"
STORED_COLOR = "#616161"
STORED_LABEL = "库中位置"
MOVE_LABEL = "库中位置 → 文件位置"
RECORD_RADIUS = 6

COLOUR_WORDS = {ImportRowState.NEW: "绿", ImportRowState.UPDATE: "蓝", ImportRowState.PROBLEM: "橙红"}
"""The colour of each state in words, for a caption beside the map."""

_UNIT_STYLE = {"color": UNIT_COLOR, "weight": 1, "opacity": 0.9, "fillColor": "#eceff1", "fillOpacity": 0.25}
_MOVE_STYLE = {"color": STORED_COLOR, "weight": 1.5, "opacity": 0.9, "dashArray": "4 4"}
_STORED_STYLE = {"color": STORED_COLOR, "weight": 1.5, "opacity": 0.9, "fillOpacity": 0, "radius": 4}
_HIGHLIGHT = {"weight": 3}
LEGEND_BAND_PX = 64
"""Pixels kept free along the top of the fitted view for the legend (two lines on a phone)."""
_STORED_SECTION = "库中数据"
_MAP_CSS = f"""
.leaflet-tooltip {{ white-space: normal; width: max-content; max-width: 280px; }}
.leaflet-container .gl-legend {{ max-width: calc(100vw - 76px); padding: 4px 8px; }}
.leaflet-container .gl-legend h4, .leaflet-container .gl-legend h5 {{ display: none; }}
.leaflet-container .gl-legend-section, .leaflet-container .gl-legend ul {{ display: inline; }}
.leaflet-container .gl-legend li {{ display: inline-block; margin-right: 10px; }}
.leaflet-container .gl-legend-section[data-layer="{_STORED_SECTION}"] li:nth-child(2) i {{ border-top-style: dashed;
  width: 18px; }}
"""
"""Tooltips that wrap long problem text; the legend as one or two lines along the top, off the records."""
_DRAW_ORDER = {ImportRowState.UPDATE: 0, ImportRowState.NEW: 1, ImportRowState.PROBLEM: 2}  # problems on top


def check_rows(rows: gpd.GeoDataFrame) -> list[ImportRowState]:
    """The state of every row after checking the CRS (EPSG:4326), columns and state values."""
    require_crs(rows, "导入记录")
    require_columns(rows, ROW_COLUMNS, "导入记录")
    return enum_members(rows["state"], ImportRowState, "导入记录")


def state_counts(rows: gpd.GeoDataFrame) -> dict[ImportRowState, int]:
    """Rows per state, every state listed (zero included), in the order of ``ImportRowState``."""
    states = check_rows(rows)
    return {s: sum(1 for x in states if x is s) for s in ImportRowState}


def _has_geometry(geoms: gpd.GeoSeries) -> np.ndarray:
    return np.asarray(geoms.notna() & ~geoms.is_empty, dtype=bool)


def positions(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are, polygons by their centroid (computed in EPSG:32650); same CRS and index."""
    metric = geoms.to_crs(metric_crs())
    return metric.centroid.to_crs(geoms.crs)


def moved_updates(rows: gpd.GeoDataFrame, min_m: float = MOVED_M) -> gpd.GeoDataFrame:
    """Updates whose position lies more than ``min_m`` metres from the stored record's.

    Columns ``_row``, ``label``, ``distance_m``, ``stored`` (the stored position) and the geometry
    (the file's position), EPSG:4326 points; empty when none moved."""
    states = check_rows(rows)
    stored = gpd.GeoSeries(list(rows["stored_geom"]), index=rows.index, crs=rows.crs)
    mask = (np.array([s is ImportRowState.UPDATE for s in states], dtype=bool)
            & _has_geometry(rows.geometry) & _has_geometry(stored))
    new, old = positions(rows.geometry[mask]), positions(stored[mask])
    distance = np.asarray(new.to_crs(metric_crs()).distance(old.to_crs(metric_crs())), dtype=float)
    keep = distance > min_m
    sub = rows[mask][keep]
    return gpd.GeoDataFrame(
        {"_row": sub["_row"].to_numpy(), "label": sub["label"].to_numpy(), "distance_m": distance[keep],
         "stored": gpd.GeoSeries(old.to_numpy()[keep], crs=rows.crs)},
        geometry=gpd.GeoSeries(new.to_numpy()[keep], crs=rows.crs), crs=rows.crs)


def _near_box(units: gpd.GeoDataFrame, margin_m: float) -> shapely.Polygon | None:
    """The units' bounding box grown by ``margin_m`` metres (lon/lat degrees); None without units."""
    require_crs(units, "社区边界")
    geoms = units.geometry[_has_geometry(units.geometry)]
    if geoms.empty:
        return None
    minx, miny, maxx, maxy = geoms.total_bounds
    dy = margin_m / METRES_PER_DEGREE
    dx = dy / max(math.cos(math.radians((miny + maxy) / 2)), 0.1)
    return shapely.box(minx - dx, miny - dy, maxx + dx, maxy + dy)


def near_mask(rows: gpd.GeoDataFrame, units: gpd.GeoDataFrame, margin_m: float = NEAR_M) -> np.ndarray:
    """Boolean array: the row has a geometry within ``margin_m`` metres of the units' bounding box
    (every row with a geometry when there are no units)."""
    check_rows(rows)
    present = _has_geometry(rows.geometry)
    box = _near_box(units, margin_m)
    if box is None:
        return present
    return present & np.asarray(shapely.intersects(np.asarray(rows.geometry.values, dtype=object), box), dtype=bool)


def outside_view(rows: gpd.GeoDataFrame, units: gpd.GeoDataFrame, margin_m: float = NEAR_M) -> int:
    """How many rows have a geometry that lies outside the map's view (beyond ``margin_m`` of the units)."""
    return int((_has_geometry(rows.geometry) & ~near_mask(rows, units, margin_m)).sum())


def without_geometry(rows: gpd.GeoDataFrame) -> int:
    """How many rows have no geometry to draw."""
    return int((~_has_geometry(rows.geometry)).sum())


ROWS_PADDING_DEG = 0.004
"""Padding (degrees, ≈ 400 m) around the file's records when the map fits them, so the neighbouring units show."""


def view_bounds(rows: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
                margin_m: float = NEAR_M) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) lon/lat the map fits: the rows near the units (and the stored positions
    they update) padded by :data:`ROWS_PADDING_DEG`, else the units; never more than ``margin_m``
    beyond the units; :data:`FALLBACK_BOUNDS` when there is nothing to fit."""
    near = rows[near_mask(rows, units, margin_m)]
    stored = gpd.GeoSeries(list(near["stored_geom"]) if "stored_geom" in near else [], crs=rows.crs)
    parts = [g[_has_geometry(g)] for g in (near.geometry, stored)]
    parts = [g for g in parts if not g.empty]
    if parts:
        boxes = np.array([g.total_bounds for g in parts])
        pad = ROWS_PADDING_DEG
        minx, miny = boxes[:, 0].min() - pad, boxes[:, 1].min() - pad
        maxx, maxy = boxes[:, 2].max() + pad, boxes[:, 3].max() + pad
    elif _has_geometry(units.geometry).any():
        minx, miny, maxx, maxy = units.geometry[_has_geometry(units.geometry)].total_bounds
    else:
        return FALLBACK_BOUNDS
    box = _near_box(units, margin_m)
    if box is not None:
        bx0, by0, bx1, by1 = box.bounds
        minx, miny, maxx, maxy = max(minx, bx0), max(miny, by0), min(maxx, bx1), min(maxy, by1)
    return float(minx), float(miny), float(maxx), float(maxy)


def _shown(gdf: gpd.GeoDataFrame, gcj02: bool) -> gpd.GeoDataFrame:
    """The frame as drawn: shifted to GCJ-02 for an Amap basemap, else as it is."""
    return to_gcj02(gdf, "导入记录") if gcj02 and len(gdf) else gdf


def _record_style(state: ImportRowState, point: bool) -> dict:
    if point:
        return {"color": "#ffffff", "weight": 1, "opacity": 1, "fillColor": state.color, "fillOpacity": 0.95,
                "radius": RECORD_RADIUS}
    return {"color": state.color, "weight": 2, "opacity": 0.95, "fillColor": state.color, "fillOpacity": 0.1}


def _headline(row: int, label: object) -> str:
    """第 N 行 · label (escaped; the row number alone without a label)."""
    text = "" if is_missing(label) else str(label).strip()
    return f"第 {int(row)} 行" + (f" · {esc(text)}" if text else "")


def _reason(text: str) -> str:
    text = str(text or "")
    return esc(text if len(text) <= REASON_CHARS else text[:REASON_CHARS] + "…")


def _record_tip(row: dict, state: ImportRowState, moved_m: float | None) -> list[str]:
    tip = [f"{_headline(row['_row'], row['label'])} · {state.label}"]
    if state is ImportRowState.PROBLEM and row.get("reason"):
        tip.append(_reason(row["reason"]))
    if moved_m is not None:
        tip.append(f"距库中位置 {moved_m:,.0f} 米")
    return tip


def _records_layer(rows: gpd.GeoDataFrame, states: list[ImportRowState], moved: gpd.GeoDataFrame) -> FeatureLayer:
    """Every row with a geometry: circles for points, outlines for polygons; problems drawn last."""
    distance = dict(zip(moved["_row"], moved["distance_m"]))
    present = _has_geometry(rows.geometry)
    order = sorted((i for i in range(len(rows)) if present[i]), key=lambda i: _DRAW_ORDER[states[i]])
    records = rows[["_row", "label", "reason"]].to_dict("records")
    geoms = np.asarray(rows.geometry.values, dtype=object)
    props = [{"row": int(records[i]["_row"]), "state": states[i].value,
              "style": _record_style(states[i], geoms[i].geom_type in ("Point", "MultiPoint")),
              "tip": _record_tip(records[i], states[i], distance.get(records[i]["_row"]))} for i in order]
    return FeatureLayer(round_coords(geoms[order]), props, highlight=_HIGHLIGHT)


def _moves_layer(moved: gpd.GeoDataFrame) -> FeatureLayer:
    """Dashed lines stored → file position and hollow circles at the stored positions."""
    old = np.asarray(moved["stored"].values, dtype=object)
    new = np.asarray(moved.geometry.values, dtype=object)
    lines = shapely.linestrings([[[a.x, a.y], [b.x, b.y]] for a, b in zip(old, new)]) if len(moved) else []
    heads = [_headline(r, label) for r, label in zip(moved["_row"], moved["label"])]
    line_props = [{"style": _MOVE_STYLE, "tip": [h, f"{MOVE_LABEL}：{d:,.0f} 米"]}
                  for h, d in zip(heads, moved["distance_m"])]
    point_props = [{"style": _STORED_STYLE, "tip": [STORED_LABEL, h]} for h in heads]
    geoms = round_coords(np.concatenate([np.asarray(lines, dtype=object), old]))
    return FeatureLayer(geoms, line_props + point_props)


def _units_layer(units: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> FeatureLayer:
    """The stored units as light grey outlines, their names in the tooltip."""
    units = units[_has_geometry(units.geometry)]
    props = [{"name": str(name), "tip": [esc(name)], "style": _UNIT_STYLE} for name in units["name"]]
    return FeatureLayer(simplified(units, view_tolerance_m(bounds)), props)


def _legend(moved: int) -> Legend:
    records = LegendSection(ImportRowState.title(), tuple((s.label, s.color) for s in ImportRowState), "circle")
    stored = [(COMMUNITY_LABEL, UNIT_COLOR)] + ([(MOVE_LABEL, STORED_COLOR)] if moved else [])
    return Legend([records, LegendSection(_STORED_SECTION, tuple(stored), "line")], position="topright")


def preview_map(
    rows: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    asset_mode: str = "inline",
    prefix: str = "",
    settings: Settings | None = None,
) -> folium.Map:
    """The folium map of an import's ``rows`` over the stored ``units`` (both EPSG:4326; see the module doc).

    ``asset_mode`` / ``prefix``: how Leaflet is loaded (``layers.mapbuild.build_map``); the basemap is
    ``settings.basemap`` (on Amap everything drawn is shifted to GCJ-02). Raises CRSError /
    DataValidationError for frames without the CRS, columns or state values described above."""
    settings = settings or Settings()
    states = check_rows(rows)
    require_columns(units, ["name"], "社区边界")
    bounds = view_bounds(rows, units)
    moved = moved_updates(rows)
    m = build_map(bounds, basemap=settings.basemap, asset_mode=normalise_mode(asset_mode), prefix=prefix,
                  settings=settings, top_padding=LEGEND_BAND_PX)
    if len(rows) > CANVAS_ROWS:
        m.options["prefer_canvas"] = True
    gcj02 = needs_gcj02(settings.basemap)
    m.add_child(_units_layer(_shown(units, gcj02), bounds))
    if len(moved):
        shown = _shown(moved, gcj02)
        shown["stored"] = _shown(moved.set_geometry("stored"), gcj02)["stored"].values
        m.add_child(_moves_layer(shown))
    m.add_child(_records_layer(_shown(rows.drop(columns="stored_geom"), gcj02), states, moved))
    m.add_child(_legend(len(moved)), name="legend")
    m.add_child(HeaderStyle("import-preview", _MAP_CSS))  # after the legend's own style, which it adjusts
    return m
