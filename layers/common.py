"""Helpers shared by the layer modules: escaping, validation, geometry for display, labels, CSS.

All geometry here is WGS84 lon/lat (EPSG:4326) or its GCJ-02-shifted display copy. Strings that come
from data are HTML-escaped in Python (``html.escape``) before they reach a tooltip, popup or label;
the raw ``code`` and ``name`` ride along in each feature's properties for the dashboard's drill-down
(``layers.features.script_json`` escapes ``<``, ``>``, ``&`` and ``'`` inside the page's script).
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.crs import metric_crs, require_crs
from geo.errors import DataValidationError
from geo.vocab import Vocab

PRECISION = 6  # decimal places of lon/lat: about 0.1 m
MIN_PRECISION = 4  # about 10 m, for geometry simplified for a far-out view
METRES_PER_DEGREE = 111_320.0  # of latitude, and of longitude at the equator
VIEW_PIXELS = 2_000  # a map about 1,000 px across, at half-pixel detail
EMPTY = "—"


def is_missing(value: Any) -> bool:
    """Whether a scalar is None, NaN, NaT or pd.NA."""
    return value is None or (not isinstance(value, (str, list, tuple, dict, np.ndarray)) and bool(pd.isna(value)))


def esc(value: Any) -> str:
    """HTML-escaped text of a value; "—" for None/NaN; dates as YYYY-MM-DD; enums by label."""
    if is_missing(value):
        return EMPTY
    if isinstance(value, (pd.Timestamp, datetime)):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Vocab):
        value = value.label
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return html.escape(str(value), quote=True)


def escaped_values(values: Iterable[Any]) -> list[str | None]:
    """Popup values, HTML-escaped; None where missing (the row is then left out)."""
    return [None if is_missing(v) or v == "" else esc(v) for v in values]


def label_of(enum: type[Vocab], value: Any) -> str | None:
    """Chinese label of an enum value (or label); None when missing; the raw text when unknown."""
    if is_missing(value) or value == "":
        return None
    try:
        return enum.from_label(value.value if isinstance(value, Enum) else str(value)).label
    except ValueError:
        return str(value)


def require_columns(gdf: gpd.GeoDataFrame, columns: Iterable[str], name: str) -> None:
    """DataValidationError listing every missing column of a layer's frame."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise DataValidationError(
            f"{name}缺少字段：{'、'.join(missing)}", [(None, c, None, "缺少字段") for c in missing]
        )


def enum_members(series: pd.Series, enum: type[Vocab], name: str) -> list[Vocab]:
    """The enum member of every value (English value or Chinese label); all bad rows reported at once."""
    allowed = {m.value: m for m in enum} | {m.label: m for m in enum}
    values = [v.value if isinstance(v, Enum) else v for v in series]
    bad = [(idx, series.name, v, f"不是有效的{enum.title()}") for idx, v in zip(series.index, values) if v not in allowed]
    if bad:
        labels = "、".join(m.label for m in enum)
        raise DataValidationError(f"{name}中有 {len(bad)} 行的{enum.title()}无效，可选：{labels}", bad)
    return [allowed[v] for v in values]


def canonical_values(series: pd.Series, enum: type[Vocab]) -> pd.Series:
    """Enum values of a column that may hold values, Chinese labels or members; unknowns unchanged."""
    lookup = {m.label: m.value for m in enum} | {m.value: m.value for m in enum}
    return series.map(lambda v: v.value if isinstance(v, Enum) else lookup.get(v, v))


