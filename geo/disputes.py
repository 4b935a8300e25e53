"""Dispute (矛盾纠纷) statistics: filters, period statistics and comparison, repeat addresses,
cases per 1,000 households, overdue cases and the case list.

Inputs are the store's ``disputes`` frame (columns of data.schema.disputes; dates may be ``date``
objects or Timestamps; geometry is not used) and, for rates, the ``grids`` frame. Inputs are never
mutated; when nothing matches, an empty frame (with its columns) is returned. Durations are in
whole days. The monthly trend by category is geo.rollup.monthly_disputes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from geo.errors import GuloError
from geo.rollup import UNIT_KEYS, Period, open_on, success_rate
from geo.vocab import (
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    Vocab,
)

STAT_COLUMNS = ("received", "closed", "resolved", "failed", "success_rate",
                "median_days", "p90_days", "overdue", "open_at_end")
"""Keys of ``dispute_stats`` and columns of ``compare``, in order."""

STAT_LABELS = {
    "received": "受理数", "closed": "办结数", "resolved": DisputeStatus.RESOLVED.label, "failed": DisputeStatus.FAILED.label,
    "success_rate": "调解成功率", "median_days": "办结天数中位数", "p90_days": "办结天数90分位",
    "overdue": "超期未结", "open_at_end": "期末在办",
}
COUNT_COLUMNS = ("received", "closed", "resolved", "failed", "overdue", "open_at_end")
COMPARE_ROWS = ("本期", "上期", "去年同期")
REPEAT_COLUMNS = ("address", "cases", "first", "last", "categories", "community_code")
CASE_COLUMNS = ("编号", "受理日期", "办结日期", "类别", "来源", "状态", "社区", "网格",
                "地址", "摘要", "办理天数", "是否超期")


# ---------------------------------------------------------------- argument checks and helpers

def _require(frame: pd.DataFrame, columns, what: str = "纠纷表") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise GuloError(f"{what}缺少字段：{'、'.join(missing)}")


def _check_days(value, name: str, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GuloError(f"{name}应为不小于 {minimum} 的整数，实为 {value!r}")


def _check_period(period) -> None:
    if not isinstance(period, Period):
        raise GuloError(f"统计期应为 Period，实为 {type(period).__name__}")
    if period.start > period.end:
        raise GuloError(f"统计期的开始日期 {period.start} 晚于结束日期 {period.end}")


def _stamps(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.normalize()


def _between(stamps: pd.Series, start: date, end: date) -> pd.Series:
    return (stamps >= pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))


def _open_at(disputes: pd.DataFrame, day: date) -> pd.Series:
    """Reported on or before ``day`` and without a 办结日期 by then (``geo.rollup.open_on``; status plays no part)."""
    return open_on(disputes, day)


# ---------------------------------------------------------------- filter

@dataclass(frozen=True)
class DisputeFilter:
    """Which categories, sources and statuses to keep (enum values); an empty tuple keeps all."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field, vocab in (("categories", DisputeCategory), ("sources", DisputeSource),
                             ("statuses", DisputeStatus)):
            values = tuple(str(getattr(v, "value", v)) for v in getattr(self, field))
            _check_values(values, vocab)
            object.__setattr__(self, field, values)


def _check_values(values: tuple[str, ...], vocab: type[Vocab]) -> None:
    allowed = {m.value for m in vocab}
    bad = [v for v in values if v not in allowed]
    if bad:
        names = "、".join(f"{m.value}（{m.label}）" for m in vocab)
        raise GuloError(f"无效的{vocab.title()}：{'、'.join(bad)}；可选：{names}")


def apply_filter(disputes: pd.DataFrame, f: DisputeFilter) -> pd.DataFrame:
    """The rows of ``disputes`` that pass ``f`` (a new frame; the input is untouched)."""
    _require(disputes, ("category", "source", "status"))
    keep = pd.Series(True, index=disputes.index)
    for column, values in (("category", f.categories), ("source", f.sources), ("status", f.statuses)):
        if values:
            keep &= disputes[column].isin(values)
    return disputes[keep].copy()


# ---------------------------------------------------------------- period statistics

