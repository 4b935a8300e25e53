"""Coordinate reference systems: the checks every GeoDataFrame passes, and the Chinese map offsets.

The project stores WGS84 longitude/latitude (EPSG:4326; CGCS2000, EPSG:4490, differs by centimetres
and is accepted as equal). Distances and areas are computed in UTM zone 50N (EPSG:32650), which
covers Fuzhou. Chinese web maps use two obfuscated datums:

- GCJ-02 (国测局坐标, "Mars coordinates"): Amap/高德, Tencent. Shifted from WGS84 by a published
  non-linear formula, 300–600 m in Fuzhou. The inverse has no closed form; it is solved here by
  fixed-point iteration to far better than 0.5 m.
- BD-09 (百度坐标): Baidu, a further rotation/offset of GCJ-02.

Array functions take and return numpy arrays of longitude and latitude in degrees, never mutate
their input, and leave points outside mainland China unshifted (as the Chinese services do).
"""
from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo.errors import CRSError

WGS84_EPSG = 4326
CGCS2000_EPSG = 4490
METRIC_EPSG = 32650
ACCEPTED_EPSG = (WGS84_EPSG, CGCS2000_EPSG)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-10  # ≈ 0.01 mm
_INVERSE_MAX_ITER = 30

Array = np.ndarray


def metric_crs() -> pyproj.CRS:
    """The metric CRS for lengths and areas in Gulou: WGS 84 / UTM zone 50N (EPSG:32650), metres."""
    return pyproj.CRS.from_epsg(METRIC_EPSG)


def require_crs(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` unchanged if its CRS is WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490).

    ``name`` is the Chinese name of the data shown in the message (e.g. "社区边界").
    Raises CRSError when the frame is not a GeoDataFrame, has no CRS or another CRS.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CRSError(f"{name}不是带坐标的地理数据表（GeoDataFrame），无法确定坐标参考系")
    if gdf.crs is None:
        raise CRSError(f"{name}缺少坐标参考系（CRS），应为 WGS84 经纬度（EPSG:4326）")
    epsg = gdf.crs.to_epsg()
    if epsg not in ACCEPTED_EPSG:
        raise CRSError(
            f"{name}的坐标参考系是 {gdf.crs.to_string()}，应为 WGS84 经纬度（EPSG:4326）"
            "或 CGCS2000（EPSG:4490）；请先转换"
        )
    return gdf


def _as_arrays(lon, lat) -> tuple[Array, Array]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.shape != lat.shape:
        raise ValueError(f"经度与纬度数组长度不一致：{lon.shape} 与 {lat.shape}")
    return lon, lat


def in_china(lon, lat) -> Array:
    """Boolean array: whether each point lies in the rough box where the GCJ-02 offset applies."""
    lon, lat = _as_arrays(lon, lat)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta_lat(x: Array, y: Array) -> Array:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: Array, y: Array) -> Array:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 minus WGS84 at WGS84 (lon, lat), degrees; zero outside China."""
    dlat = _delta_lat(lon - 105.0, lat - 35.0)
    dlon = _delta_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[Array, Array]:
    """WGS84 → GCJ-02 (Amap). Degrees in, degrees out; arrays of any equal shape."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(
    forward: Callable, lon: Array, lat: Array, start: tuple[Array, Array] | None = None
) -> tuple[Array, Array]:
    """Solve forward(x, y) = (lon, lat) by fixed-point iteration from ``start`` (default (lon, lat)).

    Converges because both offsets vary slowly (their Jacobian is within 1e-4 of identity).
    """
    x, y = (lon.copy(), lat.copy()) if start is None else (start[0].copy(), start[1].copy())
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if ex.size == 0 or max(np.nanmax(np.abs(ex)), np.nanmax(np.abs(ey))) < _INVERSE_TOL_DEG:
            break
    return x, y


def gcj02_to_wgs84(lon, lat) -> tuple[Array, Array]:
    """GCJ-02 (Amap) → WGS84 by iterating the forward formula; error far below 0.5 m."""
    lon, lat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon, lat) -> tuple[Array, Array]:
    """GCJ-02 → BD-09 (Baidu). Degrees in, degrees out."""
    lon, lat = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[Array, Array]:
    """BD-09 (Baidu) → GCJ-02, inverting :func:`gcj02_to_bd09` exactly (iteratively)."""
    lon, lat = _as_arrays(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    # The textbook formula is good to about a metre; iterating from it makes it exact.
    return _invert(gcj02_to_bd09, lon, lat, start=(z * np.cos(theta), z * np.sin(theta)))


def wgs84_to_bd09(lon, lat) -> tuple[Array, Array]:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[Array, Array]:
    """BD-09 → WGS84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _coords_fn(convert: Callable) -> Callable[[Array], Array]:
    """Wrap a (lon, lat) converter as a shapely.transform function on an (N, 2) array."""

    def fn(coords: Array) -> Array:
        out_lon, out_lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([out_lon, out_lat])

    return fn


def _shift(gdf: gpd.GeoDataFrame, name: str, convert: Callable) -> gpd.GeoDataFrame:
    require_crs(gdf, name)
    out = gdf.copy()
    geoms = shapely.transform(np.asarray(gdf.geometry.values, dtype=object), _coords_fn(convert))
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return out.set_geometry(gdf.geometry.name)


def to_gcj02(gdf: gpd.GeoDataFrame, name: str = "图层数据") -> gpd.GeoDataFrame:
    """A copy of a WGS84 frame with every coordinate shifted to GCJ-02, for drawing on Amap tiles.

    The CRS label stays EPSG:4326 (GCJ-02 has no EPSG code; Leaflet treats it as lon/lat). Never
    store or measure the result: it is for display only.
    """
    return _shift(gdf, name, wgs84_to_gcj02)


def to_bd09(gdf: gpd.GeoDataFrame, name: str = "图层数据") -> gpd.GeoDataFrame:
    """A copy of a WGS84 frame with every coordinate shifted to BD-09 (Baidu), labelled EPSG:4326 like ``to_gcj02``."""
    return _shift(gdf, name, wgs84_to_bd09)


def from_gcj02(gdf: gpd.GeoDataFrame, name: str = "导入数据") -> gpd.GeoDataFrame:
    """A copy of a frame whose lon/lat are GCJ-02 (labelled EPSG:4326), converted to true WGS84."""
    return _shift(gdf, name, gcj02_to_wgs84)


def from_bd09(gdf: gpd.GeoDataFrame, name: str = "导入数据") -> gpd.GeoDataFrame:
    """A copy of a frame whose lon/lat are BD-09 (labelled EPSG:4326), converted to true WGS84."""
    return _shift(gdf, name, bd09_to_wgs84)
