"""Do the grids tile their communities? Overlaps, gaps, boundary crossings and slivers.

Every grid belongs to the community in its ``community_code``; the grids of a community should
cover it exactly, without overlapping each other or reaching outside it. :func:`topology_report`
measures, in UTM zone 50N (EPSG:32650, metres / m²):

``overlaps``  one row per pair of grids whose interiors overlap (found with ``sjoin``'s spatial
              index): grid_a, grid_b, their communities, area_m2, lon/lat of a point inside;
``gaps``      one row per piece of a community not covered by any of its grids: community code and
              name, area_m2, lon/lat;
``crossings`` one row per grid reaching outside its community: code, name, community_code,
              area_outside_m2, share_outside, lon/lat;
``slivers``   the overlap and gap pieces smaller than ``sliver_m2`` (usually digitising noise
              rather than real errors), with ``problem`` = ``overlap``/``gap``.

Pieces of less than :data:`NOISE_M2` (floating-point dust where shared edges were rounded) are not
reported at all. Every frame is a GeoDataFrame in EPSG:4326 whose geometry is the problem piece;
lon/lat is its representative point (always inside the piece). Inputs are WGS84/CGCS2000
GeoDataFrames and are never mutated; an empty frame with the same columns means "no problem".
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84_EPSG
from geo.nearby import check_metres, require_columns, to_metric

NOISE_M2 = 0.01
"""Pieces below this area (m²) are floating-point dust and are not reported."""

SLIVER_M2 = 50.0
"""Default area (m²) below which an overlap or gap piece counts as a sliver."""

PROBLEM_LABELS = {"overlap": "网格重叠", "gap": "网格空隙", "crossing": "越出社区边界"}
"""Kinds of topology problem (English value → Chinese label)."""


def _located(frame: pd.DataFrame, pieces: np.ndarray, crs) -> gpd.GeoDataFrame:
    """``frame`` plus lon/lat of a point inside each of ``pieces`` (metric), which become the
    geometry; returned in EPSG:4326."""
    inside = gpd.GeoSeries(shapely.point_on_surface(pieces), crs=crs).to_crs(WGS84_EPSG)
    frame = frame.reset_index(drop=True).assign(lon=inside.x.to_numpy(float), lat=inside.y.to_numpy(float))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(pieces, crs=crs)).to_crs(WGS84_EPSG)


def _overlaps(grids: gpd.GeoDataFrame, sliver_m2: float) -> gpd.GeoDataFrame:
    """Pairs of grids (metric frame) whose interiors overlap by at least NOISE_M2 m²."""
    plain = gpd.GeoDataFrame(geometry=gpd.GeoSeries(grids.geometry.to_numpy(), crs=grids.crs))
    pairs = gpd.sjoin(plain, plain, how="inner", predicate="intersects")
    a = pairs.index.to_numpy(int)
    b = pairs["index_right"].to_numpy(int)
    a, b = a[a < b], b[a < b]
    geoms = grids.geometry.to_numpy()
    pieces = shapely.intersection(geoms[a], geoms[b]) if len(a) else np.array([], dtype=object)
    area = shapely.area(pieces) if len(a) else np.array([], float)
    keep = area >= NOISE_M2
    a, b, pieces, area = a[keep], b[keep], pieces[keep], area[keep]
    codes, comms = grids["code"].to_numpy(), grids["community_code"].to_numpy()
    frame = pd.DataFrame({"grid_a": codes[a], "grid_b": codes[b], "community_a": comms[a],
                          "community_b": comms[b], "area_m2": area, "sliver": area < sliver_m2})
    return _located(frame, pieces, grids.crs)


def _grid_unions(grids: gpd.GeoDataFrame) -> pd.Series:
    """Union of the grid polygons of each community (metric), indexed by community code."""
    return grids.geometry.groupby(grids["community_code"].to_numpy()).agg(
        lambda s: shapely.union_all(s.to_numpy()))


def _gaps(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, sliver_m2: float) -> gpd.GeoDataFrame:
    """Pieces of each community (metric) covered by none of its grids, one row per piece."""
    unions = _grid_unions(grids)
    shapes = communities.geometry.to_numpy()
    cover = np.array(unions.reindex(communities["code"].to_numpy()), dtype=object)
    cover[pd.isna(cover)] = shapely.Polygon()
    holes = shapely.difference(shapes, cover)
    parts, owner = shapely.get_parts(holes, return_index=True)
    area = shapely.area(parts) if len(parts) else np.array([], float)
    keep = area >= NOISE_M2
    parts, owner, area = parts[keep], owner[keep], area[keep]
    frame = pd.DataFrame({"community_code": communities["code"].to_numpy()[owner],
                          "community_name": communities["name"].to_numpy()[owner],
                          "area_m2": area, "sliver": area < sliver_m2})
    return _located(frame, parts, grids.crs)


def _crossings(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grids (metric) reaching outside their own community by at least NOISE_M2 m².

    A grid whose community code names no community lies wholly outside.
    """
    home = pd.Series(communities.geometry.to_numpy(), index=communities["code"].to_numpy())
    home = np.array(home[~home.index.duplicated()].reindex(grids["community_code"].to_numpy()), dtype=object)
    home[pd.isna(home)] = shapely.Polygon()
    shapes = grids.geometry.to_numpy()
    outside = shapely.difference(shapes, home)
    area = shapely.area(outside)
    keep = area >= NOISE_M2
    frame = pd.DataFrame({"code": grids["code"].to_numpy()[keep], "name": grids["name"].to_numpy()[keep],
                          "community_code": grids["community_code"].to_numpy()[keep],
                          "area_outside_m2": area[keep], "share_outside": area[keep] / shapely.area(shapes[keep])})
    return _located(frame, outside[keep], grids.crs)