def overdue_mask(disputes: pd.DataFrame, as_of: date, overdue_days: int = 30) -> pd.Series:
    """True for cases open on ``as_of`` and reported more than ``overdue_days`` days before it."""
    _require(disputes, ("status", "reported_on", "closed_on"))
    _check_days(overdue_days, "超期天数")
    limit = pd.Timestamp(as_of - timedelta(days=overdue_days))
    return (_open_at(disputes, as_of) & (_stamps(disputes["reported_on"]) < limit)).rename("overdue")


def dispute_stats(disputes: pd.DataFrame, period: Period, overdue_days: int = 30) -> dict:
    """Statistics of ``period``: see STAT_LABELS. Days to close (closed_on − reported_on) are over the
    cases closed in the period; rates and days are None when there is nothing to measure."""
    _require(disputes, ("status", "reported_on", "closed_on"))
    _check_period(period)
    _check_days(overdue_days, "超期天数")
    reported = _stamps(disputes["reported_on"])
    closed_on = _stamps(disputes["closed_on"])
    closed = _between(closed_on, period.start, period.end)
    status = disputes["status"]
    resolved = int((closed & (status == DisputeStatus.RESOLVED.value)).sum())
    failed = int((closed & (status == DisputeStatus.FAILED.value)).sum())
    days = (closed_on[closed] - reported[closed]).dt.days.to_numpy(dtype=float)
    return {
        "received": int(_between(reported, period.start, period.end).sum()),
        "closed": int(closed.sum()),
        "resolved": resolved,
        "failed": failed,
        "success_rate": success_rate(resolved, failed),
        "median_days": float(np.median(days)) if len(days) else None,
        "p90_days": float(np.percentile(days, 90)) if len(days) else None,
        "overdue": int(overdue_mask(disputes, period.end, overdue_days).sum()),
        "open_at_end": int(_open_at(disputes, period.end).sum()),
    }


