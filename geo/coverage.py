"""Grid standard and walking-distance service coverage, for grid supervisors (网格督导).

Grid standard
    One grid per about ``target`` households (default 500). A grid is ``over`` when its households
    exceed ``target × (1 + tolerance)``, ``under`` when they fall below ``target × (1 − tolerance)``,
    else ``ok``; ``deviation = households / target − 1``. A grid whose ``worker`` (专职网格员) is
    empty is ``vacant``.

Service coverage
    Households live in compounds (a compound's point stands for all its households). A compound is
    covered by a station kind when ``straight-line distance × detour ≤ metres`` to the nearest
    station of that kind. ``metres`` is a community life circle (社区生活圈, GB 50180-2018):
    :data:`LIFE_CIRCLES` gives 300 / 500 / 1,000 m for the 5 / 10 / 15-minute circles. The detour
    factor (:data:`DETOUR_FACTOR`, default 1.0: the straight line) turns straight-line distance into
    an estimate of walking distance along streets; 1.2–1.4 is usual in old town blocks.

All distances and areas are metres / m² measured in UTM zone 50N (EPSG:32650). Inputs are
GeoDataFrames in WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490) as the store hands them out; outputs
with geometry are in EPSG:4326. Nearest stations and pairs are found through spatial indexes
(``sjoin_nearest`` / ``sjoin`` with ``dwithin``), never by a loop over pairs. Inputs are never
mutated; when nothing matches the result is an empty frame with the same columns.
"""
from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84_EPSG, require_crs
from geo.errors import GuloError
from geo.nearby import check_metres, pairs_within, require_columns, to_metric
from geo.vocab import ONE_OLD_ONE_YOUNG_ONE_GENERAL, StationKind

GRID_TARGET = 500
"""Households per grid the seed's governance model aims at (一格约500户)."""

GRID_TOLERANCE = 0.2
"""Relative tolerance around :data:`GRID_TARGET` before a grid counts as over or under."""

BAND_LABELS = {"over": "超出标准", "under": "低于标准", "ok": "符合标准"}
"""Grid-standard bands (English value → Chinese label)."""

LIFE_CIRCLES = {"5分钟": 300, "10分钟": 500, "15分钟": 1000}
"""Community life circles of GB 50180-2018 (城市居住区规划设计标准): walking metres per circle."""

DETOUR_FACTOR = 1.0
"""Straight-line distance × this factor ≈ walking distance; 1.0 means the straight line.

A compound counts as covered when ``distance_m × detour ≤ metres``; users may set e.g. 1.3 for
winding lanes. Equivalently, the reach of a station is ``metres / detour`` as the crow flies.
"""

BUFFER_QUAD_SEGS = 16
"""Segments per quarter circle of a station's reach buffer: the 64-gon's area is 0.16 % below the
circle's, so gaps are overstated by at most that share of a circle."""

ROLLUP_KEYS = ("grid_code", "community_code", "street_code")
"""Units a coverage roll-up may group by."""

COMPOUND_COLUMNS = ["code", "households"]
UNIT_COLUMNS = ["code", "name", "street_code", "community_code", "grid_code", "households"]


# ---- arguments ---------------------------------------------------------------------------------

def kind_values(kinds: Iterable | str | StationKind) -> list[str]:
    """Station-kind values of ``kinds`` (StationKind members, values or Chinese labels), in order.

    A single kind may be passed alone. GuloError naming the allowed labels for an unknown kind or
    an empty list.
    """
    if isinstance(kinds, (str, StationKind)):
        kinds = [kinds]
    out: list[str] = []
    for item in kinds:
        try:
            value = StationKind.from_label(str(item.value if isinstance(item, StationKind) else item)).value
        except ValueError as err:
            raise GuloError(str(err)) from err
        if value not in out:
            out.append(value)
    if not out:
        raise GuloError(f"请至少选择一种站点类型，可选：{'、'.join(StationKind.labels().values())}")
    return out


