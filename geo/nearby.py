"""What lies around a compound: service stations within walking distance, disputes nearby.

Inputs are GeoDataFrames in WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490), as the store hands them out;
a missing or other CRS is a :class:`geo.errors.CRSError`. Distances are straight-line metres measured
in UTM zone 50N (EPSG:32650, :func:`geo.crs.metric_crs`); "walking distance" is approximated by the
straight line. Pairs are found through the spatial index of ``geopandas.sjoin`` (predicate
``dwithin``, inclusive: a station exactly ``metres`` away counts), never by a loop over pairs.
Inputs are never mutated; when nothing is near, the result is an empty frame with the same columns.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84_EPSG, metric_crs, require_crs
from geo.errors import DataValidationError, GuloError
from geo.vocab import DisputeCategory, DisputeStatus, StationKind, Vocab

Where = shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame
ORIGIN_KEY = "compound_code"
DISTANCE = "distance_m"


def check_metres(metres: float, what: str = "距离") -> float:
    """``metres`` as a float; GuloError unless it is a finite number ≥ 0."""
    if isinstance(metres, bool) or not isinstance(metres, (int, float, np.integer, np.floating)):
        raise GuloError(f"{what}应为不小于 0 的米数，实为 {metres!r}")
    if not math.isfinite(metres) or metres < 0:
        raise GuloError(f"{what}应为不小于 0 的米数，实为 {metres}")
    return float(metres)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """DataValidationError naming every column of ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{name}缺少字段：{'、'.join(missing)}",
                                  [(None, c, None, "缺少字段") for c in missing])


def to_metric(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """A copy of a WGS84/CGCS2000 frame in EPSG:32650 (metres); CRSError otherwise."""
    return require_crs(gdf, name).to_crs(metric_crs())


def pairs_within(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, metres: float) -> pd.DataFrame:
    """Pairs of rows of two frames in the same metric CRS lying within ``metres`` of each other.

    Returns columns ``left`` and ``right`` (positions, not labels) and ``distance_m``, sorted by
    left position then distance; an empty frame with those columns when no pair is that close.
    """
    empty = pd.DataFrame({"left": np.array([], int), "right": np.array([], int), DISTANCE: np.array([], float)})
    if not len(left) or not len(right):
        return empty
    lg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(left.geometry.to_numpy(), crs=left.crs))
    rg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(right.geometry.to_numpy(), crs=right.crs))
    joined = gpd.sjoin(lg, rg, how="inner", predicate="dwithin", distance=metres)
    if not len(joined):
        return empty
    li = joined.index.to_numpy(int)
    ri = joined["index_right"].to_numpy(int)
    dist = shapely.distance(lg.geometry.to_numpy()[li], rg.geometry.to_numpy()[ri])
    out = pd.DataFrame({"left": li, "right": ri, DISTANCE: dist})
    return out.sort_values(["left", DISTANCE], kind="stable").reset_index(drop=True)


def nearest_distance(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> np.ndarray:
    """For each row of ``left``, metres to the nearest row of ``right`` (same metric CRS); NaN if none."""
    out = np.full(len(left), np.nan)
    if not len(left) or not len(right):
        return out
    lg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(left.geometry.to_numpy(), crs=left.crs))
    rg = gpd.GeoDataFrame(geometry=gpd.GeoSeries(right.geometry.to_numpy(), crs=right.crs))
    joined = gpd.sjoin_nearest(lg, rg, how="inner", distance_col=DISTANCE)
    nearest = joined.groupby(level=0)[DISTANCE].min()
    out[nearest.index.to_numpy(int)] = nearest.to_numpy(float)
    return out


def _origins(where: Where) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """(origins in EPSG:32650, their compound codes or None for a single point).

    A bare shapely geometry is read as WGS84 lon/lat; a frame's codes come from its ``code``
    column, else from its index.
    """
    if isinstance(where, shapely.Geometry):
        return gpd.GeoDataFrame(geometry=[where], crs=WGS84_EPSG).to_crs(metric_crs()), None
    if isinstance(where, gpd.GeoSeries):
        where = where.to_frame("geometry").set_geometry("geometry", crs=where.crs)
    if not isinstance(where, gpd.GeoDataFrame):
        raise GuloError(f"位置应为经纬度点（shapely 几何）或带坐标参考系的小区表，实为 {type(where).__name__}")
    codes = where["code"].to_numpy() if "code" in where.columns else where.index.to_numpy()
    return to_metric(where, "小区"), codes


