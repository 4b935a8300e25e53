"""Pure geometry for generating a plausible sample district: outline, seeds, tessellations.

Public functions take GeoSeries (or GeoDataFrames) with a CRS, do all measuring in the metric
CRS ``EPSG:32650`` (UTM zone 50N, metres) and return GeoSeries in WGS84 (``EPSG:4326``).
Randomness comes only from an explicit ``numpy.random.Generator`` or integer seed, so the same
inputs always give the same output. Inputs are never modified.

No public community boundaries exist for Gulou District; these functions are how the project
draws illustrative ones (a Voronoi tessellation of community centres clipped to an outline, then
grids of about equal area inside each community).
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError

METRIC_CRS = "EPSG:32650"
WGS84 = "EPSG:4326"

GeoInput = gpd.GeoSeries | gpd.GeoDataFrame


# ---------------------------------------------------------------------------------------------
# argument checks and conversions


def as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    """A numpy Generator from a Generator (returned as is) or a non-negative integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng 应为 numpy.random.Generator 或非负整数种子，收到 {type(rng).__name__}")


def geoseries(data: GeoInput, name: str = "data") -> gpd.GeoSeries:
    """The geometry column of ``data``; TypeError for other types, CRSError without a CRS."""
    if not isinstance(data, (gpd.GeoSeries, gpd.GeoDataFrame)):
        raise TypeError(f"{name} 应为 GeoSeries 或 GeoDataFrame，收到 {type(data).__name__}")
    series = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
    if series.crs is None:
        raise CRSError(f"{name} 没有坐标参考系（CRS），请先设置，例如 EPSG:4326")
    return series


def to_metric(data: GeoInput, name: str = "data") -> gpd.GeoSeries:
    """The geometries of ``data`` in EPSG:32650 (metres); CRSError when ``data`` has no CRS."""
    return geoseries(data, name).to_crs(METRIC_CRS)


def _wgs84(data: GeoInput, name: str) -> gpd.GeoSeries:
    """The geometries of ``data`` in EPSG:4326 (not reprojected when already WGS84)."""
    series = geoseries(data, name)
    return series if series.crs.to_epsg() == 4326 else series.to_crs(WGS84)


def _one_polygon(data: GeoInput, name: str) -> BaseGeometry:
    """The single (Multi)Polygon of ``data`` in metres; ValueError if it is not exactly one."""
    series = to_metric(data, name)
    if len(series) != 1:
        raise ValueError(f"{name} 应只含 1 个面，实际 {len(series)} 个")
    geom = series.iloc[0]
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"{name} 应为 Polygon 或 MultiPolygon，收到 {getattr(geom, 'geom_type', None)}")
    return geom


def _xy(data: GeoInput, name: str) -> np.ndarray:
    """(n, 2) array of point coordinates in metres; ValueError for non-point geometries."""
    series = to_metric(data, name)
    kinds = set(series.geom_type.dropna())
    if len(series) and (kinds != {"Point"} or series.isna().any()):
        raise ValueError(f"{name} 应全部为点（Point），收到 {sorted(kinds)}")
    return shapely.get_coordinates(series.values)


def _to_wgs84(geoms, index=None) -> gpd.GeoSeries:
    """GeoSeries in WGS84 of metric (EPSG:32650) geometries."""
    return gpd.GeoSeries(list(geoms), index=index, crs=METRIC_CRS).to_crs(WGS84)


def _check_count(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} 应为正整数，收到 {n!r}")
    return int(n)


# ---------------------------------------------------------------------------------------------
# district outline


def _outline_xy(points: np.ndarray, area_m2: float, ratio: float, smooth_m: float) -> BaseGeometry:
    """Buffered, smoothed concave hull of metric ``points`` scaled to ``area_m2`` (m²)."""
    hull = shapely.concave_hull(shapely.multipoints(points), ratio=ratio)

    def grown(dist: float) -> BaseGeometry:
        return hull.buffer(dist + smooth_m).buffer(-smooth_m)

    lo, hi = 0.0, 100.0
    while grown(hi).area < area_m2:
        lo, hi = hi, hi * 2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if grown(mid).area < area_m2 else (lo, mid)
    shape = grown(hi)
    factor = float(np.sqrt(area_m2 / shape.area))
    return affinity.scale(shape, factor, factor, origin=shape.centroid)


