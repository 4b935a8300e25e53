"""The map of a scope: its child units coloured by an indicator, the chosen overlays, click to drill down.

Only ``last_active_drawing`` comes back from the browser, so panning and zooming do not rerun the
script; a click on a child polygon moves the scope to that unit. The disputes overlay shows individual
cases only to an account that may see the scope's case details (``geo.access.may_see_case_details``);
everyone else gets counts per unit.
"""
from __future__ import annotations

import logging

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.context import PageContext, go_to
from dashboard.foliumview import show_folium
from dashboard.mapunits import clicked_unit, count_units, many_communities
from dashboard.stats import scope_stats
from dashboard.text import md_escape
from geo.access import case_detail_note, may_see_case_details, strip_case_details
from geo.map_classes import DEFAULT_INDICATOR, INDICATOR_LABELS, INDICATORS
from geo.reference_view import read_bounds
from geo.rollup import open_on
from geo.vocab import Level
from layers.assets import VENDOR_DIR, stale_assets, streamlit_mode
from layers.basemaps import available_basemaps
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS

log = logging.getLogger(__name__)
STATIC_PREFIX = "/app/static/vendor"
OVERLAYS = ("grids", "compounds", "stations", "disputes")
REFERENCE = "reference"
"""The reference layer's key (道路, 建筑, 水系, 地名 under the overlays; on wherever features are stored)."""
DEFAULT_ON = ("disputes",)
MAP_HEIGHT = 640
UNIT_TABLE = {Level.DISTRICT: "streets", Level.STREET: "communities", Level.COMMUNITY: "grids", Level.GRID: "grids"}


@st.cache_resource
def serve_assets() -> None:
    """Check once per process that static/vendor (served at ``STATIC_PREFIX``) holds the installed packages'
    Leaflet files; a difference goes to the server log. Never writes: the copies are prepared at install
    time (``python -m layers.assets --write``), so the app runs from a read-only checkout."""
    stale = stale_assets(VENDOR_DIR)
    if stale:
        log.error("地图静态资源与已安装的软件包不一致（%s 等 %d 个文件），请运行 python -m layers.assets --write",
                  stale[0], len(stale))


def map_controls(ctx: PageContext) -> tuple[list[str], str, str]:
    """Sidebar: overlays, choropleth indicator and basemap; returns (layer keys, indicator, basemap)."""
    st.sidebar.subheader("地图")
    indicator = st.sidebar.selectbox("着色指标", list(INDICATORS), format_func=INDICATOR_LABELS.get, key="indicator",
                                     index=list(INDICATORS).index(DEFAULT_INDICATOR),
                                     help="下级单元按此指标分级着色（分位数分级）")
    keys = [k for k in OVERLAYS if st.sidebar.toggle(LAYERS[k].label, value=k in DEFAULT_ON, key=f"layer_{k}")]
    if ctx.has_reference() and st.sidebar.toggle(LAYERS[REFERENCE].label, value=True, key=f"layer_{REFERENCE}",
                                                 help="道路、建筑、水系和地名，作为浅色底图画在各图层之下"):
        keys.append(REFERENCE)
    choices = available_basemaps(ctx.settings)
    default = list(choices).index(ctx.settings.basemap) if ctx.settings.basemap in choices else 0
    basemap = st.sidebar.selectbox("底图", list(choices), format_func=choices.get, key="basemap", index=default,
                                   help="“无底图”完全离线可用；OpenStreetMap、高德、天地图需要互联网，"
                                        "单位内网的瓦片服务和 MBTiles 文件在内网即可使用；"
                                        "高德等 GCJ-02 底图会自动换算叠加图层的坐标。")
    return keys, indicator, basemap


def reference_frames(ctx: PageContext, bounds) -> dict[str, gpd.GeoDataFrame]:
    """``{"reference": the reference features around a map fitted to bounds}`` (min lon, min lat, max lon, max lat;
    ``geo.reference_view.read_bounds``: enough to fill a map of any shape), or ``{}`` when none are stored there:
    then nothing is drawn and the legend and layer control do not name the layer."""
    frame = ctx.reference(read_bounds(bounds))
    return {REFERENCE: frame} if len(frame) else {}


