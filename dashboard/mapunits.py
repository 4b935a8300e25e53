"""Which units a page's map counts records into, and a click on one of them: the maps follow units.

At district and sub-district level the layers count records (disputes, compounds, and stations / grids
when there are many; see ``layers.aggregate``) into units: the communities at district level and the
grids at sub-district level, or the sub-districts at district level when there are more than
``MAX_UNIT_MARKS`` communities (a city-sized database), whose outlines are then left out too. So a map's
size grows with the number of units it shows, never with the number of records.
"""
from __future__ import annotations

import geopandas as gpd

from dashboard.context import PageContext
from geo.scope import Scope
from geo.vocab import Level

MAX_UNIT_MARKS = 1_000
"""At district level, beyond this many communities each community would be a pixel or two on the map:
records are then counted per sub-district and community outlines left out."""


def many_communities(ctx: PageContext) -> bool:
    """Whether the district view holds too many communities to mark each one."""
    return ctx.scope.level is Level.DISTRICT and len(ctx.layer("communities")) > MAX_UNIT_MARKS


def count_units(ctx: PageContext) -> gpd.GeoDataFrame:
    """The units records are counted into: communities at district level (sub-districts when there are
    very many), grids below."""
    if ctx.scope.level is not Level.DISTRICT:
        return ctx.layer("grids")
    return ctx.layer("streets" if many_communities(ctx) else "communities")


def outline_table(ctx: PageContext, table: str) -> str:
    """``table``, or the sub-districts instead of the communities when there are very many of them."""
    return "streets" if table == "communities" and many_communities(ctx) else table


def clicked_unit(ctx: PageContext, value: dict | None) -> Scope | None:
    """The unit inside the scope (below it) whose mark or polygon the user clicked on a st_folium map
    (``last_active_drawing.properties.code``), if the click landed on one."""
    drawing = (value or {}).get("last_active_drawing") or {}
    code = str((drawing.get("properties") or {}).get("code", ""))
    if not code or code == ctx.scope.code or code not in ctx.units.names or not ctx.scope.contains(code):
        return None
    return Scope(code)