def valid_rows(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """The frame after the CRS check, without rows whose geometry is missing or empty."""
    require_crs(gdf, name)
    geoms = gdf.geometry
    return gdf[geoms.notna() & ~geoms.is_empty]


def round_coords(geoms: np.ndarray, precision: int = PRECISION) -> np.ndarray:
    """Geometries with every coordinate rounded to ``precision`` decimals (degrees)."""
    return shapely.transform(geoms, lambda c: np.round(c, precision))


def precision_for(tolerance_m: float) -> int:
    """Decimal places of lon/lat worth keeping for geometry simplified by ``tolerance_m`` metres (4–6)."""
    if tolerance_m <= 0:
        return PRECISION
    degrees = tolerance_m / METRES_PER_DEGREE
    return int(min(PRECISION, max(MIN_PRECISION, math.ceil(-math.log10(degrees)) + 1)))


def simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> np.ndarray:
    """Polygon geometries simplified by ``tolerance_m`` metres (topology kept), lon/lat rounded to match.

    Coordinates keep 6 decimals up to a tolerance of about 5 m, then fewer (:func:`precision_for`)."""
    if tolerance_m < 0:
        raise ValueError(f"简化容差应为非负的米数，而不是 {tolerance_m}")
    geoms = gdf.geometry
    if tolerance_m > 0 and len(gdf):
        geoms = geoms.to_crs(metric_crs()).simplify(tolerance_m, preserve_topology=True).to_crs(gdf.crs)
    return round_coords(np.asarray(geoms.values, dtype=object), precision_for(tolerance_m))


def view_tolerance_m(bounds: Iterable[float], pixels: int = VIEW_PIXELS, floor_m: float = 3.0) -> float:
    """A simplification tolerance in metres of half a screen pixel when ``bounds`` fill a map about
    ``pixels`` / 2 wide: (minx, miny, maxx, maxy) in EPSG:4326 degrees; never below ``floor_m``."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    across = max((maxx - minx) * math.cos(math.radians((miny + maxy) / 2)), maxy - miny) * METRES_PER_DEGREE
    return max(floor_m, across / pixels)


def label_points(geoms: Iterable) -> list[shapely.Point]:
    """A point inside the largest part of each (multi)polygon, for its name label."""
    out = []
    for geom in geoms:
        parts = getattr(geom, "geoms", [geom])
        out.append(max(parts, key=lambda g: g.area).point_on_surface())
    return out


def point_coords(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """The frame's point geometries with coordinates rounded to 6 decimals."""
    return round_coords(np.asarray(gdf.geometry.values, dtype=object))


class HeaderStyle(MacroElement):
    """A ``<style>`` block in the page header, added once per ``key`` however often it is used."""

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def __init__(self, key: str, css: str):
        super().__init__()
        self._name = "HeaderStyle"
        self.key = key
        self.css = css

    def render(self, **kwargs) -> None:
        self.get_root().header.add_child(Element(f"<style>{self.css}</style>"), name=f"style:{self.key}")
        super().render(**kwargs)


LABEL_CSS = """
.gl-label { background: none; border: none; }
.gl-label span { display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  font: 12px/1.2 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #263238;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; pointer-events: none; }
.gl-label.gl-street span { font-size: 14px; font-weight: bold; color: #1a237e; }
.gl-label.gl-grid span { font-size: 11px; color: #37474f; }
.gl-label.gl-choropleth span { font-size: 13px; font-weight: bold; color: #102027;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.gl-popup table { border-collapse: collapse; margin-top: 4px; }
.gl-popup th { text-align: left; font-weight: normal; color: #607d8b; padding: 1px 8px 1px 0; }
.gl-popup td { padding: 1px 0; }
.gl-pie { background: none; border: none; }
.gl-pie div { width: 100%; height: 100%; border-radius: 50%; box-sizing: border-box; border: 1.5px solid #fff;
  box-shadow: 0 0 0 1px rgba(38, 50, 56, 0.6); }
.gl-pie:hover div { box-shadow: 0 0 0 2px #263238; }
.leaflet-tooltip i.gl-dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px;
  vertical-align: -1px; }
"""


def label_style() -> HeaderStyle:
    """The CSS of name labels and popups (add to any layer that uses them)."""
    return HeaderStyle("labels", LABEL_CSS)


def feature_group(label: str, show: bool = True) -> folium.FeatureGroup:
    """The FeatureGroup a layer builds into, named by its Chinese label (shown in the layer control)."""
    fg = folium.FeatureGroup(name=label, overlay=True, control=True, show=show)
    fg.add_child(label_style())
    return fg
