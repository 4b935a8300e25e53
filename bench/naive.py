"""The naive baseline: the map a typical user writes, with no aggregation, simplification or caching.

One ``folium.Marker`` (with a tooltip) per dispute and per compound, the community polygons as read
from the database in one ``folium.GeoJson``, rebuilt and re-rendered on every run. Its server time
is the same on a first run and a rerun, because nothing is cached.
"""
from __future__ import annotations

import time

import folium
import geopandas as gpd
import pandas as pd

from layers.assets import configure_assets

MARKER_CAP = 20_000
"""At most this many markers are built (the size DESIGN.md measured); above it the naive map is cut short,
which flatters it: the real one would be larger and slower still."""


def naive_map(frames: dict[str, gpd.GeoDataFrame], cap: int = MARKER_CAP) -> tuple[folium.Map, int]:
    """The naive map of ``frames`` (streets, communities, compounds, disputes; EPSG:4326) and its marker count."""
    minx, miny, maxx, maxy = frames["communities"].total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None)
    folium.GeoJson(frames["communities"][["code", "name", "geometry"]].to_json(), name="社区",
                   tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    points = pd.concat([frames["compounds"][["name", "geometry"]],
                        frames["disputes"][["summary", "geometry"]].rename(columns={"summary": "name"})])
    points = points.iloc[:cap]
    for name, geom in zip(points["name"], points.geometry):
        folium.Marker([geom.y, geom.x], tooltip=str(name)).add_to(m)
    return m, len(points)


def community_frames(frames: dict[str, gpd.GeoDataFrame], code: str) -> dict[str, gpd.GeoDataFrame]:
    """The rows of one community, filtered as a user would (by ``community_code``)."""
    out = {"communities": frames["communities"][frames["communities"]["code"] == code]}
    for name in ("compounds", "disputes"):
        out[name] = frames[name][frames[name]["community_code"] == code]
    return out


def build_and_render(frames: dict[str, gpd.GeoDataFrame], cap: int = MARKER_CAP) -> tuple[str, float, int]:
    """(HTML, seconds to build and render it, markers): what every rerun of the naive page costs."""
    start = time.perf_counter()
    m, markers = naive_map(frames, cap)
    html = m.get_root().render()
    return html, time.perf_counter() - start, markers


def offline_html(frames: dict[str, gpd.GeoDataFrame], cap: int = MARKER_CAP) -> str:
    """The same naive map with Leaflet embedded, so that a browser without internet can draw it."""
    m, _ = naive_map(frames, cap)
    configure_assets(m, "inline")
    return m.get_root().render()
