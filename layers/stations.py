"""Community service stations (服务站点) as circles coloured by kind (elderly care, children, culture …).

Input: the ``stations`` frame (EPSG:4326, Point; columns of ``data.schema.stations``).

Every station is drawn as a circle with an escaped popup while the frame holds at most
``layers.aggregate.MAX_POINTS`` (1,000) stations, at every level: the sample's 404 stations, or a
sub-district's few dozen, one by one. Beyond that, at district and sub-district level, the stations are
counted per unit (``layers.aggregate``: communities at district level or the ``units`` given, grids at
sub-district level): one pie per unit, slices = stations by kind in the StationKind colours, the tooltip
listing each kind present; properties carry the unit's ``code`` and ``name``.
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.vocab import Level, StationKind
from layers.aggregate import DODGE_PX, pie_layer, too_many, unit_word
from layers.common import (
    enum_members,
    escaped_values,
    feature_group,
    is_missing,
    require_columns,
    valid_rows,
)
from layers.features import PieTable, categorised_points
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


def build(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
          dodge: bool = False, show: bool = True, **options) -> folium.FeatureGroup:
    """One circle per station (properties code, name), colour = StationKind colour; pies per unit when
    there are more than MAX_POINTS stations at district / sub-district level."""
    check_options(options)
    if too_many(gdf, level):
        return _counted(gdf, level, units, show, dodge)
    return categorised_points(gdf, label=LABEL, columns=_COLUMNS, optional=_OPTIONAL, category="kind",
                              enum=StationKind, style=_style, popup=_popup, fields=FIELDS,
                              highlight=_HIGHLIGHT, show=show)


def _counted(gdf: gpd.GeoDataFrame, level: Level | str, units: gpd.GeoDataFrame | None, show: bool,
             dodge: bool) -> folium.FeatureGroup:
    """Pies of the kinds present (in vocabulary order), one per unit; right of its point when ``dodge``."""
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    members = enum_members(gdf["kind"], StationKind, LABEL)
    present = set(members)
    kinds = [k for k in StationKind if k in present]
    pie = PieTable(tuple(k.label for k in kinds), tuple(k.color for k in kinds), noun=LABEL, unit="个",
                   dx=DODGE_PX if dodge else 0)
    fg = feature_group(LABEL, show)
    if len(gdf):
        fg.add_child(pie_layer(gdf, [m.value for m in members], [k.value for k in kinds], level=level, units=units,
                               pie=pie, name=LABEL))
    return fg


def _style(row: dict, kind: StationKind) -> dict:
    return {"color": "#263238", "weight": 1, "opacity": 1, "fillColor": kind.color,
            "fillOpacity": 0.95, "radius": RADIUS_PX}


def legend(gdf: gpd.GeoDataFrame | None = None, **options) -> list[tuple[str, str]]:
    """The station kinds drawn (those in ``gdf``, in vocabulary order) with their colours; every kind without a frame."""
    check_options(options)
    if gdf is None:
        return [(k.label, k.color) for k in StationKind]
    require_columns(gdf, _COLUMNS, LABEL)
    present = set(enum_members(valid_rows(gdf, LABEL)["kind"], StationKind, LABEL))
    return [(k.label, k.color) for k in StationKind if k in present]


def note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
         **options) -> str:
    """How to read the pies, when the stations are counted per unit ("" otherwise)."""
    check_options(options)
    return f"站点较多，按{unit_word(gdf, level, units)}汇总，圆越大站点越多" if too_many(gdf, level) else ""


def unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    """Pies per unit when there are more than MAX_POINTS stations far out."""
    return too_many(gdf, level)


SPEC = LayerSpec("stations", LABEL, build, legend, shape="circle", note=note, unit_marks=unit_marks,
                 frame_legend=True)