def district_outline(
    seeds: GeoInput, area_km2: float = 35.0, *, ratio: float = 0.5, smooth_m: float = 600.0
) -> gpd.GeoSeries:
    """A plausible district outline of ``area_km2`` km² around seed points.

    The concave hull of the seeds (``ratio`` in (0, 1]: 1 is the convex hull) is buffered outward
    until the area is reached, smoothed by an opening/closing of ``smooth_m`` metres, and scaled
    about its centroid to exactly ``area_km2`` (measured in EPSG:32650). Should the scaled shape
    miss a seed, the hull is added back. Returns one polygon in EPSG:4326.
    """
    points = _xy(seeds, "seeds")
    if len(points) < 3:
        raise ValueError(f"seeds 至少需要 3 个点，收到 {len(points)} 个")
    if not area_km2 > 0:
        raise ValueError(f"area_km2 应为正数（平方千米），收到 {area_km2!r}")
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio 应在 (0, 1] 之间，收到 {ratio!r}")
    if smooth_m < 0:
        raise ValueError(f"smooth_m 应为非负数（米），收到 {smooth_m!r}")
    outline = _outline_xy(points, area_km2 * 1e6, ratio, smooth_m)
    hull = shapely.concave_hull(shapely.multipoints(points), ratio=ratio)
    if not outline.contains(hull):
        outline = shapely.union(outline, hull.buffer(50))
    return _to_wgs84([outline])


# ---------------------------------------------------------------------------------------------
# points