def children_frame(ctx: PageContext, indicator: str) -> gpd.GeoDataFrame:
    """The child units (the grid itself at grid level) with the indicator's value as column ``value``."""
    units = ctx.layer(UNIT_TABLE[ctx.scope.level])
    if ctx.scope.level is Level.GRID:
        return units.assign(value=float("nan"))
    values = scope_stats(ctx).children[indicator]
    return units.assign(value=units["code"].map(values).astype(float))


OUTLINE = {Level.DISTRICT: "communities", Level.STREET: "streets", Level.COMMUNITY: "communities",
           Level.GRID: "grids"}


def _overlay_frames(ctx: PageContext, keys: tuple[str, ...], details: bool) -> dict[str, gpd.GeoDataFrame]:
    """The chosen overlays inside the scope, and the outline of the scope (community outlines at district level);
    the disputes without their case details unless ``details``."""
    below_community = ctx.scope.level in (Level.COMMUNITY, Level.GRID)
    frames = {k: ctx.layer(k) for k in keys if k != REFERENCE and not (k == "grids" and below_community)}
    if "disputes" in frames:
        shown = _disputes_to_show(frames["disputes"], ctx)
        frames["disputes"] = shown if details else strip_case_details(shown)
    if not many_communities(ctx):
        frames[OUTLINE[ctx.scope.level]] = ctx.layer(OUTLINE[ctx.scope.level])
    return frames


def _disputes_to_show(disputes: gpd.GeoDataFrame, ctx: PageContext) -> gpd.GeoDataFrame:
    """Cases reported in the period, and every case still open at its end (overdue ones among them)."""
    reported = pd.to_datetime(disputes["reported_on"])
    in_period = reported.between(pd.Timestamp(ctx.period.start), pd.Timestamp(ctx.period.end))
    return disputes[in_period | open_on(disputes, ctx.period.end)]


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of)})
def scope_map(ctx: PageContext, keys: tuple[str, ...], indicator: str, basemap: str, details: bool) -> folium.Map:
    """The folium map of ``ctx.scope``, cached per (scope, period, data version, layers, indicator, basemap,
    details). ``details``: individual disputes when drilled in (the caller asks ``may_see_case_details``)."""
    children = children_frame(ctx, indicator)
    m = build_map(children.total_bounds, basemap=basemap, asset_mode=streamlit_mode(ctx.settings.asset_mode),
                  prefix=STATIC_PREFIX, settings=ctx.settings)
    frames = {"choropleth": children, **_overlay_frames(ctx, keys, details)}
    if REFERENCE in keys:
        frames |= reference_frames(ctx, children.total_bounds)
    fmt, palette = INDICATORS[indicator]
    add_layers(m, frames, list(frames), level=ctx.scope.level.value, today=ctx.as_of, case_details=details,
               overdue_days=ctx.settings.overdue_days, units=count_units(ctx), value_column="value",
               value_label=INDICATOR_LABELS[indicator], value_format=fmt, palette=palette,
               tolerance_m=view_tolerance_m(children.total_bounds))
    return m


def show_map(ctx: PageContext, keys: list[str], indicator: str, basemap: str) -> None:
    """Draw the scope's map; a click on a child polygon drills down to it."""
    serve_assets()
    details = "disputes" in keys and may_see_case_details(ctx.account, ctx.scope)  # one cached map otherwise
    if "disputes" in keys and not details and ctx.scope.level in (Level.COMMUNITY, Level.GRID):
        st.caption("矛盾纠纷按网格计数显示。" + md_escape(case_detail_note(ctx.account, ctx.scope)))
    m = scope_map(ctx, tuple(keys), indicator, basemap, details)  # rendered once, shared by every session
    drill_down_map(ctx, m, "map", MAP_HEIGHT)


def drill_down_map(ctx: PageContext, m: folium.Map, key: str, height: int) -> None:
    """Show the (cached) map ``m``; a click on a child unit or a grid makes it the scope and reruns the page."""
    value = show_folium(m, height=height, returned_objects=["last_active_drawing"],
                        key=f"{key}_{ctx.scope.code or 'district'}")
    target = clicked_unit(ctx, value)
    if target is not None:
        go_to(target)
        st.rerun()
