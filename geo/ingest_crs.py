"""Coordinate systems of imported files: the choices, detecting which one a file is in, converting.

An office file may be in WGS84 or CGCS2000 longitude/latitude, in the shifted Chinese web-map
systems GCJ-02 (Amap/Tencent) or BD-09 (Baidu), or projected in metres: UTM zone 50N or a
CGCS2000 Gauss-Krüger zone covering Fuzhou (3° zone 40, central meridian 120°E, with or without
the zone number in front of the easting; 6° zone 20 / 3° zone 39, central meridian 117°E).

``detect_crs`` guesses the system from the declared CRS and the coordinate ranges, and, where
ranges cannot tell (UTM 50N and Gauss-Krüger 117°E differ only by a 0.9996 scale, about 1 km
here), from which candidate lands the data inside the district. ``detect_shift`` then finds the
case no range can tell: GCJ-02 or BD-09 degrees labelled as WGS84, shifted by about 500 m (GCJ-02)
or 1 km (BD-09) against the district's existing geometry.

All functions are pure: they take and return shapely arrays / GeoSeries and never mutate input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo import crs as gcrs
from geo.errors import CRSError

GCJ02, BD09, WGS84, CGCS2000 = "gcj02", "bd09", "wgs84", "cgcs2000"

CRS_CHOICES: dict[str, tuple[int | None, str]] = {
    WGS84: (4326, "WGS84 经纬度（EPSG:4326，GPS）"),
    CGCS2000: (4490, "CGCS2000 经纬度（EPSG:4490，天地图）"),
    GCJ02: (None, "GCJ-02 经纬度（高德、腾讯地图）"),
    BD09: (None, "BD-09 经纬度（百度地图）"),
    "utm50n": (32650, "UTM 50N 投影（EPSG:32650，米）"),
    "gk3_120": (4549, "CGCS2000 高斯-克吕格 3度带 中央经线120°E 无带号（EPSG:4549，米）"),
    "gk3_40": (4528, "CGCS2000 高斯-克吕格 3度带 第40带 含带号（EPSG:4528，米）"),
    "gk_117": (4509, "CGCS2000 高斯-克吕格 中央经线117°E 无带号（EPSG:4509 / 4548，米）"),
    "gk6_20": (4498, "CGCS2000 高斯-克吕格 6度带 第20带 含带号（EPSG:4498，米）"),
    "gk3_39": (4527, "CGCS2000 高斯-克吕格 3度带 第39带 含带号（EPSG:4527，米）"),
}
"""Key -> (EPSG code or None for the Chinese shifted systems, Chinese label). Keys are what users pass."""

GEOGRAPHIC = (WGS84, CGCS2000, GCJ02, BD09)
_SAME_AS = {4548: "gk_117"}  # 3° CM 117E without prefix is the same projection as 6° CM 117E
_PREFIX_ZONES = {40: "gk3_40", 20: "gk6_20", 39: "gk3_39"}
_UNPREFIXED = ("gk3_120", "gk_117", "utm50n")
FUZHOU_BOX = (119.0, 25.8, 119.7, 26.4)
"""Generous lon/lat box (WGS84 degrees) around Gulou used when no district geometry is known."""


@dataclass(frozen=True)
class CRSGuess:
    """A CRS key of CRS_CHOICES and a Chinese sentence saying how it was chosen."""

    key: str
    note: str


def crs_label(key: str) -> str:
    """Chinese label of a CRS key (``epsg:NNNN`` keys are shown as they are)."""
    return CRS_CHOICES[key][1] if key in CRS_CHOICES else key.upper()


def parse_crs_key(text: str) -> str:
    """A user's CRS choice (key, ``EPSG:NNNN``, ``4326`` …) as a key; CRSError naming the choices."""
    raw = str(text).strip().lower().replace("-", "").replace("_", "")
    for key in CRS_CHOICES:
        if raw == key.replace("_", ""):
            return key
    code = raw.removeprefix("epsg:")
    if code.isdigit():
        return key_of_epsg(int(code))
    allowed = "、".join(f"{k}（{v[1]}）" for k, v in CRS_CHOICES.items())
    raise CRSError(f"无法识别的坐标系“{text}”，可选：{allowed}，或 EPSG:代码")


