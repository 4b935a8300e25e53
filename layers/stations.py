"""Community service stations as circles coloured by kind (elderly care, children, culture …).

Input: the ``stations`` frame (EPSG:4326, Point; columns of ``data.schema.stations``).
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.vocab import StationKind
from layers.common import (
    escaped_values,
    is_missing,
)
from layers.features import categorised_points
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
    return categorised_points(gdf, label=LABEL, columns=_COLUMNS, optional=_OPTIONAL, category="kind",
                              enum=StationKind, style=_style, popup=_popup, fields=FIELDS,
                              highlight=_HIGHLIGHT, show=show)


def _style(row: dict, kind: StationKind) -> dict:
    return {"color": "#263238", "weight": 1, "opacity": 1, "fillColor": kind.color,
            "fillOpacity": 0.95, "radius": RADIUS_PX}


def legend(**options) -> list[tuple[str, str]]:
    """Every station kind with its colour."""
    check_options(options)
    return [(k.label, k.color) for k in StationKind]


SPEC = LayerSpec("stations", LABEL, build, legend, shape="circle")
