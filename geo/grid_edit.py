"""Redrawing, splitting and moving the boundaries of a community's grids: pure rules, checked before saving.

A community's grids should tile it exactly (``geo.topology``). Three edits change their shapes:

``redraw_grid(grids, code, polygon)``          grid ``code`` takes the drawn polygon as it is (nothing is
                                                clipped or snapped: a drawn shape that overlaps a neighbour
                                                or leaves the community is refused by the check, not fixed);
``split_grid(grids, code, line)``              a drawn line cuts grid ``code`` in two: the larger piece keeps
                                                the code, the other becomes a new grid (:func:`new_grid_code`);
``move_boundary(grids, a, b, polygon_a)``      grid ``a`` takes the drawn shape, ``b`` gets the rest of a∪b.

Each returns the community's grids after the edit (a new frame, the input untouched, every shape a
MultiPolygon as stored). :func:`check_edit` then compares the grids before and after against the community:
the edit is refused (``EditCheck.problems``, Chinese, one per problem, and ``EditCheck.offending``, the problem
pieces as geometries) when it *creates* an overlap, a gap, a grid reaching outside the community, a grid
of zero area or a grid in several separate pieces. Problems already there before the edit do not block it.

A grid whose shape changes needs its households (and population) counted again: :func:`propose_households`
moves each old grid's households to the new shapes in proportion to the old compounds' households inside
each piece (by area where the old grid has no compounds), rounded so that the total stays exactly the same;
the user confirms or edits the numbers and :func:`check_households` refuses totals that differ.

Who may edit grid geometry: the district role everywhere, a sub-district account inside its sub-district
(:func:`may_edit_geometry`); a community account may not (the boundaries between grids are the
sub-district's decision). All inputs are EPSG:4326/4490 lon/lat; areas are m² in EPSG:32650.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import split as split_by_line

from geo.access import Account, require_login
from geo.crs import WGS84_EPSG, metric_crs, require_crs
from geo.errors import DataValidationError, PermissionDenied
from geo.nearby import check_metres, require_columns
from geo.topology import topology_report
from geo.vocab import Role

OPERATIONS = {"redraw": "重绘网格", "split": "拆分网格", "move_boundary": "调整相邻边界"}
"""The edits (English key → Chinese name)."""

MIN_PROBLEM_M2 = 1.0
"""A new overlap, gap or outside piece smaller than this (m²) is floating-point dust, not a problem."""

NECK_M = 1.0
"""Parts of a grid joined only by a neck narrower than this (metres) count as separate pieces."""

PROBLEM_KINDS = {
    "overlap": ("网格重叠", "#d32f2f"),
    "gap": ("网格空隙", "#f57c00"),
    "outside": ("越出社区边界", "#7b1fa2"),
    "parts": ("网格不连通", "#5d4037"),
}
"""Kinds of refused result: Chinese label and the colour the preview map draws them in."""

GRID_COLUMNS = ("code", "name", "community_code")
MAX_GRID_NUMBER = 999


# ---------------------------------------------------------------- who may edit


def may_edit_geometry(account: Account | None, community_code: str) -> bool:
    """Whether ``account`` may change the grid boundaries of community ``community_code``: logged in and
    active, and the district role, or a sub-district account whose sub-district holds the community."""
    if account is None or not account.active:
        return False
    if account.role is Role.DISTRICT:
        return True
    return account.role is Role.STREET and account.scope.contains(str(community_code or ""))


def require_geometry_edit(account: Account | None, community_code: str, what: str = "") -> Account:
    """``account`` when it may change the grid boundaries of the community; PermissionDenied naming why not."""
    require_login(account)
    if may_edit_geometry(account, community_code):
        return account
    target = what or community_code
    if account.role is Role.COMMUNITY:
        raise PermissionDenied(f"无权修改“{target}”的网格边界：账号“{account.username}”是{account.role.label}，"
                               f"网格边界须由{Role.STREET.label}或{Role.DISTRICT.label}调整")
    raise PermissionDenied(f"无权修改“{target}”的网格边界：账号“{account.username}”（{account.role.label}）"
                           f"只能调整{account.where}范围内的网格")


# ---------------------------------------------------------------- shapes


def as_multipolygon(geom) -> shapely.MultiPolygon:
    """The polygon parts of ``geom`` as one MultiPolygon (empty when there are none), as grids are stored."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return shapely.MultiPolygon([p for part in geom.geoms for p in as_multipolygon(part).geoms])
    return shapely.MultiPolygon()


