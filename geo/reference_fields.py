"""Reference layers (参考图层) from the office's GIS files: which columns hold the name and the class, which
coordinate system the file is in, and whether each geometry fits its kind. Pure: no files, no SQL.

- ``guess_fields`` / ``apply_mapping``: the name column (名称, NAME, 道路名称, 路名, RoadName, 地名, 标注 …) and
  the class column (等级, 道路等级, class, fclass, highway, type, 类型 …) guessed from the headers; a user's
  mapping (``列名=字段``, 字段 ``name``/``名称``, ``subtype``/``类别`` or ``-``) overrides the guess.
- ``resolve_reference_crs``: the user's choice, else ``geo.ingest_crs.detect_crs`` (the declared system, a
  custom CRS named “GCJ02”/“BD09” included, else the coordinate ranges) against the district, and — for a
  file that covers more than the district — against the district widened by ``MARGIN_DEG``.
- ``check_reference_geometry``: per kind, roads are lines, buildings polygons, water polygons or lines,
  place names points (a polygon or multipoint becomes its representative point, noted); empty, non-finite
  or wrongly typed geometries and those farther than ``MARGIN_DEG`` from the district are problems;
  invalid ones are repaired with ``make_valid`` where something of the right dimension remains (noted).

Every problem is a ``Problem(row, field, value, reason)`` in Chinese, the row as the user sees it.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import ingest_crs as icrs
from geo.errors import CRSError, GuloError
from geo.ingest_fields import normalise_header
from geo.ingest_geometry import invalid_reason
from geo.ingest_problems import FILE_LEVEL, Problem
from geo.ingest_values import is_blank
from geo.vocab import ReferenceKind

NAME, SUBTYPE = "name", "subtype"
FIELD_LABELS = {NAME: "名称", SUBTYPE: "类别"}
"""Field -> the Chinese word the report and the mapping use for it."""
SKIP = "-"
GEOMETRY_FIELD = "几何"
NAME_CHARS, SUBTYPE_CHARS = 80, 40
"""The longest name and class the store keeps (``data.reference``); longer text is cut, with a note."""
MARGIN_DEG = 0.03
"""How far (degrees, ≈ 3 km here) beyond the district polygon a reference feature may reach before it is a
problem (“far outside”); also the widening used to detect the system of a file that covers more than the district."""

_NAMES = ("名称", "name:zh", "name_zh", "namezh", "name_chn", "name", "mc", "标准名称", "名字", "注记", "标注", "地名",
          "地名名称", "dmmc", "zjmc")
_NAMES_BY_KIND = {
    ReferenceKind.ROAD: ("道路名称", "路名", "街路名称", "roadname", "road_name", "dlmc", "道路名"),
    ReferenceKind.BUILDING: ("建筑名称", "建筑物名称", "楼名", "楼栋名称", "jzmc", "jzwmc"),
    ReferenceKind.WATER: ("水系名称", "河流名称", "河道名称", "水体名称", "水域名称", "河名", "hlmc", "symc", "sxmc"),
    ReferenceKind.PLACE: ("地名", "地名名称", "标注", "注记", "poi名称", "poiname", "dmmc", "标准名称"),
}
_SUBTYPES = ("等级", "类型", "类别", "分类", "class", "fclass", "type", "kind", "grade", "level", "lx", "lb", "fl",
             "用途")
_SUBTYPES_BY_KIND = {
    ReferenceKind.ROAD: ("道路等级", "道路类型", "道路类别", "highway", "roadclass", "road_class", "dldj", "dllx"),
    ReferenceKind.BUILDING: ("建筑类型", "建筑类别", "建筑用途", "building", "jzlx", "jzyt", "结构"),
    ReferenceKind.WATER: ("水系类型", "水系类别", "水体类型", "waterway", "natural", "water", "sxlx"),
    ReferenceKind.PLACE: ("地名类别", "地名类型", "地名分类", "poi类型", "dmlb", "dmlx"),
}
_LAYER_WORDS = {
    ReferenceKind.ROAD: ("道路", "路网", "路", "road", "street", "highway"),
    ReferenceKind.BUILDING: ("建筑", "房屋", "楼", "building", "house"),
    ReferenceKind.WATER: ("水系", "河流", "水域", "水体", "河", "湖", "water", "river", "lake"),
    ReferenceKind.PLACE: ("地名", "注记", "标注", "poi", "place", "label"),
}

LINES = frozenset({"LineString", "LinearRing", "MultiLineString"})
POLYGONS = frozenset({"Polygon", "MultiPolygon"})
POINTS = frozenset({"Point"})
ACCEPTED = {ReferenceKind.ROAD: LINES, ReferenceKind.BUILDING: POLYGONS, ReferenceKind.WATER: LINES | POLYGONS,
            ReferenceKind.PLACE: POINTS}
"""Kind -> the geometry types stored as they are."""
TO_POINT = frozenset({"Polygon", "MultiPolygon", "MultiPoint"})
"""Geometry types a place name accepts by taking their representative point."""
_WANT = {ReferenceKind.ROAD: "线", ReferenceKind.BUILDING: "面（多边形）", ReferenceKind.WATER: "面或线",
         ReferenceKind.PLACE: "点（面取代表点）"}
_TYPE_WORDS = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "LinearRing": "线", "MultiLineString": "多线",
               "Polygon": "面", "MultiPolygon": "多面", "GeometryCollection": "几何集合"}


def type_word(geom_type: str | None) -> str | None:
    """A shapely geometry type in Chinese (点, 线, 面 …); None for None."""
    return None if geom_type is None else _TYPE_WORDS.get(geom_type, geom_type)


def check_kind(kind) -> ReferenceKind:
    """``kind`` (value or Chinese label) as a ``ReferenceKind``; GuloError naming the choices."""
    if isinstance(kind, ReferenceKind):
        return kind
    try:
        return ReferenceKind.from_label(str(kind).strip())
    except ValueError as exc:
        allowed = "、".join(f"{k.value}（{k.label}）" for k in ReferenceKind)
        raise GuloError(f"未知的参考图层类型“{kind}”，可选：{allowed}") from exc


# ---------------------------------------------------------------- columns


def _first(columns: list[str], candidates: tuple[str, ...], taken: set[str]) -> str | None:
    """The first column (by candidate order) whose normalised header is a candidate, skipping ``taken``."""
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise_header(col), col)
    for candidate in candidates:
        col = by_norm.get(normalise_header(candidate))
        if col is not None and col not in taken:
            return col
    return None


def guess_fields(columns, kind) -> dict[str, str]:
    """Field (``name``/``subtype``) -> the file's column that holds it, for the columns recognised; the
    kind's own words first (道路名称 before 名称 for roads), each column used once."""
    kind = check_kind(kind)
    cols = [str(c) for c in columns]
    out: dict[str, str] = {}
    name = _first(cols, _NAMES_BY_KIND[kind] + _NAMES, set())
    if name is not None:
        out[NAME] = name
    subtype = _first(cols, _SUBTYPES_BY_KIND[kind] + _SUBTYPES, set(out.values()))
    if subtype is not None:
        out[SUBTYPE] = subtype
    return out