def _slivers(overlaps: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sliver pieces of both kinds in one frame, with ``problem`` and its Chinese label."""
    o = overlaps[overlaps["sliver"]].assign(problem="overlap", community_code=lambda f: f["community_a"])
    g = gaps[gaps["sliver"]].assign(problem="gap")
    cols = ["problem", "community_code", "area_m2", "lon", "lat", "geometry"]
    out = gpd.GeoDataFrame(pd.concat([o[cols], g[cols]], ignore_index=True), geometry="geometry", crs=WGS84_EPSG)
    out.insert(1, "problem_label", out["problem"].map(PROBLEM_LABELS))
    return out


def topology_report(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                    sliver_m2: float = SLIVER_M2) -> dict[str, gpd.GeoDataFrame]:
    """Overlaps, gaps, boundary crossings and slivers of the grids against their communities.

    ``grids`` need code, name and community_code; ``communities`` need code and name; both
    WGS84/CGCS2000 polygons. Areas are m² in EPSG:32650; ``sliver_m2`` (m²) separates slivers from
    real problems. Returns ``{"overlaps", "gaps", "crossings", "slivers"}`` (see the module doc).
    """
    sliver_m2 = check_metres(sliver_m2, "碎片面积阈值（平方米）")
    require_columns(grids, ["code", "name", "community_code"], "网格")
    require_columns(communities, ["code", "name"], "社区")
    g = to_metric(grids, "网格").reset_index(drop=True)
    c = to_metric(communities, "社区").reset_index(drop=True)
    g[g.geometry.name] = gpd.GeoSeries(shapely.make_valid(g.geometry.to_numpy()), crs=g.crs)
    c[c.geometry.name] = gpd.GeoSeries(shapely.make_valid(c.geometry.to_numpy()), crs=c.crs)
    overlaps = _overlaps(g, sliver_m2)
    gaps = _gaps(g, c, sliver_m2)
    return {"overlaps": overlaps, "gaps": gaps, "crossings": _crossings(g, c), "slivers": _slivers(overlaps, gaps)}