def year_earlier(day: date) -> date:
    """The same date one year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def compare(disputes: pd.DataFrame, period: Period, overdue_days: int = 30) -> pd.DataFrame:
    """Rows 本期 / 上期 / 去年同期 with the ``dispute_stats`` columns, plus ``<stat>_change`` (本期 minus
    the row; for success_rate in fractions, for days in days) and, for counts, ``<stat>_pct`` (that
    change over the row's value; None when the row's value is 0). Empty rates are None."""
    _check_period(period)
    periods = {
        "本期": period,
        "上期": period.previous(),
        "去年同期": Period(year_earlier(period.start), year_earlier(period.end)),
    }
    stats = {name: dispute_stats(disputes, p, overdue_days) for name, p in periods.items()}
    now = stats["本期"]
    rows = []
    for name, s in stats.items():
        row = {"start": periods[name].start, "end": periods[name].end, **s}
        for col in STAT_COLUMNS:
            base = s[col]
            row[f"{col}_change"] = None if name == "本期" or base is None or now[col] is None \
                else now[col] - base
            if col in COUNT_COLUMNS:
                row[f"{col}_pct"] = None if name == "本期" or base == 0 else (now[col] - base) / base
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(COMPARE_ROWS, name="期间")).astype(object)
    return out.where(out.notna(), None)


# ---------------------------------------------------------------- repeat addresses

def repeat_addresses(disputes: pd.DataFrame, as_of: date, months: int = 12,
                     min_cases: int = 3) -> pd.DataFrame:
    """Addresses with at least ``min_cases`` cases reported in the ``months`` months up to ``as_of``
    (from the day after ``as_of`` minus ``months`` months, through ``as_of``).

    Columns: address, cases, first and last report (dates), categories (Chinese labels joined by
    、), community_code (of the latest case). Most cases first.
    """
    _require(disputes, ("address", "reported_on", "category", "community_code"))
    _check_days(months, "统计月数", 1)
    _check_days(min_cases, "最少案件数", 1)
    start = pd.Timestamp(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    reported = _stamps(disputes["reported_on"])
    window = disputes.assign(_address=disputes["address"].astype(str).str.strip(), _on=reported)
    window = window[(reported >= start) & (reported <= pd.Timestamp(as_of))]
    counts = window.groupby("_address").size()
    hits = window[window["_address"].isin(counts[counts >= min_cases].index)]
    if hits.empty:
        return pd.DataFrame(columns=list(REPEAT_COLUMNS))
    order = {c.value: i for i, c in enumerate(DisputeCategory)}
    labels = DisputeCategory.labels()

    def categories(values: pd.Series) -> str:
        return "、".join(labels.get(v, v) for v in sorted(set(values), key=lambda v: order.get(v, 99)))

    out = hits.sort_values("_on").groupby("_address").agg(
        cases=("_on", "size"), first=("_on", "min"), last=("_on", "max"),
        categories=("category", categories), community_code=("community_code", "last"))
    out["first"] = out["first"].dt.date
    out["last"] = out["last"].dt.date
    out = out.rename_axis("address").reset_index()
    return out.sort_values(["cases", "last", "address"], ascending=[False, False, True],
                           ignore_index=True)[list(REPEAT_COLUMNS)]


# ---------------------------------------------------------------- rates per unit and case list

def cases_per_1000(disputes: pd.DataFrame, grids: pd.DataFrame, key: str, period: Period) -> pd.DataFrame:
    """Per unit ``key`` (grid_code, community_code or street_code; every unit of ``grids``): cases
    reported in ``period``, households, per_1000 (cases per 1,000 households; NaN for 0 households)
    and rank (1 = highest rate), sorted by rank."""
    if key not in UNIT_KEYS:
        raise GuloError(f"未知的统计层级“{key}”，可选：{'、'.join(UNIT_KEYS)}")
    _check_period(period)
    g = grids.rename(columns={"code": "grid_code"}) if "grid_code" not in grids else grids
    _require(g, (key, "households"), "网格表")
    _require(disputes, (key, "reported_on"))
    households = g.groupby(key)["households"].sum()
    inside = disputes[_between(_stamps(disputes["reported_on"]), period.start, period.end)]
    cases = inside.groupby(key).size().reindex(households.index, fill_value=0)
    out = pd.DataFrame({"cases": cases.astype(int), "households": households.astype(int)})
    out["per_1000"] = out["cases"] * 1000 / out["households"].where(out["households"] > 0)
    out = out.rename_axis(key).reset_index().sort_values(
        ["per_1000", "cases", key], ascending=[False, False, True], na_position="last", ignore_index=True)
    out["rank"] = range(1, len(out) + 1)
    return out


def case_table(disputes: pd.DataFrame, names: dict[str, str], as_of: date,
               overdue_days: int = 30) -> pd.DataFrame:
    """The case list with Chinese headers (CASE_COLUMNS), newest first, for display and export.

    社区/网格 are named through ``names`` (code -> name; the code when missing); 办理天数 runs to
    办结日期, or to ``as_of`` for open cases; 是否超期 is 是/否 per ``overdue_mask``.
    """
    _require(disputes, ("code", "category", "source", "status", "reported_on", "closed_on",
                        "community_code", "grid_code", "address"))
    reported = _stamps(disputes["reported_on"])
    closed = _stamps(disputes["closed_on"])
    end = closed.fillna(pd.Timestamp(as_of))
    overdue = overdue_mask(disputes, as_of, overdue_days)
    summary = disputes["summary"] if "summary" in disputes else pd.Series("", index=disputes.index)
    out = pd.DataFrame({
        "编号": disputes["code"],
        "受理日期": reported.dt.date,
        "办结日期": closed.dt.date.where(closed.notna(), None),
        "类别": disputes["category"].map(lambda v: DisputeCategory.labels().get(v, v)),
        "来源": disputes["source"].map(lambda v: DisputeSource.labels().get(v, v)),
        "状态": disputes["status"].map(lambda v: DisputeStatus.labels().get(v, v)),
        "社区": disputes["community_code"].map(lambda c: names.get(c, c)),
        "网格": disputes["grid_code"].map(lambda c: names.get(c, c)),
        "地址": disputes["address"],
        "摘要": summary.fillna(""),
        "办理天数": (end - reported).dt.days.astype("Int64"),
        "是否超期": overdue.map({True: "是", False: "否"}),
    })
    order = reported.sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True)