def _target(text: str) -> str | None:
    """A mapping target as a field (``name``/``subtype``), ``SKIP``, or None when it names neither."""
    word = str(text).strip()
    if word in ("", SKIP):
        return SKIP
    for field, label in FIELD_LABELS.items():
        if word.lower() == field or word == label:
            return field
    return None


def apply_mapping(columns, kind, overrides: dict[str, str] | None) -> tuple[dict[str, str], list[Problem]]:
    """(field -> column, problems): the guess with the user's ``overrides`` (file column -> field, ``-`` to leave
    the column out) on top. A column the file lacks or a target that is no field is a problem of the whole file."""
    cols = [str(c) for c in columns]
    fields, problems = guess_fields(cols, kind), []
    allowed = "、".join(f"{f}（{label}）" for f, label in FIELD_LABELS.items())
    for col, target in (overrides or {}).items():
        field = _target(target)
        if col not in cols:
            problems.append(Problem(FILE_LEVEL, "列映射", f"{col}={target}",
                                    f"文件中没有列“{col}”，现有列：{'、'.join(cols) or '无'}"))
            continue
        if field is None:
            problems.append(Problem(FILE_LEVEL, "列映射", f"{col}={target}", f"“{target}”不是可映射的字段，可选：{allowed} 或 -"))
            continue
        fields = {f: c for f, c in fields.items() if c != col and f != field}
        if field != SKIP:
            fields[field] = col
    return {f: fields[f] for f in FIELD_LABELS if f in fields}, problems