def check_detour(detour: float) -> float:
    """``detour`` as a float; GuloError unless it is a finite number ≥ 1."""
    value = check_metres(detour, "绕行系数")
    if value < 1.0:
        raise GuloError(f"绕行系数应不小于 1（1 表示直线距离），实为 {detour}")
    return value


def distance_column(kind: str) -> str:
    """Column of :func:`compound_coverage` holding metres to the nearest station of ``kind``."""
    return f"distance_m_{kind}"


def covered_column(kind: str) -> str:
    """Boolean column of :func:`compound_coverage`: covered by a station of ``kind``."""
    return f"covered_{kind}"


def coverage_kinds(coverage: pd.DataFrame) -> list[str]:
    """Station kinds a :func:`compound_coverage` frame was computed for, in column order."""
    return [c.removeprefix("covered_") for c in coverage.columns if c.startswith("covered_")]


# ---- grid standard -----------------------------------------------------------------------------

def _vacant(worker: pd.Series) -> pd.Series:
    """True where the worker is missing (None/NaN) or blank."""
    return worker.isna() | (worker.astype(str).str.strip() == "")


def grid_standard(grids: pd.DataFrame, target: float = GRID_TARGET,
                  tolerance: float = GRID_TOLERANCE) -> pd.DataFrame:
    """Each grid's households against the standard of ``target`` households ± ``tolerance``.

    Returns one row per grid: code, name, community_code, street_code, households, deviation
    (``households / target − 1``), band (``over``/``under``/``ok``), band_label (Chinese), vacant
    (no 专职网格员) and assistants (网格协管员). No geometry.
    """
    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer, np.floating)) or not target > 0:
        raise GuloError(f"网格标准户数应为大于 0 的数，实为 {target!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.integer, np.floating)) \
            or not 0 <= tolerance < 1:
        raise GuloError(f"允许偏差应在 0 到 1 之间（如 0.2 表示 ±20%），实为 {tolerance!r}")
    cols = ["code", "name", "community_code", "street_code", "households", "worker", "assistants"]
    require_columns(grids, cols, "网格")
    households = pd.to_numeric(grids["households"], errors="coerce").fillna(0).astype(int)
    band = np.where(households > target * (1 + tolerance), "over",
                    np.where(households < target * (1 - tolerance), "under", "ok"))
    out = pd.DataFrame({
        "code": grids["code"].to_numpy(), "name": grids["name"].to_numpy(),
        "community_code": grids["community_code"].to_numpy(), "street_code": grids["street_code"].to_numpy(),
        "households": households.to_numpy(), "deviation": households.to_numpy() / float(target) - 1.0,
        "band": band, "vacant": _vacant(grids["worker"]).to_numpy(bool),
        "assistants": pd.to_numeric(grids["assistants"], errors="coerce").fillna(0).astype(int).to_numpy(),
    })
    out.insert(out.columns.get_loc("band") + 1, "band_label", out["band"].map(BAND_LABELS))
    return out


# ---- coverage ----------------------------------------------------------------------------------

def _points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Point locations (polygons → representative points) of a metric frame, positions reindexed."""
    geoms = frame.geometry.to_numpy()
    geoms = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=frame.crs))


def _nearest(origins: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Metres from each origin to the nearest of ``sites`` (same metric CRS) via an STRtree; NaN if none.

    Same result as :func:`geo.nearby.nearest_distance`, without building GeoDataFrames per kind.
    """
    out = np.full(len(origins), np.nan)
    if not len(origins) or not len(sites):
        return out
    (left, _), dist = shapely.STRtree(sites).query_nearest(origins, return_distance=True, all_matches=False)
    out[left] = dist
    return out


def compound_coverage(compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, kinds: Iterable | str,
                      metres: float, detour: float = DETOUR_FACTOR) -> pd.DataFrame:
    """Nearest station of each kind to each compound, and whether it lies within walking distance.

    ``metres`` is the walking distance (e.g. ``LIFE_CIRCLES["5分钟"]``); a compound is covered by a
    kind when ``distance_m × detour ≤ metres``. Returns one row per compound: ``code``, then per kind
    ``distance_m_<kind>`` (straight-line metres in EPSG:32650, NaN when there is no station of that
    kind) and ``covered_<kind>`` (bool).
    """
    metres = check_metres(metres, "步行距离")
    detour = check_detour(detour)
    wanted = kind_values(kinds)
    require_columns(compounds, ["code"], "小区")
    require_columns(stations, ["kind"], "服务站点")
    origins = _points(to_metric(compounds, "小区")).geometry.to_numpy()
    targets = to_metric(stations, "服务站点")
    sites, site_kinds = targets.geometry.to_numpy(), targets["kind"].to_numpy()
    out = pd.DataFrame({"code": compounds["code"].to_numpy()})
    for kind in wanted:
        dist = _nearest(origins, sites[site_kinds == kind])
        out[distance_column(kind)] = dist
        out[covered_column(kind)] = np.nan_to_num(dist * detour, nan=np.inf) <= metres
    return out


def _with_units(coverage: pd.DataFrame, compounds: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Coverage rows joined (by compound code) to ``columns`` of the compounds."""
    require_columns(coverage, ["code"], "覆盖结果")
    require_columns(compounds, ["code", *columns], "小区")
    units = pd.DataFrame(compounds[["code", *columns]]).drop_duplicates("code")
    return coverage.merge(units, on="code", how="left", validate="one_to_one")


def coverage_rollup(coverage: pd.DataFrame, compounds: pd.DataFrame, key: str) -> pd.DataFrame:
    """Households covered and not covered per unit and station kind.

    ``key`` is ``grid_code``, ``community_code`` or ``street_code``. Returns one row per unit and
    kind (long format): key, kind, kind_label, compounds, households, covered_households,
    uncovered_households, covered_share (0–1; NaN when the unit has no households). Compounds
    without a unit code are grouped under a missing key.
    """
    if key not in ROLLUP_KEYS:
        raise GuloError(f"汇总单位“{key}”无效，可选：{'、'.join(ROLLUP_KEYS)}")
    kinds = coverage_kinds(coverage)
    joined = _with_units(coverage, compounds, ["households", key])
    households = pd.to_numeric(joined["households"], errors="coerce").fillna(0).to_numpy(float)
    flags = joined[[covered_column(k) for k in kinds]].fillna(False).to_numpy(bool)
    parts = pd.DataFrame(flags * households[:, None], columns=kinds).assign(
        _key=joined[key].to_numpy(), _hh=households, _n=1)
    sums = parts.groupby("_key", dropna=False, sort=True).sum()
    out = sums[kinds].rename_axis(key).reset_index().melt(id_vars=key, var_name="kind", value_name="covered_households")
    out["compounds"] = sums["_n"].reindex(out[key]).to_numpy()
    out["households"] = sums["_hh"].reindex(out[key]).to_numpy()
    out = out[[key, "kind", "compounds", "households", "covered_households"]]
    out.insert(2, "kind_label", out["kind"].map(StationKind.labels()))
    out = out.astype({"compounds": int, "households": int, "covered_households": int})
    out["uncovered_households"] = out["households"] - out["covered_households"]
    share = out["covered_households"] / out["households"].where(out["households"] > 0)
    out["covered_share"] = share.astype(float)
    return out


def uncovered_compounds(coverage: pd.DataFrame, compounds: gpd.GeoDataFrame,
                        kinds: Iterable | str = ONE_OLD_ONE_YOUNG_ONE_GENERAL) -> gpd.GeoDataFrame:
    """Compounds beyond walking distance of a station of at least one of ``kinds``.

    Returns the compounds' code, name, street_code, community_code, grid_code, households and
    geometry (their CRS), plus ``missing`` (kind values not in reach), ``missing_label`` (Chinese,
    joined by 、) and ``distance_m_<kind>`` for each kind; most households first.
    """
    wanted = kind_values(kinds)
    known = coverage_kinds(coverage)
    absent = [k for k in wanted if k not in known]
    if absent:
        labels = "、".join(StationKind(k).label for k in absent)
        raise GuloError(f"覆盖结果中没有这些站点类型：{labels}；请先按这些类型计算覆盖")
    geo = require_crs(compounds, "小区")
    require_columns(geo, UNIT_COLUMNS, "小区")
    cov = coverage.set_index("code")
    cov = cov.reindex(geo["code"].to_numpy())
    covered = np.column_stack([cov[covered_column(k)].fillna(False).to_numpy(bool) for k in wanted])
    keep = ~covered.all(axis=1)
    out = geo.loc[keep, [*UNIT_COLUMNS, geo.geometry.name]].reset_index(drop=True)
    missing = [[k for k, c in zip(wanted, row) if not c] for row in covered[keep]]
    labels = StationKind.labels()
    out["missing"] = pd.Series(missing, dtype=object)
    out["missing_label"] = ["、".join(labels[k] for k in row) for row in missing]
    for kind in wanted:
        out[distance_column(kind)] = cov[distance_column(kind)].to_numpy(float)[keep]
    out = out.sort_values(["households", "code"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def completeness(stations: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """Whether each community has the three 一老一少一普 stations (elderly, children, culture).

    Stations count for the community in their ``community_code``. Returns one row per community:
    code, name, street_code, ``has_<kind>`` for each of the three kinds, ``complete`` (all three)
    and ``missing_label`` (Chinese labels of the missing kinds, joined by 、).
    """
    require_columns(stations, ["kind", "community_code"], "服务站点")
    require_columns(communities, ["code", "name", "street_code"], "社区")
    present = set(zip(stations["community_code"], stations["kind"]))
    out = pd.DataFrame(communities[["code", "name", "street_code"]]).reset_index(drop=True)
    kinds = [k.value for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL]
    for kind in kinds:
        out[f"has_{kind}"] = [(code, kind) in present for code in out["code"]]
    has = out[[f"has_{k}" for k in kinds]].to_numpy(bool).reshape(len(out), len(kinds))
    out["complete"] = has.all(axis=1)
    labels = StationKind.labels()
    out["missing_label"] = ["、".join(labels[k] for k, h in zip(kinds, row) if not h) for row in has]
    return out


def gap_areas(units: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, kind: str | StationKind,
              metres: float, detour: float = DETOUR_FACTOR) -> gpd.GeoDataFrame:
    """The parts of each unit polygon farther than ``metres / detour`` from every station of ``kind``.

    Computed in EPSG:32650 as the unit minus the union of station buffers (radius ``metres /
    detour`` metres, straight line). Returns the units' attribute columns with the gap as geometry
    (EPSG:4326) plus ``area_m2``, ``unit_area_m2`` and ``gap_share``; units fully covered are left
    out.
    """
    metres = check_metres(metres, "步行距离")
    detour = check_detour(detour)
    value = kind_values(kind)[0]
    require_columns(stations, ["kind"], "服务站点")
    metric = to_metric(units, "区域")
    sites = to_metric(stations, "服务站点")
    sites = sites[sites["kind"].to_numpy() == value]
    reach = shapely.union_all(shapely.buffer(sites.geometry.to_numpy(), metres / detour, quad_segs=BUFFER_QUAD_SEGS)) \
        if len(sites) else None
    shapes = metric.geometry.to_numpy()
    gaps = shapes if reach is None else shapely.difference(shapes, reach)
    area = shapely.area(gaps)
    keep = area > 0
    out = metric.loc[keep].drop(columns=metric.geometry.name).reset_index(drop=True)
    out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(gaps[keep], crs=metric.crs))
    out["area_m2"] = area[keep]
    out["unit_area_m2"] = shapely.area(shapes[keep])
    out["gap_share"] = out["area_m2"] / out["unit_area_m2"]
    return out.to_crs(WGS84_EPSG)


def stations_near(stations: gpd.GeoDataFrame, units: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """The stations (rows of ``stations``, their CRS) within ``metres`` of the bounding box of ``units``,
    measured in EPSG:32650: every station that can serve a household of the units, for a map of them.

    Both frames EPSG:4326/4490; no units give no stations.
    """
    metres = check_metres(metres, "步行距离")
    sites = to_metric(stations, "服务站点")
    area = to_metric(units, "区域")
    if not len(area) or not len(sites):
        return stations.iloc[:0]
    minx, miny, maxx, maxy = area.total_bounds
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    inside = (x >= minx - metres) & (x <= maxx + metres) & (y >= miny - metres) & (y <= maxy + metres)
    return stations[inside]


# ---- where to add a station --------------------------------------------------------------------

def _greedy(pairs: pd.DataFrame, weights: np.ndarray, n_candidates: int, k: int) -> list[tuple[int, list[int]]]:
    """Greedy maximal coverage: up to ``k`` (candidate position, newly covered demand positions).

    ``pairs`` has columns ``left`` (candidate) and ``right`` (demand). Each round picks the
    candidate adding the most weight among still-uncovered demand (ties: lowest position); stops
    when no candidate adds anything.
    """
    left, right = pairs["left"].to_numpy(int), pairs["right"].to_numpy(int)
    open_ = np.ones(len(weights), bool)
    picks: list[tuple[int, list[int]]] = []
    for _ in range(k):
        gain = np.bincount(left, weights=weights[right] * open_[right], minlength=n_candidates)
        best = int(np.argmax(gain)) if len(gain) else 0
        if not len(gain) or gain[best] <= 0:
            break
        added = right[(left == best) & open_[right]]
        open_[added] = False
        picks.append((best, sorted(set(added.tolist()))))
    return picks


SITE_COLUMNS = ["rank", "code", "name", "community_code", "grid_code", "households_added",
                "compounds_added", "added_codes", "cumulative_households"]


def propose_sites(compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, kind: str | StationKind,
                  metres: float, k: int = 3, detour: float = DETOUR_FACTOR) -> gpd.GeoDataFrame:
    """The ``k`` best new sites for a station of ``kind`` (maximal coverage, greedy).

    Demand: compounds not covered by an existing station of ``kind`` (``distance × detour >
    metres``), weighted by households. Candidates: every compound's location. A candidate covers
    the uncovered compounds within ``metres / detour`` straight-line metres (EPSG:32650); sites are
    picked one at a time by the households they add given the sites already picked. Returns up to
    ``k`` rows (fewer when nobody is left uncovered): rank, the candidate compound's code, name,
    community_code, grid_code, households_added, compounds_added, added_codes (list),
    cumulative_households and the point (EPSG:4326).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise GuloError(f"建议站点数应为不小于 1 的整数，实为 {k!r}")
    value = kind_values(kind)[0]
    metres = check_metres(metres, "步行距离")
    detour = check_detour(detour)
    require_columns(compounds, ["code", "name", "community_code", "grid_code", "households"], "小区")
    coverage = compound_coverage(compounds, stations, [value], metres, detour)
    points = _points(to_metric(compounds, "小区"))
    demand_mask = ~coverage[covered_column(value)].to_numpy(bool)
    demand = points[demand_mask].reset_index(drop=True)
    weights = pd.to_numeric(compounds["households"], errors="coerce").fillna(0).to_numpy(float)[demand_mask]
    picks = _greedy(pairs_within(points, demand, metres / detour), weights, len(points), int(k))
    codes = compounds["code"].to_numpy()[demand_mask]
    rows = [compounds.iloc[pos] for pos, _ in picks]
    out = pd.DataFrame({
        "rank": np.arange(1, len(picks) + 1),
        "code": [r["code"] for r in rows], "name": [r["name"] for r in rows],
        "community_code": [r["community_code"] for r in rows], "grid_code": [r["grid_code"] for r in rows],
        "households_added": np.array([weights[a].sum() for _, a in picks], dtype=int).reshape(-1),
        "compounds_added": np.array([len(a) for _, a in picks], dtype=int).reshape(-1),
        "added_codes": pd.Series([list(codes[a]) for _, a in picks], dtype=object),
    }, columns=SITE_COLUMNS[:-1])
    out["cumulative_households"] = out["households_added"].cumsum().astype(int)
    geoms = points.geometry.to_numpy()[[pos for pos, _ in picks]] if picks else np.array([], dtype=object)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=points.crs)).to_crs(WGS84_EPSG)
