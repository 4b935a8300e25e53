"""Where a new case happened: a click on a small map of the account's communities, or a known compound."""
from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from dashboard.context import PageContext
from dashboard.foliumview import show_folium
from dashboard.mapview import STATIC_PREFIX, reference_frames, serve_assets
from geo.access import Account
from geo.scope import Scope
from layers.assets import streamlit_mode
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map

POINT_KEY = "intake_point"
MAP_HEIGHT = 380
MARK = {"radius": 8, "color": "#ffffff", "weight": 2, "fill": True, "fill_color": "#b71c1c", "fill_opacity": 1}


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version)})
def _map(ctx: PageContext, scope_code: str, point: tuple[float, float] | None) -> folium.Map:
    """The communities of ``scope_code`` (outlines and names), the chosen point marked; cached per data version."""
    communities = ctx.layer("communities", Scope(scope_code))
    bounds = communities.total_bounds
    m = build_map(bounds, asset_mode=streamlit_mode(ctx.settings.asset_mode), prefix=STATIC_PREFIX,
                  settings=ctx.settings)
    frames = {"communities": communities, **reference_frames(ctx, bounds)}  # roads help place the case
    add_layers(m, frames, list(frames), level=Scope(scope_code).level.value,
               tolerance_m=view_tolerance_m(bounds))
    if point is not None:
        folium.CircleMarker([point[1], point[0]], tooltip="案件位置", **MARK).add_to(m)
    return m


def map_point(ctx: PageContext, account: Account) -> tuple[float, float] | None:
    """Draw the map; a click sets the case's point (lon, lat, WGS84), kept in the session until saved."""
    serve_assets()
    point = st.session_state.get(POINT_KEY)
    value = show_folium(_map(ctx, account.scope_code, point), key=f"intake_map_{account.scope_code or 'district'}",
                        height=MAP_HEIGHT, returned_objects=["last_clicked"])
    clicked = (value or {}).get("last_clicked")
    if clicked and clicked.get("lng") is not None:
        new = (round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6))
        if new != point:
            st.session_state[POINT_KEY] = new
            st.rerun()
    return point


def grid_of(ctx: PageContext, point: tuple[float, float]) -> pd.Series | None:
    """The stored grid (code, name, community_code) that holds ``point``, or None (outside the district)."""
    grids: gpd.GeoDataFrame = ctx.layer("grids", Scope())
    hits = grids[grids.geometry.covers(shapely.Point(*point))]
    return None if hits.empty else hits.sort_values("code").iloc[0]


def compound_choice(ctx: PageContext, account: Account) -> str | None:
    """A compound of the account's scope, searched by name (its point becomes the case's)."""
    compounds = ctx.layer("compounds", Scope(account.scope_code))
    names = ctx.units.names
    labels = dict(zip(compounds["code"], compounds["name"] + "（" + compounds["community_code"].map(
        lambda c: names.get(c, c)) + "）" + compounds["address"].fillna("").map(lambda a: f" {a}" if a else "")))
    return st.selectbox("已登记的小区", list(labels), index=None, format_func=labels.get, key="intake_compound",
                        placeholder="输入小区名称或地址搜索…")
