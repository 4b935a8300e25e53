"""The map on a page: layer toggles, basemap choice, a cached folium map shown with st_folium."""
from __future__ import annotations

from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.assets import copy_assets, streamlit_mode
from layers.basemaps import available_basemaps
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS

ROOT = Path(__file__).resolve().parent.parent
STATIC_PREFIX = "/app/static/vendor"
OVERLAYS = ("grids", "compounds", "stations", "disputes")
DEFAULT_ON = ("grids", "disputes")
MAP_HEIGHT = 640


@st.cache_resource
def _serve_assets() -> None:
    """Copy Leaflet's files from the installed XStatic packages into the app's static folder, once."""
    copy_assets(ROOT / "static" / "vendor")


def layer_controls(ctx) -> tuple[list[str], str]:
    """Sidebar: which overlays to draw and the basemap; returns (layer keys, basemap key)."""
    st.sidebar.subheader("图层")
    keys = [k for k in OVERLAYS if st.sidebar.toggle(LAYERS[k].label, value=k in DEFAULT_ON, key=f"layer_{k}")]
    choices = available_basemaps(ctx.settings)
    basemap = st.sidebar.selectbox("底图", list(choices), format_func=choices.get, key="basemap",
                                   index=list(choices).index(ctx.settings.basemap)
                                   if ctx.settings.basemap in choices else 0,
                                   help="“无底图”完全离线可用；在线底图需要互联网，高德底图会自动换算为 GCJ-02 坐标。")
    return keys, basemap


@st.cache_resource(max_entries=32, show_spinner=False)
def _district_map(url: str, version: int, keys: tuple[str, ...], basemap: str, as_of, overdue_days: int,
                  _ctx) -> folium.Map:
    streets, communities = _ctx.layer("streets"), _ctx.layer("communities")
    m = build_map(streets.total_bounds, basemap=basemap, asset_mode=streamlit_mode(_ctx.settings.asset_mode),
                  prefix=STATIC_PREFIX, settings=_ctx.settings)
    frames = {"streets": streets, "communities": communities, **{k: _ctx.layer(k) for k in keys}}
    add_layers(m, frames, ["streets", "communities", *keys], level="district", today=as_of,
               overdue_days=overdue_days, units=communities)
    return m


def show_map(ctx, keys: list[str], basemap: str, period) -> dict:
    """Draw the district map; returns st_folium's value (only what drives the app is returned)."""
    _serve_assets()
    m = _district_map(ctx.settings.db_url, ctx.version, tuple(keys), basemap, period.end,
                      ctx.settings.overdue_days, ctx)
    return st_folium(m, height=MAP_HEIGHT, use_container_width=True, returned_objects=[], key="district_map")
