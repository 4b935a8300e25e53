"""Roll-ups: the indicators of a set of units, computed from the grid-level records.

Every indicator is a sum or a ratio of sums over grids, compounds, stations and disputes, so the
figures of a parent unit equal the sums of its children's by construction. Inputs are the store's
frames (any CRS; geometry is not used); inputs are never mutated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from geo.vocab import (
    ONE_OLD_ONE_YOUNG_ONE_GENERAL,
    DisputeCategory,
    DisputeStatus,
    RenovationStatus,
    StationKind,
)

UNIT_KEYS = ("street_code", "community_code", "grid_code")


@dataclass(frozen=True)
class Period:
    """A closed range of days [start, end]."""

    start: date
    end: date

    @classmethod
    def last_days(cls, end: date, days: int) -> Period:
        if days < 1:
            raise ValueError(f"统计天数应为正整数，实为 {days}")
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def data_as_of(disputes: pd.DataFrame, fallback: date | None = None) -> date:
    """The day the data runs to: the newest dispute report (or ``fallback``, else today)."""
    if len(disputes) and disputes["reported_on"].notna().any():
        return pd.Timestamp(disputes["reported_on"].max()).date()
    return fallback or date.today()


def _count_by(frame: pd.DataFrame, key: str, column: str, values) -> pd.DataFrame:
    """One column per value of ``column``: how many rows of each per ``key``."""
    # groupby().size() rather than pd.crosstab, which counts with a Python function per cell (0.25 s at 50×)
    counts = frame.groupby([key, column]).size().unstack(fill_value=0) if len(frame) else pd.DataFrame()
    return counts.reindex(columns=[v.value for v in values], fill_value=0)


def category_counts(frame: pd.DataFrame, key: str, column: str, values, weight: str | None = None) -> pd.DataFrame:
    """Per unit ``key`` (one row per unit that has rows, sorted by key): how many rows hold each of ``values``
    in ``column`` — or, with ``weight``, the sum of that numeric column over those rows (missing counts as 0).

    ``values`` are enum members or plain values; the columns are their plain values, in that order, zeros
    filled; values of ``column`` not among them are not counted. An empty frame gives an empty table.
    """
    missing = [c for c in (key, column, weight) if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(f"分类计数缺少字段：{'、'.join(missing)}；现有字段：{'、'.join(map(str, frame.columns))}")
    cols = [getattr(v, "value", v) for v in values]
    table = pd.DataFrame({
        "unit": frame[key].astype(str).to_numpy(),
        "category": frame[column].map(lambda v: getattr(v, "value", v)).to_numpy(),
        "amount": 1 if weight is None else pd.to_numeric(frame[weight], errors="coerce").fillna(0).to_numpy(),
    })
    out = table.pivot_table(index="unit", columns="category", values="amount", aggfunc="sum", fill_value=0)
    out = out.reindex(columns=cols, fill_value=0)
    out.index.name, out.columns.name = key, None
    return out.astype(int if weight is None else float)


def _in_period(days: pd.Series, period: Period) -> pd.Series:
    stamps = pd.to_datetime(days)
    return (stamps >= pd.Timestamp(period.start)) & (stamps <= pd.Timestamp(period.end))


def open_on(disputes: pd.DataFrame, day: date) -> pd.Series:
    """Boolean Series: the cases open at the end of ``day`` — received on or before it and without a 办结日期
    (closed_on) on or before it. The status plays no part: a 调解成功 case awaiting 办结 is open."""
    reported = pd.to_datetime(disputes["reported_on"]).dt.normalize()
    closed = pd.to_datetime(disputes["closed_on"]).dt.normalize()
    return (reported <= pd.Timestamp(day)) & (closed.isna() | (closed > pd.Timestamp(day)))


def dispute_counts(disputes: pd.DataFrame, key: str, period: Period, overdue_days: int) -> pd.DataFrame:
    """Per unit: cases reported in the period, resolved and failed among those closed in it, overdue at its end."""
    reported = _in_period(disputes["reported_on"], period)
    closed = _in_period(disputes["closed_on"], period)
    status = disputes["status"]
    open_at_end = open_on(disputes, period.end)
    overdue = open_at_end & (
        pd.to_datetime(disputes["reported_on"]) < pd.Timestamp(period.end - timedelta(days=overdue_days)))
    flags = pd.DataFrame({
        key: disputes[key],
        "disputes": reported,
        "resolved": closed & (status == DisputeStatus.RESOLVED.value),
        "failed": closed & (status == DisputeStatus.FAILED.value),
        "overdue": overdue,
    })
    return flags.groupby(key).sum().astype(int)


def indicators(grids: pd.DataFrame, compounds: pd.DataFrame, stations: pd.DataFrame,
               disputes: pd.DataFrame, key: str, period: Period, overdue_days: int = 30) -> pd.DataFrame:
    """Additive indicators per unit ``key`` (street_code, community_code or grid_code), one row per unit.

    Columns: households, population, grids, vacancies, assistants, compounds and one column per
    renovation status, stations per kind, disputes (reported in ``period``), resolved, failed,
    overdue (open and older than ``overdue_days`` at the period's end).
    """
    if key not in UNIT_KEYS:
        raise ValueError(f"未知的汇总层级“{key}”，可选：{', '.join(UNIT_KEYS)}")
    g = grids.rename(columns={"code": "grid_code"}) if "grid_code" not in grids else grids
    base = pd.DataFrame({
        key: g[key], "households": g["households"], "population": g["population"], "grids": 1,
        "vacancies": g["worker"].isna().astype(int), "assistants": g["assistants"],
    }).groupby(key).sum()
    parts = [
        base,
        compounds.groupby(key).size().rename("compounds"),
        _count_by(compounds, key, "status", RenovationStatus),
        _count_by(stations, key, "kind", StationKind),
        dispute_counts(disputes, key, period, overdue_days),
    ]
    out = pd.concat(parts, axis=1).fillna(0).astype(int)
    out.index.name = key
    return out


def totals(table: pd.DataFrame) -> pd.Series:
    """The sum over all units of an ``indicators`` table."""
    return table.sum(numeric_only=True).astype(int)


def success_rate(resolved: int, failed: int) -> float | None:
    """Share of mediations that succeeded (transfers excluded); None when nothing was closed."""
    done = resolved + failed
    return None if done == 0 else resolved / done


# ---------------------------------------------------------------- ratios, completeness, series

RATIOS = {
    "households_per_grid": "网格平均户数",
    "vacancy_rate": "网格员空缺率",
    "renovated_share": "改造完成率",
    "disputes_per_1000": "每千户纠纷数",
    "success_rate": "调解成功率",
    "station_completeness": "一老一少一普完备率",
}


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (from ``indicators``, optionally joined with ``station_completeness``) plus ratio columns.

    Renovated share counts 已完工 and 长效管理 over all compounds; disputes per 1,000 households use the
    period's reports; a ratio with a zero denominator is NaN.
    """
    out = table.copy()
    out["households_per_grid"] = _ratio(out["households"], out["grids"])
    out["vacancy_rate"] = _ratio(out["vacancies"], out["grids"])
    done = out[RenovationStatus.COMPLETED.value] + out[RenovationStatus.MANAGED.value]
    out["renovated_share"] = _ratio(done, out["compounds"])
    out["disputes_per_1000"] = _ratio(out["disputes"] * 1000, out["households"])
    out["success_rate"] = _ratio(out["resolved"], out["resolved"] + out["failed"])
    if "complete_communities" in out:
        out["station_completeness"] = _ratio(out["complete_communities"], out["communities"])
    return out


def station_completeness(stations: pd.DataFrame, communities: pd.DataFrame, key: str,
                         grids: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit: ``communities`` and how many of them have all of 一老一少一普 (``complete_communities``).

    For ``key="grid_code"`` each grid shows its own community (so the grid rows do not add up to the
    district; the street and community rows do). ``grids`` is needed only for that key.
    """
    kinds = {k.value for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL}
    have = stations[stations["kind"].isin(kinds)].groupby("community_code")["kind"].nunique()
    per = pd.DataFrame({"community_code": communities["code"].to_numpy(),
                        "street_code": communities["street_code"].to_numpy()})
    per["communities"] = 1
    per["complete_communities"] = (per["community_code"].map(have).fillna(0) == len(kinds)).astype(int)
    if key == "grid_code":
        if grids is None:
            raise ValueError("按网格统计一老一少一普完备率需要提供 grids")
        flags = per.set_index("community_code")[["communities", "complete_communities"]]
        out = flags.reindex(grids["community_code"].to_numpy()).set_axis(grids["code"].to_numpy())
        out.index.name = key
        return out.fillna(0).astype(int)
    if key not in ("street_code", "community_code"):
        raise ValueError(f"未知的汇总层级“{key}”，可选：{', '.join(UNIT_KEYS)}")
    return per.groupby(key)[["communities", "complete_communities"]].sum()


def unit_table(grids: pd.DataFrame, compounds: pd.DataFrame, stations: pd.DataFrame, disputes: pd.DataFrame,
               communities: pd.DataFrame, community_stations: pd.DataFrame, key: str, period: Period,
               overdue_days: int = 30) -> pd.DataFrame:
    """The integer table per unit ``key`` behind every map and panel: ``indicators`` joined with
    ``station_completeness`` (give ``with_ratios`` the result for the ratios). ``stations`` are the open stations
    inside the units; ``community_stations`` those the units' communities are judged on (a grid: its community's)."""
    table = indicators(grids, compounds, stations, disputes, key=key, period=period, overdue_days=overdue_days)
    complete = station_completeness(community_stations, communities, key, grids=grids)
    return table.join(complete, how="left").fillna(0).astype(int)


def monthly_disputes(disputes: pd.DataFrame, end: date, months: int = 12) -> pd.DataFrame:
    """Cases reported per calendar month (the ``months`` months up to ``end``) and category.

    Returns one row per month (index: "2026-05" …) and one column per category label, zeros filled.
    """
    first = (pd.Timestamp(end).to_period("M") - (months - 1))
    labels = [str(first + i) for i in range(months)]
    cols = [c.label for c in DisputeCategory]
    if not len(disputes):
        return pd.DataFrame(0, index=pd.Index(labels, name="月份"), columns=cols)
    month = pd.to_datetime(disputes["reported_on"]).dt.to_period("M").astype(str)
    cat = disputes["category"].map(DisputeCategory.labels())
    table = pd.crosstab(month, cat).reindex(index=labels, columns=cols, fill_value=0)
    table.index.name = "月份"
    return table.astype(int)


def renovation_pipeline(compounds: pd.DataFrame) -> pd.DataFrame:
    """Compounds per plan year (rows; "未定" when none) and renovation status (columns, Chinese labels)."""
    cols = [s.label for s in RenovationStatus]
    if not len(compounds):
        return pd.DataFrame(columns=cols, dtype=int)
    year = compounds["plan_year"].map(lambda y: "未定" if pd.isna(y) else str(int(y)))
    status = compounds["status"].map(RenovationStatus.labels())
    table = pd.crosstab(year, status).reindex(columns=cols, fill_value=0)
    table.index.name = "计划年度"
    return table.astype(int)
