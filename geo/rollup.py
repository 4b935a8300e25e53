"""Roll-ups: the indicators of a set of units, computed from the grid-level records.

Every indicator is a sum or a ratio of sums over grids, compounds, stations and disputes, so the
figures of a parent unit equal the sums of its children's by construction. Inputs are the store's
frames (any CRS; geometry is not used); inputs are never mutated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from geo.vocab import DisputeStatus, OPEN_DISPUTE_STATUSES, RenovationStatus, StationKind

UNIT_KEYS = ("street_code", "community_code", "grid_code")


@dataclass(frozen=True)
class Period:
    """A closed range of days [start, end]."""

    start: date
    end: date

    @classmethod
    def last_days(cls, end: date, days: int) -> "Period":
        if days < 1:
            raise ValueError(f"统计天数应为正整数，实为 {days}")
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of equal length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def data_as_of(disputes: pd.DataFrame, fallback: date | None = None) -> date:
    """The day the data runs to: the newest dispute report (or ``fallback``, else today)."""
    if len(disputes) and disputes["reported_on"].notna().any():
        return pd.Timestamp(disputes["reported_on"].max()).date()
    return fallback or date.today()


def _count_by(frame: pd.DataFrame, key: str, column: str, values) -> pd.DataFrame:
    """One column per value of ``column``: how many rows of each per ``key``."""
    counts = pd.crosstab(frame[key], frame[column]) if len(frame) else pd.DataFrame()
    return counts.reindex(columns=[v.value for v in values], fill_value=0)


def _in_period(days: pd.Series, period: Period) -> pd.Series:
    stamps = pd.to_datetime(days)
    return (stamps >= pd.Timestamp(period.start)) & (stamps <= pd.Timestamp(period.end))


def dispute_counts(disputes: pd.DataFrame, key: str, period: Period, overdue_days: int) -> pd.DataFrame:
    """Per unit: cases reported in the period, resolved and failed among those closed in it, overdue at its end."""
    reported = _in_period(disputes["reported_on"], period)
    closed = _in_period(disputes["closed_on"], period)
    status = disputes["status"]
    open_at_end = status.isin([s.value for s in OPEN_DISPUTE_STATUSES]) & (
        pd.to_datetime(disputes["reported_on"]) <= pd.Timestamp(period.end))
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
