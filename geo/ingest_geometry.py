"""Geometry of an imported table: from lon/lat or WKT columns, and checked (present, of the right type,
valid or repaired with ``make_valid``, inside the district), each problem and repair reported by row.

``names`` maps a field to the name the report uses for it (the user's own column when mapped). Pure:
no files, no SQL.
"""
from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import ingest_crs as icrs
from geo.ingest_fields import LAT, LAYER_LABELS, LON, POINT_LAYERS, WKT
from geo.ingest_problems import FILE_LEVEL, ROW, Problem
from geo.ingest_values import as_coordinate, is_blank, shown

Names = Callable[[str], str]
DISTRICT_TOLERANCE_DEG = 0.002
"""How far (degrees, ≈ 200 m) outside the district polygon a geometry may lie before it is reported."""


def geometry_from_columns(mapped: pd.DataFrame, layer: str, names: Names) -> tuple[gpd.GeoSeries, list[Problem]]:
    """Geometries from lon/lat columns (points) or a WKT column, in the file's own coordinates (no CRS)."""
    problems: list[Problem] = []
    rows = mapped[ROW]
    if LON in mapped and LAT in mapped:
        geoms = []
        for row, x, y in zip(rows, mapped[LON], mapped[LAT]):
            try:
                geoms.append(shapely.Point(as_coordinate(x), as_coordinate(y)))
            except ValueError:
                geoms.append(None)
                bad = LON if _bad_number(x) else LAT
                problems.append(Problem(int(row), names(bad), shown(x if bad == LON else y), "坐标缺失或不是数字"))
        return gpd.GeoSeries(geoms, index=mapped.index), problems
    if WKT in mapped:
        return _from_wkt(mapped, names, problems), problems
    need = "经度、纬度两列（或 WKT 几何列）" if layer in POINT_LAYERS else "几何（WKT）列，或使用 GeoJSON/GeoPackage/Shapefile"
    problems.append(Problem(FILE_LEVEL, "几何", "", f"文件没有坐标：{LAYER_LABELS[layer]}需要{need}"))
    return gpd.GeoSeries([None] * len(mapped), index=mapped.index), problems


def _bad_number(value) -> bool:
    try:
        as_coordinate(value)
        return is_blank(value)
    except ValueError:
        return True


def _from_wkt(mapped: pd.DataFrame, names: Names, problems: list[Problem]) -> gpd.GeoSeries:
    geoms = []
    for row, text in zip(mapped[ROW], mapped[WKT]):
        try:
            geoms.append(None if is_blank(text) else shapely.from_wkt(str(text)))
        except shapely.errors.ShapelyError:
            geoms.append(None)
            problems.append(Problem(int(row), names(WKT), shown(text), "不是有效的 WKT 几何"))
    return gpd.GeoSeries(geoms, index=mapped.index)


_REASONS = {"Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Too few points": "点数太少",
            "Hole lies outside shell": "内环在外环之外", "Nested shells": "外环嵌套", "Duplicate Rings": "环重复",
            "Invalid Coordinate": "坐标无效", "Interior is disconnected": "内部不连通",
            "Ring Self-intersection[": "环自相交"}


def invalid_reason(geom) -> str:
    """Why a geometry is invalid, in Chinese (shapely's reason translated where known)."""
    reason = shapely.is_valid_reason(geom) or ""
    head = reason.split("[")[0].strip()
    return _REASONS.get(head, head or "几何无效")


def _kind_ok(geom, layer: str) -> bool:
    kind = geom.geom_type
    return kind == "Point" if layer in POINT_LAYERS else kind in ("Polygon", "MultiPolygon")


def _polygonal(geom):
    """The polygon parts of a (repaired) geometry as one MultiPolygon, or None when none remain."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for g in parts for p in shapely.get_parts(g)]
    return shapely.MultiPolygon(parts) if parts else None


def check_geometry(geoms: gpd.GeoSeries, rows: pd.Series, layer: str, district, repair: bool,
                   label: str) -> tuple[gpd.GeoSeries, list[Problem], list[Problem]]:
    """Validate WGS84 geometries: present, right type, valid (or repaired), inside the district.

    Returns the geometries to store (polygons as MultiPolygon), the problems and the repairs.
    ``district`` is the WGS84 district polygon (None: a box around Fuzhou); ``label`` names the
    geometry field in the report.
    """
    area = icrs.area_or_box(district).buffer(DISTRICT_TOLERANCE_DEG)
    shapely.prepare(area)
    out, problems, repairs = [], [], []
    for row, geom in zip(rows, geoms):
        row = int(row)
        geom, problem, fixed = _one_geometry(geom, layer, repair, area)
        out.append(geom)
        if problem:
            problems.append(Problem(row, label, _geom_text(geom), problem))
        if fixed:
            repairs.append(Problem(row, label, "", fixed))
    return gpd.GeoSeries(out, index=geoms.index, crs=icrs.gcrs.WGS84_EPSG), problems, repairs


def _one_geometry(geom, layer: str, repair: bool, area):
    """(geometry to store, problem or None, repair note or None) for one geometry."""
    if geom is None or geom.is_empty:
        return None, "缺少几何（坐标）", None
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None, "坐标不是有限的数字", None
    if not _kind_ok(geom, layer):
        want = "点" if layer in POINT_LAYERS else "面（多边形）"
        return geom, f"几何类型为 {geom.geom_type}，{LAYER_LABELS[layer]}应为{want}", None
    fixed = None
    if not geom.is_valid:
        reason = invalid_reason(geom)
        if not repair:
            return geom, f"几何无效：{reason}（可选择自动修复）", None
        geom = _polygonal(shapely.make_valid(geom))
        if geom is None:
            return None, f"几何无效：{reason}，修复后没有剩下面", None
        fixed = f"已用 make_valid 修复：{reason}"
    if layer not in POINT_LAYERS and geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    if not area.contains(shapely.point_on_surface(geom)):
        return geom, "位置不在鼓楼区范围内（请检查坐标或坐标系）", fixed
    return geom, None, fixed


def _geom_text(geom) -> str:
    if geom is None:
        return ""
    if geom.geom_type == "Point":
        return f"{geom.x:.6f}, {geom.y:.6f}"
    c = geom.representative_point()
    return f"{geom.geom_type} 近 {c.x:.5f}, {c.y:.5f}"
