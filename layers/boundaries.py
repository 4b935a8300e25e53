"""Outlines of sub-districts (街道) and communities (社区), with name labels for the child units.

Input: the ``streets`` / ``communities`` frames (EPSG:4326, MultiPolygon, columns ``code``, ``name``).
Each polygon carries its raw ``code`` and ``name`` in its GeoJSON properties, so a click on it tells
the dashboard where to drill down (streamlit-folium ``last_active_drawing.properties``).
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.map_classes import COMMUNITY_COLOR, STREET_COLOR
from geo.vocab import Level
from layers.common import (
    esc,
    feature_group,
    label_points,
    require_columns,
    simplified,
    valid_rows,
)
from layers.features import FeatureLayer, label_layer
from layers.spec import LayerSpec, auto_labels, check_options

STREET_LABEL = "街道界线"
COMMUNITY_LABEL = "社区界线"

_STREET_STYLE = {"color": STREET_COLOR, "weight": 2.5, "opacity": 0.9, "fillColor": "#9fa8da",
                 "fillOpacity": 0.05}
_COMMUNITY_STYLE = {"color": COMMUNITY_COLOR, "weight": 1.2, "opacity": 0.9, "dashArray": "4 3",
                    "fillColor": "#b0bec5", "fillOpacity": 0.05}
_HIGHLIGHT = {"weight": 3.5, "fillOpacity": 0.25}


def outline_layer(
    gdf: gpd.GeoDataFrame,
    label: str,
    style: dict,
    css_class: str,
    show_labels: bool,
    tolerance_m: float = 3.0,
    show: bool = True,
) -> folium.FeatureGroup:
    """A FeatureGroup of clickable outlines (properties code, name, escaped tip) and name labels."""
    require_columns(gdf, ["code", "name"], label)
    gdf = valid_rows(gdf, label)
    fg = feature_group(label, show)
    props = [{"code": str(code), "name": str(name), "tip": [esc(name)], "style": style}
             for code, name in zip(gdf["code"], gdf["name"])]
    fg.add_child(FeatureLayer(simplified(gdf, tolerance_m), props, highlight=_HIGHLIGHT))
    if show_labels and len(gdf):
        fg.add_child(label_layer(label_points(gdf.geometry), gdf["name"], css_class))
    return fg


def build_streets(gdf: gpd.GeoDataFrame, *, level="district", labels: bool | None = None,
                  tolerance_m: float = 3.0, show: bool = True, **options) -> folium.FeatureGroup:
    """Sub-district outlines; names drawn at district level (or as ``labels`` says)."""
    check_options(options)
    show_labels = auto_labels(labels, level, (Level.DISTRICT,))
    return outline_layer(gdf, STREET_LABEL, _STREET_STYLE, "gl-street", show_labels, tolerance_m, show)


def build_communities(gdf: gpd.GeoDataFrame, *, level="district", labels: bool | None = None,
                      tolerance_m: float = 3.0, show: bool = True, **options) -> folium.FeatureGroup:
    """Community outlines; names drawn at street and community level (or as ``labels`` says)."""
    check_options(options)
    show_labels = auto_labels(labels, level, (Level.STREET, Level.COMMUNITY))
    return outline_layer(gdf, COMMUNITY_LABEL, _COMMUNITY_STYLE, "gl-community", show_labels, tolerance_m, show)


def street_legend(**options) -> list[tuple[str, str]]:
    """One entry: the sub-district outline colour."""
    check_options(options)
    return [(STREET_LABEL, STREET_COLOR)]


def community_legend(**options) -> list[tuple[str, str]]:
    """One entry: the community outline colour."""
    check_options(options)
    return [(COMMUNITY_LABEL, COMMUNITY_COLOR)]


STREETS = LayerSpec("streets", STREET_LABEL, build_streets, street_legend, shape="line")
COMMUNITIES = LayerSpec("communities", COMMUNITY_LABEL, build_communities, community_legend, shape="line")