def key_of_epsg(epsg: int) -> str:
    """The CRS_CHOICES key of an EPSG code, or ``epsg:NNNN`` for any other valid code."""
    for key, (code, _) in CRS_CHOICES.items():
        if code == epsg:
            return key
    if epsg in _SAME_AS:
        return _SAME_AS[epsg]
    try:
        pyproj.CRS.from_epsg(epsg)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"未知的 EPSG 代码 {epsg}") from exc
    return f"epsg:{epsg}"


_SHIFTED_NAMES = ((GCJ02, re.compile(r"gcj[\W_]*0?2", re.I)), (BD09, re.compile(r"bd[\W_]*0?9", re.I)))


def key_of_crs(crs: pyproj.CRS | None) -> str | None:
    """The key of a declared CRS: its EPSG code's, GCJ-02/BD-09 for a custom CRS named for them (how our exports
    and some Chinese GIS tools declare them), None when there is none or it is unknown."""
    if crs is None:
        return None
    crs = pyproj.CRS(crs)
    epsg = crs.to_epsg(min_confidence=70)
    if epsg:
        return key_of_epsg(epsg)
    return next((key for key, pattern in _SHIFTED_NAMES if pattern.search(crs.name or "")), None)


def to_wgs84(geoms: gpd.GeoSeries, key: str) -> gpd.GeoSeries:
    """``geoms`` (coordinates in the system ``key``; their own CRS label is ignored) in true WGS84."""
    values = np.asarray(geoms.values, dtype=object)
    if key in (GCJ02, BD09):
        convert = gcrs.gcj02_to_wgs84 if key == GCJ02 else gcrs.bd09_to_wgs84
        out = shapely.transform(values, _pairwise(convert))
    elif key in (WGS84, CGCS2000):
        out = values
    else:
        epsg = CRS_CHOICES[key][0] if key in CRS_CHOICES else int(key.split(":")[1])
        out = shapely.transform(values, _pairwise(_transformer(epsg).transform))
    return gpd.GeoSeries(out, index=geoms.index, crs=gcrs.WGS84_EPSG)


@lru_cache(maxsize=32)
def _transformer(epsg: int) -> pyproj.Transformer:
    """EPSG:``epsg`` -> WGS84 lon/lat (cached: building one takes tens of milliseconds)."""
    return pyproj.Transformer.from_crs(epsg, gcrs.WGS84_EPSG, always_xy=True)


def _pairwise(convert):
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    return fn


def _sample_xy(geoms: gpd.GeoSeries, limit: int = 2000) -> np.ndarray:
    """Up to ``limit`` finite (x, y) pairs of the geometries' coordinates."""
    present = geoms[geoms.notna() & ~geoms.is_empty]
    coords = shapely.get_coordinates(np.asarray(present.values[:limit], dtype=object))
    return coords[np.isfinite(coords).all(axis=1)]


def _inside_share(geoms: gpd.GeoSeries, key: str, area) -> float:
    """Share (0–1) of coordinates that land inside ``area`` (WGS84 polygon) when read as ``key``."""
    xy = _sample_xy(geoms, 400)
    if not len(xy):
        return 0.0
    pts = to_wgs84(gpd.GeoSeries(shapely.points(xy)), key)
    return float(np.mean(shapely.contains_xy(area, *shapely.get_coordinates(pts.values).T)))


def area_or_box(district) -> shapely.Geometry:
    """The district polygon (WGS84), or the box around Fuzhou when none is known."""
    if district is None or shapely.is_empty(district):
        return shapely.box(*FUZHOU_BOX)
    return district


_HEADER_HINTS = ((GCJ02, ("gcj", "高德", "火星", "腾讯", "amap")), (BD09, ("bd09", "百度", "baidu")),
                 (CGCS2000, ("cgcs", "2000国家", "天地图")), (WGS84, ("wgs", "gps")))


