"""Service-coverage gaps (服务覆盖缺口): the parts of units beyond walking distance of a station kind."""
from __future__ import annotations

import folium
import geopandas as gpd

from layers.boundaries import outline_layer
from layers.spec import LayerSpec, check_options

LABEL = "服务覆盖缺口"
COLOR = "#c62828"
_STYLE = {"color": COLOR, "weight": 1, "opacity": 0.8, "fillColor": COLOR, "fillOpacity": 0.35}


def build(gdf: gpd.GeoDataFrame, *, tolerance_m: float = 3.0, show: bool = True, **options) -> folium.FeatureGroup:
    """Gap polygons (EPSG:4326; columns code, name of their unit) in translucent red, no labels."""
    check_options(options)
    return outline_layer(gdf, LABEL, _STYLE, "gl-gap", False, tolerance_m, show)


def legend(**options) -> list[tuple[str, str]]:
    check_options(options)
    return [("步行范围以外的区域", COLOR)]


SPEC = LayerSpec("gaps", LABEL, build, legend, shape="square")