def _drawn_polygon(shape, what: str) -> shapely.MultiPolygon:
    """A drawn shape (shapely, lon/lat) as a MultiPolygon; DataValidationError when it is not a valid area."""
    if not isinstance(shape, (shapely.Polygon, shapely.MultiPolygon)) or shape.is_empty:
        raise DataValidationError(f"{what}应为一个面（多边形），请用“画多边形”工具画出范围")
    if not shape.is_valid:
        raise DataValidationError(f"{what}的边线自相交，请重新画一个边线不交叉的多边形")
    return as_multipolygon(shape)


def _check_grids(grids: gpd.GeoDataFrame) -> None:
    require_crs(grids, "网格")
    require_columns(grids, GRID_COLUMNS, "网格")
    if grids["code"].duplicated().any():
        raise DataValidationError("网格编号有重复，无法编辑")


def _position(grids: gpd.GeoDataFrame, code: str) -> int:
    """Row position of grid ``code``; DataValidationError naming the community's grids otherwise."""
    hits = np.flatnonzero(grids["code"].astype(str).to_numpy() == str(code))
    if not len(hits):
        raise DataValidationError(f"找不到网格“{code}”；可选：{'、'.join(map(str, grids['code']))}")
    return int(hits[0])


def _metric(geom) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=WGS84_EPSG).to_crs(metric_crs()).iloc[0]


def _lonlat(geom) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=metric_crs()).to_crs(WGS84_EPSG).iloc[0]


def area_m2(geoms) -> np.ndarray:
    """Areas (m², EPSG:32650) of lon/lat geometries."""
    series = gpd.GeoSeries(list(geoms), crs=WGS84_EPSG)
    return np.asarray(series.to_crs(metric_crs()).area, dtype=float)


def _with_shapes(grids: gpd.GeoDataFrame, shapes: dict[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    """A copy of ``grids`` (as MultiPolygons) with the shapes of the grids in ``shapes`` replaced."""
    out = grids.copy()
    geoms = [as_multipolygon(shapes.get(code, geom)) for code, geom in zip(out["code"].astype(str), out.geometry)]
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=grids.crs))


# ---------------------------------------------------------------- the three edits


def redraw_grid(grids: gpd.GeoDataFrame, code: str, new_polygon) -> gpd.GeoDataFrame:
    """The community's ``grids`` with grid ``code`` replaced by ``new_polygon`` (lon/lat), neither clipped nor
    snapped; :func:`check_edit` says whether the result may be saved."""
    _check_grids(grids)
    _position(grids, code)
    return _with_shapes(grids, {str(code): _drawn_polygon(new_polygon, "重绘的网格范围")})


def new_grid_code(grids: gpd.GeoDataFrame, community_code: str) -> str:
    """The next free grid code of the community: its code plus one more than the highest 3-digit number used
    (codes are never reused for another area); DataValidationError when 999 are used."""
    prefix = str(community_code)
    codes = [str(c) for c in grids["code"] if str(c).startswith(prefix) and str(c)[len(prefix):].isdigit()]
    used = [int(c[len(prefix):]) for c in codes]
    number = max(used, default=0) + 1
    if number > MAX_GRID_NUMBER:
        raise DataValidationError(f"社区“{prefix}”的网格编号已用尽（{MAX_GRID_NUMBER} 个），无法再拆分")
    return f"{prefix}{number:03d}"


def grid_name(code: str) -> str:
    """The default name of a grid: 网格 plus its number within the community (网格08)."""
    return f"网格{int(str(code)[-3:]):02d}"