def _vocab_values(items: Iterable | None, vocab: type[Vocab]) -> list[str] | None:
    """Enum values of ``items`` (members, values or labels); GuloError naming the allowed labels."""
    if items is None:
        return None
    out = []
    for item in items:
        try:
            out.append(vocab.from_label(str(item.value if isinstance(item, vocab) else item)).value)
        except ValueError as err:
            raise GuloError(str(err)) from err
    return out


def _attach(pairs: pd.DataFrame, targets: gpd.GeoDataFrame, codes: np.ndarray | None) -> gpd.GeoDataFrame:
    """Rows of ``targets`` (original CRS) for each pair, with distance and the origin's code first."""
    rows = targets.iloc[pairs["right"].to_numpy()].reset_index(drop=True)
    rows[DISTANCE] = pairs[DISTANCE].to_numpy()
    if codes is not None:
        rows.insert(0, ORIGIN_KEY, codes[pairs["left"].to_numpy()])
    return rows


def stations_within(where: Where, stations: gpd.GeoDataFrame, metres: float,
                    kinds: Iterable | None = None) -> gpd.GeoDataFrame:
    """Stations within ``metres`` (straight line, EPSG:32650) of a point or of each compound.

    ``where`` is a shapely point in WGS84 lon/lat, or a GeoDataFrame/GeoSeries of compounds
    (EPSG:4326/4490). ``kinds`` optionally restricts the station kinds (StationKind members,
    values or Chinese labels). Returns the stations' rows (their CRS and columns) plus
    ``kind_label`` and ``distance_m``, and, for compounds, ``compound_code`` first (one row per
    compound–station pair); sorted by compound, then distance.
    """
    metres = check_metres(metres, "步行距离")
    require_columns(stations, ["kind"], "服务站点")
    allowed = _vocab_values(kinds, StationKind)
    origins, codes = _origins(where)
    targets = require_crs(stations, "服务站点")
    if allowed is not None:
        targets = targets[targets["kind"].isin(allowed)]
    pairs = pairs_within(origins, targets.to_crs(metric_crs()), metres)
    out = _attach(pairs, targets, codes)
    out.insert(out.columns.get_loc("kind") + 1, "kind_label", out["kind"].map(StationKind.labels()))
    return out


def in_days(reported: pd.Series, since: date, until: date | None) -> pd.Series:
    """Boolean: reported on a day in [since, until] (``until`` None: no upper bound)."""
    stamps = pd.to_datetime(reported)
    keep = stamps >= pd.Timestamp(since)
    return keep if until is None else keep & (stamps <= pd.Timestamp(until))


def disputes_near(where: Where, disputes: gpd.GeoDataFrame, metres: float, since: date,
                  until: date | None = None, categories: Iterable | None = None) -> gpd.GeoDataFrame:
    """Dispute cases reported in [since, until] within ``metres`` (EPSG:32650) of a point or compounds.

    For a compound's detail panel pass ``since`` = 12 months before the data date (see
    :func:`twelve_months_before`). ``categories`` optionally restricts the DisputeCategory.
    Returns the cases' rows (their CRS) plus ``category_label``, ``status_label``, ``distance_m``
    and, for compounds, ``compound_code`` first; sorted by compound, newest report first.
    """
    metres = check_metres(metres, "纠纷搜索半径")
    require_columns(disputes, ["category", "status", "reported_on"], "矛盾纠纷")
    allowed = _vocab_values(categories, DisputeCategory)
    origins, codes = _origins(where)
    targets = require_crs(disputes, "矛盾纠纷")
    keep = in_days(targets["reported_on"], since, until)
    if allowed is not None:
        keep &= targets["category"].isin(allowed)
    targets = targets[keep.to_numpy()]
    out = _attach(pairs_within(origins, targets.to_crs(metric_crs()), metres), targets, codes)
    out.insert(out.columns.get_loc("category") + 1, "category_label", out["category"].map(DisputeCategory.labels()))
    out.insert(out.columns.get_loc("status") + 1, "status_label", out["status"].map(DisputeStatus.labels()))
    keys = ([ORIGIN_KEY] if codes is not None else []) + ["_day", DISTANCE]
    ascending = ([True] if codes is not None else []) + [False, True]
    out = out.assign(_day=pd.to_datetime(out["reported_on"])).sort_values(keys, ascending=ascending, kind="stable")
    return out.drop(columns="_day").reset_index(drop=True)


def twelve_months_before(as_of: date) -> date:
    """First day of the 12 months ending at ``as_of``: 2026-11-28 → 2025-11-29 (window inclusive)."""
    return (pd.Timestamp(as_of) - pd.DateOffset(months=12) + pd.Timedelta(days=1)).date()
