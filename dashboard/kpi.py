"""KPI cards, the children's ranking table and the charts of a scope (figures from dashboard.stats)."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.stats import ScopeStats
from geo.rollup import RATIOS
from geo.vocab import DisputeCategory, RenovationStatus, StationKind


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def _pp_delta(now: float, before: float) -> str | None:
    if any(v is None or math.isnan(v) for v in (now, before)):
        return None
    return f"{(now - before) * 100:+.1f} 个百分点"


def headline_cards(s: ScopeStats, period_label: str, overdue_days: int) -> None:
    """Two rows of five: people and grids; renovation, stations and disputes (with change vs previous period)."""
    t, p = s.total, s.previous
    row = st.columns(5)
    row[0].metric("户数", _fmt(t["households"]))
    row[1].metric("常住人口", _fmt(t["population"]))
    row[2].metric("网格", _fmt(t["grids"]), help="约 500 户一个网格，每格配一名专职网格员")
    row[3].metric("网格员空缺", _fmt(t["vacancies"]), help="没有专职网格员的网格数")
    row[4].metric("一老一少一普完备", f"{int(t['complete_communities'])}/{int(t['communities'])} 个社区",
                  help="同时设有居家养老服务站、少儿成长服务站、文化普及服务站的社区")
    row = st.columns(5)
    row[0].metric("老旧小区改造完成率", _pct(t["renovated_share"]),
                  help="已完工与长效管理的小区占全部老旧小区的比例")
    row[1].metric(f"{period_label}受理纠纷", _fmt(t["disputes"]),
                  delta=f"{int(t['disputes'] - p['disputes']):+d} 较上期", delta_color="inverse")
    row[2].metric("调解成功率", _pct(t["success_rate"]), delta=_pp_delta(t["success_rate"], p["success_rate"]),
                  help="期内办结案件中调解成功的比例（成功 ÷ (成功 + 不成)，转办不计）")
    row[3].metric("超期未结", _fmt(t["overdue"]), delta=f"{int(t['overdue'] - p['overdue']):+d} 较上期末",
                  delta_color="inverse", help=f"截至期末仍在受理或调解中、且受理已超过 {overdue_days} 天的案件")
    row[4].metric("每千户纠纷", f"{t['disputes_per_1000']:.1f}" if not math.isnan(t["disputes_per_1000"]) else "—")


RANK_COLUMNS = {
    "name": ("名称", None),
    "households": ("户数", "%d"),
    "population": ("常住人口", "%d"),
    "grids": ("网格", "%d"),
    "households_per_grid": (RATIOS["households_per_grid"], "%.0f"),
    "vacancies": ("网格员空缺", "%d"),
    "compounds": ("老旧小区", "%d"),
    "renovated_share": (RATIOS["renovated_share"], "percent"),
    "station_completeness": (RATIOS["station_completeness"], "percent"),
    "disputes": ("受理纠纷", "%d"),
    "disputes_per_1000": (RATIOS["disputes_per_1000"], "%.1f"),
    "success_rate": (RATIOS["success_rate"], "percent"),
    "overdue": ("超期未结", "%d"),
}


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
    st.bar_chart(s.pipeline, height=280, color=[v.color for v in RenovationStatus],
                 x_label="计划年度", y_label="小区数")


def disputes_chart(s: ScopeStats) -> None:
    """Cases per month over the last twelve months, stacked by category."""
    st.markdown("**近12个月矛盾纠纷（按类别）**")
    st.bar_chart(s.monthly, height=280, color=[c.color for c in DisputeCategory], x_label="月份", y_label="件数")


def station_table(s: ScopeStats) -> None:
    """Stations per kind in the scope."""
    frame = pd.DataFrame({"站点类型": [k.label for k in StationKind],
                          "数量": [int(s.total.get(k.value, 0)) for k in StationKind]})
    st.markdown(f"**服务站点 · 共 {_fmt(frame['数量'].sum())} 个**")
    st.dataframe(frame, hide_index=True, width="stretch", height=320)