def _cut(shape: shapely.MultiPolygon, line, name: str) -> tuple[shapely.MultiPolygon, shapely.MultiPolygon]:
    """``shape`` cut by ``line`` into exactly two pieces, larger first; DataValidationError otherwise."""
    if not isinstance(line, (shapely.LineString, shapely.MultiLineString)) or line.is_empty:
        raise DataValidationError("拆分线应为一条折线，请用“画折线”工具从网格一侧画到另一侧")
    polygons = [p for part in shapely.get_parts(shape) for p in split_by_line(part, line).geoms]
    if len(polygons) < 2:
        raise DataValidationError(f"拆分线没有把“{name}”分开：请从网格外开始、穿过网格、在网格另一侧外结束")
    if len(polygons) > 2:
        raise DataValidationError(f"拆分线把“{name}”分成了 {len(polygons)} 块：请画一条只穿过网格一次的线")
    first, second = sorted(polygons, key=lambda p: -_metric(p).area)
    return as_multipolygon(first), as_multipolygon(second)


def split_grid(grids: gpd.GeoDataFrame, code: str, line) -> gpd.GeoDataFrame:
    """The community's ``grids`` with grid ``code`` cut in two by ``line`` (lon/lat): the larger piece keeps the
    code, the other is a new row (code :func:`new_grid_code`, name :func:`grid_name`, the old grid's community
    and sub-district, no grid worker, households and population 0 until :func:`propose_households`)."""
    _check_grids(grids)
    i = _position(grids, code)
    row = grids.iloc[i]
    keep, other = _cut(as_multipolygon(row.geometry), line, str(row["name"]))
    new_code = new_grid_code(grids, row["community_code"])
    new_row = {c: None for c in grids.columns if c != grids.geometry.name}
    new_row.update({k: row[k] for k in ("community_code", "street_code") if k in grids.columns})
    new_row.update({"code": new_code, "name": grid_name(new_code)})
    new_row.update({k: 0 for k in ("households", "population", "assistants") if k in grids.columns})
    if "version" in grids.columns:
        new_row["version"] = None
    added = gpd.GeoDataFrame([new_row], geometry=[other], crs=grids.crs)
    out = _with_shapes(grids, {str(code): keep})
    return gpd.GeoDataFrame(pd.concat([out, added], ignore_index=True), geometry=out.geometry.name, crs=grids.crs)


def move_boundary(grids: gpd.GeoDataFrame, code_a: str, code_b: str, new_polygon_a,
                  tolerance_m: float = 0.0) -> gpd.GeoDataFrame:
    """The community's ``grids`` with the boundary between neighbours ``code_a`` and ``code_b`` moved: ``a`` takes
    ``new_polygon_a`` (lon/lat) and ``b`` gets the rest of a∪b.

    ``tolerance_m`` (metres, default 0): the drawn shape may run past the outer edge of a∪b by at most this
    much; such an overshoot is trimmed (the preview says how much). A larger overshoot is kept and refused by
    :func:`check_edit` as an overlap or a crossing. DataValidationError when a and b are the same grid or do
    not share a boundary."""
    _check_grids(grids)
    tolerance_m = check_metres(tolerance_m, "贴合容差（米）")
    a, b = grids.iloc[_position(grids, code_a)], grids.iloc[_position(grids, code_b)]
    if str(code_a) == str(code_b):
        raise DataValidationError("调整相邻边界需要两个不同的网格")
    if _metric(a.geometry).intersection(_metric(b.geometry)).length <= 0:
        raise DataValidationError(f"“{a['name']}”与“{b['name']}”不相邻（没有共同边界），不能调整它们之间的边界")
    union = shapely.union(a.geometry, b.geometry)
    drawn = _drawn_polygon(new_polygon_a, f"“{a['name']}”的新范围")
    drawn = trim_overshoot(drawn, union, tolerance_m)
    rest = shapely.difference(union, drawn)
    return _with_shapes(grids, {str(code_a): drawn, str(code_b): rest})


def overshoot_m2(drawn, union) -> float:
    """Area (m²) of ``drawn`` outside ``union`` (both lon/lat)."""
    return float(_metric(shapely.difference(drawn, union)).area)


def trim_overshoot(drawn, union, tolerance_m: float) -> shapely.Geometry:
    """``drawn`` ∩ ``union`` when every part of ``drawn`` outside ``union`` lies within ``tolerance_m`` metres of
    it; ``drawn`` unchanged otherwise (or when the tolerance is 0)."""
    if tolerance_m <= 0:
        return drawn
    outside = _metric(shapely.difference(drawn, union))
    if outside.is_empty:
        return drawn
    reach = _metric(union).buffer(tolerance_m)
    if shapely.difference(outside, reach).area >= MIN_PROBLEM_M2:
        return drawn
    return as_multipolygon(shapely.intersection(drawn, union))


