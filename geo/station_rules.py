"""Service stations opened, moved and closed in the app: the rules a save must obey, and which stations
are open on a day.

A station is open on day d when it opened on or before d (``opened_on``, empty: since before the records)
and has not closed by then (``closed_on`` empty or after d): a station closed on 2026-11-30 no longer counts
on that day. Closed stations stay in the table (and in every export); roll-ups and coverage take the
stations open on the day they describe (``open_on``).

A new or moved station takes the units of the grid its point lies in: grid, community and sub-district
codes are never typed. The point must lie inside the district (some grid) and inside the acting account's
scope. Pure: no database, no UI; messages plain Chinese, one per problem (``字段：原因``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from numbers import Integral, Real

import geopandas as gpd
import pandas as pd
import shapely

from geo.access import Account, can_write
from geo.lifecycle import as_date, is_missing
from geo.vocab import DISTRICT_NAME, StationKind

FIELD_LABELS: dict[str, str] = {
    "kind": StationKind.title(), "name": "站点名称", "address": "地址", "opening_hours": "开放时间",
    "capacity": "容量（人）", "opened_on": "启用日期", "closed_on": "关闭日期", "location": "位置",
}
"""Fields of a station a save writes, with their Chinese labels (in form order)."""
MAX_LENGTH = {"name": 60, "address": 120, "opening_hours": 40}
"""Longest text accepted per field (the columns' widths)."""
UNIT_COLUMNS = ("grid_code", "community_code", "street_code")


# ---------------------------------------------------------------- single values


def _text(field: str, value, required: bool) -> str | None:
    text = "" if is_missing(value) else str(value).strip()
    if not text:
        if required:
            raise ValueError("不能为空")
        return None
    if len(text) > MAX_LENGTH[field]:
        raise ValueError(f"最多 {MAX_LENGTH[field]} 个字，实为 {len(text)} 个")
    return text


def _capacity(value) -> int | None:
    if is_missing(value) or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"应为整数，实为 {value!r}")
    if isinstance(value, Real) and not isinstance(value, Integral) and float(value).is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, Integral):
        raise ValueError(f"应为整数，实为“{value}”")
    if value < 0:
        raise ValueError(f"不能为负数，实为 {int(value)}")
    return int(value)


def _kind(value) -> str:
    if is_missing(value) or value == "":
        raise ValueError("不能为空")
    return StationKind.from_label(str(value)).value


# ---------------------------------------------------------------- a new station's fields


def check_fields(fields: Mapping, today: date) -> tuple[dict, list[str]]:
    """The fields of a new station in stored form, and every problem.

    ``kind`` (a ``StationKind`` value or label) and ``name`` are required; ``address``, ``opening_hours``
    (free text such as ``08:30-17:30``) and ``capacity`` (places, integer ≥ 0) are optional; ``opened_on``
    (default ``today``) may not lie in the future. Unknown fields are reported."""
    coerce = {"kind": _kind, "name": lambda v: _text("name", v, True),
              "address": lambda v: _text("address", v, False),
              "opening_hours": lambda v: _text("opening_hours", v, False), "capacity": _capacity, "opened_on": as_date}
    clean: dict = {}
    problems: list[str] = []
    for field, value in fields.items():
        if field not in coerce:
            allowed = "、".join(FIELD_LABELS[f] for f in coerce)
            problems.append(f"字段“{field}”：不允许在此填写，可填写的字段为：{allowed}")
            continue
        try:
            clean[field] = coerce[field](value)
        except ValueError as exc:
            problems.append(f"{FIELD_LABELS[field]}：{exc}")
    for field in ("kind", "name"):
        if field not in fields:
            problems.append(f"{FIELD_LABELS[field]}：不能为空")
    opened = clean.get("opened_on") or today
    if opened > today:
        problems.append(f"{FIELD_LABELS['opened_on']}：{opened.isoformat()} 晚于今天（{today.isoformat()}），"
                        "不能登记将来启用的站点")
    clean["opened_on"] = opened
    return ({} if problems else clean), problems


def check_close(station: Mapping, closed_on, today: date) -> tuple[date | None, list[str]]:
    """Closing the stored ``station`` on ``closed_on``: (the date, every problem). It must still be open;
    the date may not lie before its 启用日期 nor after ``today``."""
    problems: list[str] = []
    if not is_missing(station.get("closed_on")):
        problems.append(f"{FIELD_LABELS['closed_on']}：该站点已于 {as_date(station.get('closed_on')).isoformat()} 关闭")
    try:
        day = as_date(closed_on)
    except ValueError as exc:
        return None, [*problems, f"{FIELD_LABELS['closed_on']}：{exc}"]
    if day is None:
        return None, [*problems, f"{FIELD_LABELS['closed_on']}：不能为空"]
    opened = as_date(station.get("opened_on"))
    if opened is not None and day < opened:
        problems.append(f"{FIELD_LABELS['closed_on']}：{day.isoformat()} 早于启用日期 {opened.isoformat()}")
    if day > today:
        problems.append(f"{FIELD_LABELS['closed_on']}：{day.isoformat()} 晚于今天（{today.isoformat()}），"
                        "不能登记将来的关闭")
    return (None if problems else day), problems


