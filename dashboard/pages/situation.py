"""态势图: the scope on one map (children coloured by an indicator, overlays toggleable), its KPIs,
the ranking of its children and its charts. Click a unit, or use the selectors, to drill down."""
from __future__ import annotations

import streamlit as st

from dashboard.context import PERIODS, setup_page
from dashboard.kpi import (
    disputes_chart,
    headline_cards,
    pipeline_chart,
    ranking_table,
    station_table,
)
from dashboard.mapview import map_controls, show_map
from dashboard.scope_ui import breadcrumb, period_selector, selectors
from dashboard.stats import scope_stats
from dashboard.text import md_escape


def render() -> None:
    ctx = setup_page()
    selectors(ctx)
    period_selector(ctx)
    keys, indicator, basemap = map_controls(ctx)
    stats = scope_stats(ctx)
    st.title(f"{md_escape(ctx.units.name(ctx.scope))} · 社区治理态势")
    breadcrumb(ctx)
    p = ctx.period
    st.caption(f"数据截至 {ctx.as_of:%Y年%m月%d日} · 统计周期 {p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}（{p.days}天），"
               "变化量与前一等长周期比较 · 点击地图上的单元可逐级下钻")
    headline_cards(stats, PERIODS[str(ctx.period_days)], ctx.settings.overdue_days)
    map_col, side_col = st.columns([7, 3], gap="medium")
    with map_col:
        show_map(ctx, keys, indicator, basemap)
    with side_col:
        station_table(stats)
    child = ctx.scope.child_level
    if child is not None:
        ranking_table(stats.children, "各" + ("街道（镇）" if child.value == "street" else child.label))
    left, right = st.columns(2)
    with left:
        pipeline_chart(stats)
    with right:
        disputes_chart(stats)