_EPSG_IN_HEADER = re.compile(r"epsg[:：]?(\d{4,5})")


def _known_epsg(code: int) -> str | None:
    try:
        return key_of_epsg(code)
    except CRSError:
        return None


def header_hint(headers) -> CRSGuess | None:
    """The system named in coordinate column headers (e.g. “经度(GCJ-02)”, “高德经度”), or None.

    Only a hint every named header agrees on counts; it is used when neither the user nor the file
    declares a system."""
    found = set()
    for header in headers:
        text = str(header).lower().replace("-", "").replace("_", "").replace(" ", "")
        epsg = _EPSG_IN_HEADER.search(text)
        keys = ([k for k in [_known_epsg(int(epsg.group(1)))] if k] if epsg else
                [key for key, words in _HEADER_HINTS if any(w in text for w in words)])
        if keys:
            found.add(keys[0])
    if len(found) != 1:
        return None
    key = found.pop()
    shown = "、".join(f"“{h}”" for h in headers)
    return CRSGuess(key, f"按列名{shown}判断为 {crs_label(key)}")


def detect_crs(geoms: gpd.GeoSeries, declared: pyproj.CRS | None, district=None) -> CRSGuess:
    """Guess the system of ``geoms`` from the declared CRS and the coordinate ranges.

    ``district`` is the district polygon in WGS84 (None: a box around Fuzhou). Geographic data is
    returned as declared (or WGS84); use :func:`detect_shift` for hidden GCJ-02/BD-09.
    Raises CRSError when the coordinates fit none of the systems near Fuzhou.
    """
    area = area_or_box(district)
    xy = _sample_xy(geoms)
    if not len(xy):
        return CRSGuess(key_of_crs(declared) or WGS84, "没有可用的坐标，按 WGS84 处理")
    key = key_of_crs(declared)
    if key is not None and _inside_share(geoms, key, area.buffer(0.05)) >= 0.5:
        return CRSGuess(key, f"文件声明的坐标系：{crs_label(key)}")
    x, y = np.median(xy[:, 0]), np.median(xy[:, 1])
    if abs(x) <= 180 and abs(y) <= 90:
        return _geographic_guess(geoms, key, area)
    return _projected_guess(geoms, x, area, declared)


def _geographic_guess(geoms: gpd.GeoSeries, declared_key: str | None, area) -> CRSGuess:
    if _inside_share(geoms, WGS84, area.buffer(0.1)) < 0.5:
        raise CRSError("坐标是经纬度，但不在鼓楼区附近：请检查经度、纬度两列是否填反或坐标系是否正确")
    if declared_key in GEOGRAPHIC:
        return CRSGuess(declared_key, f"文件声明的坐标系：{crs_label(declared_key)}")
    if declared_key is not None:
        return CRSGuess(WGS84, f"文件声明 {crs_label(declared_key)}，但坐标是经纬度，按 WGS84 处理")
    return CRSGuess(WGS84, "坐标为经纬度，文件未声明坐标系，按 WGS84 处理")