def random_points_xy(region: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside a metric polygon, as an (n, 2) array in metres."""
    if n == 0:
        return np.empty((0, 2))
    xmin, ymin, xmax, ymax = region.bounds
    shapely.prepare(region)
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        batch = max(16, int(2.5 * (n - total) * (xmax - xmin) * (ymax - ymin) / region.area))
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(batch, 2))
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
    return np.concatenate(found)[:n]


def random_points(region: GeoInput, n: int, rng: np.random.Generator | int, *, margin_m: float = 0.0) -> gpd.GeoSeries:
    """``n`` uniform random points at least ``margin_m`` metres inside ``region``; EPSG:4326."""
    poly = _one_polygon(region, "region")
    inner = poly.buffer(-margin_m) if margin_m > 0 else poly
    if inner.is_empty:
        raise ValueError(f"margin_m={margin_m} 米过大，区域内没有剩余空间")
    xy = random_points_xy(inner, _check_count(n) if n else 0, as_rng(rng))
    return _to_wgs84(shapely.points(xy))


def _farthest_points_xy(
    region: BaseGeometry, existing: np.ndarray, n: int, rng: np.random.Generator, candidates: int
) -> np.ndarray:
    """Greedy farthest-point sampling: each new point maximises its clearance (metres) from
    the points so far and from the region's boundary."""
    cand = random_points_xy(region, candidates, rng)
    clearance = shapely.distance(shapely.points(cand), region.boundary)
    if len(existing):
        gaps = np.linalg.norm(cand[:, None, :] - existing[None, :, :], axis=2).min(axis=1)
        clearance = np.minimum(clearance, gaps)
    chosen = []
    for _ in range(n):
        best = int(np.argmax(clearance))
        chosen.append(cand[best])
        clearance = np.minimum(clearance, np.linalg.norm(cand - cand[best], axis=1))
    return np.array(chosen).reshape(-1, 2)


def place_seeds(
    region: GeoInput, existing: GeoInput, n: int, rng: np.random.Generator | int, *, candidates: int = 600
) -> gpd.GeoSeries:
    """``n`` new seed points inside ``region`` for units whose centre is unknown.

    Farthest-point sampling among ``candidates`` random points: each new point is the candidate
    farthest (in metres, EPSG:32650) from the ``existing`` points, the points already placed and
    the region's boundary. Returns the new points only, in EPSG:4326.
    """
    poly = _one_polygon(region, "region")
    known = _xy(existing, "existing")
    n = _check_count(n)
    _check_count(candidates, "candidates")
    return _to_wgs84(shapely.points(_farthest_points_xy(poly, known, n, as_rng(rng), candidates)))


# ---------------------------------------------------------------------------------------------
# tessellations


def voronoi_xy(points: np.ndarray, region: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of metric ``points`` clipped to ``region``, in the order of the points."""
    if len(points) == 1:
        return [region]
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(points), extend_to=region.envelope, ordered=True
    )
    cells = np.asarray(shapely.get_parts(diagram))
    return list(shapely.intersection(cells, region))


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    """Length in metres of the boundary shared by two polygons."""
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary)))


def merge_fragments_xy(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give every detached piece of a cell to the neighbour sharing the longest border.

    Each cell keeps its largest part; the other parts join the neighbouring cell with which
    they share the most boundary (metres). A piece touching no other cell stays where it was.
    """
    main, orphans = [], []
    for i, cell in enumerate(cells):
        parts = sorted(shapely.get_parts(cell), key=lambda p: -p.area) or [cell]
        main.append(parts[0])
        orphans.extend((i, part) for part in parts[1:])
    for owner, part in orphans:
        shared = [(_shared_length(part, m) if j != owner else 0.0) for j, m in enumerate(main)]
        target = int(np.argmax(shared)) if max(shared) > 0 else owner
        main[target] = shapely.union(main[target], part)
    return main


def voronoi_cells(seeds: GeoInput, region: GeoInput, *, merge_fragments: bool = True) -> gpd.GeoSeries:
    """Voronoi cells of ``seeds`` clipped to ``region``, indexed like ``seeds``; EPSG:4326.

    The cells tile the region. With ``merge_fragments`` a cell cut into pieces by a concave
    region keeps its largest piece and hands the others to their neighbours (see
    :func:`merge_fragments_xy`). Seeds must be distinct points inside the region.
    """
    poly = _one_polygon(region, "region")
    points = _xy(seeds, "seeds")
    if len(points) == 0:
        raise ValueError("seeds 至少需要 1 个点")
    if len(np.unique(points.round(3), axis=0)) != len(points):
        raise ValueError("seeds 中有重合的点（相距不足 1 毫米）")
    if not shapely.contains_xy(poly, points[:, 0], points[:, 1]).all():
        raise ValueError("seeds 中有落在 region 之外的点")
    cells = voronoi_xy(points, poly)
    if merge_fragments:
        cells = merge_fragments_xy(cells)
    index = seeds.index if isinstance(seeds, (gpd.GeoSeries, gpd.GeoDataFrame)) else None
    return _to_wgs84(cells, index=index)


def _lloyd_xy(region: BaseGeometry, n: int, rng: np.random.Generator, iterations: int) -> list[BaseGeometry]:
    """Cells of ``n`` random seeds in a metric region after ``iterations`` Lloyd relaxations."""
    points = random_points_xy(region, n, rng)
    cells = voronoi_xy(points, region)
    for _ in range(iterations):
        centres = shapely.centroid(np.asarray(cells))
        outside = ~shapely.contains(region, centres)
        if outside.any():
            centres[outside] = shapely.point_on_surface(np.asarray(cells)[outside])
        points = shapely.get_coordinates(centres)
        cells = voronoi_xy(points, region)
    return merge_fragments_xy(cells)


def _reading_order(cells: list[BaseGeometry], band_m: float) -> list[BaseGeometry]:
    """Cells sorted north to south in bands of ``band_m`` metres, then west to east."""
    xy = shapely.get_coordinates(shapely.centroid(np.asarray(cells)))
    order = np.lexsort((xy[:, 0], -np.floor(xy[:, 1] / band_m)))
    return [cells[i] for i in order]


def split_equal_area(
    polygon: GeoInput, n: int, rng: np.random.Generator | int, *, iterations: int = 12
) -> gpd.GeoSeries:
    """Split one polygon into ``n`` compact parts of about equal area; EPSG:4326.

    ``n`` random seeds are relaxed by ``iterations`` Lloyd steps (each seed moves to the
    centroid of its Voronoi cell, measured in EPSG:32650), then their Voronoi cells clipped to
    the polygon are returned in reading order (north to south, west to east). The parts tile the
    polygon; their areas typically differ by less than a quarter from the mean.
    """
    poly = _one_polygon(polygon, "polygon")
    n = _check_count(n)
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f"iterations 应为非负整数，收到 {iterations!r}")
    cells = _lloyd_xy(poly, n, as_rng(rng), int(iterations))
    return _to_wgs84(_reading_order(cells, float(np.sqrt(poly.area / n))))


# ---------------------------------------------------------------------------------------------
# exact tiling in WGS84


def _faces(polygons: np.ndarray, grid_size: float) -> np.ndarray:
    """Faces of the noded, snap-rounded boundaries of ``polygons`` (coordinates on the grid)."""
    lines = shapely.union_all(shapely.boundary(polygons), grid_size=grid_size)
    return np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))


