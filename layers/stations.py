"""Community service stations as circles coloured by kind (elderly care, children, culture …).

Input: the ``stations`` frame (EPSG:4326, Point; columns of ``data.schema.stations``).
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.vocab import StationKind
from layers.common import (
    enum_members,
    esc,
    escaped_values,
    feature_group,
    is_missing,
    point_coords,
    require_columns,
    valid_rows,
)
from layers.features import FeatureLayer
from layers.spec import LayerSpec, check_options

LABEL = "服务站点"
RADIUS_PX = 6
_COLUMNS = ["code", "name", "kind"]
_OPTIONAL = ["address", "capacity", "opening_hours", "stars"]
FIELDS = (StationKind.title(), "容量", "开放时间", "星级", "地址")
_HIGHLIGHT = {"weight": 3, "fillOpacity": 1.0}


def _popup(row: dict, kind: StationKind) -> list[str | None]:
    """Escaped values in the order of FIELDS."""
    stars = row.get("stars")
    stars_text = None if is_missing(stars) or not stars else f"{int(stars)} 星"
    return escaped_values([kind.label, row.get("capacity"), row.get("opening_hours"), stars_text,
                           row.get("address")])


def build(gdf: gpd.GeoDataFrame, *, show: bool = True, **options) -> folium.FeatureGroup:
    """One circle per station (properties code, name), colour = StationKind colour."""
    check_options(options)
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    kinds = enum_members(gdf["kind"], StationKind, LABEL)
    cols = _COLUMNS + [c for c in _OPTIONAL if c in gdf.columns]
    props = []
    for row, kind in zip(gdf[cols].to_dict("records"), kinds):
        style = {"color": "#263238", "weight": 1, "opacity": 1, "fillColor": kind.color,
                 "fillOpacity": 0.95, "radius": RADIUS_PX}
        props.append({"code": str(row["code"]), "name": str(row["name"]), "style": style,
                      "tip": [esc(row["name"]), esc(kind.label)], "popup": _popup(row, kind)})
    fg = feature_group(LABEL, show)
    fg.add_child(FeatureLayer(point_coords(gdf), props, fields=FIELDS, highlight=_HIGHLIGHT))
    return fg


def legend(**options) -> list[tuple[str, str]]:
    """Every station kind with its colour."""
    check_options(options)
    return [(k.label, k.color) for k in StationKind]


SPEC = LayerSpec("stations", LABEL, build, legend, shape="circle")