def _projected_guess(geoms: gpd.GeoSeries, median_x: float, area, declared) -> CRSGuess:
    prefix = int(median_x // 1_000_000)
    if prefix in _PREFIX_ZONES:
        candidates = [_PREFIX_ZONES[prefix]]
    elif prefix == 0:
        candidates = list(_UNPREFIXED)
    else:
        candidates = []
    shares = {k: _inside_share(geoms, k, area) for k in candidates}
    best = max(shares, key=shares.get) if shares else None
    if best is None or shares[best] < 0.5:
        said = f"（文件声明 {pyproj.CRS(declared).name}）" if declared is not None else ""
        raise CRSError(f"坐标为米制投影坐标{said}，但按 UTM 50N 或福州所在的高斯-克吕格分带换算都不在鼓楼区："
                       "请在导入时指定坐标系")
    runner_up = sorted(shares.values())[-2] if len(shares) > 1 else 0.0
    sure = "" if shares[best] - runner_up >= 0.3 else "（与其他分带相差不大，请核对）"
    return CRSGuess(best, f"按坐标范围判断为 {crs_label(best)}{sure}")


# ---------------------------------------------------------------- hidden GCJ-02 / BD-09


@dataclass(frozen=True)
class ShiftFinding:
    """Evidence that WGS84-labelled coordinates really are ``key`` (GCJ-02 or BD-09)."""

    key: str
    offset_m: float
    fit_as_is: float
    fit_converted: float
    basis: str

    @property
    def message(self) -> str:
        """The finding in plain Chinese, with the suggested fix."""
        return (f"坐标整体偏移约 {self.offset_m:.0f} 米，与把{crs_label(self.key)}当作 WGS84 读入的偏移一致："
                f"按原样，{self.basis}{self.fit_as_is:.0%}；按 {self.key.upper()} 换算后为 {self.fit_converted:.0%}。"
                f"请选择坐标系“{self.key}”重新导入")


def _metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances in metres between WGS84 (lon, lat) rows of ``a`` and ``b`` (equirectangular, < 0.1% here)."""
    lat = np.radians((a[:, 1] + b[:, 1]) / 2)
    dx = (a[:, 0] - b[:, 0]) * np.cos(lat) * 111_320.0
    dy = (a[:, 1] - b[:, 1]) * 110_574.0
    return np.hypot(dx, dy)


def _anchor_xy(geoms) -> np.ndarray:
    return shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms, dtype=object)))


def _matched_fit(points: np.ndarray, known: np.ndarray) -> float:
    """Share of points within 150 m of the existing record with the same code."""
    return float(np.mean(_metres(points, known) < 150.0))


def _contained_fit(points: np.ndarray, polygons: np.ndarray) -> float:
    """Share of points inside the polygon of the unit they name (their community or grid)."""
    return float(np.mean(shapely.contains_xy(polygons, points[:, 0], points[:, 1])))


def detect_shift(geoms: gpd.GeoSeries, known: gpd.GeoSeries | None = None,
                 units: gpd.GeoSeries | None = None, min_rows: int = 5) -> ShiftFinding | None:
    """A finding when WGS84-labelled ``geoms`` fit the district far better read as GCJ-02 or BD-09.

    ``known`` (aligned with ``geoms``, WGS84, None where unknown) holds the stored geometry of
    the same record (same code); ``units`` (aligned, WGS84 polygons, None where unknown) the
    polygon of the grid or community each row names. The fit is the share of rows within 150 m
    of their stored record, or else inside their named unit. Needs at least ``min_rows`` rows
    with a reference; returns None when there is too little evidence or no shift.
    """
    for ref, fit, basis in ((known, _matched_fit, "与库中同编号记录相距 150 米以内的占 "),
                            (units, _contained_fit, "落在所填社区/网格内的占 ")):
        if ref is None:
            continue
        ok = geoms.notna().values & ref.notna().values & ~geoms.is_empty.values
        if ok.sum() < min_rows:
            continue
        finding = _best_reading(geoms[ok], ref[ok], fit, basis)
        if finding is not None or fit is _matched_fit:
            return finding
    return None


def _best_reading(geoms: gpd.GeoSeries, ref: gpd.GeoSeries, fit, basis: str) -> ShiftFinding | None:
    as_is = _anchor_xy(geoms.values)
    target = _anchor_xy(ref.values) if fit is _matched_fit else np.asarray(ref.values, dtype=object)
    base = fit(as_is, target)
    best: ShiftFinding | None = None
    for key in (GCJ02, BD09):
        moved = _anchor_xy(to_wgs84(geoms, key).values)
        score = fit(moved, target)
        if score >= 0.5 and score - base >= 0.25 and (best is None or score > best.fit_converted):
            offset = float(np.median(_metres(as_is, moved)))
            best = ShiftFinding(key, offset, base, score, basis.strip())
    return best
