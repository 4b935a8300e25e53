"""The 党建引领 map of a scope: its child units filled by a party indicator, the scope's outlines, and the three
party layers (``layers.party``: grids by assistants, compounds by organisation coverage, party-service centres
and volunteer stations with the model ones badged). A click on a child unit (or a grid) drills down to it."""
from __future__ import annotations

import folium
import geopandas as gpd
import streamlit as st

from dashboard.context import PageContext
from dashboard.mapunits import count_units, many_communities
from dashboard.mapview import (
    INDICATORS,
    OUTLINE,
    STATIC_PREFIX,
    children_frame,
    drill_down_map,
    reference_frames,
    serve_assets,
)
from geo.party import PARTY_RATIOS
from geo.party_map import compound_coverage
from geo.scope import DISTRICT
from geo.vocab import Level
from layers.assets import streamlit_mode
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map

DEFAULT_INDICATOR = "org_coverage"
PALETTE = "Blues"
"""The choropleth's colours here, whatever the indicator: the party layers' marks are reds and oranges."""
MAP_HEIGHT = 600
PARTY_LAYERS = ("party_grids", "party_compounds", "party_stations")


def indicator_choices() -> list[str]:
    """The party indicators the map can be filled by (those with a format in ``dashboard.mapview.INDICATORS``)."""
    return [key for key in PARTY_RATIOS if key in INDICATORS]


def indicator_selector() -> str | None:
    """The choropleth indicator, chosen above the map (None when no party indicator is registered)."""
    choices = indicator_choices()
    if not choices:
        return None
    default = choices.index(DEFAULT_INDICATOR) if DEFAULT_INDICATOR in choices else 0
    return st.columns([1, 3])[0].selectbox("着色指标", choices, index=default, format_func=PARTY_RATIOS.get,
                                           key="party_indicator", help="下级单元按此指标分级着色（分位数分级）")


def party_frames(ctx: PageContext) -> dict[str, gpd.GeoDataFrame]:
    """The party layers' frames inside the scope (organisations of the whole district: joint ones cross
    communities) and the scope's outline."""
    frames = {"party_compounds": compound_coverage(ctx.layer("compounds"), ctx.table("party_orgs", DISTRICT)),
              "party_stations": ctx.layer("stations")}
    if ctx.scope.level is not Level.DISTRICT:  # the district view leaves them to the 协管员配备率 colouring
        frames = {"party_grids": ctx.layer("grids"), **frames}
    if not many_communities(ctx):
        frames[OUTLINE[ctx.scope.level]] = ctx.layer(OUTLINE[ctx.scope.level])
    return frames


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of)})
def party_map(ctx: PageContext, indicator: str | None, basemap: str) -> folium.Map:
    """The folium map of ``ctx.scope`` (cached per scope, data version, indicator and basemap; shared by sessions)."""
    children = children_frame(ctx, indicator) if indicator else None
    bounds = (children if children is not None else ctx.layer(OUTLINE[ctx.scope.level])).total_bounds
    m = build_map(bounds, basemap=basemap, asset_mode=streamlit_mode(ctx.settings.asset_mode), prefix=STATIC_PREFIX,
                  settings=ctx.settings)
    frames = party_frames(ctx) | reference_frames(ctx, bounds)
    options = {"level": ctx.scope.level.value, "units": count_units(ctx), "tolerance_m": view_tolerance_m(bounds)}
    if children is not None:
        fmt, _palette = INDICATORS[indicator]
        frames = {"choropleth": children, **frames}
        options |= {"value_column": "value", "value_label": PARTY_RATIOS[indicator], "value_format": fmt,
                    "palette": PALETTE}
    add_layers(m, frames, list(frames), **options)
    return m


def show_party_map(ctx: PageContext, indicator: str | None) -> None:
    """Draw the scope's party map; a click on a child unit or a grid drills down to it."""
    serve_assets()
    drill_down_map(ctx, party_map(ctx, indicator, ctx.settings.basemap), "party_map", MAP_HEIGHT)