def clean_text(value, limit: int) -> tuple[str | None, bool]:
    """(the cell as stored text or None when blank, whether it was cut to ``limit`` characters)."""
    if is_blank(value):
        return None, False
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    return text[:limit], len(text) > limit


def guess_layer(names: list[str], kind) -> str | None:
    """The GeoPackage layer of ``names`` whose name says ``kind`` (道路/road …), or None when none or several do."""
    words = _LAYER_WORDS[check_kind(kind)]
    hits = [n for n in names if any(w in normalise_header(n) for w in words)]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------- coordinate system


def resolve_reference_crs(geoms: gpd.GeoSeries, declared, choice: str | None, district) -> icrs.CRSGuess:
    """The system of ``geoms``: the user's ``choice`` (a key of ``CRS_CHOICES`` or ``EPSG:NNNN``), else the declared
    one (a custom CRS named GCJ02/BD09 included, see ``geo.ingest_crs.key_of_crs``) or the detected one, checked
    against ``district`` (WGS84 polygon, None: around Fuzhou) and then against the district widened by
    ``MARGIN_DEG`` (a file that covers more than the district). CRSError (Chinese) when nothing fits."""
    if choice:
        key = icrs.parse_crs_key(choice)
        return icrs.CRSGuess(key, f"使用指定的坐标系：{icrs.crs_label(key)}")
    crs = pyproj.CRS(declared) if declared is not None else None
    try:
        return icrs.detect_crs(geoms, crs, district)
    except CRSError:
        wide = icrs.area_or_box(district).buffer(MARGIN_DEG)
        return icrs.detect_crs(geoms, crs, wide)


# ---------------------------------------------------------------- geometry


def _where(geom) -> str:
    """A geometry in the report: its type in Chinese and a point on it (WGS84, 5 decimals)."""
    if geom is None or shapely.is_empty(geom):
        return ""
    p = shapely.point_on_surface(geom) if geom.geom_type != "Point" else geom
    if not np.isfinite([p.x, p.y]).all():
        return _TYPE_WORDS.get(geom.geom_type, geom.geom_type)
    return f"{_TYPE_WORDS.get(geom.geom_type, geom.geom_type)} 近 {p.x:.5f}, {p.y:.5f}"


def _same_dimension(geom, accepted: frozenset[str]):
    """The parts of a repaired geometry whose type ``accepted`` holds, as one geometry (None when none remain)."""
    parts = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type in accepted]
    polys = [p for p in parts if p.geom_type in POLYGONS]
    lines = [p for p in parts if p.geom_type in LINES]
    if polys and (not lines or len(polys) >= len(lines)):
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    if lines:
        return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
    return None


def _one(geom, kind: ReferenceKind) -> tuple[object, str | None, str | None]:
    """(geometry to keep, problem or None, repair note or None) for one present, finite geometry."""
    accepted, fixed = ACCEPTED[kind], None
    gtype = geom.geom_type
    if gtype not in accepted and not (kind is ReferenceKind.PLACE and gtype in TO_POINT):
        return geom, f"几何类型为{_TYPE_WORDS.get(gtype, gtype)}，{kind.label}应为{_WANT[kind]}", None
    if not geom.is_valid:
        reason = invalid_reason(geom)
        repaired = _same_dimension(shapely.make_valid(geom), accepted | (POLYGONS if gtype in POLYGONS else set()))
        if repaired is None or repaired.is_empty:
            return geom, f"几何无效：{reason}，修复后没有剩下可用的{_WANT[kind]}", None
        geom, fixed = repaired, f"已用 make_valid 修复：{reason}"
    if kind is ReferenceKind.PLACE and geom.geom_type != "Point":
        geom = shapely.point_on_surface(geom)
        fixed = "；".join(filter(None, [fixed, f"{_TYPE_WORDS.get(gtype, gtype)}已取代表点作为地名位置"]))
    return geom, None, fixed


