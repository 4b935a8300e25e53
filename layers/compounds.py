"""Old residential compounds (老旧小区) as circles coloured by renovation status.

Input: the ``compounds`` frame (EPSG:4326, Point; columns of ``data.schema.compounds``). Circle
radius grows with the number of households (4–11 px).
"""
from __future__ import annotations

import math

import folium
import geopandas as gpd

from geo.vocab import RenovationStatus, RenovationType
from layers.common import (
    escaped_values,
    is_missing,
    label_of,
)
from layers.features import categorised_points
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


def build(gdf: gpd.GeoDataFrame, *, show: bool = True, **options) -> folium.FeatureGroup:
    """One circle per compound (properties code, name), colour = RenovationStatus colour."""
    check_options(options)
    return categorised_points(gdf, label=LABEL, columns=_COLUMNS, optional=_OPTIONAL, category="status",
                              enum=RenovationStatus, style=_style, popup=_popup, fields=FIELDS,
                              highlight=_HIGHLIGHT, show=show)


def _style(row: dict, status: RenovationStatus) -> dict:
    return {"color": "#ffffff", "weight": 1, "opacity": 1, "fillColor": status.color,
            "fillOpacity": 0.9, "radius": radius_px(row["households"])}


def legend(**options) -> list[tuple[str, str]]:
    """Every renovation status with its colour, in lifecycle order."""
    check_options(options)
    return [(s.label, s.color) for s in RenovationStatus]


SPEC = LayerSpec("compounds", LABEL, build, legend, shape="circle")
