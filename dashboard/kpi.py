"""KPI cards, the children's ranking table and the charts of a scope (figures from dashboard.stats)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts import stacked_bars
from dashboard.stats import ScopeStats
from geo.briefing import COLUMN_LABELS, Kpi, headline_kpis
from geo.vocab import DisputeCategory, RenovationStatus, StationKind


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def kpi_cards(kpis: list[Kpi], per_row: int = 5) -> None:
    """The KPIs as metric cards, ``per_row`` to a row, each with its change against the previous period."""
    for first in range(0, len(kpis), per_row):
        for col, k in zip(st.columns(per_row), kpis[first:first + per_row]):
            level = k.change is not None and round(k.change, 1) == 0
            col.metric(k.label, k.text, delta=k.change_text, help=k.help or None,
                       delta_color="off" if level else "inverse" if k.lower_is_better else "normal",
                       delta_arrow="off" if level else "auto")


def headline_cards(s: ScopeStats, period_label: str, overdue_days: int) -> None:
    """Two rows of five: people and grids; renovation, stations and disputes (with change vs previous period)."""
    kpi_cards(headline_kpis(s.total, s.previous, period_label, overdue_days))


RANK_FORMATS = {
    "name": None, "households": "%d", "population": "%d", "grids": "%d", "households_per_grid": "%.0f",
    "vacancies": "%d", "compounds": "%d", "renovated_share": "percent", "station_completeness": "percent",
    "disputes": "%d", "disputes_per_1000": "%.1f", "success_rate": "percent", "overdue": "%d",
}
RANK_COLUMNS = {key: (COLUMN_LABELS[key], fmt) for key, fmt in RANK_FORMATS.items()}


def ranking_table(children: pd.DataFrame, child_label: str) -> None:
    """The children of the scope with every indicator; click a header to sort."""
    if children.empty:
        return
    table = children[list(RANK_COLUMNS)].sort_values("households", ascending=False)
    config = {key: st.column_config.NumberColumn(label, format=fmt) if fmt else
              st.column_config.TextColumn(label, pinned=True) for key, (label, fmt) in RANK_COLUMNS.items()}
    st.markdown(f"**{child_label}排名**（点击列名排序）")
    st.dataframe(table, column_config=config, hide_index=True, width="stretch",
                 height=min(38 + 35 * len(table), 420))


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