def check_open(station: Mapping) -> list[str]:
    """A closed station cannot be moved: one problem then, else none."""
    if is_missing(station.get("closed_on")):
        return []
    return [f"{FIELD_LABELS['location']}：该站点已于 {as_date(station.get('closed_on')).isoformat()} 关闭，不能迁移"]


# ---------------------------------------------------------------- where a point lies


def check_point(point) -> list[str]:
    """Problems with a station's point itself (WGS84 lon/lat): missing, not a point, not finite."""
    if point is None or not isinstance(point, shapely.Point) or point.is_empty:
        return [f"{FIELD_LABELS['location']}：请在地图上点选站点位置"]
    if not (math.isfinite(point.x) and math.isfinite(point.y) and -180 <= point.x <= 180 and -90 <= point.y <= 90):
        return [f"{FIELD_LABELS['location']}：经纬度无效（{point.x}, {point.y}）"]
    return []


def locate(point: shapely.Point, grids: pd.DataFrame) -> dict | None:
    """The unit codes of the one grid (``code``, ``community_code``, ``street_code``, WGS84 polygons) holding
    ``point``: ``{"grid_code", "community_code", "street_code"}``; None when no grid (or several) holds it."""
    if check_point(point) or not len(grids):
        return None
    polygons = grids.geometry.to_numpy() if isinstance(grids, gpd.GeoDataFrame) else grids["geometry"].to_numpy()
    hits = grids[shapely.covers(polygons, point)]
    if len(hits) != 1:
        return None
    row = hits.iloc[0]
    return {"grid_code": str(row["code"]), "community_code": str(row["community_code"]),
            "street_code": str(row["street_code"])}


def placement(point, grids: pd.DataFrame) -> tuple[dict | None, list[str]]:
    """(units of the grid holding ``point``, problems): the point must be valid and lie inside the district."""
    problems = check_point(point)
    if problems:
        return None, problems
    units = locate(point, grids)
    if units is None:
        return None, [f"{FIELD_LABELS['location']}：（{point.x:.6f}, {point.y:.6f}）不在{DISTRICT_NAME}的网格内"]
    return units, []


def scope_problem(account: Account | None, units: Mapping | None, place: str = "") -> str | None:
    """Why ``account`` may not put a station at ``units`` (a community outside its scope), or None."""
    if units is None or can_write(account, units["community_code"]):
        return None
    if account is None:
        return f"{FIELD_LABELS['location']}：请先登录"
    where = f"（{place}）" if place else ""
    return f"{FIELD_LABELS['location']}：该位置{where}不在账号“{account.username}”的辖区（{account.where}）内"


# ---------------------------------------------------------------- open on a day


def open_on(stations: pd.DataFrame, day: date) -> pd.DataFrame:
    """The rows of ``stations`` open on ``day``: opened on or before it (or date unknown) and not closed by
    then (``closed_on`` empty or later). Frames without the date columns are returned as they are (copies)."""
    if "opened_on" not in stations or "closed_on" not in stations:
        return stations.copy()
    stamp = pd.Timestamp(day)
    opened = pd.to_datetime(stations["opened_on"])
    closed = pd.to_datetime(stations["closed_on"])
    keep = (opened.isna() | (opened <= stamp)) & (closed.isna() | (closed > stamp))
    return stations[keep.to_numpy()].copy()


# ---------------------------------------------------------------- history lines


def _shown(field: str, value) -> str:
    if value is None or value == "":
        return "（空）"
    if field == "kind" and value in StationKind.labels():
        return StationKind(value).label
    return str(value)


def describe_change(before: Mapping | None, after: Mapping | None) -> str:
    """One Chinese line, e.g. ``关闭日期：（空） → 2026-11-30`` or ``位置：119.29 26.08 → …``."""
    before, after = before or {}, after or {}
    labels = {**FIELD_LABELS, "lon": "经度", "lat": "纬度", "grid_code": "所在网格", "community_code": "所属社区",
              "street_code": "所属街道"}
    known = [f for f in labels if f in before or f in after]
    others = sorted((set(before) | set(after)) - set(labels))
    return "；".join(f"{labels.get(f, f)}：{_shown(f, before.get(f))} → {_shown(f, after.get(f))}"
                    for f in known + others)
