"""Old residential compounds (老旧小区): counted per unit far out, one circle per compound drilled in.

Input: the ``compounds`` frame (EPSG:4326, Point; columns of ``data.schema.compounds``).

- District / sub-district level: one pie per unit (``layers.aggregate``): communities at district level
  (or the ``units`` given, e.g. sub-districts when there are very many communities), grids at
  sub-district level. Slices are the compounds by renovation status in the RenovationStatus colours;
  the tooltip lists each status's compounds and households. Properties carry the unit's ``code`` and
  ``name``. The map grows with the number of units, never with the number of compounds.
- Community / grid level: every compound as a circle coloured by renovation status, radius growing with
  its households (4–11 px), with an escaped popup of its record.
"""
from __future__ import annotations

import math

import folium
import geopandas as gpd

from geo.vocab import Level, RenovationStatus, RenovationType
from layers.aggregate import DODGE_PX, counted, pie_layer, unit_word
from layers.common import (
    enum_members,
    escaped_values,
    feature_group,
    is_missing,
    label_of,
    require_columns,
    valid_rows,
)
from layers.features import PieTable, categorised_points
from layers.spec import LayerSpec, check_options

LABEL = "老旧小区"
_COLUMNS = ["code", "name", "status", "households"]
_OPTIONAL = ["address", "built_year", "buildings", "has_property_mgmt", "reno_type", "plan_year",
             "budget_wan", "started_on", "completed_on"]
FIELDS = (RenovationStatus.title(), RenovationType.title(), "计划年度", "预算（万元）", "户数", "楼栋数",
          "建成年份", "物业管理", "开工日期", "竣工日期", "地址")
_HIGHLIGHT = {"weight": 3, "fillOpacity": 1.0}


def radius_px(households) -> float:
    """Circle radius in pixels for a compound of ``households`` households."""
    n = 0.0 if is_missing(households) else max(float(households), 0.0)
    return round(min(11.0, 4.0 + math.sqrt(n) / 4.0), 1)


def _popup(row: dict, status: RenovationStatus) -> list[str | None]:
    """Escaped values in the order of FIELDS."""
    mgmt = row.get("has_property_mgmt")
    return escaped_values([
        status.label, label_of(RenovationType, row.get("reno_type")), row.get("plan_year"),
        row.get("budget_wan"), row["households"], row.get("buildings"), row.get("built_year"),
        None if is_missing(mgmt) else ("有" if mgmt else "无"),
        row.get("started_on"), row.get("completed_on"), row.get("address"),
    ])


def build(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
          dodge: bool = False, show: bool = True, **options) -> folium.FeatureGroup:
    """Pies per unit (district / sub-district level) or one circle per compound (properties code, name),
    colours = RenovationStatus colours."""
    check_options(options)
    if counted(level):
        return _counted(gdf, level, units, show, dodge)
    return categorised_points(gdf, label=LABEL, columns=_COLUMNS, optional=_OPTIONAL, category="status",
                              enum=RenovationStatus, style=_style, popup=_popup, fields=FIELDS,
                              highlight=_HIGHLIGHT, show=show)


def _counted(gdf: gpd.GeoDataFrame, level: Level | str, units: gpd.GeoDataFrame | None, show: bool,
             dodge: bool) -> folium.FeatureGroup:
    """One pie per unit, slices = compounds by the statuses present (lifecycle order); left of the unit's point
    when ``dodge``."""
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    members = enum_members(gdf["status"], RenovationStatus, LABEL)
    statuses = _present(members)
    pie = PieTable(tuple(s.label for s in statuses), tuple(s.color for s in statuses), noun=LABEL,
                   unit="个", weight_unit="户", dx=-DODGE_PX if dodge else 0)
    fg = feature_group(LABEL, show)
    if len(gdf):
        fg.add_child(pie_layer(gdf, [m.value for m in members], [s.value for s in statuses], level=level,
                               units=units, pie=pie, name=LABEL, weight="households"))
    return fg


def _present(members) -> list[RenovationStatus]:
    """The statuses among ``members``, in lifecycle order."""
    present = set(members)
    return [s for s in RenovationStatus if s in present]


def _style(row: dict, status: RenovationStatus) -> dict:
    return {"color": "#ffffff", "weight": 1, "opacity": 1, "fillColor": status.color,
            "fillOpacity": 0.9, "radius": radius_px(row["households"])}


def legend(gdf: gpd.GeoDataFrame | None = None, **options) -> list[tuple[str, str]]:
    """The renovation statuses drawn (those in ``gdf``, in lifecycle order) with their colours: the circles'
    and the pies' slices; every status without a frame, none for an empty one."""
    check_options(options)
    if gdf is None:
        return [(s.label, s.color) for s in RenovationStatus]
    require_columns(gdf, _COLUMNS, LABEL)
    members = enum_members(valid_rows(gdf, LABEL)["status"], RenovationStatus, LABEL)
    return [(s.label, s.color) for s in _present(members)]


def note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
         **options) -> str:
    """The legend's line under the statuses: how to read the pies (district / sub-district level)."""
    check_options(options)
    return f"按{unit_word(gdf, level, units)}汇总，圆越大小区越多" if counted(level) else ""


def unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    """Pies per unit at district / sub-district level."""
    return counted(level)


SPEC = LayerSpec("compounds", LABEL, build, legend, shape="circle", note=note, unit_marks=unit_marks,
                 frame_legend=True)
