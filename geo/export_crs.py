"""Coordinate systems of exports: which systems, honest CRS declarations, and moving WGS84 data into them.

- WGS84 (EPSG:4326), CGCS2000 (EPSG:4490), CGCS2000 3-degree Gauss-Krüger zone 40 (EPSG:4528, the easting
  with the zone number in front) and UTM 50N (EPSG:32650) are declared by their EPSG code.
- GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are not geodetic systems and have no EPSG code. A file that
  holds them must not claim WGS84: they get a custom geographic CRS named ``GCJ-02 (高德/腾讯)`` /
  ``BD-09 (百度)`` with no authority, so a GIS tool asks instead of assuming (and our importer reads the
  name back, see ``geo.ingest_crs.key_of_crs``).

Pure: no files, no database.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

import geopandas as gpd
import pyproj

from geo import crs as gcrs
from geo.errors import GuloError
from geo.ingest_crs import BD09, CGCS2000, CRS_CHOICES, GCJ02, WGS84

GK3_40, UTM50N = "gk3_40", "utm50n"
EXPORT_SYSTEMS = (WGS84, CGCS2000, GCJ02, BD09, GK3_40, UTM50N)
"""The systems an export can be written in (keys of ``geo.ingest_crs.CRS_CHOICES``)."""
SYSTEM_LABELS: dict[str, str] = {
    WGS84: "WGS84 经纬度（EPSG:4326，卫星定位、奥维等通用）",
    CGCS2000: "CGCS2000 经纬度（EPSG:4490，天地图、国土部门）",
    GCJ02: "GCJ-02 经纬度（高德、腾讯地图；无 EPSG 代码）",
    BD09: "BD-09 经纬度（百度地图；无 EPSG 代码）",
    GK3_40: "CGCS2000 高斯-克吕格 3度带 第40带（EPSG:4528，米，供 CAD、测绘使用）",
    UTM50N: "UTM 50N 投影（EPSG:32650，米）",
}
"""Key -> the Chinese label a person chooses from."""
SHORT_NAMES = {WGS84: "WGS84", CGCS2000: "CGCS2000", GCJ02: "GCJ-02", BD09: "BD-09", GK3_40: "EPSG:4528",
               UTM50N: "EPSG:32650"}
"""Key -> how the system is named in a column header, e.g. 经度（GCJ-02）."""
SHIFTED_NAMES = {GCJ02: "GCJ-02 (高德/腾讯)", BD09: "BD-09 (百度)"}
"""The names of the custom CRS of the shifted systems (no EPSG id)."""
_SHIFT: dict[str, Callable] = {GCJ02: gcrs.to_gcj02, BD09: gcrs.to_bd09}
_SHIFTED_WKT = (
    'GEOGCRS["{name}",DATUM["{name}: offset from WGS 84 by a published algorithm, not a geodetic datum",'
    'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],'
    'AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
    'AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],'
    'REMARK["{remark}"]]')
SHIFTED_NOTE = {
    GCJ02: ("坐标为 GCJ-02（高德/腾讯）经纬度，没有 EPSG 代码，不是 WGS84：在 QGIS 等软件中请勿指定为 EPSG:4326，"
            "应与高德、腾讯底图叠加使用（坐标已按其底图偏移）；与 WGS84 或天地图底图叠加会偏差约 500 米。"),
    BD09: ("坐标为 BD-09（百度）经纬度，没有 EPSG 代码，不是 WGS84：只宜与百度底图叠加使用；"
           "与 WGS84 或天地图底图叠加会偏差约 1 公里。"),
}
"""Key -> the Chinese note written into a file in a shifted system (and shown beside the choice)."""


def check_system(key: str) -> str:
    """``key`` if it is an export system; GuloError naming the choices otherwise."""
    if key not in EXPORT_SYSTEMS:
        allowed = "、".join(f"{k}（{SYSTEM_LABELS[k]}）" for k in EXPORT_SYSTEMS)
        raise GuloError(f"不支持的导出坐标系“{key}”，可选：{allowed}")
    return key


def is_shifted(key: str) -> bool:
    """Whether ``key`` is GCJ-02 or BD-09 (no EPSG code; a custom CRS in the file)."""
    return key in _SHIFT


def is_projected(key: str) -> bool:
    """Whether the coordinates of ``key`` are metres (Gauss-Krüger, UTM) rather than degrees."""
    return system_crs(check_system(key)).is_projected


@cache
def system_crs(key: str) -> pyproj.CRS:
    """The CRS a file in ``key`` declares: the EPSG code, or the custom CRS of a shifted system."""
    if is_shifted(check_system(key)):
        return pyproj.CRS.from_wkt(_SHIFTED_WKT.format(name=SHIFTED_NAMES[key], remark=SHIFTED_NOTE[key]))
    return pyproj.CRS.from_epsg(CRS_CHOICES[key][0])


def to_system(gdf: gpd.GeoDataFrame, key: str, name: str = "图层数据") -> gpd.GeoDataFrame:
    """``gdf`` (WGS84) in the system ``key``, declaring it honestly (see the module doc); input not mutated."""
    if is_shifted(check_system(key)):
        return _SHIFT[key](gdf, name).set_crs(system_crs(key), allow_override=True)
    return gcrs.require_crs(gdf, name).to_crs(system_crs(key))


def decimals(key: str) -> int:
    """Decimals written for a coordinate of ``key``: 7 for degrees (about 1 cm), 3 for metres (1 mm)."""
    return 3 if is_projected(key) else 7


def coordinate_labels(key: str) -> tuple[str, str]:
    """The headers of the x/y columns in a table export: 经度/纬度 (WGS84), 经度（GCJ-02）…, X（EPSG:4528，米）…"""
    if key == WGS84:
        return "经度", "纬度"
    if is_projected(key):
        return f"X（{SHORT_NAMES[key]}，米）", f"Y（{SHORT_NAMES[key]}，米）"
    return f"经度（{SHORT_NAMES[key]}）", f"纬度（{SHORT_NAMES[key]}）"


def wkt_label(key: str) -> str:
    """The header of the WKT column in a table export: 几何(WKT) for WGS84, 几何(WKT，GCJ-02) otherwise."""
    return "几何(WKT)" if key == WGS84 else f"几何(WKT，{SHORT_NAMES[key]})"