def _face_owner(faces: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon overlapping each face most (-1 for faces outside every polygon)."""
    tree = shapely.STRtree(polygons)
    face_i, poly_i = tree.query(faces, predicate="intersects")
    areas = shapely.area(shapely.intersection(faces[face_i], polygons[poly_i]))
    owner = np.full(len(faces), -1)
    best = np.zeros(len(faces))
    for f, p, a in zip(face_i, poly_i, areas):
        if a > best[f] or (a == best[f] and a > 0 and p < owner[f]):
            owner[f], best[f] = p, a
    return owner


def as_multipolygon(geom: BaseGeometry) -> shapely.MultiPolygon:
    """``geom`` as a MultiPolygon (a Polygon becomes a one-part MultiPolygon)."""
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def round_coordinates(geoms, decimals: int = 7) -> np.ndarray:
    """Geometries with every coordinate rounded to ``decimals`` decimal places."""
    return shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.round(c, decimals))


def snap_tiling(polygons: GeoInput, decimals: int = 7) -> gpd.GeoSeries:
    """Make a tiling exact after rounding: shared borders get identical vertices.

    The boundaries of all polygons are noded and snap-rounded to ``decimals`` decimal places of
    degrees (EPSG:4326), polygonised into faces, and each face goes to the input polygon it
    overlaps most. Neighbours then share exactly the same vertices, so overlaps and gaps are
    zero up to floating point. Returns MultiPolygons in EPSG:4326, indexed like the input (a
    polygon thinner than the rounding comes back empty).
    """
    if not isinstance(decimals, int) or not 0 <= decimals <= 12:
        raise ValueError(f"decimals 应为 0 到 12 之间的整数，收到 {decimals!r}")
    series = _wgs84(polygons, "polygons")
    geoms = np.asarray(series.values, dtype=object)
    grid_size = 10.0 ** -decimals
    faces = _faces(geoms, grid_size)
    owner = _face_owner(faces, geoms)
    merged = []
    for i in range(len(geoms)):
        mine = faces[owner == i]
        geom = mine[0] if len(mine) == 1 else shapely.union_all(mine, grid_size=grid_size)
        merged.append(as_multipolygon(geom))
    out = round_coordinates(merged, decimals)
    return gpd.GeoSeries(list(out), index=series.index, crs=WGS84)


def dissolve_exact(polygons: GeoInput, keys: Iterable[Hashable], decimals: int = 7) -> gpd.GeoSeries:
    """Union of the polygons per key, on the coordinate grid of ``decimals`` places; EPSG:4326.

    Meant for polygons that went through :func:`snap_tiling`: their unions then share borders
    exactly, as the parts did. (Other input is snap-rounded, which moves outlines by up to half a
    unit of the last decimal, about 1 cm at 7 decimals.) ``keys`` is aligned with ``polygons``;
    the result is indexed by the sorted distinct keys and holds MultiPolygons.
    """
    series = _wgs84(polygons, "polygons")
    keys = np.asarray(list(keys))
    if len(keys) != len(series):
        raise ValueError(f"keys 的长度 {len(keys)} 与 polygons 的 {len(series)} 不一致")
    grid_size = 10.0 ** -decimals
    values = np.asarray(series.values, dtype=object)
    out, names = [], sorted(set(keys.tolist()))
    for key in names:
        out.append(as_multipolygon(shapely.union_all(values[keys == key], grid_size=grid_size)))
    return gpd.GeoSeries(list(round_coordinates(out, decimals)), index=names, crs=WGS84)