def changed_codes(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> list[str]:
    """Codes of the grids whose shape differs between ``before`` and ``after``, new grids included (after's order)."""
    old = dict(zip(before["code"].astype(str), before.geometry))
    return [code for code, geom in zip(after["code"].astype(str), after.geometry)
            if code not in old or not shapely.equals(as_multipolygon(old[code]), geom)]


# ---------------------------------------------------------------- the check


@dataclass(frozen=True)
class EditCheck:
    """What :func:`check_edit` found. ``problems``: Chinese sentences, empty when the edit may be saved;
    ``offending``: one row per problem piece (``kind`` of :data:`PROBLEM_KINDS`, ``label``, ``grids`` (names),
    ``area_m2``, geometry in EPSG:4326); ``changed``: codes of the grids whose shape changes."""

    problems: tuple[str, ...]
    offending: gpd.GeoDataFrame
    changed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _area_text(m2: float) -> str:
    return f"{m2:,.1f}" if m2 < 10 else f"{m2:,.0f}"


def _new_pieces(after: gpd.GeoDataFrame, before: gpd.GeoDataFrame) -> list[tuple[int, shapely.Geometry, float]]:
    """(row of ``after``, metric piece, m²) of each problem piece of ``after`` not already present in ``before``."""
    if after.empty:
        return []
    old = shapely.union_all(before.to_crs(metric_crs()).geometry.to_numpy()) if len(before) else shapely.Polygon()
    pieces = shapely.difference(after.to_crs(metric_crs()).geometry.to_numpy(), old)
    out = []
    for i, piece in enumerate(pieces):
        for part in shapely.get_parts(piece):
            if part.area >= MIN_PROBLEM_M2:
                out.append((i, part, float(part.area)))
    return out


def _names(grids: gpd.GeoDataFrame) -> dict[str, str]:
    return dict(zip(grids["code"].astype(str), grids["name"].astype(str)))


def _topology_rows(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, community: gpd.GeoDataFrame) -> list[dict]:
    """New overlaps, gaps and crossings of ``after`` as offending rows (metric geometry)."""
    now, then = topology_report(after, community), topology_report(before, community)
    names = _names(after)
    rows = []
    for i, piece, m2 in _new_pieces(now["overlaps"], then["overlaps"]):
        pair = now["overlaps"].iloc[i]
        a, b = names.get(pair["grid_a"], pair["grid_a"]), names.get(pair["grid_b"], pair["grid_b"])
        rows.append({"kind": "overlap", "grids": f"{a}、{b}", "area_m2": m2, "geometry": piece,
                     "text": f"“{a}”与“{b}”重叠约 {_area_text(m2)} 平方米"})
    for _, piece, m2 in _new_pieces(now["gaps"], then["gaps"]):
        rows.append({"kind": "gap", "grids": "", "area_m2": m2, "geometry": piece,
                     "text": f"社区内有约 {_area_text(m2)} 平方米不属于任何网格"})
    for i, piece, m2 in _new_pieces(now["crossings"], then["crossings"]):
        name = names.get(now["crossings"].iloc[i]["code"], now["crossings"].iloc[i]["code"])
        rows.append({"kind": "outside", "grids": name, "area_m2": m2, "geometry": piece,
                     "text": f"“{name}”越出社区边界约 {_area_text(m2)} 平方米"})
    return rows


def _pieces(metric_geom) -> list[shapely.Geometry]:
    """The separate pieces of a metric shape, necks narrower than :data:`NECK_M` cut, largest first."""
    opened = metric_geom.buffer(-NECK_M / 2)
    parts = [p.buffer(NECK_M / 2).intersection(metric_geom) for p in shapely.get_parts(opened)]
    return sorted((p for p in parts if p.area >= MIN_PROBLEM_M2), key=lambda p: -p.area)


def _shape_rows(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, changed: list[str]) -> tuple[list[str], list[dict]]:
    """Changed grids left with no area, and changed grids now in more separate pieces than before."""
    old = dict(zip(before["code"].astype(str), before.geometry))
    problems, rows = [], []
    for code, name, geom in zip(after["code"].astype(str), after["name"].astype(str), after.geometry):
        if code not in changed:
            continue
        shape = _metric(geom)
        if shape.area < MIN_PROBLEM_M2:
            problems.append(f"网格空了：调整后“{name}”没有剩下任何面积（至少 {MIN_PROBLEM_M2:g} 平方米）")
            continue
        parts = _pieces(shape)
        if len(parts) > 1 and len(parts) > (len(_pieces(_metric(old[code]))) if code in old else 1):
            for part in parts[1:]:
                rows.append({"kind": "parts", "grids": name, "area_m2": float(part.area), "geometry": part,
                             "text": f"“{name}”被分成 {len(parts)} 块互不相连的部分，其中一块约 {_area_text(part.area)} 平方米"})
    return problems, rows


def _offending_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"kind": [r["kind"] for r in rows], "label": [PROBLEM_KINDS[r["kind"]][0] for r in rows],
                          "grids": [r["grids"] for r in rows], "area_m2": [r["area_m2"] for r in rows]})
    geoms = gpd.GeoSeries([r["geometry"] for r in rows], crs=metric_crs())
    return gpd.GeoDataFrame(frame, geometry=geoms).to_crs(WGS84_EPSG)