def check_reference_geometry(geoms: gpd.GeoSeries, rows: pd.Series, kind, district
                             ) -> tuple[gpd.GeoSeries, list[Problem], list[Problem]]:
    """Check WGS84 ``geoms`` (aligned with ``rows``, the user's row numbers) as reference features of ``kind``.

    ``district``: the WGS84 district polygon (None: a box around Fuzhou). Returns the geometries to store
    (EPSG:4326; None where a problem remains), the problems and the repairs (make_valid, representative
    points), each as ``Problem(row, "几何", where, reason)``. Vectorised: only odd rows are looked at one by one.
    """
    kind = check_kind(kind)
    values = np.asarray(geoms.values, dtype=object)
    out = values.copy()
    missing = np.array([g is None for g in values], dtype=bool)
    missing[~missing] = shapely.is_empty(values[~missing])
    finite = np.ones(len(values), dtype=bool)
    coords, index = shapely.get_coordinates(values[~missing], return_index=True)
    finite[np.flatnonzero(~missing)[np.unique(index[~np.isfinite(coords).all(axis=1)])]] = False
    types = np.array([None if m else g.geom_type for g, m in zip(values, missing)], dtype=object)
    plain = ~missing & finite & np.isin(types, list(ACCEPTED[kind]))
    plain[plain] = shapely.is_valid(values[plain])
    problems, repairs = [], []
    for i in np.flatnonzero(~plain):
        row = int(rows.iloc[i])
        if missing[i]:
            problems.append(Problem(row, GEOMETRY_FIELD, "", "缺少几何（空几何）"))
        elif not finite[i]:
            problems.append(Problem(row, GEOMETRY_FIELD, _TYPE_WORDS.get(types[i], str(types[i])), "坐标不是有限的数字"))
        else:
            out[i], problem, fixed = _one(values[i], kind)
            if problem:
                problems.append(Problem(row, GEOMETRY_FIELD, _where(values[i]), problem))
            if fixed:
                repairs.append(Problem(row, GEOMETRY_FIELD, _where(values[i]), fixed))
    problems += _far_outside(out, rows, ~missing & finite, district)
    bad = {p.row for p in problems}
    out = [None if int(r) in bad else g for r, g in zip(rows, out)]
    return gpd.GeoSeries(out, index=geoms.index, crs=icrs.gcrs.WGS84_EPSG), problems, repairs


def _far_outside(values: np.ndarray, rows: pd.Series, usable: np.ndarray, district) -> list[Problem]:
    """A problem for each usable geometry farther than ``MARGIN_DEG`` from the district (distance in km)."""
    area = icrs.area_or_box(district)
    wide = area.buffer(MARGIN_DEG)
    shapely.prepare(wide)
    idx = np.flatnonzero(usable)
    idx = idx[~shapely.intersects(wide, values[idx])] if len(idx) else idx
    return [Problem(int(rows.iloc[i]), GEOMETRY_FIELD, _where(values[i]),
                    f"在鼓楼区以外约 {_km(area, values[i]):.0f} 公里：请检查坐标系，或裁剪后再导入") for i in idx]


def _km(area, geom) -> float:
    """The shortest distance (km) between ``area`` and ``geom`` (WGS84 degrees; equirectangular, < 0.5% here)."""
    (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(area, geom))
    return float(np.hypot((x1 - x0) * np.cos(np.radians((y0 + y1) / 2)) * 111.32, (y1 - y0) * 110.57))


def type_counts(geoms: gpd.GeoSeries) -> dict[str, int]:
    """Chinese geometry type word -> number of geometries (missing ones left out), most frequent first."""
    present = [g for g in geoms.values if g is not None and not shapely.is_empty(g)]
    counts = pd.Series([_TYPE_WORDS.get(g.geom_type, g.geom_type) for g in present], dtype=object).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


__all__ = ["ACCEPTED", "FIELD_LABELS", "MARGIN_DEG", "NAME", "SUBTYPE", "apply_mapping", "check_kind",
           "check_reference_geometry", "clean_text", "guess_fields", "guess_layer",
           "resolve_reference_crs", "type_counts", "type_word"]
