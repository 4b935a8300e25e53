"""KPI cards, the children's ranking table and the charts of a scope (figures from dashboard.stats)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts import stacked_bars
from dashboard.stats import ScopeStats
from dashboard.tables import missing_help, show_table
from geo import formatting as fmt
from geo.briefing import COLUMN_LABELS, Kpi, headline_kpis
from geo.vocab import DisputeCategory, RenovationStatus, StationKind


def _fmt(n: float) -> str:
    return fmt.count(n)


def metric(where, label: str, text: str, diff: float | None = None, kind: str = "count", suffix: str = "较上期",
           lower_is_better: bool = False, neutral: bool = False, help: str | None = None) -> None:
    """One card: ``text`` with its change ``diff`` (``geo.formatting.change``; percent: in percentage points).

    A change that rounds to zero reads 「与上期持平」 in grey without an arrow; ``lower_is_better`` draws a rise
    red, ``neutral`` draws every change grey. ``where``: a column or container."""
    delta = fmt.change(diff, kind, suffix)
    moving = fmt.direction(diff, kind) != 0
    color = "off" if neutral or not moving else "inverse" if lower_is_better else "normal"
    where.metric(label, text, delta=delta, help=help or None, delta_color=color,
                 delta_arrow="auto" if moving else "off")


def kpi_cards(kpis: list[Kpi], per_row: int = 5) -> None:
    """The KPIs as metric cards, ``per_row`` to a row (two to a row on a phone, see ``dashboard.style``), each
    with its change against the previous period; a missing figure's help says why it shows 「—」."""
    for first in range(0, len(kpis), per_row):
        for col, k in zip(st.columns(per_row), kpis[first:first + per_row]):
            metric(col, k.label, k.text, k.change, k.kind, k.change_suffix, k.lower_is_better, help=k.help_text)


def headline_cards(s: ScopeStats, period_label: str, overdue_days: int) -> None:
    """Two rows of five: people and grids; renovation, stations and disputes (with change vs previous period)."""
    kpi_cards(headline_kpis(s.total, s.previous, period_label, overdue_days))


RANK_FORMATS = {
    "name": None, "households": "localized", "population": "localized", "grids": "localized",
    "households_per_grid": "%.0f", "vacancies": "localized", "compounds": "localized",
    "renovated_share": "%.1f%%", "station_completeness": "%.1f%%",
    "disputes": "localized", "disputes_per_1000": "%.1f", "success_rate": "%.1f%%", "overdue": "localized",
}
RANK_COLUMNS = {key: (COLUMN_LABELS[key], shown) for key, shown in RANK_FORMATS.items()}
NAME_WIDTH = 132
"""px of a ranking's pinned 名称 column: the longest unit name (6 characters, 河南杨桥社区) shown whole, not cut by 「…」."""


PERCENT_FORMAT = "%.1f%%"
"""Shares in rankings: one decimal everywhere (Streamlit's "percent" mixed 「66.67%」 and 「100%」); the column holds
percentage points (``as_points``)."""
COUNT_FORMAT = "localized"  # 54,961 rather than 54961


def as_points(table: pd.DataFrame, formats: dict[str, str | None]) -> pd.DataFrame:
    """``table`` with the share columns of ``formats`` (PERCENT_FORMAT) as percentage points, for showing."""
    shares = [key for key, shown in formats.items() if shown == PERCENT_FORMAT and key in table]
    return table.assign(**{key: table[key] * 100 for key in shares})


def rank_config(table: pd.DataFrame, formats: dict[str, str | None]) -> dict:
    """Column configs of a ranking: ``formats`` key -> NumberColumn format (None: the pinned 名称 column); a
    column holding a missing value (a rate without denominator) says in its help why it shows 「—」."""
    def number(key: str, shown: str):
        missing = key in table and bool(table[key].isna().any())
        return st.column_config.NumberColumn(COLUMN_LABELS.get(key, "排名"), format=shown,
                                             help=missing_help("no_closed" if key == "success_rate" else
                                                               "no_denominator") if missing else None)
    return {key: number(key, shown) if shown else
            st.column_config.TextColumn(COLUMN_LABELS[key], pinned=True, width=NAME_WIDTH)
            for key, shown in formats.items()}


def ranking_table(children: pd.DataFrame, child_label: str) -> None:
    """The children of the scope with every indicator (a missing one 「—」); click a header to sort."""
    if children.empty:
        return
    table = children[list(RANK_COLUMNS)].sort_values("households", ascending=False)
    st.markdown(f"**{child_label}排名**（点击列名排序）")
    show_table(as_points(table, RANK_FORMATS), "所选范围内没有下级单元。", column_config=rank_config(table, RANK_FORMATS),
               hide_index=True, width="stretch", height=min(38 + 35 * len(table), 420))


def pipeline_chart(s: ScopeStats) -> None:
    """Compounds per plan year, stacked by renovation status."""
    st.markdown("**老旧小区改造进度（按计划年度）**")
    stacked_bars(s.pipeline, [v.color for v in RenovationStatus], x_label="计划年度", y_label="小区数",
                 series_label="改造状态", height=280)


def disputes_chart(s: ScopeStats) -> None:
    """Cases per month over the last twelve months, stacked by category."""
    st.markdown("**近12个月矛盾纠纷（按类别）**")
    stacked_bars(s.monthly, [c.color for c in DisputeCategory], x_label="月份", y_label="件数", series_label="类别",
                 height=280)


def station_table(s: ScopeStats) -> None:
    """Stations per kind in the scope."""
    frame = pd.DataFrame({"站点类型": [k.label for k in StationKind],
                          "数量": [int(s.total.get(k.value, 0)) for k in StationKind]})
    st.markdown(f"**服务站点 · 共 {_fmt(frame['数量'].sum())} 个**")
    st.dataframe(frame, hide_index=True, width="stretch", height=320)