def check_edit(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, community: gpd.GeoDataFrame) -> EditCheck:
    """Whether the community's grids ``after`` an edit may replace those ``before`` it.

    ``before``/``after``: the community's grids (code, name, community_code; lon/lat); ``community``: its
    polygon (code, name). Refused (problems listed, pieces in ``offending``) when the edit creates an overlap,
    a gap or a crossing of at least :data:`MIN_PROBLEM_M2` m², leaves a changed grid without area, or splits a
    changed grid into more separate pieces than it had. Pieces that were already a problem before do not count.
    """
    for frame, name in ((before, "编辑前的网格"), (after, "编辑后的网格")):
        require_crs(frame, name)
        require_columns(frame, GRID_COLUMNS, name)
    require_crs(community, "社区边界")
    require_columns(community, ["code", "name"], "社区边界")
    changed = changed_codes(before, after)
    empty, rows = _shape_rows(before, after, changed)
    order = list(PROBLEM_KINDS)
    rows = sorted(_topology_rows(before, after, community) + rows, key=lambda r: (order.index(r["kind"]), -r["area_m2"]))
    problems = [*empty, *(f"{PROBLEM_KINDS[r['kind']][0]}：{r['text']}" for r in rows)]
    return EditCheck(tuple(problems), _offending_frame(rows), tuple(changed))


# ---------------------------------------------------------------- households


def _point_of(geom) -> shapely.Point:
    return geom if geom.geom_type == "Point" else geom.representative_point()


def _round_to_total(shares: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers proportional to ``shares`` that add up to ``total`` (largest remainder)."""
    if total <= 0 or not len(shares):
        return np.zeros(len(shares), dtype=int)
    weight = shares.sum()
    exact = shares / weight * total if weight > 0 else np.full(len(shares), total / len(shares))
    out = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return out


def _flows(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, changed: list[str],
           compounds: gpd.GeoDataFrame) -> np.ndarray:
    """Matrix [old changed grid, new changed grid] of the share of each old grid's people that moves there:
    by compound households inside each piece, by area where the old grid's pieces hold no compounds."""
    old = before[before["code"].astype(str).isin(changed)].to_crs(metric_crs())
    new = after[after["code"].astype(str).isin(changed)].to_crs(metric_crs())
    points = [_point_of(g) for g in compounds.to_crs(metric_crs()).geometry] if len(compounds) else []
    hh = compounds["households"].fillna(0).to_numpy(float) if len(compounds) else np.array([])
    share = np.zeros((len(old), len(new)))
    for i, g in enumerate(old.geometry):
        pieces = [shapely.intersection(g, h) for h in new.geometry]
        weight = np.array([sum(w for p, w in zip(points, hh) if piece.contains(p)) for piece in pieces])
        if weight.sum() <= 0:
            weight = np.array([piece.area for piece in pieces])
        if weight.sum() <= 0:  # the old grid's area went nowhere among the changed ones: its people stay put
            weight = (new["code"].astype(str).to_numpy() == str(old["code"].iloc[i])).astype(float)
        share[i] = weight / weight.sum() if weight.sum() > 0 else 0
    return share


def propose_households(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame,
                       compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """Households and population proposed for each grid whose shape changes, keeping the old totals exactly.

    ``before``/``after``: the community's grids (code, name, households, population; lon/lat); ``compounds``:
    points (or polygons) with ``households``. Returns one row per changed grid of ``after``: code, name,
    households_before / population_before (None for a new grid), households, population (the proposal),
    compound_households (old compounds' households inside the new shape) and area_m2."""
    require_crs(compounds, "老旧小区")
    require_columns(compounds, ["households"], "老旧小区")
    for frame, name in ((before, "编辑前的网格"), (after, "编辑后的网格")):
        require_columns(frame, [*GRID_COLUMNS, "households", "population"], name)
    changed = changed_codes(before, after)
    share = _flows(before, after, changed, compounds)
    old = before[before["code"].astype(str).isin(changed)]
    new = after[after["code"].astype(str).isin(changed)]
    totals = {k: int(pd.to_numeric(old[k], errors="coerce").fillna(0).sum()) for k in ("households", "population")}
    moved = {k: pd.to_numeric(old[k], errors="coerce").fillna(0).to_numpy(float) @ share if len(old) else
             np.zeros(len(new)) for k in totals}
    prior = before.set_index(before["code"].astype(str))
    codes = new["code"].astype(str).tolist()
    inside = _compound_households(new, compounds)
    return pd.DataFrame({
        "code": codes, "name": new["name"].astype(str).tolist(),
        "households_before": pd.Series([int(prior.at[c, "households"]) if c in prior.index else None
                                        for c in codes], dtype=object),
        "population_before": pd.Series([int(prior.at[c, "population"]) if c in prior.index else None
                                        for c in codes], dtype=object),
        "households": _round_to_total(moved["households"], totals["households"]),
        "population": _round_to_total(moved["population"], totals["population"]),
        "compound_households": inside, "area_m2": area_m2(new.geometry),
    })


def _compound_households(grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> list[int]:
    """Households of the compounds lying inside each grid (lon/lat), in row order."""
    if not len(compounds):
        return [0] * len(grids)
    points = [_point_of(g) for g in compounds.geometry]
    hh = compounds["households"].fillna(0).to_numpy(float)
    return [int(sum(w for p, w in zip(points, hh) if shape.contains(p))) for shape in grids.geometry]


def _whole(value) -> int | None:
    """``value`` as an integer ≥ 0, or None when it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0 or number != int(number):
        return None
    return int(number)


def check_households(table: pd.DataFrame, households_total: int, population_total: int) -> list[str]:
    """Problems (Chinese) with confirmed ``households``/``population`` per grid (columns name, households,
    population): each a whole number ≥ 0, and each column adding up to the old grids' total."""
    require_columns(table, ["name", "households", "population"], "户数分配表")
    problems = []
    for column, word, total in (("households", "户数", households_total), ("population", "人口", population_total)):
        values = [_whole(v) for v in table[column]]
        bad = [str(n) for n, v in zip(table["name"], values) if v is None]
        if bad:
            problems.append(f"{word}：{'、'.join(bad)}的{word}应为不小于 0 的整数")
        elif sum(values) != int(total):
            problems.append(f"{word}：各网格合计 {sum(values):,}，应等于调整前的合计 {int(total):,}")
    return problems


def changes_frame(after: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """What to save: the grids of ``after`` listed in ``table`` (code, households, population as confirmed),
    with their new shapes and names (EPSG as ``after``), ready for ``data.grid_edits.save_grid_geometry``."""
    require_columns(table, ["code", "households", "population"], "户数分配表")
    confirmed = table.set_index(table["code"].astype(str))
    rows = after[after["code"].astype(str).isin(confirmed.index)]
    codes = rows["code"].astype(str)
    return gpd.GeoDataFrame({"code": codes.to_numpy(), "name": rows["name"].astype(str).to_numpy(),
                             "households": confirmed.loc[codes, "households"].to_numpy(),
                             "population": confirmed.loc[codes, "population"].to_numpy()},
                            geometry=rows.geometry.to_numpy(), crs=after.crs)
